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

A translation run (pix2pix, CycleGAN, UNIT: a trainer class with `translators`) is scored by translation_eval.py
instead (its translations of held-out pairs where the data has them, else of the training domains; issue 20
item 5), into the same files. A coupled run on a derived pair also gets the data-only ground-truth ceiling, Real d1
vs transform(Real d1) on the first min(N, S) of the S held-out pairs: the row its table shares exactly with a
translation run's scored on as many pairs (--report checks that the counts agree). A translation model that also
samples same-z pairs (UNIT: `joint_generators`) gets this module's LPIPS table and pixel agreement of those pairs
beside its translations (metrics.json's "joint" section; translation_eval.joint_section).

A single GAN on the toy ring (`--gan_type gan --dataset toy`) is scored instead by mode coverage
(metrics.modes: modes covered out of 10 and the share of high-quality points, on TOY_SAMPLES points from the
fixed noise seed), written to the same metrics.json / metrics.md.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import run_folder
from config import ConfigError
from metrics import markdown
from metrics.measures import (  # noqa: F401  (the names report.py, experiments.py and the tests use)
    CROSS_ROWS, FCD_NAME, FIGURE_PAIRS, HOW_TO_CLASSIFIER, LPIPS_ROWS, MEASURES, render_markdown)
from metrics.evaluation_io import (  # noqa: F401  (evaluation.X: the names callers and tests use)
    DEFAULT_PAIRS, EVAL_SEED, HISTORY_FILE, TOY_SAMPLES, ClassifierProbe, check_eval_classifier,
    default_num_pairs, derived_transform, domain_names,
    history_line, load_probe, main_numbers, pair_generator, read_history, real_images, record_history, resolve_num,
    write_metrics)

log = run_folder.logger("evaluation").info

COUPLED = ("cogan", "scogan")


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
    import translation_eval
    if translation_eval.is_translation(cfg):   # issue 20 item 5: pix2pix, CycleGAN, UNIT
        return translation_eval.evaluate(run_dir, cfg, num=num, step=step, net=net, eval_classifier=eval_classifier,
                                         batch_size=batch_size, lpips=lpips, download=download)
    if cfg.gan_type not in COUPLED and not cfg.is_toy:
        raise ConfigError(f"--evaluate scores coupled runs (cogan, scogan) by LPIPS, translation runs by their "
                          f"translations and toy-ring runs (gan on toy) by mode coverage; {run_dir} is a "
                          f"'{cfg.gan_type}' run on {cfg.data_name}")
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
                           classifier_meta=meta, extractor=extractor, fid=fid, fid_note=note, run_dir=run_dir, n=n,
                           cfg=cfg, batch_size=batch)
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
    write_metrics(run_dir, result, render_markdown(result))
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
    write_metrics(run_dir, result, markdown.render_toy(result))
    log(f"{run_dir} (step {run.step}): {coverage['covered']} of {coverage['modes']} modes covered, "
        f"{coverage['high_quality']:.1%} high-quality points of {n:,}; wrote metrics.md and metrics.json")
    return result


# ---------------------------------------------------------------------------------------------- report

render_toy_markdown = markdown.render_toy   # its home: metrics/markdown.py


# ---------------------------------------------------------------------------------------------- entry points

def evaluate_main(argv):
    """`python main.py --evaluate RUN_DIR ...`: bad input raises ConfigError (one line, exit 2 in main)."""
    p = argparse.ArgumentParser(prog="main.py --evaluate", description="Score a trained coupled run (LPIPS "
                                "table, pixel and class agreement, FID) or translation run (its translations of "
                                "held-out pairs where the data has them, else of the training domains); writes "
                                "RUN_DIR/metrics.json and .md.")
    p.error = lambda m: p.exit(2, f"error: {m} (see --help)\n")
    p.add_argument("--evaluate", required=True, metavar="RUN_DIR")
    p.add_argument("--num", type=int, help="pairs (default: eval_pairs of the run, else the held-out split's size "
                   "for a translation run on paired data, else the thesis's count; capped at the images there are)")
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
    if "joint" in result:   # a UNIT run's same-z pairs (translation_eval.joint_section)
        print(f"  same-z joint samples ({result['joint']['pairs']:,} pairs):")
        for row in result["joint"]["lpips"]["rows"].values():
            print(f"    {row['label']:<46} {markdown.pm(row)}")
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
