"""Data: the domain pairs of the thesis (ch. 5) and single-GAN sets as infinite, seeded tf.data pipelines.

Every dataset returned here repeats forever, is shuffled from `seed`, yields float32 batches of shape
(batch, H, W, 3) in [-1, 1] (grayscale repeated to RGB) or (batch, 2) for the toy ring, and is built from
tf.data ops only, so that `tf.train.Checkpoint(it=iter(ds))` saves its position and a resumed run sees
exactly the batches it would have seen.

Sources, in order of preference:
  * offline, shipped with scikit-learn: `digits2edge`, `digits2negative`, `digits2rotate`, `digits`;
  * files in `data_dir`: MNIST / Fashion-MNIST idx files, CelebA's `img_align_celeba/` +
    `list_attr_celeba.txt`, CycleGAN `<name>/trainA|trainB` folders;
  * tensorflow-datasets (downloads, or a data_dir prepared with `tfds build` on a machine with internet);
  * any one or two local image folders.

`load_labelled` gives the labelled sets of the Appendix B classifiers (semantic loss, Eq. 4.2; SVHN pruning,
sec. 2.7) as (images, labels) batches plus a held-out test split; `mnist2svhn_prune` drops the SVHN images
such a classifier doubts.
"""
from __future__ import annotations

import gzip
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

# tfds probes Google Cloud Storage even for local data and can stall for minutes offline (datasets#2400).
os.environ.setdefault("NO_GCE_CHECK", "true")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

log = logging.getLogger(__name__)
AUTOTUNE = tf.data.AUTOTUNE


class DataError(ValueError):
    """Bad user input about data: the CLI prints str(e) as one line and exits 2. Messages are one line,
    say what is wrong and how to fix it."""


@dataclass(frozen=True)
class DataInfo:
    name: str                 # e.g. "mnist2edge", "folder", "toy"
    shape: tuple              # per-example shape, (H, W, C) for images, (2,) for toy
    sizes: tuple              # examples per domain; 0 for the toy ring, which is sampled afresh (unbounded)
    skipped: int = 0          # unreadable files skipped (local folders)


# ---------------------------------------------------------------------------------------------- names
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young")
# The configs of tfds `cycle_gan` (4.9.10); each also loads from local <data_dir>/<name>/trainA|trainB.
CYCLE_GAN_SETS = ("apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
                  "ukiyoe2photo", "vangogh2photo", "maps", "facades", "iphone2dslr_flower")
DIGIT_TRANSFORMS = ("edge", "negative", "rotate")

# Canonical names; load_pair also accepts a bare CelebA attribute (`Smiling` = `celeba_Smiling`).
COGAN_DATASETS: tuple[str, ...] = (
    tuple(f"digits2{t}" for t in DIGIT_TRANSFORMS) + tuple(f"mnist2{t}" for t in DIGIT_TRANSFORMS)
    + ("mnist2svhn", "mnist2svhn_prune", "mnist2fashion") + tuple(f"celeba_{a}" for a in CELEBA_ATTRIBUTES)
    + CYCLE_GAN_SETS)
SINGLE_DATASETS: tuple[str, ...] = ("toy", "digits", "mnist", "fashion_mnist", "svhn", "celeba")
# Labelled sets for the classifiers of thesis Appendix B (semantic loss, Eq. 4.2; SVHN pruning, sec. 2.7).
LABELLED_DATASETS: tuple[str, ...] = (("digits", "mnist", "mnist_svhn", "celeba")
                                      + tuple(f"{s}2{t}" for s in ("digits", "mnist") for t in DIGIT_TRANSFORMS))
PRUNED_SVHN = "mnist2svhn_prune"   # MNIST -> SVHN without the SVHN images the classifier doubts (sec. 2.7)
DIGIT_CLASSES = tuple(str(k) for k in range(10))
TEST_FRACTION = 0.1          # held out where a set has no test split of its own
EVAL_BATCH_SIZE = 256

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_SEED = 1234            # the 50/50 split is a property of the dataset, not of the run
TFDS_SHUFFLE_BUFFER = 2048   # tfds streams hold encoded images: a checkpoint saves the buffer, keep it small
TOY_MODES, TOY_RADIUS, TOY_STD = 10, 2.0, 0.02   # thesis sec. 2.3.2
# How CelebA's aligned 218x178 faces become square (load_pair / load_single / load_labelled `celeba_crop`):
# "thesis" as the authors' code, tf.image.central_crop(image, 0.7) (a 154x126 box) resized to the target size,
# so slightly stretched vertically; "square" the largest central square (178x178). Other encoded sources
# (CycleGAN sets, folders) always take the square crop.
CELEBA_CROPS = ("thesis", "square")
THESIS_CENTRAL_FRACTION = 0.7


def default_image_size(name) -> int:
    """32 for the digit sets and folders, 128 for CelebA and the CycleGAN sets (thesis ch. 5)."""
    if not name:
        return 32
    low = str(name).lower()
    if (low.startswith("celeba") or low in CYCLE_GAN_SETS
            or low in {a.lower() for a in CELEBA_ATTRIBUTES}):
        return 128
    return 32


def _resolve_attribute(name: str):
    """'celeba_Smiling', 'Smiling', 'celeba_smiling' -> 'Smiling'; None if not a CelebA attribute."""
    low = name.lower()
    if low.startswith("celeba_"):
        low = low[len("celeba_"):]
    return {a.lower(): a for a in CELEBA_ATTRIBUTES}.get(low)


def _unknown(name, kind, valid):
    return DataError(f"unknown {kind} dataset '{name}': choose one of {', '.join(valid)}")


# ---------------------------------------------------------------------------------------------- transforms
# Derived second domains of the thesis (sec. 5.2), applied at native resolution to arrays [..., H, W]
# of grayscale images, uint8 in 0..255 or float in [0, 1].

