"""Evaluating a trained coupled GAN: the thesis's LPIPS table plus measures of pairing that LPIPS misses.

    python main.py --evaluate RUN_DIR [--num N] [--step S] [--net alex|vgg] [--eval_classifier PATH]
                                      [--batch_size B] [--no_download]

writes into RUN_DIR:
    metrics.json       every number below, with the settings that produced it (the latest evaluation)
    metrics.md         the same as tables
    metrics_history.jsonl  one line per evaluated checkpoint step: its step, when, and the main numbers of each
                       measure (HISTORY_FILE; a re-evaluation of a step replaces that step's line)
    lpips_lowest.png   the 8 generated pairs with the lowest LPIPS (domain 1 above domain 2), and
    lpips_highest.png  the 8 with the highest (the thesis's figures beside its LPIPS tables)

LPIPS rows (thesis Tables 3.3-3.8, 5.1-5.4), each the mean over N pairs with its standard error:
    Gen. d1 vs Gen. d2     G1(z) against G2(z), the same z: how alike the two images of a generated pair are
    Gen. d1 vs Real d1     G1(z) against a real image of domain 1 (unpaired)
    Gen. d2 vs Real d2     G2(z) against a real image of domain 2 (unpaired)
    Real d1 vs Real d2     a real image of domain 1 against an independently drawn real image of domain 2:
                           the baseline distance between two unrelated images of the two domains
    Gen. d1 vs Real d2,    the cross cells of the 2x2 Tables 3.3-3.8 (Gen. d_i against Real d_j), on the same
    Gen. d2 vs Real d1     generated and real images as the rows above

Beyond LPIPS: pixel agreement with the known transform for derived pairs (edge, negative, rotate; the CoGAN
paper's measure), class agreement under an independent evaluation classifier, and a Fréchet distance per
domain (FID on Inception-v3 features, or FCD on the evaluation classifier's features offline).

Everything streams in batches: memory holds the per-pair distance arrays, not the images.

The LPIPS weights come from the cache ($LPIPS_WEIGHTS_DIR, else ~/.cache/coupled_gan/lpips) and are fetched into it
on first use, in one log line (metrics.weights.load_weights), unless the run has --no_download (or --evaluate is
given it) or $LPIPS_NO_DOWNLOAD=1: then the one-line instructions of `python -m metrics.weights --fetch`.

A single GAN on the toy ring (`--gan_type gan --dataset toy`) is scored instead by mode coverage
(metrics.modes: modes covered out of 10 and the share of high-quality points, on TOY_SAMPLES points from the
fixed noise seed), written to the same metrics.json / metrics.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np

import run_folder
from config import ConfigError
from data_sources import specs
from metrics import markdown
from metrics.measures import (  # noqa: F401  (the names report.py, experiments.py and the tests use)
    CROSS_ROWS, FCD_NAME, FIGURE_PAIRS, HOW_TO_CLASSIFIER, LPIPS_ROWS, MEASURES, render_markdown)

log = run_folder.logger("evaluation").info

COUPLED = ("cogan", "scogan")
EVAL_SEED = 0          # fixed: every run is scored on the same z stream and the same real images
# Pairs per table in the thesis (ch. 3 and 5; each data's entry in data_sources.specs); other data: DEFAULT_PAIRS.
THESIS_PAIRS = specs.THESIS_PAIRS
DEFAULT_PAIRS = 10000
NATIVE_SIZE = specs.NATIVE_SIZE   # resolution data.py transforms the derived domains at
TOY_SAMPLES = 10000
# ---------------------------------------------------------------------------------------------- what to compare

def derived_transform(cfg):
    """(transform, native resolution) for a derived pair (digits/mnist 2 edge|negative|rotate), else None."""
    return specs.derived_transform(cfg.cogan_data)


def default_num_pairs(cfg) -> tuple:
    """(N, where it comes from): the thesis's count for the data, else DEFAULT_PAIRS."""
    n, source = specs.thesis_pairs(cfg.cogan_data)
    return (n, source) if n else (DEFAULT_PAIRS, "default (the thesis has no count for this data)")


def domain_names(cfg) -> tuple:
    """Readable names of domain 1 and domain 2 for the tables."""
    return specs.domain_names(cfg.cogan_data, cfg.domain_a, cfg.domain_b)


