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
    + ("mnist2svhn", "mnist2fashion") + tuple(f"celeba_{a}" for a in CELEBA_ATTRIBUTES) + CYCLE_GAN_SETS)
SINGLE_DATASETS: tuple[str, ...] = ("toy", "digits", "mnist", "fashion_mnist", "svhn", "celeba")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_SEED = 1234            # the 50/50 split is a property of the dataset, not of the run
TFDS_SHUFFLE_BUFFER = 2048   # tfds streams hold encoded images: a checkpoint saves the buffer, keep it small
TOY_MODES, TOY_RADIUS, TOY_STD = 10, 2.0, 0.02   # thesis sec. 2.3.2


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
def center_crop_resize(image, size: int):
    """Central square crop (CelebA's aligned 218x178 faces -> 178x178, rows 20..197), then resize to
    size x size; uint8 or [0, 1] input of shape (H, W, C) -> float32 in [0, 1]."""
    image = tf.convert_to_tensor(image)
    if image.dtype == tf.uint8:
        image = tf.cast(image, tf.float32) / 255.0
    shape = tf.shape(image)
    h, w = shape[0], shape[1]
    s = tf.minimum(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    image = image[top:top + s, left:left + s]
    # antialias: CelebA and CycleGAN images are downscaled (178 or 256 -> 128); no effect when upscaling.
    image = tf.image.resize(image, [size, size], method="bilinear", antialias=True)
    return tf.clip_by_value(image, 0.0, 1.0)


def _to_model_range(x01, size):
    """[0, 1] images (..., H, W, 1 or 3) -> RGB in [-1, 1], the range of the generators' tanh."""
    if x01.shape[-1] == 1:
        x01 = tf.image.grayscale_to_rgb(x01)
    x = x01 * 2.0 - 1.0
    return tf.ensure_shape(x, x.shape[:-3] + (size, size, 3))


def _decode_encoded(encoded, size):
    # decode_image sniffs PNG/JPEG/BMP/GIF; expand_animations=False gives a GIF's first frame as 3-D.
    img = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)
    return _to_model_range(center_crop_resize(img, size), size)


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


def _array_pipeline(gray, size, batch_size, seed):
    """In-memory grayscale images [N, h, w] (uint8 or [0, 1] float) -> batches (B, size, size, 3) in [-1, 1]."""
    images = tf.constant(gray[..., None])
    scale = 1.0 / 255.0 if gray.dtype == np.uint8 else 1.0

    def prepare(idx):
        x = tf.cast(tf.gather(images, idx), tf.float32) * scale
        x = tf.clip_by_value(tf.image.resize(x, [size, size], method="bilinear", antialias=True), 0.0, 1.0)
        return _to_model_range(x, size)

    ds = _epoch_indices(len(gray), seed).batch(batch_size, drop_remainder=True)
    return _positions_only(ds.map(prepare, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE))


def _files_pipeline(paths, size, batch_size, seed):
    """Image files, streamed by path and decoded in parallel -> batches (B, size, size, 3) in [-1, 1]."""
    table = tf.constant(list(paths))

    def load(i):
        return _decode_encoded(tf.io.read_file(tf.gather(table, i)), size)

    # Folders were checked at start-up with this same decoder (`_decodable`), so no error is swallowed here;
    # `ignore_errors` would also rule out position-only checkpoints.
    ds = _epoch_indices(len(paths), seed).map(load, num_parallel_calls=AUTOTUNE)
    return _positions_only(ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE))


