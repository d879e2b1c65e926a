"""The derived second domains of the thesis (sec. 5.2) and the fixed 50/50 split of a set into two domains.

NumPy only, the one implementation: metrics/pairing.py applies these same functions to generated pairs
when it scores them."""
from __future__ import annotations

import numpy as np

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
