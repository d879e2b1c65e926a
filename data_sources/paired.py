"""Paired data for the supervised translation models (issue 20, item 1): each example is one image seen in both
domains, (x, y), unlike data.load_pair's two unpaired domains.

    derived pairs   digits2* / mnist2*: (x, transform(x)) of the SAME image, transformed at native resolution as
                    load_pair's domain B (thesis sec. 5.2), with a fixed held-out split (load_paired's docstring);
    paired folders  the pix2pix "A|B side by side" layout: one image per file, width twice the height, A on the
                    left and B on the right (pix2pix's datasets/combine_A_and_B.py writes it this way);
    anything else   refused: MNIST2SVHN, MNIST2Fashion, CelebA attributes and the tfds CycleGAN sets hold different
                    images in their two domains, so no pair exists to learn from.

Each loader is called as loader(lower-case name, base.LoadRequest, split, direction) -> (dataset, DataInfo); the
PAIRED registry maps a specs.DataSpec key onto its loader, so specs.py needs no change.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from data_sources.base import DataError, DataInfo, LoadRequest
from data_sources.files import IMAGE_EXTENSIONS, _find_idx_file, is_regular_file, read_idx
from data_sources.labelled import TEST_FRACTION, _load_gray_labelled, split_test
from data_sources.pipelines import (AUTOTUNE, _epoch_indices, _gray_loader, _one_pass, _positions_only,
                                    _to_model_range, center_crop_resize)
from data_sources.sources import _load_digits_array
from data_sources.specs import COGAN_DATASETS, spec_for
from data_sources.transforms import TRANSFORMS

log = logging.getLogger("coupled_gan.data")  # run_folder.LOGGER: shown on stdout as every other note

SPLITS = ("train", "test")
DIRECTIONS = ("AtoB", "BtoA")     # pix2pix's --direction: which side of the pair is the input
HELD_OUT_FOLDERS = ("test", "val")  # pix2pix sets ship test/ (facades, night2day) or only val/ (maps, cityscapes)
DERIVED_NAMES = tuple(n for n in COGAN_DATASETS if spec_for(n).derived is not None)


# ---------------------------------------------------------------------------------------------- derived pairs
def _held_out(x):
    """(training images, held-out images) of a set without a test split of its own: a fixed TEST_FRACTION by
    split_test's constant-seed permutation (the same indices the labelled sets hold out)."""
    train, test = split_test(len(x))
    return x[train], x[test]


def _digits_splits(data_dir, download):
    return _held_out(_load_digits_array())


def _idx_images(path):
    x = read_idx(path)
    if x.ndim != 3:
        raise DataError(f"{path} holds arrays of shape {x.shape[1:]}, not 2-D images")
    return x.astype(np.uint8)


def _mnist_splits(data_dir, download):
    """MNIST -> (train, test) uint8 [N, 28, 28]: idx files in data_dir (train-* for training, t10k-* held out; one
    of them alone is split by split_test), else tfds's train and test splits."""
    if data_dir:
        found = {s: _find_idx_file(data_dir, "mnist", s) for s in ("train", "t10k")}
        if None not in found.values():
            return _idx_images(found["train"]), _idx_images(found["t10k"])
        path = found["train"] or found["t10k"]
        if path is not None:
            log.warning("note: %s holds only one MNIST split: pairs from %d%% of it, the rest held out", path.parent,
                        round(100 * (1 - TEST_FRACTION)))
            return _held_out(_idx_images(path))
    x, _, x_test, _ = _load_gray_labelled("mnist", data_dir, download)   # no idx files: tfds (labels unused)
    return x, x_test


SOURCES = {"digits": _digits_splits, "mnist": _mnist_splits}


def _pair_loader(x, y, size):
    """idx [B] -> (x[idx], y[idx]) as RGB in [-1, 1], each resized as load_pair's domains are."""
    load_x, load_y = _gray_loader(x, size), _gray_loader(y, size)
    return lambda idx: (load_x(idx), load_y(idx))


def derived_paired(name, req, split, direction):
    """digits2* / mnist2*: the split's images x and transform(x), transformed at native resolution (sec. 5.2)."""
    x = SOURCES[name.split("2")[0]](req.data_dir, req.download)[SPLITS.index(split)]
    transform, _ = spec_for(name).derived
    pair = _oriented((x, TRANSFORMS[transform](x)), direction)
    load = _pair_loader(*pair, req.size)
    if split == "train":
        ds = _epoch_indices(len(x), req.seed).batch(req.batch_size, drop_remainder=True)
        ds = _positions_only(ds.map(load, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE))
    else:
        ds = _one_pass(len(x), load, req.batch_size, batched_load=True)
    return ds, DataInfo(name, (req.size, req.size, 3), (len(x), len(x)))


