"""tf.data pipelines: decoding and crops, seeded epochs without shuffle buffers, batches in [-1, 1], position-only
checkpoints; the toy rings of Gaussians (thesis sec. 2.3.2: the authors' ring, and Metz et al.'s)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import tensorflow as tf

from data_sources.base import DataError, DataInfo
from data_sources.files import is_regular_file
from data_sources.specs import CELEBA_CROPS

AUTOTUNE = tf.data.AUTOTUNE
EVAL_BATCH_SIZE = 256
TFDS_SHUFFLE_BUFFER = 2048   # tfds streams hold encoded images: a checkpoint saves the buffer, keep it small
TOY_MODES, TOY_RADIUS, TOY_STD = 10, 2.0, 0.02   # the "metz" ring (TOY_RINGS); kept for old runs and callers
THESIS_CENTRAL_FRACTION = 0.7   # CelebA "thesis" crop (specs.CELEBA_CROPS)


def center_crop_resize(image, size: int, crop: str = "square"):
    """Central crop, then resize to size x size; uint8 or [0, 1] input of shape (H, W, C) -> float32 in [0, 1].

    crop="square": the largest central square (CelebA's aligned 218x178 faces -> 178x178, rows 20..197).
    crop="thesis": tf.image.central_crop(image, 0.7) as the thesis authors' CelebA code (218x178 -> rows
    32..185, columns 26..151, a 154x126 box), stretched to the square output.
    """
    image = tf.convert_to_tensor(image)
    if image.dtype == tf.uint8:
        image = tf.cast(image, tf.float32) / 255.0
    if crop == "thesis":
        image = tf.image.central_crop(image, THESIS_CENTRAL_FRACTION)
    elif crop == "square":
        shape = tf.shape(image)
        h, w = shape[0], shape[1]
        s = tf.minimum(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        image = image[top:top + s, left:left + s]
    else:
        raise DataError(f"unknown crop '{crop}': choose one of {', '.join(CELEBA_CROPS)}")
    # antialias: CelebA and CycleGAN images are downscaled (178 or 256 -> 128); no effect when upscaling.
    image = tf.image.resize(image, [size, size], method="bilinear", antialias=True)
    return tf.clip_by_value(image, 0.0, 1.0)


def _to_model_range(x01, size):
    """[0, 1] images (..., H, W, 1 or 3) -> RGB in [-1, 1], the range of the generators' tanh."""
    if x01.shape[-1] == 1:
        x01 = tf.image.grayscale_to_rgb(x01)
    x = x01 * 2.0 - 1.0
    return tf.ensure_shape(x, x.shape[:-3] + (size, size, 3))



def _decode_encoded(encoded, size, crop="square"):
    # decode_image sniffs PNG/JPEG/BMP/GIF; expand_animations=False gives a GIF's first frame as 3-D.
    img = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)
    return _to_model_range(center_crop_resize(img, size, crop), size)


def _epoch_indices(n: int, seed: int) -> tf.data.Dataset:
    """Infinite stream of 0..n-1, a fresh permutation per epoch, from the stateless seed (seed, epoch).

    A full shuffle without a shuffle buffer: memory and checkpoints hold one epoch of int64 indices however
    large the images, and the order depends on `seed` alone, not on TF's global seed.
    """
    base = tf.constant(seed, tf.int64)

    def permutation(epoch):
        return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([base, epoch]))

    return tf.data.Dataset.counter().map(permutation).unbatch()


def _positions_only(ds):
    """Checkpoint only positions, not buffers (`experimental_symbolic_checkpoint`): these pipelines are
    deterministic functions of `seed`, so a restore recomputes prefetched batches instead of storing them
    (a few KB per iterator rather than every prefetched batch of decoded images)."""
    options = tf.data.Options()
    options.experimental_symbolic_checkpoint = True
    return ds.with_options(options)


def _with_labels(load, labels):
    """Wrap an index -> image function so that it yields (image, label) when `labels` ([N] or [N, k]) is given."""
    if labels is None:
        return load
    table = tf.constant(labels)
    return lambda idx: (load(idx), tf.gather(table, idx))


def _gray_loader(gray, size, labels=None):
    """idx (scalar or [B]) -> grayscale images of `gray` [N, h, w] (uint8 or [0, 1] float; or RGB [N, h, w, 3]
    from a registry entry) resized to size x size RGB in [-1, 1] (and their labels)."""
    images = tf.constant(gray if gray.ndim == 4 else gray[..., None])
    scale = 1.0 / 255.0 if gray.dtype == np.uint8 else 1.0

    def prepare(idx):
        x = tf.cast(tf.gather(images, idx), tf.float32) * scale
        x = tf.clip_by_value(tf.image.resize(x, [size, size], method="bilinear", antialias=True), 0.0, 1.0)
        return _to_model_range(x, size)

    return _with_labels(prepare, labels)