def edge(x: np.ndarray) -> np.ndarray:
    """Edge image = 3x3 grayscale dilation minus the image, as cv2.dilate(img, np.ones((3, 3))) - img."""
    x = np.asarray(x)
    # cv2.dilate ignores pixels outside the image; padding with the dtype's minimum does the same for a max.
    low = np.iinfo(x.dtype).min if np.issubdtype(x.dtype, np.integer) else -np.inf
    pad = [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)]
    p = np.pad(x, pad, constant_values=low)
    h, w = x.shape[-2:]
    dil = x.copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(dil, p[..., dy:dy + h, dx:dx + w], out=dil)
    return dil - x


def negative(x: np.ndarray) -> np.ndarray:
    """Negative image, 1 - x in [0, 1] (255 - x for uint8)."""
    x = np.asarray(x)
    return (255 - x).astype(np.uint8) if x.dtype == np.uint8 else 1.0 - x


def rotate(x: np.ndarray) -> np.ndarray:
    """Rotated by 90 degrees counter-clockwise (np.rot90 on the last two axes)."""
    return np.ascontiguousarray(np.rot90(np.asarray(x), k=1, axes=(-2, -1)))


TRANSFORMS = {"edge": edge, "negative": negative, "rotate": rotate}


def split_halves(n: int):
    """Fixed 50/50 split of n examples -> (indices of domain A, indices of domain B), disjoint.

    Domain A takes the first half of a permutation drawn from a constant seed, B the rest, so that the two
    domains never share an image (CoGAN learns from unpaired data) and the split does not depend on the run.
    """
    perm = np.random.RandomState(SPLIT_SEED).permutation(n)
    return perm[: n // 2], perm[n // 2:]


# ---------------------------------------------------------------------------------------------- file formats
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an idx file (the MNIST / Fashion-MNIST format), gzip-compressed or raw."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read idx file {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an idx file (bad magic number): use the original MNIST .gz files")
    ndim = raw[3]
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"idx file {path} is truncated or corrupt ({len(raw)} bytes, header says {expected}): "
                        f"download it again")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_celeba_attributes(path):
    """Parse CelebA's list_attr_celeba.txt -> (filenames, attribute names, int8 array [N, 40] of +1/-1).

    The count on the first line is not trusted (partial copies keep 202599): rows are what is there.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read CelebA attribute file {path}: {e}") from None
    lines = [ln for ln in lines if ln.strip()]
    if lines and re.fullmatch(r"\s*\d+\s*", lines[0]):
        lines = lines[1:]
    if not lines:
        raise DataError(f"CelebA attribute file {path} is empty: use the original list_attr_celeba.txt")
    names = lines[0].split()
    files, values = [], []
    for i, ln in enumerate(lines[1:], start=3):
        parts = ln.split()
        if len(parts) != len(names) + 1:
            raise DataError(f"{path} line {i}: expected a file name and {len(names)} values, got {len(parts)} "
                            f"fields: use the original list_attr_celeba.txt")
        files.append(parts[0])
        values.append(parts[1:])
    try:
        attrs = np.array(values, dtype=np.int8).reshape(len(files), len(names))
    except ValueError:
        raise DataError(f"{path} holds non-integer attribute values: use the original list_attr_celeba.txt") \
            from None
    if not np.isin(attrs, (-1, 1)).all():
        raise DataError(f"{path} holds attribute values other than 1/-1: use the original list_attr_celeba.txt")
    return files, names, attrs


# ---------------------------------------------------------------------------------------------- image ops
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
    """idx (scalar or [B]) -> grayscale images of `gray` [N, h, w] (uint8 or [0, 1] float) resized to
    size x size RGB in [-1, 1] (and their labels)."""
    images = tf.constant(gray[..., None])
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
    """In-memory grayscale images [N, h, w] (uint8 or [0, 1] float) -> batches (B, size, size, 3) in [-1, 1],
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


# ---------------------------------------------------------------------------------------------- tfds
def _import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise DataError(f"tensorflow-datasets is not installed ({e}): pip install tensorflow-datasets") from None
    try:  # private switch (datasets#2839): never probe GCS for dataset info
        tfds.core.utils.gcs_utils._is_gcs_disabled = True
    except AttributeError:
        pass
    return tfds


def _tfds_dir(data_dir):
    return data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join("~", "tensorflow_datasets")


def _first_line(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


# Where tfds and keras.applications download from: probed once before a download, so that an offline machine
# gets its one-line answer in seconds instead of minutes of retries.
DOWNLOAD_HOST = "storage.googleapis.com"


def network_reachable(host=DOWNLOAD_HOST, port=443, timeout=3.0) -> bool:
    import socket
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _tfds_builder(name, data_dir, download, hint=""):
    """A prepared tfds builder for `name` (e.g. 'mnist', 'cycle_gan/apple2orange'), or a one-line DataError."""
    tfds = _import_tfds()
    where = _tfds_dir(data_dir)
    build = f"run `tfds build {name} --data_dir {where}` on a machine with internet (e.g. a login node)"
    hint = f"; {hint}" if hint else ""
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        prepared = builder.is_prepared()
    except Exception as e:  # tfds raises many kinds; none may escape as a traceback
        raise DataError(f"tensorflow-datasets cannot open '{name}' ({_first_line(e)}){hint}") from None
    if prepared:
        return builder
    if not download:
        raise DataError(f"'{name}' is not prepared in {where} and downloading is off: {build}{hint}")
    if not network_reachable():
        raise DataError(f"'{name}' is not prepared in {where} and this machine is offline ({DOWNLOAD_HOST} "
                        f"unreachable): {build}, then pass --data_dir{hint}")
    try:
        builder.download_and_prepare()
    except Exception as e:
        if isinstance(e, ImportError) and e.name:  # tfds 4.9.10 downloads need `importlib_resources`
            raise DataError(f"tensorflow-datasets needs the module '{e.name}' to download '{name}': "
                            f"pip install {e.name}, or {build}{hint}") from None
        raise DataError(f"could not download '{name}' into {where} ({_first_line(e)}): {build}{hint}") from None
    return builder


def _tfds_dataset(builder, split, seed, shuffle_files=True, **kw):
    tfds = _import_tfds()
    # try_autocache off: an in-memory cache would be written into every iterator checkpoint.
    read_config = tfds.ReadConfig(shuffle_seed=seed, try_autocache=False)
    try:
        return builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config, **kw)
    except Exception as e:
        raise DataError(f"tensorflow-datasets cannot read split '{split}' of '{builder.name}' "
                        f"({_first_line(e)}): rebuild it with `tfds build`") from None


