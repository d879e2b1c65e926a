"""Mode coverage on the toy ring (metrics/modes.py; thesis sec. 2.3.2 Figs. 2.10/2.11, sec. 2.5 Fig. 2.14), with
hand-made point sets whose answer is known: all modes, 6 of 10 modes (Fig. 2.11's collapse), points off the
ring, the 3-std boundary and the minimum share."""
import numpy as np
import pytest

import data
from metrics import mode_coverage as lazy_mode_coverage
from metrics.modes import mode_coverage

CENTRES = data.ring_modes()
STD = data.TOY_STD


def _around(modes, per_mode, radius_in_std, seed=0):
    """per_mode points on circles of `radius_in_std` std around each of `modes`, at random angles."""
    rng = np.random.default_rng(seed)
    pts = []
    for k in modes:
        angle = rng.uniform(0, 2 * np.pi, per_mode)
        pts.append(CENTRES[k] + radius_in_std * STD * np.stack([np.cos(angle), np.sin(angle)], axis=1))
    return np.concatenate(pts)


def test_ring_uses_the_toy_data_and_real_samples_cover_every_mode():
    assert CENTRES.shape == (data.TOY_MODES, 2) == (10, 2)
    rng = np.random.default_rng(1)
    real = CENTRES[rng.integers(0, 10, 20000)] + rng.normal(0, STD, (20000, 2))
    r = mode_coverage(real, CENTRES, STD)
    assert (r["modes"], r["covered"], r["n"]) == (10, 10, 20000)
    # Within 3 std of a 2-D isotropic Gaussian: 1 - exp(-4.5) = 0.9889.
    assert r["high_quality"] == pytest.approx(1 - np.exp(-4.5), abs=0.004)
    assert sum(r["per_mode"]) == round(r["high_quality"] * 20000)
    assert r["radius"] == pytest.approx(3 * STD) and "3 standard deviations" in r["definition"]
    assert lazy_mode_coverage is mode_coverage


def test_six_of_ten_modes():
    # Fig. 2.11: k = 5 collapses onto 6 of the 10 modes.
    pts = _around([0, 2, 3, 5, 7, 8], 150, 1.0)
    r = mode_coverage(pts, CENTRES, STD)
    assert r["covered"] == 6 and r["covered_modes"] == [0, 2, 3, 5, 7, 8]
    assert r["high_quality"] == 1.0
    assert r["per_mode"] == [150, 0, 150, 150, 0, 150, 0, 150, 150, 0]


def test_points_off_the_ring_are_neither_high_quality_nor_cover_modes():
    # On the ring's circle but between two modes (0.63 from each, ~31 std), at the centre, and far outside.
    between = np.stack([2 * np.cos(np.pi / 10 * (2 * np.arange(10) + 1)),
                        2 * np.sin(np.pi / 10 * (2 * np.arange(10) + 1))], axis=1)
    pts = np.concatenate([np.repeat(between, 50, axis=0), np.zeros((100, 2)), np.full((100, 2), 5.0)])
    r = mode_coverage(pts, CENTRES, STD)
    assert (r["covered"], r["high_quality"], sum(r["per_mode"])) == (0, 0.0, 0)
    # Half of the points on 4 modes, half off the ring: 4 modes, share 0.5.
    on = _around([1, 4, 6, 9], 175, 2.0)
    r = mode_coverage(np.concatenate([on, pts]), CENTRES, STD)
    assert r["covered"] == 4 and r["high_quality"] == pytest.approx(700 / 1400)


def test_three_std_boundary_and_minimum_share():
    inside, outside = _around([0], 10, 2.95), _around([1], 10, 3.05)
    r = mode_coverage(np.concatenate([inside, outside]), CENTRES, STD, min_share=0)
    assert r["per_mode"][:2] == [10, 0] and r["high_quality"] == 0.5 and r["covered"] == 1
    # 1,000 points: modes 0-8 get 110 each, mode 9 gets 9 (< 1 % = 10): 9 modes covered; 10 with 10 points.
    pts = np.concatenate([_around(range(9), 110, 1.0), _around([9], 9, 1.0), np.full((1, 2), 9.0)])
    r = mode_coverage(pts, CENTRES, STD)
    assert (r["n"], r["min_count"], r["covered"]) == (1000, 10, 9) and 9 not in r["covered_modes"]
    pts[-1] = CENTRES[9]
    assert mode_coverage(pts, CENTRES, STD)["covered"] == 10
    assert mode_coverage(pts[:-1], CENTRES, STD, min_share=0)["covered"] == 10   # VEEGAN: at least one point
    # Non-finite points (a diverged generator) count as low quality, not as an error.
    bad = np.concatenate([_around([3], 20, 1.0), np.full((20, 2), np.nan)])
    r = mode_coverage(bad, CENTRES, STD)
    assert r["high_quality"] == 0.5 and r["covered_modes"] == [3]


def test_bad_input():
    with pytest.raises(ValueError):
        mode_coverage(np.zeros((5, 3)), CENTRES, STD)
    with pytest.raises(ValueError):
        mode_coverage(np.zeros((5, 2)), CENTRES, 0.0)
