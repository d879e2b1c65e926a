"""Does the semantic loss (thesis Eq. 4.2) make paired samples G1(z), G2(z) show the same digit?

    python benchmarks/sl_class_agreement.py [--iterations 300] [--batch_size 32] [--transform rotate]
        [--classifier_steps 500] [--pairs 2000] [--seed 0] [--data_dir ../shared/data] [--out DIR] [--no_results]

Data: the real MNIST test digits (DATA_DIR/mnist/t10k-*, 10,000), less the fixed tenth held out for evaluation,
split 50/50 into domain 1 (as is) and domain 2 (transformed), exactly what `--cogan_data mnist2<transform>
--data_dir DATA_DIR` trains on (transforms.pair_halves; review 11 H1).
Trained with the same seed, iterations and batch size:
  (a) `--gan_type scogan` without a regulariser: two uncoupled GANs fed the same z;
  (b) `--gan_type scogan --semantic_loss`: coupled by SL through the classifier main.py trains and caches itself
      (no --classifier_path; `--classifier_steps`, the run's seed): the pair's for rotate / negative, standard
      MNIST's for edge (thesis line 1020).
An EVALUATION classifier, trained here apart from the SL one (seed + 1000, on the complementary images:
domain 1's half transformed and domain 2's half as is), labels `--pairs` pairs of each run. Agreement is the
share of pairs whose two images get the same digit; chance is sum_k p1(k) p2(k) from the two label
histograms, what independent generators with those marginals would score. One markdown row with date,
machine and command is appended to benchmarks/RESULTS.md.

About 15-20 minutes on 2 CPU cores with the defaults (a 32x32 SCoGAN iteration at batch 32 takes ~1-1.5 s).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")

import numpy as np  # noqa: E402
import results_md  # noqa: E402
import tensorflow as tf  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## SL class agreement"
PREAMBLE = """
How often the two images of a generated pair show the same digit, judged by an evaluation classifier
trained apart from the SL classifier (other seed, complementary images); in brackets the chance agreement
of independent generators with the same label histograms. (a) two uncoupled GANs (`--gan_type scogan`, no
regulariser), (b) the same with `--semantic_loss` (classifier auto-trained by main.py); same seed,
iterations and batch. Data: real MNIST test digits split 50/50, second half transformed.