# ---------------------------------------------------------------------------------------------- paired folders
def _image_files(root):
    return sorted(os.path.join(d, f) for d, _, names in os.walk(root, followlinks=True) for f in names
                  if f.lower().endswith(IMAGE_EXTENSIONS))


def _split_files(root: Path, split):
    """The image files of `split` under a paired folder: root/train for training and root/test (else root/val)
    held out; without a train/ subfolder, or without a held-out one, a fixed TEST_FRACTION of the sorted files
    (split_test) is held out."""
    if not root.exists():
        raise DataError(f"paired folder not found: {root} (check the path)")
    if not root.is_dir():
        raise DataError(f"paired data is not a folder: {root} (give a folder of A|B images side by side)")
    train_dir = root / "train"
    if not train_dir.is_dir() and (root / "trainA").is_dir():
        raise DataError(f"{root} holds trainA/trainB (the unpaired CycleGAN layout): paired data needs one image "
                        f"per pair, A and B side by side (pix2pix's combine_A_and_B.py makes them)")
    held = next((root / h for h in HELD_OUT_FOLDERS if (root / h).is_dir()), None) if train_dir.is_dir() else None
    if held is not None:
        files = _image_files(train_dir if split == "train" else held)
    else:
        files = _image_files(train_dir if train_dir.is_dir() else root)
        if len(files) == 1:
            raise DataError(f"{root} holds one image: holding one out for testing needs at least 2 (or a test/ folder)")
        if files:
            files = [files[i] for i in split_test(len(files))[SPLITS.index(split)]]
    if not files:
        raise DataError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) for the {split} split under "
                        f"paired folder {root}")
    return files


def _image_shapes(paths):
    """(height, width) of each file as TF's own decoder reads it (the one the pipeline uses) -> int64 [N, 2],
    (0, 0) for a file it cannot read; one parallel tf.data pass, as pipelines._decodable."""
    hw = np.zeros((len(paths), 2), np.int64)
    regular = np.flatnonzero([is_regular_file(p) for p in paths])  # a FIFO would block read_file (issue 22)
    if not len(regular):
        return hw
    table = tf.constant([paths[i] for i in regular])

    def shape(i):
        img = tf.io.decode_image(tf.io.read_file(tf.gather(table, i)), channels=3, expand_animations=False)
        return i, tf.shape(img, out_type=tf.int64)[:2] * tf.cast(tf.size(img) > 0, tf.int64)

    ds = tf.data.Dataset.range(len(regular)).map(shape, num_parallel_calls=AUTOTUNE, deterministic=False)
    for idx, found in ds.ignore_errors().batch(1024).as_numpy_iterator():
        hw[regular[idx]] = found
    return hw


def _checked(paths, root):
    """The readable files (-> (paths, number skipped)); a readable one whose width is not twice its height is
    not in the A|B layout: DataError naming it."""
    hw = _image_shapes(paths)
    ok = hw[:, 0] > 0
    if not ok.any():
        raise DataError(f"none of the {len(paths)} image files under {root} can be read (corrupt or unsupported)")
    bad = np.flatnonzero(ok & (hw[:, 1] != 2 * hw[:, 0]))
    if len(bad):
        (h, w), path = hw[bad[0]], paths[bad[0]]
        more = f"; {len(bad) - 1} more such file(s)" if len(bad) > 1 else ""
        raise DataError(f"{path} is {w}x{h} pixels: a paired image holds A and B side by side, so its width must be "
                        f"twice its height (pix2pix layout){more}")
    return [p for p, k in zip(paths, ok) if k], int((~ok).sum())


def _side_by_side_loader(paths, size, direction):
    """idx (scalar) -> (input, target) halves of paths[idx] in [-1, 1], each resized to size x size."""
    table = tf.constant(list(paths))
    first = DIRECTIONS.index(direction)   # AtoB: left half first

    def load(i):
        img = tf.io.decode_image(tf.io.read_file(tf.gather(table, i)), channels=3, expand_animations=False,
                                 dtype=tf.uint8)
        half = tf.shape(img)[1] // 2
        sides = [_to_model_range(center_crop_resize(s, size), size) for s in (img[:, :half], img[:, half:])]
        return sides[first], sides[1 - first]

    return load


def _folder_dataset(root: Path, name, req, split, direction):
    files, skipped = _checked(_split_files(root, split), root)
    load = _side_by_side_loader(files, req.size, direction)
    if split == "train":
        ds = _epoch_indices(len(files), req.seed).map(load, num_parallel_calls=AUTOTUNE)
        ds = _positions_only(ds.batch(req.batch_size, drop_remainder=True).prefetch(AUTOTUNE))
    else:
        ds = _one_pass(len(files), load, req.batch_size)
    return ds, DataInfo(name, (req.size, req.size, 3), (len(files), len(files)), skipped)


def folder_paired(name, req, split, direction):
    """folder=DIR: a folder in the pix2pix A|B layout."""
    return _folder_dataset(Path(req.domain_a).expanduser(), "paired_folder", req, split, direction)


