"""`--classes` (issue 20 item 7): a single GAN trained on some classes of its data only.

The class filter reads the labels from the same source as the images (idx label files beside the idx image files,
scikit-learn's digit targets); the tests write idx files of known random images and labels and check that exactly the
rows of the chosen labels come out, pixel for pixel (at the native size the pipeline's resize is the identity, so the
expected images are the source rows mapped to [-1, 1] in NumPy).
"""
import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import data
import main
from config import ConfigError, check_resume
from data_sources import specs
from data_sources.base import DataError

REPO = Path(__file__).resolve().parents[1]
# Fashion-MNIST's labels in label order, as its README lists them (zalandoresearch/fashion-mnist).
OFFICIAL = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def write_idx(path, array):
    """`array` (uint8) as a gzip-compressed idx file, the MNIST format."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))


def fake_set(root, kind="fashion_mnist", n=40, split="train", seed=0):
    """Random 28x28 images and labels 0-9 (each at least twice) as <root>/<kind>/<split>-*-idx*-ubyte.gz."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    write_idx(root / kind / f"{split}-images-idx3-ubyte.gz", x)
    write_idx(root / kind / f"{split}-labels-idx1-ubyte.gz", y)
    return x, y


def one_epoch(ds):
    """The first sizes[0] images the stream yields: one whole epoch, in one batch of that size."""
    return next(iter(ds)).numpy()


def source_rows(out, source):
    """-> for each output image (N, S, S, 3) the index of the source row (M, S, S), in [0, 1], it shows, checking
    that it shows it: both channels equal, and the pixels equal to float32 rounding."""
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    expected = source.astype(np.float64) * 2 - 1
    rows = [int(np.argmin(np.abs(expected - o[..., 0]).max(axis=(1, 2)))) for o in out]
    # values of magnitude <= 1 in float32 after a scale and a shift: a few units of 2**-24
    np.testing.assert_allclose(out[..., 0], expected[rows], rtol=0, atol=1e-6)
    return rows


# ---------------------------------------------------------------------------------------------- names and ids
@pytest.mark.parametrize("spellings, ids", [
    (["8", "bag", "Bag", "BAG", " bag "], (8,)),
    (["0,8", "8,0", "t-shirt/top,bag", "tshirt, 8", "T-shirt/top,Bag,8", "top,bag"], (0, 8)),
    (["7,8", "sneaker,bag", "Sneaker, Bag"], (7, 8)),
    (["9", "ankle_boot", "Ankle boot", "ankle-boot", "AnkleBoot"], (9,)),
])
def test_fashion_names_and_ids_resolve_alike(spellings, ids):
    for s in spellings:
        assert specs.class_ids("fashion_mnist", s) == ids, s
    # the table is the official one, in label order
    assert [specs.class_names("fashion_mnist", [k])[0] for k in range(10)] == OFFICIAL


def test_digit_classes_are_ids_and_a_sequence_works_too():
    assert specs.class_ids("digits", "3,7") == specs.class_ids("mnist", [7, "3"]) == (3, 7)
    assert specs.class_ids("MNIST", "0,1,2,3,4,5,6,7,8,9") == tuple(range(10))


@pytest.mark.parametrize("dataset, classes, says", [
    ("fashion_mnist", "boot", "unknown class 'boot'"),
    ("fashion_mnist", "10", "unknown class '10'"),
    ("fashion_mnist", "8,", "an empty class name"),
    ("mnist", "seven", "unknown class 'seven'"),
    ("digits", "-1", "unknown class '-1'"),
    ("mnist", "1.0", "unknown class '1.0'"),
    ("mnist", "01", "unknown class '01'"),
])
def test_an_unknown_class_is_one_line_listing_the_valid_ones(dataset, classes, says):
    with pytest.raises(DataError) as e:
        specs.class_ids(dataset, classes)
    text = str(e.value)
    assert says in text and "\n" not in text
    valid = OFFICIAL if dataset == "fashion_mnist" else [str(k) for k in range(10)]
    assert all(v in text for v in valid)


# ---------------------------------------------------------------------------------------------- what comes out
@pytest.mark.parametrize("classes", ["8", "sneaker,bag", "0,3,9"])
def test_only_the_images_of_those_labels_come_out(tmp_path, classes, logged):
    x, y = fake_set(tmp_path)
    ids = specs.class_ids("fashion_mnist", classes)
    want = np.flatnonzero(np.isin(y, ids))
    ds, info = data.load_single("fashion_mnist", batch_size=len(want), seed=0, data_dir=str(tmp_path),
                                image_size=28, download=False, classes=classes)
    assert info.sizes == (len(want),) and info.shape == (28, 28, 3)
    rows = source_rows(one_epoch(ds), x / 255.0)
    assert sorted(rows) == list(want)   # each kept image once, no other
    note = [m for m in logged.messages if "--classes" in m]
    assert len(note) == 1 and f"{len(want)} of the 40 fashion_mnist images" in note[0]
    assert all(f"{k} ({OFFICIAL[k]})" in note[0] for k in ids)


def test_the_labels_are_those_of_the_training_split_beside_its_images(tmp_path):
    # A test split with other labels beside it must not steer the filter of the training images.
    x, y = fake_set(tmp_path, kind="mnist", n=30, seed=1)
    fake_set(tmp_path, kind="mnist", n=20, split="t10k", seed=2)
    want = np.flatnonzero(y == 4)
    ds, info = data.load_single("mnist", batch_size=len(want), seed=3, data_dir=str(tmp_path), image_size=28,
                                download=False, classes="4")
    assert info.sizes == (len(want),)
    assert sorted(source_rows(one_epoch(ds), x / 255.0)) == list(want)


