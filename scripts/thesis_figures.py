"""The thesis's figures that need no training run (Figs. 2.7, 2.8, 2.12) and Fig. 4.1 from two runs' losses.csv.

    python scripts/thesis_figures.py fig2_7 --out fig2_7.png      # JSD as q moves away from p (Appendix C)
    python scripts/thesis_figures.py fig2_12 --out fig2_12.png    # Wasserstein distance, the same pairs (Appendix C)
    python scripts/thesis_figures.py fig2_8 --out fig2_8.png      # one Gaussian fit to a mixture by either KL
    python scripts/thesis_figures.py fig4_1 RUN_COGAN RUN_SCOGAN --out fig4_1.png   # weight difference curves

Each prints the numbers it plots. Bad input prints one line and exits with status 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import optimize, special, stats

# Appendix C: q_i = N(i, std) for i in range(21) (line 1926); q1, q2, q3 drawn beside the curve at 10, 15, 20.
SHIFTS = tuple(range(21))
EXAMPLES = {"q1": 10, "q2": 15, "q3": 20}
COUPLING_NAMES = (("semantic_loss", "SL"), ("feature_regulariser", "FR"), ("cycle_consistency", "CC"),
                  ("perceptual_loss", "PL"))  # the thesis's order: SLFR, SLCC, FRCC (Table 5.2)


class FigureError(ValueError):
    """Bad input: main prints it as one line and exits with status 2."""


# ---------------------------------------------------------------------------------------------------------------
# Figs. 2.7 and 2.12: divergences between p = N(0, std) and q = N(shift, std) (sec. 2.3.1, line 341; Appendix C)

def jsd(p, q) -> float:
    """Jensen-Shannon divergence in nats of two discretised densities, as Appendix C's JSD (lines 1909-1913):
    both normalised to sum 1, M = (P + Q) / 2, JSD = (KL(P||M) + KL(Q||M)) / 2 (line 300 drops the parentheses).
    Its maximum, for disjoint supports, is log 2 (line 339)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    p, q = p / p.sum(), q / q.sum()
    # KL(P||M) = sum P log(2P / (P + Q)) = sum rel_entr(2P, P + Q) / 2: forming M = (P + Q) / 2 itself would
    # round a subnormal P to 0 in M and give inf
    return 0.25 * float(np.sum(special.rel_entr(2 * p, p + q)) + np.sum(special.rel_entr(2 * q, p + q)))


def wasserstein(x, p, q) -> float:
    """W1 between the densities p and q on the grid x: SciPy's wasserstein_distance (line 410, footnote 2), with
    the densities as weights of the grid points, i.e. the integral of |F_p - F_q| (sec. 2.4.1, line 449)."""
    return float(stats.wasserstein_distance(x, x, u_weights=p, v_weights=q))


def shift_grid(std: float, shifts=SHIFTS, per_std: int = 200):
    """A grid covering N(0, std) and every N(shift, std) to 12 standard deviations, 1 / per_std of a standard
    deviation apart (for std 1 or 0.1 an integer shift is a whole number of steps: q is p moved along the grid)."""
    step = std / per_std
    lo, hi = min(0.0, min(shifts)) - 12 * std, max(0.0, max(shifts)) + 12 * std
    return lo + step * np.arange(int(round((hi - lo) / step)) + 1)


def divergence_curve(measure: str, std: float = 1.0, shifts=SHIFTS):
    """[measure(p, q_shift) for each shift], p = N(0, std), q = N(shift, std), both evaluated on one grid.

    Appendix C evaluates p's and q's densities each on a grid spanning its own 100,000 samples and compares them
    index by index, which comes to comparing N(0, 1) with a mean-shifted copy truncated to p's range: 0.010 at
    shift 0 and up to 0.033 below the JSD computed here at shifts 2-3; its WD is SciPy's on 100,000 samples of
    each, which scatters about 0.01 around the value here. Line 341 gives p a standard deviation of 0.1, the
    script 1 (`np.random.normal(0, size=...)`): `std` chooses."""
    if std <= 0:
        raise FigureError(f"--std must be positive, not {std}")
    x = shift_grid(std, shifts)
    p = stats.norm.pdf(x, 0.0, std)
    out = []
    for s in shifts:
        q = stats.norm.pdf(x, s, std)
        out.append(jsd(p, q) if measure == "jsd" else wasserstein(x, p, q))
    return np.array(out)


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def shift_figure(measure: str, std: float, out: Path):
    """Fig. 2.7 (measure "jsd") or Fig. 2.12 ("wd"): the densities of p and of q1, q2, q3 and the divergence
    against the shift of q's mean, on one axis as Appendix C draws them. -> (figure, values)."""
    values = divergence_curve(measure, std)
    plt = _plt()
    x = np.linspace(-4 * std, max(SHIFTS) + 4 * std, 2000)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(x, stats.norm.pdf(x, 0, std), label="p")
    for name, s in EXAMPLES.items():
        ax.plot(x, stats.norm.pdf(x, s, std), label=name)
    label = "JSD" if measure == "jsd" else "WD"
    ax.set_xlabel("x; for the curve, the mean of q")
    ax.set_ylabel("density")
    # Appendix C draws the curve on the densities' axis; its own axis keeps W1 (up to 20) from flattening them.
    curve = ax.twinx()
    curve.plot(SHIFTS, values, "o-", color="k", markersize=3, label=label)
    curve.set_ylabel(f"{label} (nats)" if measure == "jsd" else label)
    curve.set_ylim(bottom=0)
    ax.set_title(f"Fig. {'2.7' if measure == 'jsd' else '2.12'}: {label} between p = N(0, {std:g}) and "
                 f"q = N(shift, {std:g})", fontsize=9)
    handles = ax.get_legend_handles_labels()
    more = curve.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="center right")
    fig.tight_layout()
    _save(fig, out)
    return fig, values


