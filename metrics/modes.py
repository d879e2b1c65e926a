"""Mode coverage of 2-D samples on a mixture of Gaussians (the toy ring of thesis sec. 2.3.2, Figs. 2.10, 2.11
and 2.14), pure NumPy.

Definition (Srivastava et al. 2017, VEEGAN, sec. 5.1, after Metz et al. 2017, unrolled GAN):
- a generated point is **high quality** when it lies within `n_std` (3) standard deviations of the nearest
  mode centre, the std being that of the data's Gaussians (the ring the run trained on, data.TOY_RINGS: 0.05 for
  the authors' ring, 0.02 for Metz et al.'s); it then belongs to that mode. For an isotropic 2-D Gaussian,
  P(r <= 3 std) = 1 - exp(-9/2) = 98.9 %: real ring data scores about 0.989, not 1.
- a mode is **covered** when at least `min_share` of all generated points are high-quality points of that mode
  (and at least one point). The default 1 % is a tenth of the 10 % share each of the ring's 10 equally
  weighted modes gets from a perfect generator; PacGAN (Lin et al. 2018) likewise counts a mode as lost below
  20 of 2,500 samples (0.8 %). VEEGAN's "at least one high-quality point" is `min_share=0`.

    from metrics.modes import mode_coverage
    ring = data.toy_ring(cfg.toy_ring)        # the run's ring
    r = mode_coverage(points, data.ring_modes(ring.modes, ring.radius), ring.std)
    r["covered"], r["high_quality"]          # e.g. 6 (of r["modes"] = 10), 0.93
"""
from __future__ import annotations

import math

import numpy as np

DEFAULT_N_STD = 3.0
DEFAULT_MIN_SHARE = 0.01
DEFINITION = ("a point is high quality when within {n_std:g} standard deviations ({radius:g}) of its nearest mode "
              "centre, and then belongs to that mode (VEEGAN, Srivastava et al. 2017); a mode is covered when at "
              "least {share:g} % of all points ({min_count:,}) are high-quality points of it")


def mode_coverage(points, centres, std, n_std: float = DEFAULT_N_STD, min_share: float = DEFAULT_MIN_SHARE,
                  chunk: int = 65536) -> dict:
    """Mode coverage and sample quality of generated 2-D points (see the module docstring for the definition).

    points: (N, 2) generated samples; centres: (M, 2) mode centres; std: the std of each mode's Gaussian.
    Returns a dict:
        modes          M
        covered        how many modes are covered (0..M)
        high_quality   share of the N points that are high quality (0..1)
        per_mode       (M,) list: high-quality points of each mode
        covered_modes  indices of the covered modes
        n, std, n_std, radius (= n_std * std), min_share, min_count (points a mode needs), definition
    """
    p = np.asarray(points, np.float64)
    c = np.asarray(centres, np.float64)
    if p.ndim != 2 or c.ndim != 2 or p.shape[1] != c.shape[1]:
        raise ValueError(f"points (N, D) and centres (M, D) must share D; got {p.shape} and {c.shape}")
    if len(c) == 0:
        raise ValueError("no mode centres given")
    if not std > 0:
        raise ValueError(f"std must be positive (got {std})")
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_share must be in [0, 1] (got {min_share})")
    n, m = len(p), len(c)
    radius = float(n_std) * float(std)
    counts = np.zeros(m, np.int64)
    finite = np.isfinite(p).all(axis=1)
    for i in range(0, n, chunk):
        x = p[i:i + chunk][finite[i:i + chunk]]
        d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1)          # (B, M) squared distances
        nearest = d2.argmin(axis=1) if len(x) else np.zeros(0, np.int64)
        good = d2[np.arange(len(x)), nearest] <= radius * radius
        counts += np.bincount(nearest[good], minlength=m)
    hq = int(counts.sum())
    min_count = max(1, math.ceil(min_share * n - 1e-9))
    covered = np.flatnonzero(counts >= min_count) if n else np.zeros(0, np.int64)
    return {"modes": m, "covered": int(len(covered)), "high_quality": hq / n if n else 0.0,
            "per_mode": [int(k) for k in counts], "covered_modes": [int(k) for k in covered], "n": n,
            "std": float(std), "n_std": float(n_std), "radius": radius, "min_share": float(min_share),
            "min_count": int(min_count),
            "definition": DEFINITION.format(n_std=n_std, radius=radius, share=100 * min_share, min_count=min_count)}