| date | commit | machine | command | data, schedule | pairs | uncoupled: agreement (chance) | SL: agreement (chance) | under the SL classifier: uncoupled / SL | accuracy: SL / evaluation classifier | minutes: uncoupled / SL / total |
|---|---|---|---|---|---|---|---|---|---|---|
"""


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=300, help="GAN iterations of each run (default 300)")
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--transform", choices=["rotate", "negative", "edge"], default="rotate")
    p.add_argument("--classifier_steps", type=int, default=500,
                   help="steps of the SL classifier and of the evaluation classifier (batch 128; default 500)")
    p.add_argument("--sl_weight", type=float, default=10.0)
    p.add_argument("--preset", default="dcgan", help="training preset of both runs (default dcgan: non-saturating, "
                   "1 critic step, the budget of the earlier rows; thesis = sec. 5.1's WGAN-GP, ~3x slower)")
    p.add_argument("--pairs", type=int, default=2000, help="pairs sampled from each run (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data_dir", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--out", help="work folder (default runs/sl_class_agreement_<time>)")
    p.add_argument("--no_results", action="store_true", help="do not append to benchmarks/RESULTS.md")
    p.add_argument("--reuse", nargs="*", default=[], choices=["uncoupled", "sl"],
                   help="keep these finished runs already in --out (same options) instead of training them again")
    return p.parse_args()


def machine():
    model = ""
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{os.cpu_count()}-core CPU ({model}), TF {tf.__version__}"


def evaluation_classifier(x, y, halves, transform, seed, steps, log):
    """Table B.1 classifier on the images the SL classifier never saw: domain 1's half transformed and domain
    2's half as is (the SL classifier learns domain 1's half as is and domain 2's half transformed); `halves`:
    the two domains' indices into x (transforms.pair_halves, as load_pair)."""
    import classifiers
    import data
    ia, ib = halves
    t = data.TRANSFORMS[transform]
    xe, ye = np.concatenate([t(x[ia]), x[ib]]), np.concatenate([y[ia], y[ib]])
    tf.keras.utils.set_random_seed(seed)
    model = classifiers.digit_classifier()
    train = data._array_pipeline(xe, 32, 128, seed, labels=ye)
    classifiers.train_classifier(model, train, steps=steps, multilabel=False, log_every=max(1, steps // 5))
    # Held out for this classifier: the GANs' own training images (domain 1 as is, domain 2 transformed).
    xg, yg = np.concatenate([x[ia], t(x[ib])]), np.concatenate([y[ia], y[ib]])
    held = data._one_pass(len(xg), data._gray_loader(xg, 32, yg), 256, batched_load=True)
    return model, classifiers.evaluate_classifier(model, held, multilabel=False)


def predict(model, images, batch=500):
    f = tf.function(lambda b: tf.argmax(model(b, training=False), axis=-1))
    return np.concatenate([f(tf.constant(images[i:i + batch])).numpy() for i in range(0, len(images), batch)])


def agreement(model, pairs):
    """-> (share of pairs with the same predicted digit, chance agreement from the two marginals)."""
    la, lb = predict(model, pairs["a"]), predict(model, pairs["b"])
    pa, pb = (np.bincount(lab, minlength=10) / len(lab) for lab in (la, lb))
    return float(np.mean(la == lb)), float(pa @ pb)


def main():
    a = parse()
    out = Path(a.out or ROOT / "runs" / f"sl_class_agreement_{time.strftime('%Y%m%d-%H%M%S')}")
    os.environ["COUPLED_GAN_CACHE"] = str(out / "cache")   # the SL classifier is trained afresh, kept here
    import data
    import main as cli
    import sampling
    from data_sources.transforms import pair_halves

    if data._find_idx_file(a.data_dir, "mnist", "t10k") is None:
        sys.exit(f"error: no MNIST t10k idx files under {a.data_dir}/mnist (see ../shared/data/README.md)")
    t0 = time.time()
    log = lambda m: print(m, flush=True)  # noqa: E731
    x, y, xt, _ = data._load_gray_labelled("mnist", a.data_dir, download=False)
    halves = pair_halves(len(x), own_test_split=xt is not None)   # the GANs' two domains, as load_pair draws them
    pair = f"mnist2{a.transform}"
    common = ["--gan_type", "scogan", "--cogan_data", pair, "--data_dir", a.data_dir, "--iterations", a.iterations,
              "--batch_size", a.batch_size, "--seed", a.seed, "--no_final_eval", "--log_interval", 25,
              "--sample_interval", a.iterations, "--checkpoint_interval", a.iterations, "--preset", a.preset]
    runs = {"uncoupled": [], "sl": ["--semantic_loss", "--sl_weight", a.sl_weight,
                                    "--classifier_steps", a.classifier_steps]}
    timings = {}
    for name, extra in runs.items():
        log(f"== {name}: {' '.join(map(str, common + extra))}")
        if name in a.reuse:
            done = out / name / "config.json"
            if not (out / name / "models").is_dir() or json.loads(done.read_text())["iterations"] != a.iterations:
                sys.exit(f"error: --reuse {name}: no finished {a.iterations}-iteration run in {out / name}")
            log(f"reusing the finished run in {out / name}")
            timings[name] = float("nan")
            continue
        start = time.time()
        rc = cli.main([str(v) for v in common + extra + ["--dir", out / name, "--overwrite"]])
        if rc:
            sys.exit(f"error: the {name} run failed (exit {rc})")
        timings[name] = time.time() - start
    sl_clf = json.loads((out / "sl" / "config.json").read_text())["classifier_path"]
    sl_meta = json.loads(Path(sl_clf + ".json").read_text())["extra"]

    log("== evaluation classifier (seed + 1000, complementary images)")
    judge, judge_acc = evaluation_classifier(x, y, halves, a.transform, a.seed + 1000, a.classifier_steps, log)
    import classifiers
    sl_model, _ = classifiers.load_classifier(sl_clf)
    results, own = {}, {}
    for name in runs:
        run = sampling.load_run(out / name)
        pairs = sampling.sample_pairs(run.generators, a.pairs, seed=a.seed + 1)
        results[name] = agreement(judge, pairs)
        # What SL optimises: agreement under its own classifier. High here but not under the evaluation
        # classifier means the generators satisfy that one classifier rather than share the digit.
        own[name] = agreement(sl_model, pairs)[0]
        log(f"{name}: class agreement {results[name][0]:.3f} (chance from marginals {results[name][1]:.3f}) "
            f"over {a.pairs} pairs; under the SL classifier {own[name]:.3f}")
    minutes = (time.time() - t0) / 60
    command = "python benchmarks/sl_class_agreement.py " + " ".join(
        f"--{k} {shlex.quote(str(getattr(a, k)))}" for k in ("iterations", "batch_size", "transform",
                                                              "classifier_steps", "sl_weight", "preset", "pairs",
                                                              "seed"))
    row = (f"| {datetime.date.today().isoformat()} | {results_md.commit()} | {machine()} | `{command}` | {pair}, "
           f"{a.iterations} it x {a.batch_size} | {a.pairs} | {results['uncoupled'][0]:.3f} "
           f"({results['uncoupled'][1]:.3f}) | {results['sl'][0]:.3f} ({results['sl'][1]:.3f}) | "
           f"{own['uncoupled']:.3f} / {own['sl']:.3f} | "
           f"{sl_meta['test_accuracy']:.3f} / {judge_acc:.3f} | {timings['uncoupled'] / 60:.1f} / "
           f"{timings['sl'] / 60:.1f} / {minutes:.1f} |")
    log(row)
    if not a.no_results:
        results_md.add_row(SECTION, row, PREAMBLE)
        log(f"appended to {RESULTS}")

if __name__ == "__main__":
    main()
