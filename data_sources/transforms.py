"""The derived second domains of the thesis (sec. 5.2), the fixed 50/50 split of a set into two domains and the
fixed held-out tenth of a set without a test split.

NumPy only, the one implementation: metrics/pairing.py applies these same functions to generated pairs
when it scores them."""
from __future__ import annotations

import numpy as np

from data_sources.base import DataError

SPLIT_SEED = 1234            # the 50/50 split is a property of the dataset, not of the run


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


TEST_FRACTION = 0.1          # held out where a set has no test split of its own


def split_test(n: int, fraction: float = TEST_FRACTION):
    """Fixed held-out split for a set without a test split of its own -> (sorted training indices, sorted test
    indices), at least one of each. Like split_halves, a property of the data (constant seed), not of the run."""
    if n < 2:
        raise DataError(f"a labelled set needs at least 2 images, one of them held out for testing (got {n})")
    k = min(n - 1, max(1, int(round(n * fraction))))
    perm = np.random.RandomState(SPLIT_SEED + 1).permutation(n)
    return np.sort(perm[k:]), np.sort(perm[:k])


# The version of the derived pairs' training split, in the cache key of the classifiers trained on them
# (trainers/classifier.cached_path; review 11 M1): 2 = their domains leave the held-out tenth out (3010b93 for the
# digits, review 11 H1 for a one-split MNIST folder). Raise it whenever pair_halves' indices change.
PAIR_SPLIT_VERSION = 2


def pair_halves(n: int, own_test_split: bool):
    """(domain A indices, domain B indices) among the n images of a derived pair's source (thesis sec. 5.2:
    split_halves' fixed 50/50 split). A source without a test split of its own (the digits; an MNIST folder holding
    only one of train/t10k) lends the halves only split_test's training indices, so that its held-out tenth
    (load_paired's test split, load_labelled's) is unseen by every model (review A2.3, review 11 H1); a source with
    one (MNIST train + t10k, tfds) lends all n, its test split lying elsewhere."""
    pool = np.arange(n) if own_test_split else split_test(n)[0]
    ia, ib = split_halves(len(pool))
    return pool[ia], pool[ib]