def _encoded_pipeline(encoded: tf.data.Dataset, size, batch_size, seed):
    """A finite stream of encoded images (tfds) -> shuffled, repeated batches in [-1, 1]."""
    ds = encoded.shuffle(TFDS_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(lambda b: _decode_encoded(b, size), num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)


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
    try:
        builder.download_and_prepare()
    except Exception as e:
        if isinstance(e, ImportError) and e.name:  # tfds 4.9.10 downloads need `importlib_resources`
            raise DataError(f"tensorflow-datasets needs the module '{e.name}' to download '{name}': "
                            f"pip install {e.name}, or {build}{hint}") from None
        raise DataError(f"could not download '{name}' into {where} ({_first_line(e)}): {build}{hint}") from None
    return builder


def _tfds_dataset(builder, split, seed, **kw):
    tfds = _import_tfds()
    # try_autocache off: an in-memory cache would be written into every iterator checkpoint.
    read_config = tfds.ReadConfig(shuffle_seed=seed, try_autocache=False)
    try:
        return builder.as_dataset(split=split, shuffle_files=True, read_config=read_config, **kw)
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


def _find_idx(data_dir, kind):
    """-> (path of the images idx file, 'train' or 't10k') in data_dir, or (None, None)."""
    roots = [Path(data_dir).expanduser() / kind]
    if kind == "mnist":
        roots.append(Path(data_dir).expanduser())
    for split in ("train", "t10k"):
        for root in roots:
            for stem in (f"{split}-images-idx3-ubyte", f"{split}-images.idx3-ubyte"):
                for ext in (".gz", ""):
                    if (root / (stem + ext)).is_file():
                        return root / (stem + ext), split
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


def _celeba_domains(attribute, data_dir, download, size, batch_size, seed):
    """Domain A = faces with the attribute (+1), B = without (-1) (thesis sec. 5.2) -> (dsA, dsB, sizes)."""
    manual = _celeba_manual(data_dir)
    if manual is not None:
        paths, attrs, names = manual
        if attribute not in names:
            raise DataError(f"attribute '{attribute}' is not a column of the CelebA attribute file")
        col = attrs[:, names.index(attribute)]
        domains = [[p for p, v in zip(paths, col) if v == want] for want in (1, -1)]
        sizes = tuple(len(d) for d in domains)
        _check_domains_nonempty(f"celeba_{attribute}", sizes)
        ds_a, ds_b = (_files_pipeline(d, size, batch_size, _domain_seed(seed, i)) for i, d in enumerate(domains))
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
        out.append(_encoded_pipeline(ds, size, batch_size, _domain_seed(seed, i)))
    return out[0], out[1], sizes


def _celeba_all(data_dir, download, size, batch_size, seed):
    manual = _celeba_manual(data_dir)
    if manual is not None:
        return _files_pipeline(manual[0], size, batch_size, seed), len(manual[0])
    ds, n = _tfds_encoded_images("celeb_a", "train+validation+test", data_dir, download, seed, _CELEBA_HINT)
    return _encoded_pipeline(ds, size, batch_size, seed), n


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


# ---------------------------------------------------------------------------------------------- public
def load_pair(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
              domain_b: str | None = None, data_dir: str | None = None, image_size: int | None = None,
              download: bool = True):
    """Two unpaired domains for a coupled GAN -> (dataset A, dataset B, DataInfo).

    `name` is one of COGAN_DATASETS (or a bare CelebA attribute); with name=None, `domain_a` and `domain_b`
    are two local image folders. Derived pairs (digits/mnist 2 edge|negative|rotate) split the set 50/50
    with a fixed permutation and transform the second half at native resolution (thesis sec. 5.2).
    """
    _check_batch(batch_size)
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
    if low in ("mnist2svhn", "mnist2fashion"):
        # Different datasets need no split: each domain is its whole training set.
        xa = _load_gray_set("mnist", data_dir, download)
        ds_a = _array_pipeline(xa, size, batch_size, _domain_seed(seed, 0))
        if low == "mnist2fashion":
            xb = _load_gray_set("fashion_mnist", data_dir, download)
            ds_b, n_b = _array_pipeline(xb, size, batch_size, _domain_seed(seed, 1)), len(xb)
        else:
            enc, n_b = _tfds_encoded_images("svhn_cropped", "train", data_dir, download, _domain_seed(seed, 1))
            ds_b = _encoded_pipeline(enc, size, batch_size, _domain_seed(seed, 1))
        return ds_a, ds_b, DataInfo(low, (size, size, 3), (len(xa), n_b))
    attribute = _resolve_attribute(low)
    if attribute is not None:
        ds_a, ds_b, sizes = _celeba_domains(attribute, data_dir, download, size, batch_size, seed)
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
                data_dir: str | None = None, image_size: int | None = None, download: bool = True):
    """One domain for a single GAN -> (dataset, DataInfo): a name of SINGLE_DATASETS, or name=None and a
    folder `domain_a`. `toy` is the ring of Gaussians of thesis sec. 2.3.2, batches of shape (B, 2)."""
    _check_batch(batch_size)
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
        ds, n = _celeba_all(data_dir, download, size, batch_size, seed)
        return ds, DataInfo("celeba", (size, size, 3), (n,))
    else:
        raise _unknown(name, "single-GAN", list(SINGLE_DATASETS) + ["or a folder with --domain_a"])
    return _array_pipeline(x, size, batch_size, seed), DataInfo(low, (size, size, 3), (len(x),))