def _tfds_encoded_images(name, split, data_dir, download, seed, hint=""):
    """-> (dataset of encoded image bytes, number of examples); images are decoded after the shuffle."""
    tfds = _import_tfds()
    builder = _tfds_builder(name, data_dir, download, hint)
    ds = _tfds_dataset(builder, split, seed, decoders={"image": tfds.decode.SkipDecoding()})
    return ds.map(lambda ex: ex["image"]), _split_size(builder, split)


def _split_size(builder, split):
    """Examples in a split or a sum of splits ('train+validation+test'), from the prepared dataset info."""
    try:
        return sum(int(builder.info.splits[part].num_examples) for part in split.split("+"))
    except Exception as e:
        raise DataError(f"tensorflow-datasets has no split '{split}' in '{builder.name}' ({_first_line(e)})") \
            from None


# ---------------------------------------------------------------------------------------------- sources
def _load_digits_array():
    """scikit-learn's 1,797 real 8x8 digits (ships with the package: offline), float32 in [0, 1]."""
    from sklearn.datasets import load_digits
    return (load_digits().images / 16.0).astype(np.float32)


def _find_idx_file(data_dir, kind, split, what="images"):
    """The idx file of `what` ('images' or 'labels') of `split` ('train' or 't10k') under data_dir/kind
    (or data_dir itself for MNIST), gzip-compressed or raw, with either official spelling; or None."""
    roots = [Path(data_dir).expanduser() / kind]
    if kind == "mnist":
        roots.append(Path(data_dir).expanduser())
    dims = "idx3" if what == "images" else "idx1"
    for root in roots:
        for stem in (f"{split}-{what}-{dims}-ubyte", f"{split}-{what}.{dims}-ubyte"):
            for ext in (".gz", ""):
                if (root / (stem + ext)).is_file():
                    return root / (stem + ext)
    return None


def _find_idx(data_dir, kind):
    """-> (path of the images idx file, 'train' or 't10k') in data_dir, or (None, None)."""
    for split in ("train", "t10k"):
        path = _find_idx_file(data_dir, kind, split)
        if path is not None:
            return path, split
    return None, None


def _load_gray_set(kind, data_dir, download):
    """MNIST or Fashion-MNIST training images, uint8 [N, 28, 28]: idx files in data_dir, else tfds."""
    if data_dir:
        path, split = _find_idx(data_dir, kind)
        if path is not None:
            if split == "t10k":
                log.warning("note: %s holds only the %s test split: using its images", path.parent, kind)
            x = read_idx(path)
            if x.ndim != 3:
                raise DataError(f"{path} holds arrays of shape {x.shape[1:]}, not 2-D images")
            return x.astype(np.uint8)
    hint = (f"or put the idx files (train-images-idx3-ubyte.gz) in {Path(data_dir or '<data_dir>') / kind}")
    builder = _tfds_builder(kind, data_dir, download, hint)
    tfds = _import_tfds()
    try:
        batch = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1,
                                                 read_config=tfds.ReadConfig(try_autocache=False)))
    except Exception as e:
        raise DataError(f"tensorflow-datasets cannot read '{kind}' ({_first_line(e)}): rebuild it") from None
    return batch["image"][..., 0].astype(np.uint8)


def _folder_images(folder, what):
    """Image files under `folder` (recursive) that TF can decode -> (sorted paths, number skipped)."""
    if not folder:
        raise DataError(f"no folder given for {what}")
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"{what} folder not found: {root} (check the path)")
    if not root.is_dir():
        raise DataError(f"{what} is not a folder: {root} (give a folder of images)")
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(root, followlinks=True) for f in names
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise DataError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) found under {what} folder {root}")
    ok = _decodable(files)
    good = [f for f, k in zip(files, ok) if k]
    if not good:
        raise DataError(f"none of the {len(files)} image files under {root} can be read (corrupt or unsupported)")
    return good, len(files) - len(good)


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


def _celeba_manual(data_dir):
    """CelebA as manually downloaded, if present: (image paths, int8 attributes [N, 40], names) or None.

    Accepts <data_dir>[/celeba][/Anno]/list_attr_celeba.txt with images in img_align_celeba/ (or Img/...)
    or beside the attribute file; images are matched by stem, so .png copies of the .jpg files also work.
    """
    if not data_dir:
        return None
    base = Path(data_dir).expanduser()
    for root in (base, base / "celeba", base / "CelebA"):
        attr_file = next((p for p in (root / "list_attr_celeba.txt", root / "Anno" / "list_attr_celeba.txt")
                          if p.is_file()), None)
        if attr_file is None:
            continue
        files, names, attrs = read_celeba_attributes(attr_file)
        # The official zip unpacks to img_align_celeba/, sometimes nested once more.
        for img_dir in (root / "img_align_celeba", root / "img_align_celeba" / "img_align_celeba",
                        root / "Img" / "img_align_celeba", attr_file.parent):
            if not img_dir.is_dir():
                continue
            # Existence only: opening 202,599 files at start-up would take minutes.
            by_stem = {}
            with os.scandir(img_dir) as it:
                for entry in it:
                    stem, ext = os.path.splitext(entry.name)
                    if ext.lower() in IMAGE_EXTENSIONS:
                        by_stem[stem] = entry.path
            keep = [i for i, f in enumerate(files) if os.path.splitext(f)[0] in by_stem]
            if not keep:
                continue
            if len(keep) < len(files):
                log.warning("note: %d of the %d images named in %s are in %s: using those",
                            len(keep), len(files), attr_file, img_dir)
            paths = [by_stem[os.path.splitext(files[i])[0]] for i in keep]
            return paths, attrs[keep], names
        raise DataError(f"found {attr_file} but none of its images: put the images in {root / 'img_align_celeba'}")
    return None


