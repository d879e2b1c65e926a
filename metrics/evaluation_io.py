"""What every evaluation reads and writes (the coupled table in evaluation.py, translations in translation_eval.py):
the fixed evaluation seed, the number of pairs, the real images, the evaluation classifier's probe, and the
metrics.json / metrics.md / history files. evaluation.py re-exports these names (`evaluation.real_images` ...).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

import run_folder
from config import ConfigError
from data_sources import specs
from metrics.measures import HOW_TO_CLASSIFIER, MEASURES

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


def write_metrics(run_dir, result, markdown):
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
    for name in list(MEASURES) + ["modes", "cycle", "joint"]:   # cycle, joint: translation runs (translation_eval)
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