def _file_loader(paths, size, labels=None, crop="square"):
    """idx (scalar) -> the decoded image file paths[idx] in [-1, 1] (and its label)."""
    table = tf.constant(list(paths))
    return _with_labels(lambda i: _decode_encoded(tf.io.read_file(tf.gather(table, i)), size, crop), labels)


def _array_pipeline(gray, size, batch_size, seed, labels=None):
    """In-memory grayscale images [N, h, w] (uint8 or [0, 1] float; or RGB [N, h, w, 3]) -> batches (B, size, size, 3) in [-1, 1],
    or (images, labels) batches when `labels` is given."""
    ds = _epoch_indices(len(gray), seed).batch(batch_size, drop_remainder=True)
    ds = ds.map(_gray_loader(gray, size, labels), num_parallel_calls=AUTOTUNE)
    return _positions_only(ds.prefetch(AUTOTUNE))


def _files_pipeline(paths, size, batch_size, seed, labels=None, crop="square"):
    """Image files, streamed by path and decoded in parallel -> batches (B, size, size, 3) in [-1, 1]
    (or (images, labels) batches)."""
    # Folders were checked at start-up with this same decoder (`_decodable`), so no error is swallowed here;
    # `ignore_errors` would also rule out position-only checkpoints.
    ds = _epoch_indices(len(paths), seed).map(_file_loader(paths, size, labels, crop), num_parallel_calls=AUTOTUNE)
    return _positions_only(ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE))


def _decoder(size, crop="square"):
    """encoded image -> image in [-1, 1]; (encoded image, label) -> (image, label)."""
    return lambda b, *y: (_decode_encoded(b, size, crop),) + y if y else _decode_encoded(b, size, crop)


def _encoded_examples(encoded: tf.data.Dataset, size, seed, crop="square"):
    """A finite stream of encoded images (tfds), or of (encoded image, label) pairs -> shuffled, repeated,
    decoded examples in [-1, 1] (with labels)."""
    ds = encoded.shuffle(TFDS_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True).repeat()
    return ds.map(_decoder(size, crop), num_parallel_calls=AUTOTUNE)


def _encoded_pipeline(encoded: tf.data.Dataset, size, batch_size, seed, crop="square"):
    """As _encoded_examples, batched."""
    return _encoded_examples(encoded, size, seed, crop).batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


def _one_pass(n, load, batch_size, batched_load=False):
    """Indices 0..n-1 in order, once -> batches of load(idx) (the held-out test split: every example once,
    the last batch smaller)."""
    ds = tf.data.Dataset.range(n)
    if batched_load:
        ds = ds.batch(batch_size).map(load, num_parallel_calls=AUTOTUNE)
    else:
        ds = ds.map(load, num_parallel_calls=AUTOTUNE).batch(batch_size)
    return ds.prefetch(AUTOTUNE)


def _domain_seed(seed, domain):
    # Distinct streams per domain: the same order in both would pair images by position.
    return int(seed) * 2 + domain


# ---------------------------------------------------------------------------------------------- toy ring
@dataclass(frozen=True)
class ToyRing:
    """A ring of equally weighted 2-D Gaussians. size: a fixed training set of that many points, shuffled anew
    every epoch; None: every batch sampled afresh from the mixture."""
    modes: int
    radius: float
    std: float
    size: Optional[int]


# `--toy_ring` (config.Config.toy_ring):
# - authors: the thesis authors' ring (thesis sec. 2.3.2, Fig. 2.9: "5100 two dimensional data points arranged
#   in a circular shape"): palminde/P10Project Data.py `createToyDataRing(n_mixtures=10, radius=3, Ntrain=5120,
#   std=0.05)` from commit 1899bab (2019-11-22) through the P9 report's toy runs (unchanged at 211a920,
#   2164fb1, 1d949a0 and at the repository's head, Code/Data.py): 5,120 points drawn once, fed as
#   `Dataset.from_tensor_slices(points).shuffle(5120).batch(100)`, i.e. a fixed set reshuffled every epoch.
# - metz: the ring of Metz et al. (2017, unrolled GANs) this project used before: radius 2, std 0.02, every
#   batch drawn afresh; old runs (config.json without `toy_ring`) keep it (Config.LEGACY).
TOY_RINGS = {"authors": ToyRing(modes=10, radius=3.0, std=0.05, size=5120),
             "metz": ToyRing(modes=TOY_MODES, radius=TOY_RADIUS, std=TOY_STD, size=None)}
