"""tf.data pipelines: decoding and crops, seeded epochs without shuffle buffers, batches in [-1, 1], position-only
checkpoints; the toy ring of Gaussians (thesis sec. 2.3.2)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from data_sources.base import DataError, DataInfo
from data_sources.specs import CELEBA_CROPS

AUTOTUNE = tf.data.AUTOTUNE
EVAL_BATCH_SIZE = 256
TFDS_SHUFFLE_BUFFER = 2048   # tfds streams hold encoded images: a checkpoint saves the buffer, keep it small
TOY_MODES, TOY_RADIUS, TOY_STD = 10, 2.0, 0.02   # thesis sec. 2.3.2
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
def ring_modes(n: int = TOY_MODES, radius: float = TOY_RADIUS) -> np.ndarray:
    """Centres of the ring of Gaussians (thesis sec. 2.3.2): n points evenly on a circle -> [n, 2]."""
    angles = 2.0 * np.pi * np.arange(n) / n
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


def _toy_pipeline(batch_size, seed):
    """Mixture of TOY_MODES Gaussians (std TOY_STD) on a ring, sampled in-graph: batch k uses the stateless
    seed (seed, k), so the stream is infinite, repeatable and its checkpoint is one counter."""
    modes = tf.constant(ring_modes())

    def sample(k):
        s_mode, s_noise = tf.unstack(tf.random.experimental.stateless_split(
            tf.stack([tf.constant(seed, tf.int64), k]), num=2))
        which = tf.random.stateless_uniform([batch_size], s_mode, minval=0, maxval=TOY_MODES, dtype=tf.int32)
        noise = tf.random.stateless_normal([batch_size, 2], s_noise, stddev=TOY_STD)
        return tf.gather(modes, which) + noise

    return _positions_only(tf.data.Dataset.counter().map(sample, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE))


def _decodable(paths) -> np.ndarray:
    """Which files TF's own decoder reads, checked once in a parallel tf.data pass -> bool [N].

    The training pipeline decodes with the same function, so a file that passes here cannot fail later
    (PIL's verify would miss truncated JPEGs and formats TF does not read).
    """
    table = tf.constant(list(paths))

    def check(i):
        img = tf.io.decode_image(tf.io.read_file(tf.gather(table, i)), channels=3, expand_animations=False)
        return i, tf.size(img)   # using the image keeps the decode from being pruned

    ds = tf.data.Dataset.range(len(paths)).map(check, num_parallel_calls=AUTOTUNE, deterministic=False)
    ok = np.zeros(len(paths), bool)
    for idx, n in ds.ignore_errors().batch(1024).as_numpy_iterator():
        ok[idx[n > 0]] = True
    return ok



def toy_single(name, req):
    """Loader of the `toy` entry: the ring, batches of shape (B, 2)."""
    return _toy_pipeline(req.batch_size, req.seed), DataInfo("toy", (2,), (0,))