# ---------------------------------------------------------------------------------------------------------------
# Fig. 2.8: a single Gaussian fit to a mixture by KL(p_data||p_model) and by KL(p_model||p_data) (line 358)

def _mixture(weights, means, stds):
    w, m, s = (np.asarray(v, np.float64) for v in (weights, means, stds))
    if not (len(w) == len(m) == len(s)) or len(w) == 0:
        raise FigureError(f"--weights, --means and --stds need one value per component each, not "
                          f"{len(w)}, {len(m)}, {len(s)}")
    if np.any(w <= 0) or np.any(s <= 0):
        raise FigureError("mixture weights and standard deviations must be positive")
    return w / w.sum(), m, s


def mixture_logpdf(x, weights, means, stds):
    """log sum_k w_k N(x; m_k, s_k), through logsumexp: finite far in the tails, where KL(p_model||p_data)
    weighs it."""
    w, m, s = _mixture(weights, means, stds)
    comps = stats.norm.logpdf(np.asarray(x)[..., None], m, s) + np.log(w)
    return special.logsumexp(comps, axis=-1)


def kl_grid(logp, logq, x) -> float:
    """KL(p||q) = integral p (log p - log q) dx on the equally spaced grid x."""
    return float(np.sum(np.exp(logp) * (logp - logq)) * (x[1] - x[0]))


def fit_gaussian(weights, means, stds, direction: str, points: int = 20001):
    """The N(mu, sigma) minimising KL(p_data||p_model) (direction "forward", Fig. 2.8a: covers every mode; its
    optimum is the mixture's mean and variance) or KL(p_model||p_data) ("reverse", the generator's term of line
    356, Fig. 2.8b: settles on one mode), p_data the mixture. Numerical: Nelder-Mead over (mu, log sigma) from
    each component's (mean, std), the lowest KL kept. -> (mu, sigma, KL)."""
    w, m, s = _mixture(weights, means, stds)
    x = np.linspace(np.min(m - 12 * s), np.max(m + 12 * s), points)
    logp = mixture_logpdf(x, w, m, s)

    def objective(theta):
        logq = stats.norm.logpdf(x, theta[0], math.exp(theta[1]))
        return kl_grid(logp, logq, x) if direction == "forward" else kl_grid(logq, logp, x)

    best = None
    for mu0, s0 in zip(m, s):
        r = optimize.minimize(objective, [mu0, math.log(s0)], method="Nelder-Mead",
                              options=dict(xatol=1e-9, fatol=1e-13, maxiter=20000, maxfev=40000))
        if best is None or r.fun < best.fun:
            best = r
    return float(best.x[0]), float(math.exp(best.x[1])), float(best.fun)


def kl_figure(weights, means, stds, out: Path):
    """Fig. 2.8: a) p_data and the fit by KL(p_data||p_model), b) by KL(p_model||p_data). -> (figure, fits)."""
    w, m, s = _mixture(weights, means, stds)
    fits = {d: fit_gaussian(w, m, s, d) for d in ("forward", "reverse")}
    plt = _plt()
    x = np.linspace(np.min(m - 4 * s), np.max(m + 4 * s), 2000)
    pdata = np.exp(mixture_logpdf(x, w, m, s))
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), sharey=True)
    titles = {"forward": "a) argmin KL(p_data || p_model)", "reverse": "b) argmin KL(p_model || p_data)"}
    for ax, (d, (mu, sigma, kl)) in zip(axes, fits.items()):
        ax.plot(x, pdata, label="p_data")
        ax.plot(x, stats.norm.pdf(x, mu, sigma), "--", label=f"p_model: N({mu:.2f}, {sigma:.2f}^2)")
        ax.set_title(titles[d], fontsize=9)
        ax.set_xlabel("x")
        ax.legend(fontsize=7)
    fig.suptitle("Fig. 2.8: a Gaussian fit to a mixture of Gaussians by either KL", fontsize=9)
    fig.tight_layout()
    _save(fig, out)
    return fig, fits


# ---------------------------------------------------------------------------------------------------------------
# Fig. 4.1: the weight difference between G1 and G2 during training, CoGAN against SCoGAN-FR (line 871)