_CELEBA_HINT = "or download img_align_celeba/ and list_attr_celeba.txt by hand into --data_dir"


def _check_crop(crop):
    if crop not in CELEBA_CROPS:
        raise DataError(f"unknown CelebA crop '{crop}': choose one of {', '.join(CELEBA_CROPS)}")
    return crop


def _celeba_domains(attribute, data_dir, download, size, batch_size, seed, crop):
    """Domain A = faces with the attribute (+1), B = without (-1) (thesis sec. 5.2) -> (dsA, dsB, sizes);
    faces cropped as `crop` (CELEBA_CROPS)."""
    manual = _celeba_manual(data_dir)
    if manual is not None:
        paths, attrs, names = manual
        if attribute not in names:
            raise DataError(f"attribute '{attribute}' is not a column of the CelebA attribute file")
        col = attrs[:, names.index(attribute)]
        domains = [[p for p, v in zip(paths, col) if v == want] for want in (1, -1)]
        sizes = tuple(len(d) for d in domains)
        _check_domains_nonempty(f"celeba_{attribute}", sizes)
        ds_a, ds_b = (_files_pipeline(d, size, batch_size, _domain_seed(seed, i), crop=crop)
                      for i, d in enumerate(domains))
        return ds_a, ds_b, sizes
    tfds = _import_tfds()
    builder = _tfds_builder("celeb_a", data_dir, download, _CELEBA_HINT)
    split = "train+validation+test"   # all 202,599 faces, as with the manual layout
    skip = {"image": tfds.decode.SkipDecoding()}
    # Counting needs one pass over the records (tfds keeps no per-attribute counts); images stay encoded.
    flags = _tfds_dataset(builder, split, seed, decoders=skip).map(lambda ex: ex["attributes"][attribute])
    n_pos = int(flags.reduce(tf.constant(0, tf.int64), lambda c, f: c + tf.cast(f, tf.int64)))
    n_all = _split_size(builder, split)
    sizes = (n_pos, n_all - n_pos)
    _check_domains_nonempty(f"celeba_{attribute}", sizes)
    out = []
    for i, want in enumerate((True, False)):
        ds = _tfds_dataset(builder, split, _domain_seed(seed, i), decoders=skip)
        ds = ds.filter(lambda ex, w=want: tf.equal(ex["attributes"][attribute], w)).map(lambda ex: ex["image"])
        out.append(_encoded_pipeline(ds, size, batch_size, _domain_seed(seed, i), crop))
    return out[0], out[1], sizes


def _celeba_all(data_dir, download, size, batch_size, seed, crop):
    manual = _celeba_manual(data_dir)
    if manual is not None:
        return _files_pipeline(manual[0], size, batch_size, seed, crop=crop), len(manual[0])
    ds, n = _tfds_encoded_images("celeb_a", "train+validation+test", data_dir, download, seed, _CELEBA_HINT)
    return _encoded_pipeline(ds, size, batch_size, seed, crop), n


def _check_domains_nonempty(name, sizes):
    for which, n in zip("AB", sizes):
        if n == 0:
            raise DataError(f"domain {which} of '{name}' has no images: choose another attribute or data_dir")


def _local_pair_dirs(name, data_dir):
    if not data_dir:
        return None
    root = Path(data_dir).expanduser() / name
    if (root / "trainA").is_dir() and (root / "trainB").is_dir():
        return root / "trainA", root / "trainB"
    return None


def _folder_pair(dir_a, dir_b, name, size, batch_size, seed):
    a, skipped_a = _folder_images(dir_a, "domain A")
    b, skipped_b = _folder_images(dir_b, "domain B")
    info = DataInfo(name, (size, size, 3), (len(a), len(b)), skipped_a + skipped_b)
    return (_files_pipeline(a, size, batch_size, _domain_seed(seed, 0)),
            _files_pipeline(b, size, batch_size, _domain_seed(seed, 1)), info)


def _check_batch(batch_size):
    if int(batch_size) < 1:
        raise DataError(f"batch size must be at least 1 (got {batch_size})")


# ---------------------------------------------------------------------------------------------- labelled sets
@dataclass(frozen=True)
class LabelledInfo:
    name: str
    shape: tuple              # (H, W, 3)
    sizes: tuple              # (training examples, held-out test examples)
    names: tuple              # class names (softmax) or attribute names (multi-label sigmoid)
    multilabel: bool = False
    skipped: int = 0          # unreadable files skipped (local folders)
    crop: str | None = None   # CelebA: how the faces were cropped (CELEBA_CROPS); None for other sets


def split_test(n: int, fraction: float = TEST_FRACTION):
    """Fixed held-out split for a set without a test split of its own -> (sorted training indices, sorted test
    indices), at least one of each. Like split_halves, a property of the data (constant seed), not of the run."""
    if n < 2:
        raise DataError(f"a labelled set needs at least 2 images, one of them held out for testing (got {n})")
    k = min(n - 1, max(1, int(round(n * fraction))))
    perm = np.random.RandomState(SPLIT_SEED + 1).permutation(n)
    return np.sort(perm[k:]), np.sort(perm[:k])


