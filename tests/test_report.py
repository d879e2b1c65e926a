"""`python main.py --report RUN [RUN ...] [--out FILE]` (report.py): runs side by side as thesis Table 5.2, the
thesis's numbers beside a named experiment, the CSV, and every refusal (one line, exit 2, nothing written).

The run folders are two genuinely trained tiny runs whose metrics.json come from the real evaluation.evaluate
(with a NumPy stand-in for LPIPS, so no weights are needed; with the real AlexNet LPIPS too when its weights are
present), so the report cannot drift from the layout evaluate writes.
"""
import dataclasses
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import evaluation
import experiments
import main
from config import Config
from metrics import weights as lpips_weights

REPO = Path(__file__).resolve().parents[1]
KEYS = ("gen1_vs_gen2", "gen1_vs_real1", "gen2_vs_real2", "real1_vs_real2", "gen1_vs_real2", "gen2_vs_real1")
PUBLISHED = {"gen1_vs_gen2": 0.3016, "gen1_vs_real1": 0.1162, "gen2_vs_real2": 0.2046, "real1_vs_real2": 0.3304}


class SquaredDifferenceLPIPS:
    net = "squared-difference (test)"

    def __call__(self, x, y):
        return np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2, axis=(1, 2, 3))


def _train(run_dir, *extra):
    argv = ["--gan_type", "cogan", "--cogan_data", "digits2edge", "--iterations", "2", "--batch_size", "8",
            "--log_interval", "1", "--sample_interval", "1", "--sample_rows", "1", "--sample_cols", "2",
            "--no_final_eval", "--dir", str(run_dir), *extra]
    assert main.main(argv) == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two trained tiny runs (`a` marked as experiment `test_slfr`, `b` a SCoGAN), each evaluated on 16 pairs
    by the real evaluation.evaluate; the pristine folders, copied per test."""
    root = tmp_path_factory.mktemp("report_runs")
    _train(root / "a")
    _train(root / "b", "--gan_type", "scogan", "--seed", "3")
    cfg = dataclasses.replace(Config.load(root / "a" / "config.json"), experiment="test_slfr")
    cfg.save(root / "a" / "config.json")
    for name in ("a", "b"):
        evaluation.evaluate(root / name, num=16, lpips=SquaredDifferenceLPIPS(), fid=False)
    return root


@pytest.fixture
def work(runs, tmp_path, monkeypatch):
    """Fresh copies of the runs in tmp_path/runs (what the report reads), the experiment registered,
    cwd = tmp_path."""
    shutil.copytree(runs, tmp_path / "runs", ignore=shutil.ignore_patterns("checkpoints", "tb", "models"))
    monkeypatch.setattr(experiments, "EXPERIMENTS", {"test_slfr": experiments.Experiment(
        name="test_slfr", description="test", reproduces="Table 5.2, column SLFR", settings={},
        published=dict(PUBLISHED), source="Table 5.2, column SLFR", pairs=50000)})
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


def _table(md):
    """The report's first Markdown table -> (header cells, {row label: cells})."""
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    split = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines]
    header, body = split[0], split[2:]
    return header, {row[0]: row[1:] for row in body}


def _metrics(run_dir):
    return json.loads((Path(run_dir) / "metrics.json").read_text())


def exits_2(capsys, *argv):
    try:
        code = main.main([str(a) for a in argv])
    except SystemExit as e:   # argparse's own exits (--help) only
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    return err


# ---------------------------------------------------------------------------------------------- the table


