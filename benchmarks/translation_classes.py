"""Does a translation keep the input's class, or map it to another one? (issue 20, Done when 3: the diagnosis)

    python benchmarks/translation_classes.py --classifier C.keras RUN [RUN ...] [--out FILE.md]

For each translation run (pix2pix, CycleGAN, UNIT) on a derived pair (digits2edge, mnist2edge, ...): its held-out
pairs (x, transform(x)) go through the run's own translators (the ones `--evaluate` scores), and an evaluation
classifier that reads both domains labels x, G_12(x), transform(x) and G_21(transform(x)). Per direction it prints
the share of translations in the class the classifier gives the source image (not the true digit; "class kept",
the number `--evaluate --eval_classifier` reports as class agreement), the classifier's own agreement on the real
pairs (x vs transform(x): the ceiling), and per source class its most common translated class with the count (the
row maximum of the confusion matrix), so that a translation that keeps the digit, one that maps each digit to one
other digit, and one that scatters are told apart.
Train the classifier on both domains of the pair with another seed than any run, e.g.
`python main.py --gan_type classifier --cogan_data digits2edge --seed 1 --dir C`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

CLASSES_MAX = 1000   # confusion matrices of single-label classifiers up to this many classes


def confusion(source, target, k):
    """(k, k) counts of (source class, translated class) pairs."""
    out = np.zeros((k, k), np.int64)
    np.add.at(out, (np.asarray(source), np.asarray(target)), 1)
    return out


def summary(conf):
    """-> (class kept, share in each source class's most common target, [(class, top target, count, n)])."""
    n = conf.sum()
    rows = [(c, int(conf[c].argmax()), int(conf[c].max()), int(conf[c].sum())) for c in range(len(conf))
            if conf[c].sum()]
    return float(np.trace(conf) / n), float(sum(r[2] for r in rows) / n), rows


def run_rows(run, model):
    """-> (held-out pairs, ceiling, {(i, j): (class kept, top share, rows)}) for one run directory."""
    import sampling
    from metrics.held_out import paired_batches
    from trainers import get_trainer

    cfg = sampling.load_run_config(run)
    fns = get_trainer(cfg.gan_type).translators(cfg, sampling.example_shape(cfg), run / "models")
    labels = lambda x: np.asarray(model(x, training=False)).argmax(-1)  # noqa: E731
    xs, ys = [], []
    it, size = paired_batches(cfg, 256)
    for im in it:
        xs.append(im["real1"])
        ys.append(im["real2"])
    x, y = np.concatenate(xs)[:size], np.concatenate(ys)[:size]
    lab = {1: labels(x), 2: labels(y)}
    src = {1: x, 2: y}
    k = int(np.asarray(model(x[:1], training=False)).shape[-1])
    out = {}
    for (i, j), f in sorted(fns.items()):
        out[(i, j)] = summary(confusion(lab[i], labels(f(src[i])), k))
    return size, float((lab[1] == lab[2]).mean()), cfg, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--classifier", required=True, type=Path, help="classifier.keras reading both domains")
    p.add_argument("--out", type=Path, help="also write the table as Markdown here")
    a = p.parse_args(argv)
    try:
        return _table(a)
    except (OSError, ValueError, KeyError) as e:   # a missing run, classifier or models file: one line, status 2
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


def _table(a):
    import classifiers
    from config import ConfigError
    model, meta = classifiers.load_classifier(str(a.classifier))
    if meta.get("multilabel") or int(meta.get("num_outputs", 0)) > CLASSES_MAX:
        raise ValueError(f"{a.classifier}: a single-label classifier is needed")
    for run in a.runs:
        if not (run / "config.json").is_file() or not (run / "models").is_dir():
            raise ValueError(f"{run}: not a finished run folder (config.json and models/ needed)")
    lines = [f"Classifier: {a.classifier} ({meta.get('extra', {}).get('data')}, test accuracy "
             f"{meta.get('extra', {}).get('test_accuracy')})", "",
             "| run | gan_type | iterations | direction | class kept | ceiling x vs transform(x) | top-target share | "
             "source -> most common target (count/n) |", "|---|---|---|---|---|---|---|---|"]
    for run in a.runs:
        try:
            size, ceiling, cfg, out = run_rows(run, model)
        except ConfigError as e:
            raise ValueError(f"{run}: {e}") from None
        for (i, j), (kept, top, rows) in out.items():
            tops = " ".join(f"{c}->{t} ({m}/{n})" for c, t, m, n in rows)
            lines.append(f"| {run} | {cfg.gan_type} | {cfg.iterations} | {i}->{j} | {kept:.3f} | {ceiling:.3f} | "
                         f"{top:.3f} | {tops} |")
        print(f"{run}: {size} held-out pairs", flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