def classifier_data_for(pair) -> str:
    """The labelled set whose classifier can judge both generators of a coupled pair (the semantic loss,
    Eq. 4.2, compares its outputs on G1(z) and G2(z); pruning, sec. 2.7, scores SVHN with it):

    mnist2edge -> mnist, the standard MNIST classifier (thesis line 1020: "trained on the standard MNIST
    dataset for 10 epochs, reaching an accuracy of ~98%"; the thesis ran SL on mnist2edge only);
    digits2edge -> digits, its offline analogue;
    digits2negative/rotate, mnist2negative/rotate -> the pair itself (domain A images + transformed domain B
    images, the same labels): a classifier of upright digits on black cannot classify negatives or rotations;
    mnist2svhn, mnist2svhn_prune -> mnist_svhn; celeba_<Attribute> -> celeba (the 13 attributes of Table B.2).
    A labelled set's own name maps to itself (`--gan_type classifier --cogan_data mnist2edge` still trains
    the mnist2edge pair classifier when asked for by name).
    Pairs whose domains share no labels, and local folders (pair None), raise DataError.
    """
    low = (pair or "").strip().lower()
    if low in ("digits2edge", "mnist2edge"):
        return low.split("2")[0]
    if low in LABELLED_DATASETS:
        return low
    if low in ("mnist2svhn", PRUNED_SVHN):
        return "mnist_svhn"
    if low and _resolve_attribute(low) is not None:
        return "celeba"
    if low == "mnist2fashion":
        raise DataError("a classifier for a pair needs classes that both domains share, and MNIST digits and "
                        "Fashion-MNIST clothes share none: the semantic loss cannot couple mnist2fashion")
    if not low:
        raise DataError("local image folders carry no labels shared by both domains: pass --classifier_path "
                        "(train one with --gan_type classifier --domain_a DIR holding one subfolder per class)")
    raise DataError(f"no labelled set gives both domains of '{pair}' one classifier: pass --classifier_path "
                    f"(train one with --gan_type classifier --domain_a DIR holding one subfolder per class)")


def _load_gray_labelled(kind, data_dir, download):
    """MNIST-format images and labels -> (x_train, y_train, x_test, y_test): uint8 [N, 28, 28], int32 [N].
    idx files in data_dir (train-* and, if there, t10k-* as the test split), else tfds train / test.
    x_test is None when data_dir holds one split only: the caller holds out TEST_FRACTION of it."""
    if data_dir:
        found = {}
        for split in ("train", "t10k"):
            images = _find_idx_file(data_dir, kind, split)
            if images is None:
                continue
            labels = _find_idx_file(data_dir, kind, split, "labels")
            if labels is None:
                raise DataError(f"{images} has no labels beside it: put {split}-labels-idx1-ubyte.gz in {images.parent}")
            x, y = read_idx(images), read_idx(labels)
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
                raise DataError(f"{images} and {labels} do not match ({x.shape} images, {y.shape} labels)")
            found[split] = (x.astype(np.uint8), y.astype(np.int32))
        if "train" in found:
            return found["train"] + found.get("t10k", (None, None))
        if found:
            log.warning("note: %s holds only the %s test split: training on %d%% of it, testing on the rest",
                        Path(data_dir).expanduser(), kind, round(100 * (1 - TEST_FRACTION)))
            return found["t10k"] + (None, None)
    hint = f"or put the idx files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz) in " \
           f"{Path(data_dir or '<data_dir>') / kind}"
    builder = _tfds_builder(kind, data_dir, download, hint)
    tfds = _import_tfds()
    out = ()
    for split in ("train", "test"):
        try:
            batch = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1,
                                                     read_config=tfds.ReadConfig(try_autocache=False)))
        except Exception as e:
            raise DataError(f"tensorflow-datasets cannot read '{kind}' ({_first_line(e)}): rebuild it") from None
        out += (batch["image"][..., 0].astype(np.uint8), batch["label"].astype(np.int32))
    return out


def _check_labels(y, num_classes, where):
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(f"{where} holds labels outside 0..{num_classes - 1}: use the original label files")


def _digit_arrays(name, data_dir, download):
    """Grayscale digit images with labels -> (x, y, x_test or None, y_test or None); a derived pair
    (digits2*/mnist2*) gives both its domains: domain A's half as is and domain B's half transformed, the
    same 50/50 split and transforms as load_pair, labels unchanged (test split: as is + transformed)."""
    source, transform = (name.split("2") + [None])[:2]
    if source == "digits":
        from sklearn.datasets import load_digits
        x, y, xt, yt = _load_digits_array(), load_digits().target.astype(np.int32), None, None
    else:
        x, y, xt, yt = _load_gray_labelled("mnist", data_dir, download)
    _check_labels(y, 10, f"the {source} label file")
    if transform is not None:
        t = TRANSFORMS[transform]
        ia, ib = split_halves(len(x))
        x, y = np.concatenate([x[ia], t(x[ib])]), np.concatenate([y[ia], y[ib]])
        if xt is not None:
            xt, yt = np.concatenate([xt, t(xt)]), np.concatenate([yt, yt])
    return x, y, xt, yt


def _held_out(x, y, xt, yt):
    """Hold out TEST_FRACTION of (x, y) when there is no test split (xt None)."""
    if xt is not None:
        return x, y, xt, yt
    train, test = split_test(len(x))
    return x[train], y[train], x[test], y[test]


def _tfds_labelled(name, split, data_dir, download, seed, label, hint="", shuffle_files=True):
    """-> (dataset of (encoded image, label(example)), examples); images are decoded after the shuffle."""
    tfds = _import_tfds()
    builder = _tfds_builder(name, data_dir, download, hint)
    ds = _tfds_dataset(builder, split, seed, shuffle_files=shuffle_files,
                       decoders={"image": tfds.decode.SkipDecoding()})
    return ds.map(lambda ex: (ex["image"], label(ex))), _split_size(builder, split)


