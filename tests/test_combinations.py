"""One compiled training step of every combination the CLI accepts, through `main.main` (issue 19, item 4).

The product the command line accepts: --loss {minimax, nonsat, wgan, lsgan} x --disc_penalty {none, wgan-gp, clip}
(config.py's choices, losses.LOSSES, penalties.PENALTIES) x --arch {cogan32, dcgan64, cogan128, cogan256, toy}
(nets.ARCHS) x --gan_type {gan, cogan, scogan}: 156 cases. config.resolve refuses --arch toy with cogan/scogan,
any other architecture on the toy ring, and every --arch with --gan_type classifier (not a GAN): each refusal is
tested as one line on stderr, exit 2, nothing written.

Why not all 156: a case costs (CPU seconds, one step, tiny options, measured on a 2-core AMD EPYC): toy ~1.6,
cogan32 ~4-6, dcgan64 ~4-7, cogan128 7-15, cogan256 9-23 (the critics of Tables A.2/A.4 cannot be narrowed: there
is no --d_width), mostly tracing the step, and the whole CI suite has ~20 minutes on 2 cores. Every case is its own
CI work unit (tests/conftest.py SPLIT_FILES: they share no fixture, keep it so): they fill the end of both xdist
workers' queues. So this file covers
- the full loss x penalty x gan_type product (36 cases) at each gan_type's cheapest architecture (CHEAPEST: the
  ring MLPs for gan, cogan32 for cogan/scogan); three of them run inside the resume test;
- every architecture x gan_type pair (13) at one loss/penalty, nonsat / none (the dcgan preset, the DCGAN setting
  of dcgan64): the 10 pairs the product does not already train;
- one resume per gan_type (gan: minimax/clip, cogan: nonsat/wgan-gp, scogan: wgan/none).
scogan runs with --feature_regulariser (Eq. 4.1, the one coupling that needs no classifier or VGG; every coupling
and the thesis's combinations train in tests/test_cli.py), whose maps differ per architecture (nets.FR_MAPS).

Each case checks: exit 0; losses.csv's columns exactly those of the gan_type/penalty (per-domain suffixes for the
coupled types, d_gp iff WGAN-GP, fr iff FR), every value finite, d_total and g_total the sums of their terms; the
sign of the saturating / non-saturating generator loss (-E[softplus(l)] < 0 vs E[softplus(-l)] > 0: a registry
that swapped them fails); every variable finite and every kernel of every network changed, so no network is left
out of its side's update. The resume checks
that step 2 starts from the weights and optimizer state step 1 ended with, not from fresh nets (which, with the
same seed, would equal step 1's initial weights), and that losses.csv then holds steps 1 and 2, step 1 unchanged.
"""
import csv
from dataclasses import dataclass

import numpy as np
import pytest

import main
from trainers.base import AdversarialTrainer

LOSSES = ("minimax", "nonsat", "wgan", "lsgan")
PENALTIES = ("none", "wgan-gp", "clip")
GAN_TYPES = ("gan", "cogan", "scogan")
# The image size each architecture makes (config.resolve); toy: the 2-D ring, single GANs only.
ARCH_SIZES = {"cogan32": 32, "dcgan64": 64, "cogan128": 128, "cogan256": 256, "toy": None}
# The cheapest architecture each gan_type accepts: the ring MLPs (Table 2.1) for single GANs, cogan32 else.
CHEAPEST = {"gan": "toy", "cogan": "cogan32", "scogan": "cogan32"}
ARCH_LOSS, ARCH_PENALTY = "nonsat", "none"
RESUMED = {"gan": ("minimax", "clip"), "cogan": ("nonsat", "wgan-gp"), "scogan": ("wgan", "none")}
# Tiny and one step: one critic step, 2 images, generators at 2% of the tables' widths, no final LPIPS table.
TINY = ["--iterations", "1", "--batch_size", "2", "--disc_iters", "1", "--g_width", "0.02", "--log_interval", "1",
        "--sample_rows", "1", "--sample_cols", "1", "--no_final_eval"]


