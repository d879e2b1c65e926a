"""Types shared by the data modules; no TensorFlow (specs.py and config.py import them)."""
from __future__ import annotations

from dataclasses import dataclass


class DataError(ValueError):
    """Bad user input about data: the CLI prints str(e) as one line and exits 2. Messages are one line,
    say what is wrong and how to fix it."""


@dataclass(frozen=True)
class DataInfo:
    name: str                 # e.g. "mnist2edge", "folder", "toy"
    shape: tuple              # per-example shape, (H, W, C) for images, (2,) for toy
    sizes: tuple              # examples per domain; for a toy ring its fixed set's size, 0 if sampled afresh
    skipped: int = 0          # unreadable files skipped (local folders)


@dataclass(frozen=True)
class LabelledInfo:
    name: str
    shape: tuple              # (H, W, 3)
    sizes: tuple              # (training examples, held-out test examples)
    names: tuple              # class names (softmax) or attribute names (multi-label sigmoid)
    multilabel: bool = False
    skipped: int = 0          # unreadable files skipped (local folders)
    crop: str | None = None   # CelebA: how the faces were cropped (CELEBA_CROPS); None for other sets


@dataclass(frozen=True)
class LoadRequest:
    """What a spec's loader is asked for (data.load_pair / load_single / load_labelled fill it).

    name: the data name as given (local pair folders keep its case); the loader also receives it stripped and
    lower-case as its first argument. size: the image size (the option, else the spec's default).
    domain_a, domain_b: local folders (the FOLDERS entry)."""
    name: str
    size: int
    batch_size: int
    seed: int
    data_dir: str | None = None
    download: bool = True
    celeba_crop: str = "thesis"
    prune_classifier: object = None
    prune_threshold: float = 0.4
    domain_a: str | None = None
    domain_b: str | None = None
    toy_ring: str = "authors"   # the `toy` entry: which ring (pipelines.TOY_RINGS)