def test_report_lays_runs_out_as_thesis_table_5_2(work, tmp_path, capsys):
    a, b = work / "a", work / "b"
    out = tmp_path / "reports" / "cmp.md"
    out.parent.mkdir()
    assert main.main(["--report", str(a), str(b), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    header, rows = _table(out.read_text())
    # One column per run, the thesis's column right beside the experiment's run.
    assert header == ["measure", "a (test_slfr)", "thesis: Table 5.2, column SLFR", "b"]
    ma, mb = _metrics(a), _metrics(b)
    d1, d2 = ma["domains"]
    labels = [r["label"] for r in ma["lpips"]["rows"].values()]
    lpips_rows = [f"LPIPS {label}" for label in labels]
    # LPIPS rows, the baseline, then the cross cells, in that order, first in the table.
    assert list(rows)[:6] == lpips_rows
    assert lpips_rows[3] == f"LPIPS Real {d1} vs Real {d2} (unpaired baseline)"
    assert lpips_rows[4:] == [f"LPIPS Gen. {d1} vs Real {d2}", f"LPIPS Gen. {d2} vs Real {d1}"]
    for key, label in zip(KEYS, lpips_rows):
        ra, rb = ma["lpips"]["rows"][key], mb["lpips"]["rows"][key]
        mark = " [1]" if key in PUBLISHED else ""   # a's setting is not the thesis's (net, pairs): see below
        assert rows[label][0] == f"{ra['mean']:.4f} ± {ra['se']:.4f}{mark}"
        assert rows[label][2] == f"{rb['mean']:.4f} ± {rb['se']:.4f}"
        assert rows[label][1] == (f"{PUBLISHED[key]:.4f}" if key in PUBLISHED else "—")
    pa = ma["pixel_agreement"]["generated"]["agreement"]
    assert rows[f"Pixel agreement: transform(Gen. {d1}) vs Gen. {d2} (same z)"][0] == \
        f"{pa['mean']:.4f} ± {pa['se']:.4f}"
    assert rows["Training step"] == ["2", "—", "2"]
    assert rows["LPIPS pairs"] == ["16", "50,000", "16"]
    # Links to each run's latest grid, relative to the report.
    for cell, run in ((rows["Latest samples"][0], a), (rows["Latest samples"][2], b)):
        target = cell[cell.index("(") + 1:-1]
        assert cell.startswith("[step_0000002.png]")
        assert (out.parent / target).resolve() == (run / "samples" / "step_0000002.png").resolve()
    text = out.read_text()
    assert ("[1] a (test_slfr) differs from the setting of the thesis's numbers beside it: LPIPS squared-difference "
            "(test) v0.1 (thesis: alexnet v0.1); 16 pairs (thesis: 50,000); ") in text
    assert "thesis: Table 5.2, column SLFR (beside a (test_slfr)): Table 5.2, column SLFR, measured on 50,000" in text


def test_report_csv_has_one_row_per_column_and_measure(work, tmp_path):
    a, b = work / "a", work / "b"
    assert main.main(["--report", str(a), str(b), "--out", str(tmp_path / "cmp.md")]) == 0
    with open(tmp_path / "cmp.csv") as f:
        table = list(csv.DictReader(f))
    pairs = [(r["column"], r["measure"]) for r in table]
    assert len(pairs) == len(set(pairs))
    got = {(r["column"], r["measure"]): r for r in table}
    for col, run in (("a (test_slfr)", a), ("b", b)):
        m = _metrics(run)
        for key in KEYS:
            row = got[(col, f"lpips.{key}")]
            assert (row["source"], row["run_dir"]) == ("measured", str(run))
            assert float(row["mean"]) == pytest.approx(m["lpips"]["rows"][key]["mean"], rel=1e-12)
            assert float(row["se"]) == pytest.approx(m["lpips"]["rows"][key]["se"], rel=1e-12)
            assert int(row["n"]) == 16
        assert int(float(got[(col, "step")]["mean"])) == m["step"]
    thesis = [r for r in table if r["source"].startswith("thesis")]
    assert {r["measure"] for r in thesis} == {f"lpips.{k}" for k in PUBLISHED} | {"pairs"}
    assert all(r["column"] == "thesis: Table 5.2, column SLFR" and r["experiment"] == "test_slfr" for r in thesis)
    assert float(got[("thesis: Table 5.2, column SLFR", "lpips.gen1_vs_gen2")]["mean"]) == 0.3016


def _reseed(src, dst, seed, gen_gen):
    """A copy of run `src` as if trained with --seed `seed`, its same-z LPIPS mean set to `gen_gen`."""
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    (dst / "config.json").write_text(json.dumps({**cfg, "seed": seed}))
    m = _metrics(dst)
    m["lpips"]["rows"]["gen1_vs_gen2"]["mean"] = gen_gen
    (dst / "metrics.json").write_text(json.dumps(m))


def test_runs_differing_only_in_seed_form_one_column_of_seed_means(work, tmp_path, capsys):
    """Issue 18: the seeds of one configuration are one column, mean ± standard deviation (ddof 1) over the seeds;
    the CSV keeps each run's values; a run of another configuration stays a column of its own, labelled as one
    seed. Hand numbers: 0.1, 0.2, 0.4 -> mean 0.233333, sd sqrt(((0.1-m)^2 + (0.2-m)^2 + (0.4-m)^2) / 2) =
    0.152753."""
    b = work / "b"
    for seed, value in ((0, 0.1), (1, 0.2), (2, 0.4)):
        _reseed(b, work / f"b_s{seed}", seed, value)
    other = json.loads((work / "a" / "config.json").read_text())
    out = tmp_path / "seeds.md"
    argv = ["--report", *(str(work / f"b_s{s}") for s in range(3)), str(work / "a"), "--out", str(out)]
    assert main.main(argv) == 0
    header, rows = _table(out.read_text())
    assert header == ["measure", "b_s0 · 3 seeds (0, 1, 2)", "a (test_slfr)", "thesis: Table 5.2, column SLFR"]
    m = _metrics(b)
    d1, d2 = m["domains"]
    assert rows[f"LPIPS Gen. {d1} vs Gen. {d2} (same z)"][0] == "0.2333 ± 0.1528"
    same = m["lpips"]["rows"]["gen1_vs_real1"]["mean"]   # equal in the three runs: sd 0
    assert rows[f"LPIPS Gen. {d1} vs Real {d1}"][0] == f"{same:.4f} ± 0.0000"
    assert rows["Training step"][0] == "2" and rows["LPIPS pairs"][0] == "16"
    text = out.read_text()
    assert "mean ± standard deviation over the seeds" in text and "one run, i.e. one seed" in text
    with open(tmp_path / "seeds.csv") as f:
        table = list(csv.DictReader(f))
    got = {(r["column"], r["measure"]): r for r in table}
    mean = got[("b_s0 · 3 seeds (0, 1, 2)", "lpips.gen1_vs_gen2")]
    assert float(mean["mean"]) == pytest.approx(0.7 / 3, abs=1e-12)
    assert float(mean["se"]) == pytest.approx(0.15275252316519466, abs=1e-12) and mean["n"] == "3"
    for seed, value in ((0, 0.1), (1, 0.2), (2, 0.4)):
        row = got[(f"b_s{seed}", "lpips.gen1_vs_gen2")]
        assert float(row["mean"]) == value and row["source"] == f"seed {seed} of b_s0 · 3 seeds (0, 1, 2)"
    assert other["seed"] == 0   # a, seed 0 like b_s0 but another configuration: not averaged in


def test_one_seed_tables_say_so(work, capsys):
    assert main.main(["--report", str(work / "a"), str(work / "b")]) == 0
    text = capsys.readouterr().out
    assert "Every measured column is one run, i.e. one seed" in text and "N seeds" not in text


def test_report_to_stdout_and_experiments_without_numbers(work, monkeypatch, capsys):
    # Unknown experiment and one without published numbers: no thesis column, a note instead.
    cfg = dataclasses.replace(Config.load(work / "b" / "config.json"), experiment="not_registered")
    cfg.save(work / "b" / "config.json")
    monkeypatch.setattr(experiments, "EXPERIMENTS", {"test_slfr": experiments.Experiment(
        name="test_slfr", description="test", reproduces="Fig. 3.8a", settings={}, published=None)})
    assert main.main(["--report", "runs/a", "runs/b"]) == 0
    out = capsys.readouterr().out
    header, rows = _table(out)
    assert header == ["measure", "a (test_slfr)", "b (not_registered)"]
    assert "publishes no LPIPS numbers for `test_slfr`" in out and "`not_registered` is not in" in out
    assert rows["Latest samples"][0] == "[step_0000002.png](runs/a/samples/step_0000002.png)"
    assert not list(Path().glob("*.csv"))


def test_report_includes_a_toy_run(work, tmp_path, monkeypatch, capsys):
    import sampling

    toy = tmp_path / "toy"
    toy.mkdir()
    Config(gan_type="gan", dataset="toy", toy_ring="metz").save(toy / "config.json")

    class G:   # every z exactly on mode 0 or 5 of the "metz" ring: 2 of 10 modes
        input_spec_shape = (10,)

        def __call__(self, z, training=False):
            import data
            return data.ring_modes()[np.where(np.asarray(z)[:, 0] < 0, 0, 5)]

    monkeypatch.setattr(sampling, "load_run", lambda d, step=None: sampling.LoadedRun(
        Config.load(toy / "config.json"), [G()], 9))
    evaluation.evaluate(toy, num=400)
    assert main.main(["--report", str(work / "b"), str(toy)]) == 0
    header, rows = _table(capsys.readouterr().out)
    assert header == ["measure", "b", "toy"]
    assert rows["Modes covered (toy ring)"] == ["—", "2 / 10"]
    assert rows["High-quality points (toy ring)"] == ["—", "1.0000"]
    assert rows["Evaluation samples (toy ring)"] == ["—", "400"] and rows["Training step"] == ["2", "9"]


def test_a_toy_k5_run_stands_beside_the_thesis_six_of_ten_modes(tmp_path, monkeypatch, capsys):
    """Line 392's "6 out of 10 modes" (Fig. 2.11) is the published value beside a gan_toy_k5 run."""
    import sampling

    toy = tmp_path / "k5"
    toy.mkdir()
    Config(gan_type="gan", dataset="toy", toy_ring="metz", experiment="gan_toy_k5").save(toy / "config.json")

    class G:   # every z on mode 0, 3 or 5 of the "metz" ring: 3 of 10 modes
        input_spec_shape = (10,)

        def __call__(self, z, training=False):
            import data
            return data.ring_modes()[np.array([0, 3, 5])[np.digitize(np.asarray(z)[:, 0], [-0.3, 0.3])]]

    monkeypatch.setattr(sampling, "load_run", lambda d, step=None: sampling.LoadedRun(
        Config.load(toy / "config.json"), [G()], 9))
    evaluation.evaluate(toy, num=400)
    assert main.main(["--report", str(toy)]) == 0
    header, rows = _table(capsys.readouterr().out)
    assert header[1:] == ["k5 (gan_toy_k5)", "thesis: Fig. 2.11, line 392"]
    assert rows["Modes covered (toy ring)"] == ["3 / 10", "6 / 10"]


@pytest.mark.skipif(not any((lpips_weights.default_dir() / f"alexnet.{e}").is_file() for e in ("npz", "ckpt")),
                    reason=f"real LPIPS weights not found in {lpips_weights.default_dir()}")
def test_report_on_real_alexnet_lpips_evaluations(runs, tmp_path):
    full = tmp_path / "full"
    shutil.copytree(runs, full)
    for name in ("a", "b"):
        assert main.main(["--evaluate", str(full / name), "--num", "16"]) == 0
    out = tmp_path / "real.md"
    assert main.main(["--report", str(full / "a"), str(full / "b"), "--out", str(out)]) == 0
    header, rows = _table(out.read_text())
    m = _metrics(full / "b")
    assert m["lpips"]["net"] == "alexnet"
    for key in KEYS:
        row = m["lpips"]["rows"][key]
        assert rows[f"LPIPS {row['label']}"][-1] == f"{row['mean']:.4f} ± {row['se']:.4f}"
    assert "LPIPS (alexnet, v0.1)" in out.read_text()


# ---------------------------------------------------------------------------------------------- marked cells


def _faithful(work, monkeypatch, pairs=16):
    """Register test_slfr as exactly run a's setting, scored as the thesis scored (AlexNet v0.1, `pairs`)."""
    import report
    run = json.loads((work / "a" / "config.json").read_text())
    blank = experiments.Experiment(name="test_slfr", description="test", reproduces="Table 5.2", settings={})
    settings = {k: run[k] for k in report.experiment_reference(blank) if k in run}
    monkeypatch.setattr(experiments, "EXPERIMENTS", {"test_slfr": experiments.Experiment(
        name="test_slfr", description="test", reproduces="Table 5.2, column SLFR", settings=settings,
        published=dict(PUBLISHED), source="Table 5.2, column SLFR", pairs=pairs)})
    for run_dir in (work / "a", work / "b"):   # mixed nets are refused: score both as the thesis did
        _set_metric(run_dir, ("lpips", "net"), "alexnet")


@pytest.mark.parametrize("case", ["faithful", "net", "pairs", "override", "early_step"])
def test_report_marks_cells_whose_run_differs_from_the_thesis_setting(work, monkeypatch, capsys, case):
    """Each measured cell beside a published number carries [n] when its run was scored or trained otherwise than
    the thesis's number, and note [n] says how; a faithful run, and columns without thesis numbers, carry none."""
    _faithful(work, monkeypatch)
    expect = None
    if case == "net":
        for run_dir in (work / "a", work / "b"):
            _set_metric(run_dir, ("lpips", "net"), "vgg16")
        expect = "LPIPS vgg16 v0.1 (thesis: alexnet v0.1)"
    elif case == "pairs":
        _faithful(work, monkeypatch, pairs=50000)
        expect = "16 pairs (thesis: 50,000)"
    elif case == "override":   # e.g. --experiment test_slfr --weight_decay 0.0005 --fr_weight 50
        cfg = json.loads((work / "a" / "config.json").read_text())
        cfg.update(weight_decay=0.0005, fr_weight=50.0)
        (work / "a" / "config.json").write_text(json.dumps(cfg))
        expect = "weight_decay 0.0005 (experiment: 0.0); fr_weight 50.0 (experiment: 10.0)"
    elif case == "early_step":   # scored at a checkpoint before the run's last step
        _set_metric(work / "a", ("step",), 1)
        expect = "evaluated at step 1 of its 2"
    assert main.main(["--report", "runs/a", "runs/b"]) == 0
    out = capsys.readouterr().out
    header, rows = _table(out)
    assert header == ["measure", "a (test_slfr)", "thesis: Table 5.2, column SLFR", "b"]
    ma, mb = _metrics(work / "a"), _metrics(work / "b")
    for key, row in ma["lpips"]["rows"].items():
        cells = rows[f"LPIPS {row['label']}"]
        mark = " [1]" if expect and key in PUBLISHED else ""   # the cross cells have no thesis number beside them
        assert cells[0] == f"{row['mean']:.4f} ± {row['se']:.4f}{mark}", (key, cells)
        assert cells[2] == f"{mb['lpips']['rows'][key]['mean']:.4f} ± {mb['lpips']['rows'][key]['se']:.4f}"
    assert rows["LPIPS pairs"][0] == "16" and rows["Training step"][0] == str(ma["step"])
    if expect is None:
        assert "[1]" not in out and "A mark [n]" not in out
    else:
        note = next(line for line in out.splitlines() if line.startswith("- [1] "))
        assert note == f"- [1] a (test_slfr) differs from the setting of the thesis's numbers beside it: {expect}."
        assert "A mark [n] on a measured cell" in out and "[2]" not in out


def test_reference_is_what_every_experiment_resolves_to(tmp_path):
    """experiment_reference (no TensorFlow) equals config.parse_config's values: a run of an experiment without
    overrides is never marked."""
    import config
    import report
    for name, e in experiments.EXPERIMENTS.items():
        resolved = config.parse_config(["--experiment", name, "--dir", str(tmp_path / name)],
                                       main._data_defaults).to_dict()
        reference = report.experiment_reference(e)
        unset = set(report._UNSET_BY_GAN_TYPE.get(e.settings["gan_type"], ()))   # translation models: no w_init
        assert {"iterations", "w_init", "loss", "g_lr", "weight_decay", "batch_size"} - unset <= set(reference), name
        assert not unset & set(reference) and all(resolved[k] is None for k in unset), name
        assert {k: v for k, v in reference.items() if resolved[k] != v} == {}, name


# ---------------------------------------------------------------------------------------------- refusals


def _set_metric(run, path, value):
    m = _metrics(run)
    d = m
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    (run / "metrics.json").write_text(json.dumps(m))


@pytest.mark.parametrize("case", ["net", "pairs", "no_metrics", "no_run", "missing", "no_args", "out_folder",
                                  "out_is_csv", "bad_option", "bad_data"])
def test_refusals_are_one_line_exit_2_and_write_nothing(work, tmp_path, capsys, case):
    a, b = work / "a", work / "b"
    out = tmp_path / "r.md"
    argv = ["--report", a, b, "--out", out]
    expect = {}
    if case == "net":
        _set_metric(b, ("lpips", "net"), "vgg16")
        expect = ["different LPIPS nets", "a (test_slfr) (squared-difference (test))", "b (vgg16)"]
    elif case == "pairs":
        _set_metric(b, ("pairs",), 50000)
        expect = ["different pair counts", "a (test_slfr) (16)", "b (50,000)"]
    elif case == "no_metrics":
        (b / "metrics.json").unlink()
        expect = [f"{b} has no evaluation: run python main.py --evaluate {b}"]
    elif case == "no_run":
        (tmp_path / "empty").mkdir()
        argv = ["--report", a, tmp_path / "empty", "--out", out]
        expect = ["holds no run (config.json missing)"]
    elif case == "missing":
        argv = ["--report", a, tmp_path / "nope", "--out", out]
        expect = ["nope: no such run folder"]
    elif case == "no_args":
        argv = ["--report", "--out", out]
        expect = ["at least one run folder"]
    elif case == "out_folder":
        out = tmp_path / "no_such_dir" / "r.md"
        argv = ["--report", a, b, "--out", out]
        expect = ["does not exist"]
    elif case == "out_is_csv":
        out = tmp_path / "r.csv"
        argv = ["--report", a, b, "--out", out]
        expect = ["the CSV goes beside it"]
    elif case == "bad_option":
        argv = ["--report", a, "--outt", out]
        expect = ["unrecognized arguments"]
    elif case == "bad_data":   # the data names the domain order (report.data_order): a string or null
        cfg = json.loads((b / "config.json").read_text())
        (b / "config.json").write_text(json.dumps({**cfg, "cogan_data": 5}))
        expect = [f'{b / "config.json"}: "cogan_data" must be a string or null (got 5)']
    err = exits_2(capsys, *argv)
    for part in expect:
        assert part in err, err
    assert not out.exists() and not out.with_suffix(".csv").exists()
    assert not capsys.readouterr().out


def test_never_overwrites_without_overwrite(work, tmp_path, capsys):
    out = tmp_path / "r.md"
    for existing in (out, out.with_suffix(".csv")):
        existing.write_text("keep me")
        err = exits_2(capsys, "--report", work / "a", "--out", out)
        assert f"{existing} exists: pass --overwrite" in err
        assert existing.read_text() == "keep me"
        existing.unlink()
    out.write_text("keep me")
    assert main.main(["--report", str(work / "a"), "--out", str(out), "--overwrite"]) == 0
    assert out.read_text().startswith("# Evaluation report") and out.with_suffix(".csv").is_file()


def test_report_module_does_not_import_tensorflow(work, tmp_path):
    code = ("import sys, report; report.report_main(['--report', 'runs/a', 'runs/b', '--out', 'nt.md']); "
            "assert 'tensorflow' not in sys.modules, 'report imported tensorflow'")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "nt.md").is_file() and (tmp_path / "nt.csv").is_file()


# ---------------------------------------------------------------------------------------------- every model kind
# Issue 20's Done-when (review E6.1): a CoGAN, an SCoGAN, a pix2pix, a CycleGAN and a UNIT run on digits2edge, each
# scored by `--evaluate` (LPIPS: the NumPy stand-in), in ONE --report table. Two training steps of all five take
# ~160 s on the 2-core CPU under load (UNIT's alone ~80 s), so the three cheap ones train 2 steps and CycleGAN and
# UNIT are their own untrained nets (build_nets) saved in models/ as training leaves them: --evaluate and the
# metrics.json writer are the real ones for all five.
FIVE = {
    "cogan": ["--gan_type", "cogan", "--g_width", "0.25", "--batch_size", "8", "--no_final_eval"],
    "scogan": ["--gan_type", "scogan", "--g_width", "0.25", "--batch_size", "8", "--no_final_eval"],
    "pix2pix": ["--gan_type", "pix2pix", "--g_width", "0.25", "--patch_layers", "1", "--batch_size", "4"],
    "cyclegan": ["--gan_type", "cyclegan", "--g_width", "0.25", "--resnet_blocks", "1", "--batch_size", "2"],
    "unit": ["--gan_type", "unit", "--g_width", "0.125", "--batch_size", "4"],
}
UNTRAINED = {"cyclegan", "unit"}
N_FIVE = 8


def _untrained_run(run, argv):
    """A run folder of `argv`'s config whose models/ holds its trainer's freshly built nets (no checkpoint: the
    step is the configured --iterations)."""
    import importlib

    import config
    cfg = config.parse_config(argv, main._data_defaults)
    run.mkdir()
    cfg.save(run / "config.json")
    (run / "models").mkdir()
    for name, net in importlib.import_module(f"trainers.{cfg.gan_type}").build_nets(cfg, (32, 32, 3)).items():
        net.save_weights(str(run / "models" / f"{name}.weights.h5"))


def _fmt(s):
    return f"{s['mean']:.4f} ± {s['se']:.4f}"


def test_report_of_all_five_model_kinds_is_one_table(tmp_path, monkeypatch, capsys):
    """One table, a column per model; each cell the value of its run's metrics.json or the dash where the model has
    no such number (pix2pix's 2 -> 1 rows and cycle error, the translation models' coupled-only rows)."""
    import metrics
    monkeypatch.setattr(metrics, "LPIPS", lambda *a, **k: SquaredDifferenceLPIPS())
    m = {}
    for name, argv in FIVE.items():
        run, argv = tmp_path / name, argv + ["--cogan_data", "digits2edge", "--iterations", "2"]
        if name in UNTRAINED:
            _untrained_run(run, argv)
        else:
            assert main.main(argv + ["--dir", str(run)]) == 0, name
        assert main.main(["--evaluate", str(run), "--num", str(N_FIVE), "--batch_size", "8"]) == 0, name
        m[name] = _metrics(run)
    capsys.readouterr()
    assert main.main(["--report"] + [str(tmp_path / name) for name in FIVE]) == 0
    out = capsys.readouterr().out
    assert out.count("| measure |") == 1   # one table
    header, table = _table(out)
    assert header == ["measure", *FIVE]
    translation = ("pix2pix", "cyclegan", "unit")
    row = (lambda label: dict(zip(FIVE, table["LPIPS " + label])))  # noqa: E731

    # the coupled rows: CoGAN's and SCoGAN's own table, UNIT's same-z section; a dash for pix2pix and CycleGAN
    got = row("Gen. digits vs Gen. digits edge (same z)")
    want = {**{k: _fmt(m[k]["lpips"]["rows"]["gen1_vs_gen2"]) for k in ("cogan", "scogan")},
            "unit": _fmt(m["unit"]["joint"]["lpips"]["rows"]["gen1_vs_gen2"]), "pix2pix": "—", "cyclegan": "—"}
    assert got == want
    # one-way pix2pix: its 2 -> 1 rows and cycle error are the dash, beside the two-way models' numbers
    for key, label in (("real1_vs_trans2", "Real digits vs Translated digits edge (x vs G_12(x))"),
                       ("real2_vs_trans1", "Real digits edge vs Translated digits (x vs G_21(x))"),
                       ("trans1_vs_truth1", "Translated digits vs ground truth (x's own pair in digits)")):
        want = {k: _fmt(m[k]["lpips"]["rows"][key]) if key in m[k]["lpips"]["rows"] else "—" for k in FIVE}
        assert row(label) == want, key
        assert (want["pix2pix"] == "—") == key.endswith("1") and all(want[k] != "—" for k in ("cyclegan", "unit"))
    cycle = dict(zip(FIVE, table["Cycle error: mean abs. G_12(G_21(x)) - x, x real digits edge"]))
    assert cycle == {"cogan": "—", "scogan": "—", "pix2pix": "—",
                     **{k: _fmt(m[k]["cycle"]["rows"]["2_1_2"]) for k in ("cyclegan", "unit")}}
    # the rows both kinds share: each run's baseline, and the ceiling on the same N_FIVE held-out pairs (equal)
    base = row("Real digits vs Real digits edge (unpaired baseline)")
    assert base == {k: _fmt(m[k]["lpips"]["rows"]["real1_vs_real2"]) for k in FIVE}
    ceiling = row("Real digits vs its pair in digits edge (ground-truth ceiling)")
    assert ceiling == {**{k: _fmt(m[k]["ground_truth_ceiling"]) for k in ("cogan", "scogan")},
                       **{k: _fmt(m[k]["lpips"]["rows"]["real1_vs_truth2"]) for k in translation}}
    assert len(set(ceiling.values())) == 1 and m["cogan"]["ground_truth_ceiling"]["n"] == N_FIVE
    assert dict(zip(FIVE, table["LPIPS pairs"])) == {
        **{k: str(N_FIVE) for k in FIVE}, "unit": f"{N_FIVE} (translations) / {N_FIVE} (same z)"}
