"""scripts/thesis_figures.py: the divergences of Figs. 2.7 / 2.12 (Appendix C) against hand and closed-form
values, Fig. 2.8's KL fits against the mixture's moments, and Fig. 4.1 drawn from two tiny real runs."""
import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "thesis_figures.py"
_spec = importlib.util.spec_from_file_location("thesis_figures", SCRIPT)
F = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(F)

LOG2 = math.log(2)


def test_jsd_hand_values():
    # P = (1, 0), Q = (1/2, 1/2): M = (3/4, 1/4); KL(P||M) = log(4/3) = 0.2876821,
    # KL(Q||M) = 1/2 log(2/3) + 1/2 log 2 = 0.1438410; JSD = 0.2157616 nats
    assert F.jsd([1, 0], [0.5, 0.5]) == pytest.approx(0.2157616, abs=1e-7)
    assert F.jsd([3, 1, 2], [3, 1, 2]) == pytest.approx(0.0, abs=1e-15)
    # disjoint supports: log 2 (line 339), whatever the two arrays sum to (Appendix C normalises them)
    assert F.jsd([1, 1, 0, 0], [0, 0, 2, 3]) == pytest.approx(LOG2, abs=1e-15)


def test_wasserstein_point_masses_and_the_thesis_example():
    x = np.arange(0, 10, 0.5)
    p, q = (x == 1.0).astype(float), (x == 4.5).astype(float)
    assert F.wasserstein(x, p, q) == pytest.approx(3.5, abs=1e-12)
    # Sec. 2.4.1 (lines 427-437): piles P = (1, 3, 1), Q = (2, 1, 2) one unit apart cost 2 shovelfuls of the 5;
    # as distributions (each sums to 1) that is 2 / 5
    assert F.wasserstein(np.array([1.0, 2.0, 3.0]), [1, 3, 1], [2, 1, 2]) == pytest.approx(0.4, abs=1e-12)


def _jsd_quad(shift, std):
    """JSD of N(0, std) and N(shift, std) by adaptive quadrature of its integral, in nats."""
    p = lambda x: stats.norm.pdf(x, 0, std)  # noqa: E731
    q = lambda x: stats.norm.pdf(x, shift, std)  # noqa: E731

    def f(x):
        a, b = p(x), q(x)
        m = 0.5 * (a + b)
        return 0.5 * (a * math.log(a / m) if a > 0 else 0.0) + 0.5 * (b * math.log(b / m) if b > 0 else 0.0)
    return integrate.quad(f, -12 * std, shift + 12 * std, points=[0, shift], limit=200, epsabs=1e-12)[0]


def test_fig2_7_jsd_curve():
    values = F.divergence_curve("jsd", std=1.0)
    assert len(values) == 21  # Appendix C's range(21)
    assert values[0] == pytest.approx(0.0, abs=1e-12)
    for s in (1, 2, 3, 5):
        assert values[s] == pytest.approx(_jsd_quad(s, 1.0), abs=1e-6)
    assert np.all(np.diff(values) >= -1e-12)
    assert values[20] == pytest.approx(LOG2, abs=1e-9)  # no overlap left: constant at log 2 (line 339)
    # the text's std 0.1 (line 341): the JSD depends on shift / std only, so shift 1 there is shift 10 here
    narrow = F.divergence_curve("jsd", std=0.1)
    assert narrow[1] == pytest.approx(values[10], abs=1e-9) and narrow[1] > values[9] + 5e-6


def test_fig2_12_wasserstein_curve_is_the_shift():
    # W1(N(0, s), N(m, s)) = |m| for any s (sec. 2.4: it keeps growing where the JSD stops)
    for std in (1.0, 0.1):
        np.testing.assert_allclose(F.divergence_curve("wd", std=std), np.arange(21.0), rtol=0, atol=1e-6)


def test_kl_grid_against_the_gaussian_closed_form():
    x = np.linspace(-20, 20, 40001)
    # KL(N(0,1) || N(1, 2^2)) = log 2 + (1 + 1) / 8 - 1/2 = 0.4431472
    kl = F.kl_grid(stats.norm.logpdf(x, 0, 1), stats.norm.logpdf(x, 1, 2), x)
    assert kl == pytest.approx(0.4431472, abs=1e-6)


def test_fig2_8_forward_kl_fit_is_moment_matching():
    # 0.3 N(-1.5, 0.4^2) + 0.7 N(2, 0.8^2): mean 0.95; variance 0.3 (0.16 + 2.25) + 0.7 (0.64 + 4) - 0.95^2
    # = 3.0685, sigma 1.751714
    mu, sigma, _ = F.fit_gaussian([0.3, 0.7], [-1.5, 2.0], [0.4, 0.8], "forward")
    assert mu == pytest.approx(0.95, abs=1e-4)
    assert sigma == pytest.approx(1.751714, abs=1e-4)