def read_column(run: Path, column: str = "weight_difference"):
    """(steps, values) of one column of RUN/losses.csv, rows whose cell is empty left out."""
    path = Path(run) / "losses.csv"
    if not path.is_file():
        raise FigureError(f"{run}: no losses.csv (not a run folder, or it has logged nothing yet)")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows or column not in rows[0] or "step" not in rows[0]:
        raise FigureError(f"{path} has no '{column}' column: train the run with --log_weight_difference")
    i, j = rows[0].index("step"), rows[0].index(column)
    kept = [(int(r[i]), float(r[j])) for r in rows[1:] if len(r) == len(rows[0]) and r[j] != ""]
    if not kept:
        raise FigureError(f"{path} has no '{column}' values yet")
    steps, values = zip(*kept)
    return np.array(steps), np.array(values)


def run_label(run: Path) -> str:
    """'CoGAN', 'SCoGAN-FR', ... from RUN/config.json, with the experiment's or the folder's name."""
    run = Path(run)
    try:
        cfg = json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        return run.name
    model = {"cogan": "CoGAN", "scogan": "SCoGAN"}.get(cfg.get("gan_type"), str(cfg.get("gan_type")))
    terms = "".join(short for key, short in COUPLING_NAMES if cfg.get(key))
    if model == "SCoGAN" and terms:
        model += "-" + terms
    return f"{model} ({cfg.get('experiment') or run.name})"


def weight_difference_figure(runs, out: Path, labels=None):
    """Fig. 4.1: each run's weight_difference column (--log_weight_difference: the sum over the generators'
    corresponding variables of mean((w1 - w2)^2)) against the step, in one plot. -> (figure, {label: (steps,
    values)})."""
    if labels is not None and len(labels) != len(runs):
        raise FigureError(f"--labels names {len(labels)} curves for {len(runs)} runs")
    curves = {}
    for k, run in enumerate(runs):
        label = labels[k] if labels else run_label(run)
        curves[label] = read_column(run)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, (steps, values) in curves.items():
        ax.plot(steps, values, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("weight difference")
    ax.set_title("Fig. 4.1: weight difference between G1 and G2 during training", fontsize=9)
    ax.legend()
    fig.tight_layout()
    _save(fig, out)
    return fig, curves


# ---------------------------------------------------------------------------------------------------------------

def _save(fig, out: Path):
    out = Path(out)
    if not out.parent.is_dir():
        raise FigureError(f"--out {out}: folder {out.parent} does not exist")
    try:
        fig.savefig(out, dpi=120)
    except (OSError, ValueError) as e:
        raise FigureError(f"--out {out}: cannot write the figure ({e})") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit code 2, as main.py
        self.exit(2, f"error: {message} (see --help)\n")


def parser():
    p = _Parser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    for name, what in (("fig2_7", "JSD between N(0, std) and N(shift, std), shifts 0-20 (Fig. 2.7, Appendix C)"),
                       ("fig2_12", "Wasserstein distance, the same pairs (Fig. 2.12, Appendix C)")):
        f = sub.add_parser(name, help=what, description=what)
        f.add_argument("--std", type=float, default=1.0,
                       help="standard deviation of p and q (default 1, Appendix C's script; line 341 writes 0.1)")
        f.add_argument("--out", type=Path, default=Path(f"{name}.png"))
    f = sub.add_parser("fig2_8", help="a Gaussian fit to a mixture by KL(p_data||p_model) and KL(p_model||p_data)")
    f.add_argument("--weights", type=float, nargs="+", default=[0.5, 0.5])
    f.add_argument("--means", type=float, nargs="+", default=[-2.0, 2.0])
    f.add_argument("--stds", type=float, nargs="+", default=[0.5, 0.5])
    f.add_argument("--out", type=Path, default=Path("fig2_8.png"))
    f = sub.add_parser("fig4_1", help="weight_difference of runs trained with --log_weight_difference (Fig. 4.1)")
    f.add_argument("runs", type=Path, nargs="+", metavar="RUN",
                   help="run folders, e.g. of cogan_mnist2edge_4k and scogan_mnist2edge_fr_4k")
    f.add_argument("--labels", nargs="+", help="legend entries, one per run (default: model and experiment)")
    f.add_argument("--out", type=Path, default=Path("fig4_1.png"))
    return p


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    try:
        if a.figure in ("fig2_7", "fig2_12"):
            measure = "jsd" if a.figure == "fig2_7" else "wd"
            _, values = shift_figure(measure, a.std, a.out)
            print(f"shift  {'JSD' if measure == 'jsd' else 'WD'}")
            print("\n".join(f"{s:5d}  {v:.6f}" for s, v in zip(SHIFTS, values)))
        elif a.figure == "fig2_8":
            _, fits = kl_figure(a.weights, a.means, a.stds, a.out)
            for d, (mu, sigma, kl) in fits.items():
                print(f"{d:8s} mu {mu:.6f}  sigma {sigma:.6f}  KL {kl:.6f}")
        else:
            _, curves = weight_difference_figure(a.runs, a.out, a.labels)
            for label, (steps, values) in curves.items():
                print(f"{label}: {len(steps)} rows, step {steps[0]}-{steps[-1]}, last {values[-1]:.6g}")
    except FigureError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