def _mnist_svhn(data_dir, download, size, batch_size, seed):
    """MNIST + SVHN digits, mixed per example in proportion to their sizes (the thesis's MNIST+SVHN
    classifier, sec. 2.7) -> (train, test, sizes). SVHN's images are RGB, MNIST's grayscale repeated."""
    x, y, xt, yt = _held_out(*_digit_arrays("mnist", data_dir, download))
    label = lambda ex: tf.cast(ex["label"], tf.int32)  # noqa: E731
    svhn, n_svhn = _tfds_labelled("svhn_cropped", "train", data_dir, download, seed, label)
    svhn_test, n_svhn_test = _tfds_labelled("svhn_cropped", "test", data_dir, download, seed, label,
                                            shuffle_files=False)
    # Per-example streams (no position-only checkpoint option: it would reject SVHN's shuffle buffer).
    mnist = _epoch_indices(len(x), seed).map(_gray_loader(x, size, y), num_parallel_calls=AUTOTUNE)
    weight = len(x) / (len(x) + n_svhn)
    mixed = tf.data.Dataset.sample_from_datasets([mnist, _encoded_examples(svhn, size, seed)],
                                                 weights=[weight, 1.0 - weight], seed=seed)
    train = mixed.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)
    test = _one_pass(len(xt), _gray_loader(xt, size, yt), EVAL_BATCH_SIZE, batched_load=True).concatenate(
        svhn_test.map(_decoder(size), num_parallel_calls=AUTOTUNE).batch(EVAL_BATCH_SIZE))
    return train, test.prefetch(AUTOTUNE), (len(x) + n_svhn, len(xt) + n_svhn_test)


def _celeba_labelled(data_dir, download, size, batch_size, seed, crop):
    """Faces with the 13 attributes of Table B.2 as {0, 1} floats, cropped as `crop` (CELEBA_CROPS, the same
    as the generators' faces) -> (train, test, sizes). Manual layout: a fixed TEST_FRACTION held out; tfds:
    train+validation / test."""
    import classifiers  # the 13 attributes are the classifier's (Table B.2)
    attrs = classifiers.CELEBA_CLASSIFIER_ATTRIBUTES
    manual = _celeba_manual(data_dir)
    if manual is not None:
        paths, values, names = manual
        missing = [a for a in attrs if a not in names]
        if missing:
            raise DataError(f"the CelebA attribute file has no column {missing[0]}: use the original list_attr_celeba.txt")
        y = (values[:, [names.index(a) for a in attrs]] > 0).astype(np.float32)
        train, test = split_test(len(paths))
        pick = lambda idx: [paths[i] for i in idx]  # noqa: E731
        return (_files_pipeline(pick(train), size, batch_size, seed, labels=y[train], crop=crop),
                _one_pass(len(test), _file_loader(pick(test), size, y[test], crop), EVAL_BATCH_SIZE),
                (len(train), len(test)))
    label = lambda ex: tf.cast(tf.stack([ex["attributes"][a] for a in attrs]), tf.float32)  # noqa: E731
    train, n = _tfds_labelled("celeb_a", "train+validation", data_dir, download, seed, label, _CELEBA_HINT)
    test, n_test = _tfds_labelled("celeb_a", "test", data_dir, download, seed, label, _CELEBA_HINT,
                                  shuffle_files=False)
    test = test.map(_decoder(size, crop), num_parallel_calls=AUTOTUNE).batch(EVAL_BATCH_SIZE).prefetch(AUTOTUNE)
    return _encoded_pipeline(train, size, batch_size, seed, crop), test, (n, n_test)


def _class_folders(folder):
    """A labelled local folder, one subfolder of images per class -> (paths, int32 labels, class names,
    unreadable files skipped). Images directly in the folder belong to no class and are ignored."""
    if not folder:
        raise DataError("no folder given: --domain_a DIR with one subfolder of images per class")
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"labelled folder not found: {root} (check the path)")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder: give a folder with one subfolder of images per class")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{root} has no class subfolders: a labelled folder holds one subfolder of images per "
                        f"class (e.g. {root / 'cat'}/*.png, {root / 'dog'}/*.png)")
    files, labels = [], []
    for k, c in enumerate(classes):
        found = sorted(os.path.join(d, f) for d, _, names in os.walk(root / c, followlinks=True) for f in names
                       if f.lower().endswith(IMAGE_EXTENSIONS))
        files += found
        labels += [k] * len(found)
    if not files:
        raise DataError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) in the class subfolders of {root}")
    ok = _decodable(files)
    counts = np.bincount(np.asarray(labels)[ok], minlength=len(classes))
    if not counts.any():
        raise DataError(f"none of the {len(files)} image files under {root} can be read (corrupt or unsupported)")
    if (counts == 0).any():
        empty = classes[int(np.argmin(counts))]
        raise DataError(f"class folder {root / empty} holds no readable images: add some or remove it")
    if len(classes) < 2:
        raise DataError(f"{root} has one class subfolder ({classes[0]}): a classifier needs at least two")
    good = [f for f, k in zip(files, ok) if k]
    return good, np.asarray(labels, np.int32)[ok], tuple(classes), len(files) - len(good)