def options(gan_type, arch, loss, penalty):
    data = ["--dataset", "toy"] if arch == "toy" else ["--image_size", str(ARCH_SIZES[arch])]
    coupling = ["--feature_regulariser"] if gan_type == "scogan" else []
    return ["--gan_type", gan_type, "--arch", arch, "--loss", loss, "--disc_penalty", penalty, *data, *coupling,
            *TINY]


def expected_columns(gan_type, penalty):
    """losses.csv's header: the critic's terms, then the generator's (trainers/base.py train_step)."""
    suffixes = [""] if gan_type == "gan" else ["_1", "_2"]
    d_terms = ["d_loss"] + (["d_gp"] if penalty == "wgan-gp" else [])
    return ({"step", "d_total", "g_total"} | {t + s for t in d_terms for s in suffixes}
            | {"g_loss" + s for s in suffixes} | ({"fr"} if gan_type == "scogan" else set()))


# ------------------------------------------------------------------------------------------ recording a run
@dataclass
class Run:
    """A trainer main.main built, and its variables before its first step: {network name: [values]}."""
    trainer: AdversarialTrainer
    before: dict
    g_iterations: int
    d_iterations: int


def _values(trainer):
    return {m.name: [np.array(v.numpy()) for v in m.variables] for m in trainer.models()}


@pytest.fixture
def runs(monkeypatch):
    """The Run of every trainer main.main builds during the test, in order (recorded at its first step, i.e.
    after a resume's restore)."""
    recorded = []
    original = AdversarialTrainer.run_step

    def run_step(self, inputs):
        if not recorded or recorded[-1].trainer is not self:
            recorded.append(Run(self, _values(self), int(self.g_opt.iterations.numpy()),
                                int(self.d_opt.iterations.numpy())))
        return original(self, inputs)

    monkeypatch.setattr(AdversarialTrainer, "run_step", run_step)
    return recorded