def test_only_a_test_split_is_filtered_by_its_own_labels(tmp_path):
    x, y = fake_set(tmp_path, kind="fashion_mnist", n=30, split="t10k", seed=4)
    want = np.flatnonzero(np.isin(y, [1, 5]))
    ds, info = data.load_single("fashion_mnist", batch_size=len(want), seed=0, data_dir=str(tmp_path),
                                image_size=28, download=False, classes="trouser,sandal")
    assert sorted(source_rows(one_epoch(ds), x / 255.0)) == list(want)


def test_digits_by_scikit_learns_targets():
    from sklearn.datasets import load_digits
    d = load_digits()
    want = np.flatnonzero(d.target == 3)
    ds, info = data.load_single("digits", batch_size=len(want), seed=0, image_size=8, classes="3")
    assert info.sizes == (len(want),) and len(want) == 183   # scikit-learn's count of threes
    assert sorted(source_rows(one_epoch(ds), d.images / 16.0)) == list(want)


def test_images_without_labels_beside_them_are_one_line(tmp_path):
    fake_set(tmp_path)
    (tmp_path / "fashion_mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="has no labels beside it"):
        data.load_single("fashion_mnist", batch_size=4, seed=0, data_dir=str(tmp_path), download=False, classes="8")
    # ... which the unfiltered set does not need
    _, info = data.load_single("fashion_mnist", batch_size=4, seed=0, data_dir=str(tmp_path), download=False)
    assert info.sizes == (40,)


@pytest.mark.parametrize("name, folder", [("toy", None), ("svhn", None), ("celeba", None), (None, "images")])
def test_data_without_labels_is_refused_by_the_loader(tmp_path, name, folder):
    with pytest.raises(DataError, match="--classes .* none here"):
        data.load_single(name, batch_size=4, seed=0, domain_a=folder and str(tmp_path / folder), classes="1")


# ---------------------------------------------------------------------------------------------- the command line
def exits_2(capsys, argv):
    capsys.readouterr()
    try:
        code = main.main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    return err


@pytest.mark.parametrize("argv, says", [
    (["--gan_type", "gan", "--dataset", "fashion_mnist", "--classes", "boot"], "unknown class 'boot'"),
    (["--gan_type", "gan", "--classes", "eight"], "unknown class 'eight' of digits"),   # the default data's classes
    (["--gan_type", "cogan", "--classes", "8"], "single GAN"),
    (["--gan_type", "scogan", "--cogan_data", "mnist2edge", "--classes", "8"], "single GAN"),
    (["--gan_type", "classifier", "--dataset", "mnist", "--classes", "8"], "single GAN"),
    (["--gan_type", "gan", "--dataset", "toy", "--classes", "8"], "--dataset toy has none"),
    (["--gan_type", "gan", "--dataset", "celeba", "--classes", "8"], "--dataset celeba has none"),
    (["--gan_type", "gan", "--domain_a", "somewhere", "--classes", "8"], "a folder (--domain_a) has none"),
])
def test_refusals_are_one_line_and_exit_2(capsys, argv, says):
    assert says in exits_2(capsys, argv + ["--dry_run"])


def test_a_bad_class_is_refused_before_tensorflow_is_imported():
    code = ("import sys, main\n"
            "rc = main.main(['--gan_type', 'gan', '--dataset', 'fashion_mnist', '--classes', 'boot'])\n"
            "assert 'tensorflow' not in sys.modules, 'TensorFlow imported'\n"
            "sys.exit(rc)\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("error: --classes boot") and p.stderr.count("\n") == 1, p.stderr


def test_dry_run_shows_the_option_as_given(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main.main(["--gan_type", "gan", "--dataset", "fashion_mnist", "--classes", "sneaker,bag",
                      "--g_width", "0.25", "--dry_run"]) == 0
    out = capsys.readouterr().out
    cfg, _ = json.JSONDecoder().raw_decode(out, out.index("{", out.index("configuration")))
    assert cfg["classes"] == "sneaker,bag"
    assert not any(tmp_path.iterdir())


def test_a_resume_cannot_change_the_classes():
    with pytest.raises(ConfigError, match="--classes cannot change on resume"):
        check_resume({"classes": "8"}, {"classes": "7,8"})
    with pytest.raises(ConfigError, match="--classes cannot change on resume"):
        check_resume({"classes": None}, {"classes": "8"})


def test_a_run_trains_on_the_classes_and_records_them(tmp_path, capsys):
    # main passes the option to the loader: the run's log names the classes and the count, config.json keeps it.
    x, y = fake_set(tmp_path / "data")
    kept = int(np.isin(y, [7, 8]).sum())
    run = tmp_path / "run"
    capsys.readouterr()
    assert main.main(["--gan_type", "gan", "--dataset", "fashion_mnist", "--data_dir", str(tmp_path / "data"),
                      "--no_download", "--classes", "Sneaker,Bag", "--dir", str(run), "--g_width", "0.25",
                      "--iterations", "2", "--batch_size", "4", "--log_interval", "1", "--sample_interval", "2",
                      "--checkpoint_interval", "2", "--sample_rows", "1", "--sample_cols", "2",
                      "--no_final_eval"]) == 0
    out = capsys.readouterr().out
    assert f"--classes 7,8: training on the {kept} of the 40 fashion_mnist images of classes 7 (Sneaker), 8 (Bag)" \
        in out
    assert json.loads((run / "config.json").read_text())["classes"] == "Sneaker,Bag"