def _pruned_svhn(classifier, threshold, data_dir, download, size):
    """SVHN training images that the MNIST+SVHN classifier is confident about (thesis sec. 2.7: top softmax
    > threshold; the thesis kept 70,262 of 73,257 at 0.4) -> (encoded images, number kept).

    One streaming pass in file order scores every image and keeps only a bool mask; the training stream then
    filters the still-encoded images by position, so decoded SVHN is never held in memory.
    """
    import classifiers
    tfds = _import_tfds()
    builder = _tfds_builder("svhn_cropped", data_dir, download)
    skip = {"image": tfds.decode.SkipDecoding()}

    def in_file_order():  # both passes must see the same order: the mask is indexed by position
        return _tfds_dataset(builder, "train", None, shuffle_files=False, decoders=skip).map(lambda ex: ex["image"])

    decoded = in_file_order().map(_decoder(size), num_parallel_calls=AUTOTUNE).batch(EVAL_BATCH_SIZE)
    keep = classifiers.prune_by_confidence(classifier, decoded.prefetch(AUTOTUNE), threshold)
    kept = int(keep.sum())
    if kept == 0:
        raise DataError(f"pruning kept none of the {len(keep)} SVHN training images (top softmax > {threshold}): "
                        f"lower --prune_threshold or check the classifier")
    log.warning("note: pruned SVHN (thesis sec. 2.7): kept %d of %d training images (top softmax > %g)",
                kept, len(keep), threshold)
    mask = tf.constant(keep)
    return in_file_order().enumerate().filter(lambda i, b: tf.gather(mask, i)).map(lambda i, b: b), kept


# ---------------------------------------------------------------------------------------------- public
def load_pair(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
              domain_b: str | None = None, data_dir: str | None = None, image_size: int | None = None,
              download: bool = True, prune_classifier=None, prune_threshold: float = 0.4,
              celeba_crop: str = "thesis"):
    """Two unpaired domains for a coupled GAN -> (dataset A, dataset B, DataInfo).

    `name` is one of COGAN_DATASETS (or a bare CelebA attribute); with name=None, `domain_a` and `domain_b`
    are two local image folders. Derived pairs (digits/mnist 2 edge|negative|rotate) split the set 50/50
    with a fixed permutation and transform the second half at native resolution (thesis sec. 5.2).
    `mnist2svhn_prune` needs `prune_classifier` (a Keras model, [-1, 1] images -> logits, e.g. the
    MNIST+SVHN classifier) and keeps the SVHN images whose top softmax exceeds `prune_threshold` (sec. 2.7).
    `celeba_crop` (CELEBA_CROPS) is how CelebA faces become square: "thesis" the authors' 0.7 central crop,
    "square" the largest central square; other sets ignore it (CycleGAN sets and folders: square crop).
    """
    _check_batch(batch_size)
    _check_crop(celeba_crop)
    if name and (domain_a or domain_b):
        raise DataError("give either a dataset name or two folders (--domain_a/--domain_b), not both")
    if not name:
        if not domain_a or not domain_b:
            raise DataError("give a dataset name (--cogan_data) or two image folders: --domain_a DIR --domain_b DIR")
        size = image_size or default_image_size(None)
        return _folder_pair(domain_a, domain_b, "folders", size, batch_size, seed)

    low = name.strip().lower()
    size = image_size or default_image_size(low)
    m = re.fullmatch(r"(digits|mnist)2(edge|negative|rotate)", low)
    if m:
        source, transform = m.groups()
        x = _load_digits_array() if source == "digits" else _load_gray_set("mnist", data_dir, download)
        ia, ib = split_halves(len(x))
        xa, xb = x[ia], TRANSFORMS[transform](x[ib])
        info = DataInfo(low, (size, size, 3), (len(xa), len(xb)))
        return (_array_pipeline(xa, size, batch_size, _domain_seed(seed, 0)),
                _array_pipeline(xb, size, batch_size, _domain_seed(seed, 1)), info)
    if low in ("mnist2svhn", "mnist2fashion", PRUNED_SVHN):
        # Different datasets need no split: each domain is its whole training set.
        if low == PRUNED_SVHN and prune_classifier is None:
            raise DataError(f"'{PRUNED_SVHN}' needs the MNIST+SVHN classifier that scores the SVHN images: give "
                            f"--classifier_path, or leave it out to train one")
        xa = _load_gray_set("mnist", data_dir, download)
        ds_a = _array_pipeline(xa, size, batch_size, _domain_seed(seed, 0))
        if low == "mnist2fashion":
            xb = _load_gray_set("fashion_mnist", data_dir, download)
            ds_b, n_b = _array_pipeline(xb, size, batch_size, _domain_seed(seed, 1)), len(xb)
        elif low == PRUNED_SVHN:
            enc, n_b = _pruned_svhn(prune_classifier, prune_threshold, data_dir, download, size)
            ds_b = _encoded_pipeline(enc, size, batch_size, _domain_seed(seed, 1))
        else:
            enc, n_b = _tfds_encoded_images("svhn_cropped", "train", data_dir, download, _domain_seed(seed, 1))
            ds_b = _encoded_pipeline(enc, size, batch_size, _domain_seed(seed, 1))
        return ds_a, ds_b, DataInfo(low, (size, size, 3), (len(xa), n_b))
    attribute = _resolve_attribute(low)
    if attribute is not None:
        ds_a, ds_b, sizes = _celeba_domains(attribute, data_dir, download, size, batch_size, seed, celeba_crop)
        return ds_a, ds_b, DataInfo(f"celeba_{attribute}", (size, size, 3), sizes)
    local = _local_pair_dirs(name.strip(), data_dir)
    if local is not None:  # <data_dir>/<name>/trainA|trainB: always works, known name or not (datasets#5134)
        return _folder_pair(*local, low, size, batch_size, seed)
    if low in CYCLE_GAN_SETS:
        out = []
        sizes = []
        for i, split in enumerate(("trainA", "trainB")):
            enc, n = _tfds_encoded_images(f"cycle_gan/{low}", split, data_dir, download, _domain_seed(seed, i),
                                          hint=f"or put the images in {Path(data_dir or '<data_dir>') / low}"
                                               f"/trainA and trainB")
            out.append(_encoded_pipeline(enc, size, batch_size, _domain_seed(seed, i)))
            sizes.append(n)
        return out[0], out[1], DataInfo(low, (size, size, 3), tuple(sizes))
    valid = [n for n in COGAN_DATASETS if not n.startswith("celeba_")]
    raise DataError(f"unknown coupled dataset '{name}': choose one of {', '.join(valid[:8])}, "
                    f"celeba_<Attribute> (e.g. celeba_Smiling, any of the 40 CelebA attributes), "
                    f"{', '.join(CYCLE_GAN_SETS)}, or two folders with --domain_a/--domain_b")