def read_rows(run_dir):
    with open(run_dir / "losses.csv", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, [{k: float(v) for k, v in r.items()} for r in reader]


def assert_sum(row, total, terms):
    """row[total] == the sum of row[terms]: each written with 6 significant digits (rel. error 5e-6 each)."""
    parts = [row[t] for t in terms]
    tol = 1e-5 * (sum(map(abs, parts)) + abs(row[total]))
    assert abs(row[total] - sum(parts)) <= tol, (total, row)


def assert_moved(run, after):
    """Every variable of every network finite, every kernel changed. Exactly equal is what a network left out of its
    side's update keeps; no bound in learning rates: Adam's first step moves an element by lr * |g| / (|g| + eps),
    far below lr where weight clipping leaves the ring MLPs gradients of ~1e-8 (eps = 1e-7)."""
    for m in run.trainer.models():
        for v, old, new in zip(m.variables, run.before[m.name], after[m.name]):
            assert np.isfinite(new).all(), (m.name, v.path)
            if v.trainable and v.name == "kernel":
                assert not np.array_equal(new, old), f"{m.name} {v.path} did not move"


def check_one_step(run_dir, run, gan_type, loss, penalty, step=1):
    """What one step of a combination must leave (module docstring); `step`: the row to check."""
    header, rows = read_rows(run_dir)
    assert set(header) == expected_columns(gan_type, penalty) and len(header) == len(set(header)), header
    assert [int(r["step"]) for r in rows][-1] == step
    row = rows[-1]
    assert all(np.isfinite(v) for v in row.values()), row
    suffixes = [""] if gan_type == "gan" else ["_1", "_2"]
    d_terms = [t + s for s in suffixes for t in ("d_loss", "d_gp") if t + s in row]
    assert_sum(row, "d_total", d_terms)
    assert_sum(row, "g_total", [f"g_loss{s}" for s in suffixes] + (["fr"] if gan_type == "scogan" else []))
    for s in suffixes:
        if loss in ("minimax", "nonsat"):  # softplus terms: d = E[softplus(-r)] + E[softplus(f)] > 0
            assert row[f"d_loss{s}"] > 0, row
        if loss == "minimax":  # the saturating game: E[log(1 - D(G(z)))] = -E[softplus(f)] < 0
            assert row[f"g_loss{s}"] < 0, row
        if loss == "nonsat":  # -E[log D(G(z))] = E[softplus(-f)] > 0
            assert row[f"g_loss{s}"] > 0, row
        if loss == "lsgan":  # squares: E[(r - 1)^2] + E[f^2] > 0 and E[(f - 1)^2] > 0 (a wasserstein sum can be < 0)
            assert row[f"d_loss{s}"] > 0 and row[f"g_loss{s}"] > 0, row
    assert_moved(run, _values(run.trainer))
    assert int(run.trainer.step.numpy()) == step


def train(runs, tmp_path, gan_type, arch, loss, penalty):
    run_dir = tmp_path / "run"
    assert main.main(options(gan_type, arch, loss, penalty) + ["--dir", str(run_dir)]) == 0
    assert len(runs) == 1
    check_one_step(run_dir, runs[0], gan_type, loss, penalty)
    return run_dir


# ------------------------------------------------------------------------------------------ the cases
PRODUCT = [pytest.param(g, CHEAPEST[g], lo, p, id=f"{g}-{CHEAPEST[g]}-{lo}-{p}")
           for g in GAN_TYPES for lo in LOSSES for p in PENALTIES if RESUMED[g] != (lo, p)]
ARCHS = [pytest.param(g, a, ARCH_LOSS, ARCH_PENALTY, id=f"{g}-{a}-{ARCH_LOSS}-{ARCH_PENALTY}")
         for g in GAN_TYPES for a in ARCH_SIZES
         if a != CHEAPEST[g] and (a != "toy" or g == "gan")]


@pytest.mark.parametrize("gan_type,arch,loss,penalty", PRODUCT + ARCHS)
def test_one_step(runs, tmp_path, gan_type, arch, loss, penalty):
    train(runs, tmp_path, gan_type, arch, loss, penalty)


@pytest.mark.parametrize("gan_type", GAN_TYPES)
def test_resume_continues_from_the_restored_step(runs, tmp_path, gan_type):
    loss, penalty = RESUMED[gan_type]
    run_dir = train(runs, tmp_path, gan_type, CHEAPEST[gan_type], loss, penalty)
    first = runs[0]
    after_first = _values(first.trainer)
    _, rows_first = read_rows(run_dir)
    assert main.main(["--dir", str(run_dir), "--resume", "--iterations", "2"]) == 0
    assert len(runs) == 2
    second = runs[1]
    for name, values in second.before.items():  # step 2 starts where step 1 ended ...
        net = next(m for m in second.trainer.models() if m.name == name)
        for v, restored, saved in zip(net.variables, values, after_first[name]):
            np.testing.assert_array_equal(restored, saved, err_msg=f"{name} {v.path}")
    # ... which are not the initial weights (what fresh nets of the same seed would hold)
    assert any(not np.array_equal(a, b) for name in first.before for a, b in zip(first.before[name],
                                                                                 second.before[name]))
    assert (second.g_iterations, second.d_iterations) == (int(first.trainer.g_opt.iterations.numpy()),
                                                          int(first.trainer.d_opt.iterations.numpy())) != (0, 0)
    check_one_step(run_dir, second, gan_type, loss, penalty, step=2)
    _, rows = read_rows(run_dir)
    assert [int(r["step"]) for r in rows] == [1, 2] and rows[0] == rows_first[0]


# ------------------------------------------------------------------------------------------ refusals
def refused(message, *argv):
    return pytest.param(list(argv), message, id="-".join(argv[1::2]))


REFUSED = [
    *[refused("--arch toy is for the 2-D ring data", "--gan_type", g, "--arch", "toy") for g in ("cogan", "scogan")],
    *[refused("the toy ring data needs --arch toy", "--gan_type", "gan", "--dataset", "toy", "--arch", a)
      for a in ARCH_SIZES if a != "toy"],
    *[refused("--arch is a GAN option", "--gan_type", "classifier", "--arch", a) for a in ARCH_SIZES],
]


@pytest.mark.parametrize("argv,message", REFUSED)
def test_refused_combination_is_one_line_exit_2(capsys, tmp_path, argv, message):
    code = main.main(argv + TINY + ["--dir", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "\n" not in err and message in err, err
    assert not (tmp_path / "run").exists()

