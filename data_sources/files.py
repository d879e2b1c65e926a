"""File formats: idx files (MNIST / Fashion-MNIST) and where they lie, CelebA's attribute file. NumPy only."""
from __future__ import annotations

import gzip
import os
import re
import stat
from pathlib import Path

import numpy as np

from data_sources.base import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def is_regular_file(path) -> bool:
    """Whether `path` (followed through links) is a regular file: a FIFO, socket or device named like an image
    would block the reader or never end (issue 22, item 4), so image-folder loading skips it as unreadable."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


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


def _one_idx_split(data_dir, kind) -> bool:
    """Whether data_dir holds the images of only one of kind's train/t10k idx splits (e.g. ../shared/data's
    t10k-only MNIST): that set then has no test split of its own, and split_test's fixed tenth of it is held out
    (paired._mnist_splits, labelled._load_gray_labelled) and left out of a derived pair's domains (review 11 H1)."""
    if not data_dir:
        return False
    found = [_find_idx_file(data_dir, kind, split) is not None for split in ("train", "t10k")]
    return found[0] != found[1]