def test_fig2_8_reverse_kl_fit_sits_on_one_mode():
    w, m, s = [0.3, 0.7], [-3.0, 3.0], [0.5, 0.5]
    mu, sigma, kl = F.fit_gaussian(w, m, s, "reverse")
    # on the heavier component: there p_data ~ 0.7 N(3, 0.5^2), so KL(q||p) ~ -log 0.7 = 0.356675
    assert mu == pytest.approx(3.0, abs=1e-3) and sigma == pytest.approx(0.5, abs=1e-3)
    assert kl == pytest.approx(0.356675, abs=1e-4)
    # the forward fit on the same mixture spreads over both: mean 1.2, variance 0.25 + 9 - 1.44 = 7.81
    mu_f, sigma_f, _ = F.fit_gaussian(w, m, s, "forward")
    assert mu_f == pytest.approx(1.2, abs=1e-4) and sigma_f == pytest.approx(math.sqrt(7.81), abs=1e-4)


def test_figures_without_runs_are_written(tmp_path, capsys):
    for name in ("fig2_7", "fig2_12", "fig2_8"):
        out = tmp_path / f"{name}.png"
        assert F.main([name, "--out", str(out)]) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "   20  0.693147" in printed and "   20  20.000000" in printed


def test_bad_mixture_is_one_line_exit_2(tmp_path, capsys):
    assert F.main(["fig2_8", "--weights", "1", "--means", "0", "1", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


# ---- Fig. 4.1 from two tiny real runs ----

TINY = ["--cogan_data", "digits2edge", "--iterations", "3", "--batch_size", "4", "--log_weight_difference",
        "--no_final_eval", "--g_width", "0.25"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("fig4_1")
    runs = {"cogan": root / "cogan", "scogan": root / "scogan_fr"}
    for gan_type, extra in (("cogan", []), ("scogan", ["--feature_regulariser"])):
        p = subprocess.run([sys.executable, "main.py", "--gan_type", gan_type, *TINY, *extra,
                            "--dir", str(runs[gan_type])], cwd=REPO, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
    return runs


def _csv_column(run, column):
    with (run / "losses.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [int(r["step"]) for r in rows], [float(r[column]) for r in rows]


def test_fig4_1_plots_the_runs_weight_difference_columns(two_runs, tmp_path):
    out = tmp_path / "fig4_1.png"
    fig, curves = F.weight_difference_figure([two_runs["cogan"], two_runs["scogan"]], out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["CoGAN (cogan)", "SCoGAN-FR (scogan_fr)"]
    for line, run in zip(lines, (two_runs["cogan"], two_runs["scogan"])):
        steps, values = _csv_column(run, "weight_difference")
        assert steps == [1, 2, 3]
        np.testing.assert_array_equal(line.get_xdata(), steps)
        np.testing.assert_array_equal(line.get_ydata(), values)
    # the two runs' measures differ (FR's generators share nothing, CoGAN's share all but the last layer)
    assert lines[0].get_ydata()[0] != lines[1].get_ydata()[0]


def test_fig4_1_cli_and_its_errors(two_runs, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, str(SCRIPT), "fig4_1", *map(str, args)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    p = cli(two_runs["cogan"], two_runs["scogan"], "--out", "f.png", "--labels", "CoGAN", "SCoGAN-FR")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a run folder without the column (trained without --log_weight_difference)
    bare = tmp_path / "bare"
    bare.mkdir()
    with (two_runs["cogan"] / "losses.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "weight_difference"
    rows = [r[:-1] for r in rows]
    with (bare / "losses.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    for args, needle in (((two_runs["cogan"], bare), "--log_weight_difference"),
                         ((two_runs["cogan"], tmp_path / "nope"), "no losses.csv"),
                         ((two_runs["cogan"], two_runs["scogan"], "--labels", "one"), "--labels"),
                         ((two_runs["cogan"], "--out", tmp_path / "no" / "f.png"), "does not exist")):
        p = cli(*args)
        assert p.returncode == 2 and p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
        assert needle in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT), "fig9_9"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1


def test_weight_difference_blocks_splits_the_logged_sum(two_runs, tmp_path):
    """scripts/weight_difference_blocks.py on the two tiny runs: CoGAN's shared blocks print as 0, each total is
    the weight_difference the trainer logged at the last step (its checkpoint), the blocks add up to it; a missing
    run folder is one line and status 2."""
    script = REPO / "scripts" / "weight_difference_blocks.py"

    def cli(*args):
        return subprocess.run([sys.executable, str(script), *map(str, args)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
    p = cli(two_runs["cogan"], two_runs["scogan"])
    assert p.returncode == 0, p.stderr[-2000:]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in p.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| block")]
    blocks, total = rows[:-1], rows[-1]
    assert total[0] == "total (Fig. 4.1)" and [r[0] for r in blocks] == [str(k + 1) for k in range(len(blocks))]
    assert [r[1] for r in blocks[:-1]] == ["shared: 0"] * (len(blocks) - 1)   # CoGAN: all but the last block
    for col, run in ((1, two_runs["cogan"]), (2, two_runs["scogan"])):
        _, logged = _csv_column(run, "weight_difference")
        parts = [0.0 if r[col] == "shared: 0" else float(r[col]) for r in blocks]
        # printed with 6 decimals: each cell within 5e-7 of its value; the CSV keeps 6 significant digits
        assert float(total[col]) == pytest.approx(logged[-1], abs=1e-6)
        assert sum(parts) == pytest.approx(float(total[col]), abs=1e-6 * len(parts))
    assert "shared: 0" not in [r[2] for r in blocks]   # SCoGAN: no block shared
    p = cli(tmp_path / "nope")
    assert p.returncode == 2 and p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