def resolve_num(requested, cfg, sizes=(), default=None, what="pairs") -> tuple:
    """(N, source, notes): --num, else cfg.eval_pairs, else `default` ((N, source); None: the thesis's count,
    default_num_pairs); capped at the real images available in the smaller domain of `sizes` (none given: no
    cap), since every real row needs N distinct real images. `what` the N counts, for the message."""
    if requested is not None:
        n, source = int(requested), "--num"
    elif cfg.eval_pairs is not None:
        n, source = int(cfg.eval_pairs), "eval_pairs in the run's config"
    else:
        n, source = default or default_num_pairs(cfg)
    if n < 1:
        raise ConfigError(f"the number of evaluation {what} must be at least 1 (got {n})")
    notes = []
    available = min(int(s) for s in sizes) if sizes and min(sizes) > 0 else None
    if available is not None and n > available:
        notes.append(f"N capped at {available:,} (asked for {n:,}, {source}): the smaller domain has only "
                     f"{available:,} real images, and every row that uses real images needs N distinct ones")
        n = available
    return n, source, notes


# ---------------------------------------------------------------------------------------------- generating

def pair_generator(generators):
    """A compiled z -> [G1(z), G2(z)] in inference mode. Shared blocks give the same output for the same z,
    so they run once (nets.forward_coupled): with CoGAN32's default sharing (4 of 5 blocks) a pair costs about
    one generator pass."""
    import tensorflow as tf

    import nets
    return tf.function(lambda z: [x for x, _ in nets.forward_coupled(generators, z)], reduce_retracing=True)


def real_images(cfg, batch_size):
    """Two iterators of real batches (B, H, W, 3) in [-1, 1], one per domain, with the run's data settings and
    EVAL_SEED; each domain's first epoch is a permutation of its images, so N <= size gives N distinct ones.
    -> (iterator 1, iterator 2, (size 1, size 2))."""
    import data

    extra = {}
    if specs.uses_classifier(cfg.cogan_data):
        # The run trained on SVHN pruned by its classifier (sec. 2.7): score against those same real images.
        import classifiers

        try:
            prune, _ = classifiers.load_classifier(cfg.classifier_path)
        except ValueError as e:
            raise ConfigError(f"the run's pruning classifier: {e}") from None
        extra = dict(prune_classifier=prune, prune_threshold=cfg.prune_threshold)
    a, b, info = data.load_pair(cfg.cogan_data, domain_a=cfg.domain_a, domain_b=cfg.domain_b,
                                data_dir=cfg.data_dir, image_size=cfg.image_size, batch_size=batch_size,
                                seed=EVAL_SEED, download=cfg.download,
                                celeba_crop=getattr(cfg, "celeba_crop", "thesis"), **extra)
    return iter(a), iter(b), tuple(info.sizes)


# ---------------------------------------------------------------------------------------------- classifier

def _file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _keras_file(path) -> Path:
    p = Path(os.fspath(path)).expanduser()
    return p if p.suffix == ".keras" else p.with_name(p.name + ".keras")


def check_eval_classifier(path, cfg) -> Path:
    """The evaluation classifier's file; ConfigError if it is the run's semantic-loss teacher
    (cfg.classifier_path): the same file, a link to it or a byte-identical copy. SL minimises exactly the
    disagreement of that classifier, so grading with it would be circular."""
    mine = _keras_file(path)
    if not mine.is_file():
        raise ConfigError(f"--eval_classifier {path}: file not found ({mine})")
    if cfg.classifier_path:
        teacher = _keras_file(cfg.classifier_path)
        same = mine.resolve() == teacher.resolve()
        if not same and teacher.is_file():
            same = os.path.samefile(mine, teacher) or _file_digest(mine) == _file_digest(teacher)
        if same:
            raise ConfigError(f"--eval_classifier {path} is the classifier this run's semantic loss was trained "
                              f"against ({cfg.classifier_path}): grading SL by its own teacher is circular; "
                              f"{HOW_TO_CLASSIFIER}")
    return mine