def named_folder_paired(name, req, split, direction):
    """<data_dir>/<name>/train (pix2pix's datasets/<name>/train|val|test, e.g. facades, maps); a CycleGAN set's
    name without such a folder is refused (tfds's cycle_gan/<name> is unpaired)."""
    root = Path(req.data_dir or ".").expanduser() / req.name.strip()
    if req.data_dir and (root / "train").is_dir():
        return _folder_dataset(root, name, req, split, direction)
    if spec_for(name).key == "unregistered":
        raise DataError(f"unknown paired dataset '{req.name}': choose one of {', '.join(DERIVED_NAMES)}, a folder "
                        f"<data_dir>/{req.name.strip()}/train of A|B images side by side (pix2pix layout), or a "
                        f"paired folder")
    raise _no_pairs(req.name.strip(), f"put pix2pix's A|B images in <data_dir>/{req.name.strip()}/train and test")


def _no_pairs(name, hint=None):
    a, b = spec_for(name).domain_names(name)
    return DataError(f"'{name}' has no paired data: its domains ({a}, {b}) hold different images, not one image in "
                     f"two forms; paired models need a derived pair ({', '.join(DERIVED_NAMES)}) or a folder of A|B "
                     f"images side by side{f' ({hint})' if hint else ''}")


# specs.DataSpec key -> loader; a key not here has no paired data (_no_pairs).
PAIRED = {"derived": derived_paired, "folders": folder_paired, "unregistered": named_folder_paired,
          "cycle_gan": named_folder_paired}


def _oriented(pair, direction):
    return pair if direction == "AtoB" else pair[::-1]


def _choice(value, valid, what):
    if value not in valid:
        raise DataError(f"unknown {what} '{value}': choose one of {', '.join(valid)}")


def load_paired(name: str | None, *, batch_size: int, seed: int, split: str = "train", direction: str = "AtoB",
                folder: str | None = None, data_dir: str | None = None, image_size: int | None = None,
                download: bool = True):
    """Paired examples for a supervised translation model (pix2pix) -> (dataset, DataInfo).

    The dataset yields (input, target) batches, each (B, S, S, 3) float32 in [-1, 1], row i of both the same
    example: with direction="AtoB" input = domain A (x, or a file's left half), target = domain B (transform(x),
    or the right half); "BtoA" swaps them. split="train" repeats forever, shuffled from `seed` (a fresh
    permutation per epoch, position-only checkpoints, as load_pair); split="test" goes once over the held-out
    examples in a fixed order (the last batch smaller). DataInfo.sizes = (pairs, pairs) of the split.

    name: a derived pair (DERIVED_NAMES), or a pix2pix set under <data_dir>/<name>/train; name=None and
    `folder`: a folder in the A|B layout. Other coupled pairs (mnist2svhn, mnist2fashion, celeba_*, tfds
    CycleGAN sets) have no pairs: DataError.

    The held-out split (fixed: it depends on neither `seed` nor the run, and is disjoint from "train"):
      * digits2*: a fixed TEST_FRACTION (10 %: 180 of 1,797) by split_test's constant-seed permutation, the
        same images load_labelled("digits") holds out, so the digits classifier has not seen them either;
      * mnist2*: MNIST's own test split (t10k idx files beside the train ones, or tfds "test"); a data_dir with
        only one of train/t10k holds out a fixed 10 % of it;
      * folders: <root>/train for training, <root>/test (else <root>/val) held out, as pix2pix's datasets;
        without a train/ subfolder, or without a held-out one, a fixed 10 % of the sorted files.
    The test split is unseen by every model: load_pair's unpaired domains split the rest (transforms.pair_halves):
    digits2* the other 1,617 digits (review A2.3), mnist2* MNIST's train split, or the other 90 % of a one-split
    folder (review 11 H1); load_labelled's derived pairs hold out the same images.

    Unreadable files are skipped (DataInfo.skipped); a readable file whose width is not twice its height is a
    DataError naming it.
    """
    if int(batch_size) < 1:
        raise DataError(f"batch size must be at least 1 (got {batch_size})")
    _choice(split, SPLITS, "split")
    _choice(direction, DIRECTIONS, "direction")
    if name and folder:
        raise DataError("give either a paired dataset name or a paired folder, not both")
    if not name and not folder:
        raise DataError(f"give a paired dataset ({', '.join(DERIVED_NAMES)}) or a folder of A|B images side by side")
    low = (name or "").strip().lower()
    spec = spec_for(low or None)
    loader = PAIRED.get(spec.key)
    if loader is None:
        raise _no_pairs(name.strip())
    req = LoadRequest(name=name or "", size=int(image_size or spec.image_size), batch_size=int(batch_size),
                      seed=int(seed), data_dir=data_dir, download=download, domain_a=folder)
    return loader(low, req, split, direction)
