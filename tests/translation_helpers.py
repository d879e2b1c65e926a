"""What the tests of the translation models (tests/test_cyclegan.py, test_pix2pix.py, test_unit.py) share: the CLI
call, a weights file's arrays, the NumPy BCE, the tiny option lists, the 2-step CLI run each file checks, and the
checks those files repeat (dry-run counts against the saved weights, exact resume, one-line refusals). Each test
file keeps its own objectives, nets and expected values (session 12: duplicates D4-D6)."""
import h5py
import numpy as np

import main

# The 2-step run with a 2x3 sample grid that each file's module fixture `cli_run` trains.
TWO_STEPS = ["--iterations", 2, "--log_interval", 1, "--sample_rows", 2, "--sample_cols", 3]


def tiny(gan_type, g_width, *more):
    """The small digits2edge options of `gan_type` at generator width `g_width`, then `more`."""
    return ["--gan_type", gan_type, "--cogan_data", "digits2edge", "--g_width", str(g_width), *map(str, more)]


def run(argv, capsys):
    """main.main(argv) -> (exit status, stdout, stderr)."""
    try:
        rc = main.main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own errors (a wrong choice): one line, exit 2
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def two_step_run(tmp_path_factory, name, argv):
    """The folder of a TWO_STEPS run of `argv` (module fixtures: trained once per test file)."""
    d = tmp_path_factory.mktemp(name) / "run"
    assert main.main([str(a) for a in argv + TWO_STEPS + ["--dir", d]]) == 0
    return d


def h5_arrays(path):
    """{dataset path: array} of a .weights.h5 file."""
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, o: found.__setitem__(name, o[()]) if isinstance(o, h5py.Dataset) else None)
    return found


def saved_count(run_dir, net):
    """How many numbers models/<net>.weights.h5 of `run_dir` holds."""
    return sum(a.size for a in h5_arrays(run_dir / "models" / f"{net}.weights.h5").values())


def np_bce(logits, target):
    """Mean BCE of sigmoid(logits) against a constant label, the stable NumPy form."""
    logits = np.asarray(logits, np.float64)
    return float(np.mean(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))))


def dry_run_counts(argv, capsys, prefixes):
    """{name: parameter count} of --dry_run's table rows that start with one of `prefixes` (exit 0 asserted)."""
    rc, out, err = run(argv + ["--dry_run"], capsys)
    assert rc == 0, err
    return {line.split()[0]: int(line.split()[1].replace(",", "")) for line in out.splitlines()
            if line.startswith(tuple(prefixes))}


def straight_and_resumed(argv, tmp_path, capsys):
    """(straight, resumed): `argv` run for 3 steps, and for 2 then --resume to 3 (said in the resumed output)."""
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert run(argv + ["--iterations", 3, "--dir", straight], capsys)[0] == 0
    assert run(argv + ["--iterations", 2, "--dir", resumed], capsys)[0] == 0
    rc, out, err = run(["--dir", resumed, "--resume", "--iterations", 3], capsys)
    assert rc == 0, err
    assert "from step 2 to 3" in out
    return straight, resumed


def assert_same_final_state(straight, resumed, nets, atol=None):
    """Each net's saved weights in `resumed` equal those of `straight` (bit for bit, or to `atol`), and so does the
    last row of losses.csv."""
    for net in nets:
        a, b = (h5_arrays(r / "models" / f"{net}.weights.h5") for r in (straight, resumed))
        assert a.keys() == b.keys()
        for k in a:
            if atol is None:
                np.testing.assert_array_equal(b[k], a[k], err_msg=f"{net} {k}")
            else:
                np.testing.assert_allclose(b[k], a[k], rtol=0, atol=atol, err_msg=f"{net} {k}")
    last_rows = [(r / "losses.csv").read_text().splitlines()[-1] for r in (straight, resumed)]
    assert last_rows[0] == last_rows[1]


def assert_refused(argv, says, capsys):
    """main.main(argv) exits 2 with one line on stderr, "error: ..." naming `says`. -> that line."""
    rc, _, err = run(argv, capsys)
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err, err
    return err