class ClassifierProbe:
    """An evaluation classifier: [-1, 1] images -> (penultimate features, logits), inputs adapted to its shape."""

    def __init__(self, model, multilabel: bool, chunk: int = 256):
        import keras
        import tensorflow as tf

        from metrics.fid import adapt_to_input

        self.multilabel = bool(multilabel)
        self.chunk = int(chunk)
        # The features entering the last (logit) layer: what FCD compares.
        probe = keras.Model(model.inputs, [model.layers[-1].input, model.outputs[0]])
        shape = tuple(model.input_shape[1:])
        self._fn = tf.function(lambda x: probe(adapt_to_input(x, shape), training=False), reduce_retracing=True)

    def __call__(self, images):
        import tensorflow as tf

        feats, logits = [], []
        images = np.asarray(images, np.float32)
        for i in range(0, len(images), self.chunk):
            f, l = self._fn(tf.constant(images[i:i + self.chunk]))
            feats.append(np.asarray(f, np.float32).reshape(len(f), -1))
            logits.append(np.asarray(l, np.float32))
        return np.concatenate(feats), np.concatenate(logits)


def load_probe(path) -> tuple:
    """-> (ClassifierProbe, meta) for a classifier.keras written by classifiers.save_classifier."""
    import classifiers

    try:
        model, meta = classifiers.load_classifier(path)
    except ValueError as e:
        raise ConfigError(f"--eval_classifier: {e}") from None
    return ClassifierProbe(model, meta.get("multilabel", False)), meta


# ---------------------------------------------------------------------------------------------- the evaluation