def load_single(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
                data_dir: str | None = None, image_size: int | None = None, download: bool = True,
                celeba_crop: str = "thesis"):
    """One domain for a single GAN -> (dataset, DataInfo): a name of SINGLE_DATASETS, or name=None and a
    folder `domain_a`. `toy` is the ring of Gaussians of thesis sec. 2.3.2, batches of shape (B, 2).
    `celeba_crop`: as load_pair (CelebA only)."""
    _check_batch(batch_size)
    _check_crop(celeba_crop)
    if name and domain_a:
        raise DataError("give either a dataset name (--dataset) or a folder (--domain_a), not both")
    if not name:
        if not domain_a:
            raise DataError("give a dataset name (--dataset) or an image folder (--domain_a DIR)")
        size = image_size or default_image_size(None)
        files, skipped = _folder_images(domain_a, "the image")
        return (_files_pipeline(files, size, batch_size, seed),
                DataInfo("folder", (size, size, 3), (len(files),), skipped))

    low = name.strip().lower()
    if low == "toy":
        return _toy_pipeline(batch_size, seed), DataInfo("toy", (2,), (0,))
    size = image_size or default_image_size(low)
    if low == "digits":
        x = _load_digits_array()
    elif low in ("mnist", "fashion_mnist"):
        x = _load_gray_set(low, data_dir, download)
    elif low == "svhn":
        enc, n = _tfds_encoded_images("svhn_cropped", "train", data_dir, download, seed)
        return _encoded_pipeline(enc, size, batch_size, seed), DataInfo("svhn", (size, size, 3), (n,))
    elif low == "celeba":
        ds, n = _celeba_all(data_dir, download, size, batch_size, seed, celeba_crop)
        return ds, DataInfo("celeba", (size, size, 3), (n,))
    else:
        raise _unknown(name, "single-GAN", list(SINGLE_DATASETS) + ["or a folder with --domain_a"])
    return _array_pipeline(x, size, batch_size, seed), DataInfo(low, (size, size, 3), (len(x),))


def load_labelled(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
                  data_dir: str | None = None, image_size: int | None = None, download: bool = True,
                  celeba_crop: str = "thesis"):
    """Labelled images for the classifiers of thesis Appendix B -> (training batches, test batches, LabelledInfo).

    Training batches repeat forever, shuffled from `seed`: (images (B, S, S, 3) in [-1, 1], labels), the
    labels int32 class ids, or for CelebA float32 {0, 1} per attribute (multi-label, Table B.2: the 13
    attributes of classifiers.CELEBA_CLASSIFIER_ATTRIBUTES). Test batches go once over the held-out split in
    a fixed order: the set's own test split where it has one (tfds, or t10k idx files beside train ones),
    else a fixed TEST_FRACTION (split_test).

    name: digits (scikit-learn, offline), mnist, mnist_svhn (MNIST + SVHN mixed), celeba, a derived pair
    digits2*/mnist2* (both domains with their labels, so that one classifier judges both generators), or a
    coupled pair that maps onto one of them (mnist2svhn, celeba_<Attribute>: classifier_data_for).
    name=None: `domain_a` is a local folder with one subfolder of images per class.
    `celeba_crop` (CELEBA_CROPS): how the CelebA faces are cropped, as load_pair's, so that the semantic-loss
    classifier sees faces prepared like the generators'; recorded in LabelledInfo.crop. Other sets ignore it.
    """
    _check_batch(batch_size)
    _check_crop(celeba_crop)
    if name and domain_a:
        raise DataError("give either a dataset name (--dataset/--cogan_data) or a labelled folder (--domain_a), "
                        "not both")
    if not name:
        size = image_size or default_image_size(None)
        paths, labels, classes, skipped = _class_folders(domain_a)
        train, test = split_test(len(paths))
        pick = lambda idx: [paths[i] for i in idx]  # noqa: E731
        info = LabelledInfo("folder", (size, size, 3), (len(train), len(test)), classes, False, skipped)
        return (_files_pipeline(pick(train), size, batch_size, seed, labels=labels[train]),
                _one_pass(len(test), _file_loader(pick(test), size, labels[test]), EVAL_BATCH_SIZE), info)
    low = name.strip().lower()
    if low not in LABELLED_DATASETS:
        if low in COGAN_DATASETS or _resolve_attribute(low) is not None:
            low = classifier_data_for(low)
        else:
            raise _unknown(name, "labelled", list(LABELLED_DATASETS) + [
                "a coupled pair (mnist2svhn, celeba_Smiling, ...)", "or a folder of class subfolders with --domain_a"])
    size = image_size or default_image_size(low)
    shape = (size, size, 3)
    if low == "celeba":
        import classifiers
        train, test, sizes = _celeba_labelled(data_dir, download, size, batch_size, seed, celeba_crop)
        return train, test, LabelledInfo(low, shape, sizes, tuple(classifiers.CELEBA_CLASSIFIER_ATTRIBUTES), True,
                                         crop=celeba_crop)
    if low == "mnist_svhn":
        train, test, sizes = _mnist_svhn(data_dir, download, size, batch_size, seed)
        return train, test, LabelledInfo(low, shape, sizes, DIGIT_CLASSES)
    x, y, xt, yt = _held_out(*_digit_arrays(low, data_dir, download))
    return (_array_pipeline(x, size, batch_size, seed, labels=y),
            _one_pass(len(xt), _gray_loader(xt, size, yt), EVAL_BATCH_SIZE, batched_load=True),
            LabelledInfo(low, shape, (len(x), len(xt)), DIGIT_CLASSES))