TOY_SET_STREAM = 5120   # salt of the fixed set's generator: the set and the data order use distinct streams


def toy_ring(name: str = "authors") -> ToyRing:
    """The ToyRing of `--toy_ring NAME`."""
    try:
        return TOY_RINGS[name]
    except KeyError:
        raise DataError(f"unknown toy ring '{name}': choose one of {', '.join(TOY_RINGS)}") from None


def ring_modes(n: int = TOY_MODES, radius: float = TOY_RADIUS) -> np.ndarray:
    """Centres of a ring of Gaussians: n points evenly on a circle, the first at angle 0 -> [n, 2]. The default
    is the "metz" ring; the authors' ring is ring_modes(10, 3.0) (toy_ring("authors"))."""
    angles = 2.0 * np.pi * np.arange(n) / n
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


def ring_set(ring: ToyRing, seed: int) -> np.ndarray:
    """The fixed training set of a ring with a `size` -> float32 [size, 2], a function of `seed` alone: each point
    picks a mode uniformly and adds N(0, std^2) per coordinate, as the authors' createToyDataRing (np.random.choice
    with equal p, then np.random.normal(loc=centre, scale=std)), here from numpy's PCG64 seeded by (seed, salt)."""
    if ring.size is None:
        raise DataError("this ring has no fixed set: its batches are sampled afresh")
    rng = np.random.default_rng([int(seed), TOY_SET_STREAM])
    which = rng.integers(0, ring.modes, size=ring.size)
    points = ring_modes(ring.modes, ring.radius)[which] + rng.normal(0.0, ring.std, size=(ring.size, 2))
    return points.astype(np.float32)


def _toy_pipeline(batch_size, seed, ring: Optional[ToyRing] = None):
    """Batches (B, 2) of a toy ring (default: the "metz" ring, TOY_RINGS).

    A ring without `size`: the mixture sampled in-graph, batch k from the stateless seed (seed, k), so the stream is
    infinite, repeatable and its checkpoint is one counter. A ring with `size` (the authors'): the fixed set
    ring_set(ring, seed), reshuffled every epoch by _epoch_indices (the same seeded permutations as the image
    sets; the checkpoint holds the position), batches of B drop no point (one may span two epochs, where the
    authors' loop drew 51 full batches of 100 per epoch of 5,120)."""
    ring = ring or TOY_RINGS["metz"]
    if ring.size is not None:
        points = tf.constant(ring_set(ring, seed))
        ds = _epoch_indices(ring.size, seed).batch(batch_size, drop_remainder=True)
        return _positions_only(ds.map(lambda idx: tf.gather(points, idx)).prefetch(AUTOTUNE))
    modes = tf.constant(ring_modes(ring.modes, ring.radius))

    def sample(k):
        s_mode, s_noise = tf.unstack(tf.random.experimental.stateless_split(
            tf.stack([tf.constant(seed, tf.int64), k]), num=2))
        which = tf.random.stateless_uniform([batch_size], s_mode, minval=0, maxval=ring.modes, dtype=tf.int32)
        noise = tf.random.stateless_normal([batch_size, 2], s_noise, stddev=ring.std)
        return tf.gather(modes, which) + noise

    return _positions_only(tf.data.Dataset.counter().map(sample, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE))


def _decodable(paths) -> np.ndarray:
    """Which files TF's own decoder reads, checked once in a parallel tf.data pass -> bool [N].

    The training pipeline decodes with the same function, so a file that passes here cannot fail later
    (PIL's verify would miss truncated JPEGs and formats TF does not read).
    """
    paths = list(paths)
    ok = np.zeros(len(paths), bool)
    regular = np.flatnonzero([is_regular_file(p) for p in paths])  # a FIFO would block read_file (issue 22)
    if not len(regular):
        return ok
    table = tf.constant([paths[i] for i in regular])

    def check(i):
        img = tf.io.decode_image(tf.io.read_file(tf.gather(table, i)), channels=3, expand_animations=False)
        return i, tf.size(img)   # using the image keeps the decode from being pruned

    ds = tf.data.Dataset.range(len(regular)).map(check, num_parallel_calls=AUTOTUNE, deterministic=False)
    for idx, n in ds.ignore_errors().batch(1024).as_numpy_iterator():
        ok[regular[idx[n > 0]]] = True
    return ok



def toy_single(name, req):
    """Loader of the `toy` entry: the ring `req.toy_ring` (TOY_RINGS), batches of shape (B, 2); DataInfo.sizes
    holds the fixed set's size, 0 for a ring sampled afresh."""
    ring = toy_ring(req.toy_ring)
    return _toy_pipeline(req.batch_size, req.seed, ring), DataInfo("toy", (2,), (ring.size or 0,))