def evaluate(run_dir, *, num=None, step=None, net="alex", eval_classifier=None, batch_size=None, lpips=None,
             fid=True, download=None) -> dict:
    """Score a coupled run and write metrics.json, metrics.md and the extreme-pair figures into `run_dir`.

    num: pairs (default: cfg.eval_pairs, else the thesis's count; capped at the real images available).
    lpips: a ready metrics.LPIPS (else built for `net`, its weights fetched on first use unless `download` is
    False; None: the run's --no_download decides); anything with `.net` whose call (x, y) gives one distance per
    pair will do. fid: try FID, else FCD (slow on CPU at 299x299).
    A toy-ring run (gan on toy) is scored by mode coverage instead (evaluate_toy; num = generated points).
    Returns the dict written to metrics.json.
    """
    import tensorflow as tf

    import sampling
    from metrics import LPIPS
    from metrics import fid as fidlib
    from metrics import measures
    from metrics import weights as lpips_weights

    t0 = time.time()
    run_dir = Path(run_dir)
    cfg = sampling.load_run_config(run_dir)
    if cfg.gan_type not in COUPLED and not cfg.is_toy:
        raise ConfigError(f"--evaluate scores coupled runs (cogan, scogan) by LPIPS and toy-ring runs (gan on toy) by "
                          f"mode coverage; {run_dir} is a '{cfg.gan_type}' run on {cfg.data_name}")
    for name, value in (("--num", num), ("--batch_size", batch_size)):
        if value is not None and int(value) < 1:
            raise ConfigError(f"{name} must be at least 1 (got {value})")
    if cfg.is_toy:
        if eval_classifier is not None:
            raise ConfigError("--eval_classifier grades images; a toy-ring run is scored by mode coverage")
        return evaluate_toy(run_dir, cfg, num=num, step=step)
    # Cheap checks first: a refused classifier or missing weights fail before any data is loaded.
    if eval_classifier is not None:
        eval_classifier = check_eval_classifier(eval_classifier, cfg)
    if lpips is None:
        try:
            lpips = LPIPS(net, download=cfg.download if download is None else download)
        except lpips_weights.WeightsError as e:
            raise ConfigError(" ".join(str(e).split())) from None
    probe, meta = load_probe(eval_classifier) if eval_classifier is not None else (None, None)

    batch = int(batch_size or (256 if (cfg.image_size or 32) <= 64 else 64))
    # Four image batches (generated and real, both domains) and LPIPS' features of them, float32: a lower bound
    # of what one batch holds, refused up front where it cannot fit (issue 22, item 7).
    pixels = (cfg.image_size or 32) ** 2 * 3
    short = run_folder.memory_shortfall(4.0 * 4 * 2 * batch * pixels, f"--batch_size {batch:,}")
    if short:
        raise ConfigError(short)
    run = sampling.load_run(run_dir, step)
    it_a, it_b, sizes = real_images(cfg, batch)
    n, source, notes = resolve_num(num, cfg, sizes)
    log(f"evaluating {run_dir} (step {run.step}) on {n:,} pairs, batch {batch}")
    extractor, note = None, None
    if fid:
        try:
            extractor = fidlib.inception_features()
        except fidlib.FeaturesUnavailable as e:
            note = str(e) + (f"; reporting {FCD_NAME} instead" if probe is not None else "")

    ctx = measures.Context(lpips=lpips, derived=derived_transform(cfg), probe=probe, classifier=eval_classifier,
                           classifier_meta=meta, extractor=extractor, fid=fid, fid_note=note, run_dir=run_dir, n=n)
    tallies = [m.tally(ctx) for m in MEASURES.values()]
    generate = pair_generator(run.generators)
    noise_dim = run.generators[0].input_spec_shape[0]
    zgen = tf.random.Generator.from_seed(EVAL_SEED)
    batches = math.ceil(n / batch)
    done, every, t_loop = 0, max(1, batches // 10), time.time()
    for i in range(batches):
        b = min(batch, n - done)
        ga, gb = (x.numpy() for x in generate(zgen.uniform([b, noise_dim], -1.0, 1.0)))
        images = {"gen1": ga, "gen2": gb, "real1": next(it_a).numpy()[:b], "real2": next(it_b).numpy()[:b]}
        batch_ = measures.Batch(images, probe)
        for tally in tallies:
            tally.add(batch_)
        done += b
        if (i + 1) % every == 0 and done < n:
            log(f"evaluate: {done:,}/{n:,} pairs ({run_folder.format_duration(time.time() - t_loop)})")

    names = domain_names(cfg)
    result = {
        "run_dir": str(run_dir), "step": run.step, "gan_type": cfg.gan_type, "data": cfg.data_name,
        "domains": list(names), "image_size": cfg.image_size, "pairs": n, "pairs_source": source,
        "real_images_available": list(sizes), "seed": EVAL_SEED, "batch_size": batch, "notes": notes,
    }
    for tally in tallies:
        result.update(tally.result(names))
    result["seconds"] = round(time.time() - t0, 1)
    _write_metrics(run_dir, result, render_markdown(result))
    log(f"wrote {run_dir / 'metrics.md'} and metrics.json ({run_folder.format_duration(result['seconds'])})")
    return result


def evaluate_toy(run_dir, cfg, *, num=None, step=None) -> dict:
    """Mode coverage of a toy-ring run (thesis sec. 2.3.2): metrics.json, metrics.md and modes.png in `run_dir`.

    num: generated points (default: cfg.eval_pairs, else TOY_SAMPLES), from the training noise (cfg.noise_type:
    uniform in [-1, 1] or N(0, 1)) drawn with EVAL_SEED, in fixed chunks: the points do not depend on how the call
    is batched. They are scored against the ring the run trained on (cfg.toy_ring: its centres and std).
    """
    import tensorflow as tf

    import data
    import sampling
    from metrics.modes import mode_coverage

    t0 = time.time()
    run_dir = Path(run_dir)
    n, source, _ = resolve_num(num, cfg, default=(TOY_SAMPLES, "default"), what="samples")
    # The points (float64) and their z chunks, refused up front where they cannot fit (issue 22, item 7).
    short = run_folder.memory_shortfall(float(n) * 2 * 8 * 2, f"{n:,} evaluation samples ({source})")
    if short:
        raise ConfigError(short)
    run = sampling.load_run(run_dir, step)
    g = run.generators[0]
    noise_dim = g.input_spec_shape[0]
    zgen = tf.random.Generator.from_seed(EVAL_SEED)
    points = []
    for i in range(0, n, TOY_SAMPLES):
        shape = [min(TOY_SAMPLES, n - i), noise_dim]
        z = zgen.normal(shape) if cfg.noise_type == "normal" else zgen.uniform(shape, -1.0, 1.0)
        points.append(np.asarray(g(z, training=False), np.float64).reshape(len(z), -1))
    points = np.concatenate(points)
    ring = data.toy_ring(cfg.toy_ring)
    centres = data.ring_modes(ring.modes, ring.radius)
    coverage = mode_coverage(points, centres, ring.std)
    figure = run_dir / "modes.png"
    run_folder.save_scatter(figure, points, centres)
    result = {"run_dir": str(run_dir), "step": run.step, "gan_type": cfg.gan_type, "data": cfg.data_name,
              "samples": n, "samples_source": source, "seed": EVAL_SEED,
              "ring": {"name": cfg.toy_ring, "modes": int(len(centres)), "radius": float(ring.radius),
                       "std": float(ring.std), "size": ring.size}, "noise": cfg.noise_type,
              "modes": coverage, "figures": {"scatter": figure.name}}
    result["seconds"] = round(time.time() - t0, 1)
    _write_metrics(run_dir, result, markdown.render_toy(result))
    log(f"{run_dir} (step {run.step}): {coverage['covered']} of {coverage['modes']} modes covered, "
        f"{coverage['high_quality']:.1%} high-quality points of {n:,}; wrote metrics.md and metrics.json")
    return result


# ---------------------------------------------------------------------------------------------- report

def _write_metrics(run_dir, result, markdown):
    """metrics.json (strict JSON: NaN/inf as null, listed under "non_finite") and metrics.md, which says so too;
    then the evaluation's line in the history (record_history)."""
    found = run_folder.write_json(run_dir / "metrics.json", result)
    if found:
        markdown += (f"\n> **Non-finite values** (NaN or inf, null in metrics.json): {', '.join(found)}. "
                     f"The run's weights or samples are not usable as they are.\n")
    with run_folder.writing(run_dir / "metrics.md"):
        run_folder.atomic_write_text(run_dir / "metrics.md", markdown)
    record_history(run_dir, result)


# ---------------------------------------------------------------------------------------------- history

# One JSON line per evaluated checkpoint step (issue 19, item 7): metrics.json holds the latest evaluation only.
HISTORY_FILE = "metrics_history.jsonl"
# What a line keeps of the result besides the measures: which checkpoint, how many pairs or points, which LPIPS.
HISTORY_KEYS = ("step", "pairs", "samples")


def main_numbers(value):
    """A measure's result reduced to its numbers: every {"mean", "se", "n"} summary to its mean; labels, file
    names, notes and skipped measures dropped (None when nothing numeric is left)."""
    if isinstance(value, dict):
        if {"mean", "se", "n"} <= set(value):
            return value["mean"]
        kept = {k: main_numbers(v) for k, v in value.items() if k != "skipped"}
        kept = {k: v for k, v in kept.items() if v is not None}
        return kept or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def history_line(result) -> dict:
    """metrics.json's dict -> its line in HISTORY_FILE: step, time, pairs (or toy samples), the LPIPS net, and the
    main numbers of each measure (LPIPS rows, pixel and class agreement, Fréchet distances; toy: mode coverage)."""
    line = {k: result[k] for k in HISTORY_KEYS if k in result}
    line["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if "lpips" in result:
        line["lpips_net"] = result["lpips"].get("net")
    for name in list(MEASURES) + ["modes"]:
        numbers = main_numbers(result.get(name))
        if numbers is not None:
            line[name] = numbers
    return line


def read_history(run_dir) -> list:
    """The lines of RUN/HISTORY_FILE as dicts, oldest first ([] when there is none); a line that is not a JSON
    object (edited by hand, cut short) is returned as its text."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    out = []
    for text in path.read_text().splitlines():
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError:
            item = text
        out.append(item if isinstance(item, dict) else text)
    return out


def record_history(run_dir, result):
    """Add the evaluation `result` to RUN/HISTORY_FILE. A step evaluated again replaces its earlier line (the
    history says what each checkpoint scored, as metrics.json says it for the latest evaluation); the new line goes
    last, so the file lists the steps in the order they were last evaluated. Lines that are not ours are kept as
    they are. The whole file is rewritten atomically: a kill leaves the old history or the new one."""
    path = Path(run_dir) / HISTORY_FILE
    line = history_line(result)
    same_step = (lambda item: isinstance(item, dict) and item.get("step") == line.get("step"))
    texts = [item if isinstance(item, str) else json.dumps(item) for item in read_history(run_dir)
             if not same_step(item)]
    texts.append(json.dumps(run_folder.finite_for_json(line), allow_nan=False))
    with run_folder.writing(path):
        run_folder.atomic_write_text(path, "\n".join(texts) + "\n")


render_toy_markdown = markdown.render_toy   # its home: metrics/markdown.py


# ---------------------------------------------------------------------------------------------- entry points

def evaluate_main(argv):
    """`python main.py --evaluate RUN_DIR ...`: bad input raises ConfigError (one line, exit 2 in main)."""
    p = argparse.ArgumentParser(prog="main.py --evaluate", description="Score a trained coupled run: LPIPS "
                                "table, pixel and class agreement, FID; writes RUN_DIR/metrics.json and .md.")
    p.error = lambda m: p.exit(2, f"error: {m} (see --help)\n")
    p.add_argument("--evaluate", required=True, metavar="RUN_DIR")
    p.add_argument("--num", type=int, help="pairs (default: eval_pairs of the run, else the thesis's count)")
    p.add_argument("--step", type=int, help="checkpoint step (default: the latest)")
    p.add_argument("--net", choices=["alex", "vgg"], default="alex", help="LPIPS backbone (default alex)")
    p.add_argument("--eval_classifier", metavar="PATH", help="classifier.keras for class agreement and FCD "
                   "(not the run's semantic-loss teacher)")
    p.add_argument("--batch_size", type=int, help="pairs per batch (default 256; 64 above 64x64)")
    p.add_argument("--no_download", action="store_true", help="never fetch the LPIPS weights (default: fetched "
                   "into the cache on first use, unless the run has --no_download or $LPIPS_NO_DOWNLOAD=1)")
    a = p.parse_args(argv)
    # metrics.json and the figures go into the run: one writer at a time (issue 22, item 1). A folder that holds
    # no run is left to evaluate() to refuse.
    if Path(a.evaluate, "config.json").is_file():
        run_folder.lock_run_dir(a.evaluate)
    result = evaluate(a.evaluate, num=a.num, step=a.step, net=a.net, eval_classifier=a.eval_classifier,
                      batch_size=a.batch_size, download=False if a.no_download else None)
    if "modes" in result:   # a toy-ring run
        m = result["modes"]
        print(f"  modes covered {m['covered']} / {m['modes']}, high-quality points {m['high_quality']:.4f}")
        return result
    for row in result["lpips"]["rows"].values():
        print(f"  {row['label']:<48} {markdown.pm(row)}")
    return result


def evaluate_after_training(cfg, run_dir):
    """The LPIPS table (and pixel agreement) at the end of `main.run`, when cfg.final_eval and the run is coupled;
    mode coverage for a toy-ring run.

    Never fails the finished training: missing LPIPS weights, data or checkpoints give one log line. The weights
    are fetched into the cache on first use (one line), unless the run has --no_download or $LPIPS_NO_DOWNLOAD=1;
    a failed fetch (an offline node) is one line with the manual instructions (issue 19, item 7).
    FID and class agreement are left to `--evaluate` (slow on CPU / need an evaluation classifier).
    """
    if not cfg.final_eval or (cfg.gan_type not in COUPLED and not cfg.is_toy):
        return None
    import data
    if cfg.is_toy:
        try:
            return evaluate(run_dir)
        except (ConfigError, OSError, ValueError) as e:
            log(f"final evaluation failed: {e} (retry with `python main.py --evaluate {run_dir}`)")
            return None
    from metrics import LPIPS
    from metrics import weights as lpips_weights

    try:
        lpips = LPIPS("alex", download=cfg.download)
    except lpips_weights.WeightsError as e:
        why = " (--no_download: nothing is fetched)" if not cfg.download else ""
        log(f"final evaluation skipped{why}: {' '.join(str(e).split())}; then run `python main.py --evaluate "
            f"{run_dir}`")
        return None
    try:
        return evaluate(run_dir, num=None, lpips=lpips, fid=False)
    except (ConfigError, data.DataError, OSError) as e:
        log(f"final evaluation failed: {e} (retry with `python main.py --evaluate {run_dir}`)")
        return None
