"""Paired data (issue 20, item 1): data.load_paired gives (x, y) of the SAME example, for the derived sets and
pix2pix's A|B folders, with a fixed held-out split; data.load_pair stays unpaired. Offline: the scikit-learn digits,
idx files and images written to tmp_path."""
import gzip

import cv2
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.datasets import load_digits

import data
from data import DataError

# The transforms of thesis sec. 5.2, computed here independently of data_sources/transforms.py.
EXPECTED = {
    "edge": lambda x: np.stack([cv2.dilate(i, np.ones((3, 3), np.uint8)) for i in x]) - x,
    "negative": lambda x: 1.0 - x,
    "rotate": lambda x: np.rot90(x, 1, axes=(1, 2)),
}


def digits01():
    return (load_digits().images / 16.0).astype(np.float32)


def model_range(gray01):
    """[N, h, w] in [0, 1] at the pipeline's output size (no resize) -> the pipeline's values in [-1, 1]."""
    return np.asarray(gray01, np.float32) * 2 - 1


def all_rows(ds, limit=None, gray=True):
    xs, ys = [], []
    for x, y in ds:
        xs.append(x.numpy())
        ys.append(y.numpy())
        if limit is not None and sum(map(len, xs)) >= limit:
            break
    x, y = np.concatenate(xs), np.concatenate(ys)
    for im in (x, y):
        assert im.dtype == np.float32 and im.shape[-1] == 3
        if gray:   # grayscale repeated to RGB
            np.testing.assert_array_equal(im[..., 0], im[..., 2])
    return (x, y) if limit is None else (x[:limit], y[:limit])


def sources(rows, images):
    """Index into `images` ([N, h, w] in [-1, 1]) of each row's channel 0 (exact match), -1 where none matches."""
    index = {im.tobytes(): i for i, im in enumerate(images)}
    return np.array([index.get(r[..., 0].tobytes(), -1) for r in rows])


# ---------------------------------------------------------------------------------------------- derived pairs
@pytest.mark.parametrize("transform", ["edge", "negative", "rotate"])
def test_derived_test_split_is_the_fixed_tenth_paired_with_its_own_transform(transform):
    x01 = digits01()
    ds, info = data.load_paired(f"digits2{transform}", batch_size=64, seed=3, split="test", image_size=8)
    assert info == data.DataInfo(f"digits2{transform}", (8, 8, 3), (180, 180), 0)
    x, y = all_rows(ds)
    _, held = data.split_test(1797)   # the digits classifier's held-out images (load_labelled("digits"))
    assert len(x) == 180
    # At native size the pipeline does no resampling: exact equality, row by row, in split order.
    np.testing.assert_array_equal(x[..., 0], model_range(x01[held]))
    np.testing.assert_array_equal(y[..., 0], model_range(EXPECTED[transform](x01[held])))


def test_derived_train_rows_pair_each_image_with_its_transform_and_exclude_the_test_split():
    x01 = digits01()
    train_idx, held = data.split_test(1797)
    ds, info = data.load_paired("digits2edge", batch_size=50, seed=0, image_size=8)
    assert info.sizes == (1617, 1617)
    x, y = all_rows(ds, limit=1617)   # the first epoch: one permutation of the training split
    src = sources(x, model_range(x01))
    assert sorted(src) == sorted(train_idx)   # every training image once, none held out
    assert not set(src) & set(held)
    np.testing.assert_array_equal(y[..., 0], model_range(EXPECTED["edge"](x01[src])))
    # The order follows `seed`; the held-out split does not.
    x5, _ = all_rows(data.load_paired("digits2edge", batch_size=50, seed=5, image_size=8)[0], limit=50)
    assert not np.array_equal(x5, x[:50])
    t0 = all_rows(data.load_paired("digits2edge", batch_size=64, seed=0, split="test", image_size=8)[0])
    t5 = all_rows(data.load_paired("digits2edge", batch_size=64, seed=5, split="test", image_size=8)[0])
    np.testing.assert_array_equal(t0[0], t5[0])


def test_load_pair_stays_unpaired_while_load_paired_pairs_at_the_training_size():
    """Item 3: row by row, load_pair's domain B is never the edge image of domain A's image, load_paired's always
    is (here at the default 32x32, resized by the test)."""
    x01 = digits01()
    a, b, _ = data.load_pair("digits2edge", batch_size=64, seed=0, image_size=8)
    xa, xb = next(iter(a)).numpy(), next(iter(b)).numpy()
    src = sources(xa, model_range(x01))
    assert (src >= 0).all()
    mismatch = np.abs(xb[..., 0] - model_range(EXPECTED["edge"](x01[src]))).reshape(64, -1).max(axis=1)
    assert mismatch.min() > 0.1

    ds, info = data.load_paired("digits2edge", batch_size=64, seed=0)
    assert info.shape == (32, 32, 3)
    x, y = next(iter(ds))
    x, y = x.numpy(), y.numpy()
    resize = lambda im: tf.image.resize(im[..., None], [32, 32], antialias=True).numpy()[..., 0]  # noqa: E731
    src = sources(x, model_range(np.clip(resize(x01), 0, 1)))
    assert (src >= 0).all()
    # 1e-6: float32 rounding of values in [-1, 1]; a wrong pairing is off by > 0.1.
    np.testing.assert_allclose(y[..., 0], model_range(np.clip(resize(EXPECTED["edge"](x01[src])), 0, 1)), atol=1e-6)


def test_direction_btoa_swaps_input_and_target():
    ab = next(iter(data.load_paired("digits2rotate", batch_size=16, seed=2)[0]))
    ba = next(iter(data.load_paired("digits2rotate", batch_size=16, seed=2, direction="BtoA")[0]))
    np.testing.assert_array_equal(ba[0].numpy(), ab[1].numpy())
    np.testing.assert_array_equal(ba[1].numpy(), ab[0].numpy())
    assert not np.array_equal(ab[0].numpy(), ab[1].numpy())


def write_idx(path, images):
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    path.write_bytes(gzip.compress(header + images.astype(np.uint8).tobytes()))


def mnist_like(n, seed):
    return np.random.RandomState(seed).randint(0, 256, (n, 28, 28)).astype(np.uint8)


def test_mnist_pairs_hold_out_the_t10k_split(tmp_path):
    train, t10k = mnist_like(12, 0), mnist_like(5, 1)
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", train)
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", t10k)
    edge01 = lambda u8: EXPECTED["edge"](u8).astype(np.float32) * np.float32(1 / 255)  # noqa: E731
    ds, info = data.load_paired("mnist2edge", batch_size=4, seed=0, split="test", data_dir=str(tmp_path),
                                image_size=28, download=False)
    assert info == data.DataInfo("mnist2edge", (28, 28, 3), (5, 5), 0)
    x, y = all_rows(ds)
    # 1e-6: float32 rounding of u8 / 255 in [-1, 1]; one grey level is 2 / 255.
    np.testing.assert_allclose(x[..., 0], model_range(t10k.astype(np.float32) / 255), atol=1e-6)
    np.testing.assert_allclose(y[..., 0], model_range(edge01(t10k)), atol=1e-6)
    ds, info = data.load_paired("mnist2edge", batch_size=4, seed=0, data_dir=str(tmp_path), image_size=28,
                                download=False)
    assert info.sizes == (12, 12)
    x, y = all_rows(ds, limit=12)
    src = sources(np.round((x + 1) * 127.5), train.astype(np.float32))
    assert sorted(src) == list(range(12))   # the training file only, each image once
    np.testing.assert_allclose(y[..., 0], model_range(edge01(train[src])), atol=1e-6)


def test_mnist_with_one_idx_split_holds_out_a_fixed_tenth(tmp_path, logged):
    t10k = mnist_like(20, 2)
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", t10k)
    _, train = data.load_paired("mnist2negative", batch_size=4, seed=0, data_dir=str(tmp_path), download=False)
    ds, test = data.load_paired("mnist2negative", batch_size=4, seed=0, split="test", data_dir=str(tmp_path),
                                image_size=28, download=False)
    assert train.sizes == (18, 18) and test.sizes == (2, 2)
    assert any("only one MNIST split" in m for m in logged.messages)
    x, y = all_rows(ds)
    held = data.split_test(20)[1]
    np.testing.assert_allclose(x[..., 0], model_range(t10k[held] / np.float32(255)), atol=1e-6)
    np.testing.assert_allclose(y[..., 0], model_range((255 - t10k[held]) / np.float32(255)), atol=1e-6)


@pytest.mark.parametrize("name", ["mnist2svhn", "mnist2svhn_prune", "mnist2fashion", "celeba_Smiling", "Smiling",
                                  "horse2zebra"])
def test_pairs_of_different_images_are_refused_in_one_line(name, tmp_path):
    with pytest.raises(DataError, match=f"'{name}' has no paired data.*digits2edge") as e:
        data.load_paired(name, batch_size=2, seed=0, data_dir=str(tmp_path), download=False)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("kw, msg", [
    (dict(name="digits2edge", split="val"), "unknown split 'val'"),
    (dict(name="digits2edge", direction="atob"), "unknown direction 'atob'"),
    (dict(name="digits2edge", batch_size=0), "batch size"),
    (dict(name="digits2edge", folder="x"), "not both"),
    (dict(name=None), "give a paired dataset"),
    (dict(name="nothing2see"), "unknown paired dataset 'nothing2see'"),
])
def test_bad_arguments_are_one_line_errors(kw, msg):
    kw = dict(dict(batch_size=2, seed=0), **kw)
    with pytest.raises(DataError, match=msg) as e:
        data.load_paired(kw.pop("name"), **kw)
    assert "\n" not in str(e.value)


def test_paired_train_iterator_resumes_from_a_checkpoint(tmp_path):
    ds, _ = data.load_paired("digits2edge", batch_size=16, seed=0)
    it = iter(ds)
    for _ in range(3):
        next(it)
    ckpt = tf.train.Checkpoint(it=it)
    path = ckpt.save(str(tmp_path / "it"))
    expected = [[t.numpy() for t in next(it)] for _ in range(2)]
    ckpt.restore(path)
    for e in expected:
        for got, want in zip(next(it), e):
            np.testing.assert_array_equal(got.numpy(), want)


# ---------------------------------------------------------------------------------------------- A|B folders
def side_by_side(path, seed, h=8, w=None):
    """A random RGB image of h x w (default 2h) -> its (left, right) halves in [-1, 1] (uint8 / 255 * 2 - 1)."""
    im = np.random.RandomState(seed).randint(0, 256, (h, w or 2 * h, 3)).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(im).save(path)
    f = im.astype(np.float32) / 255 * 2 - 1
    return f[:, :h], f[:, h:]


def test_folder_pairs_are_left_and_right_halves_with_train_and_test_folders(tmp_path):
    root = tmp_path / "facades"
    train = [side_by_side(root / "train" / f"{i}.png", i) for i in range(5)]
    test = [side_by_side(root / "test" / f"{i}.png", 10 + i) for i in range(3)]
    (root / "train" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    (root / "train" / "notes.txt").write_text("not an image")
    ds, info = data.load_paired(None, folder=str(root), batch_size=2, seed=0, split="test", image_size=8)
    assert info == data.DataInfo("paired_folder", (8, 8, 3), (3, 3), 0)
    x, y = all_rows(ds, gray=False)
    # 1e-6: float32 rounding of u8 / 255 in [-1, 1]; the other half or another file differ by ~0.5 on average.
    np.testing.assert_allclose(x, [a for a, _ in test], atol=1e-6)
    np.testing.assert_allclose(y, [b for _, b in test], atol=1e-6)
    ds, _ = data.load_paired(None, folder=str(root), batch_size=2, seed=0, split="test", image_size=8,
                             direction="BtoA")
    x, y = all_rows(ds, gray=False)
    np.testing.assert_allclose(x, [b for _, b in test], atol=1e-6)
    np.testing.assert_allclose(y, [a for a, _ in test], atol=1e-6)
    ds, info = data.load_paired(None, folder=str(root), batch_size=5, seed=0, image_size=8)
    assert info.sizes == (5, 5) and info.skipped == 1   # main.py warns "skipped 1 unreadable file(s)"
    x, y = [t.numpy() for t in next(iter(ds))]
    lefts = np.stack([a for a, _ in train])
    src = [int(np.abs(lefts - r).reshape(5, -1).max(axis=1).argmin()) for r in x]
    assert sorted(src) == list(range(5))
    np.testing.assert_allclose(x, lefts[src], atol=1e-6)
    np.testing.assert_allclose(y, np.stack([train[i][1] for i in src]), atol=1e-6)
    # A pix2pix set by name: <data_dir>/<name>/train (facades is also a tfds CycleGAN name, unpaired there).
    named, info = data.load_paired("facades", data_dir=str(tmp_path), batch_size=2, seed=0, split="test",
                                   image_size=8)
    assert info.name == "facades"
    np.testing.assert_allclose(all_rows(named, gray=False)[1], [b for _, b in test], atol=1e-6)


def test_folder_halves_are_resized_each_to_the_square(tmp_path):
    a, b = side_by_side(tmp_path / "train" / "x.png", 0, h=16)
    side_by_side(tmp_path / "val" / "y.png", 1, h=16)   # held out when there is no test/
    ds, info = data.load_paired(None, folder=str(tmp_path), batch_size=1, seed=0, image_size=8)
    assert info.sizes == (1, 1)
    x, y = [t.numpy()[0] for t in next(iter(ds))]
    resize = lambda h: tf.image.resize((h + 1) / 2, [8, 8], antialias=True).numpy() * 2 - 1  # noqa: E731
    np.testing.assert_allclose(x, resize(a), atol=1e-5)   # float32 rounding; the other half is ~0.3 away
    np.testing.assert_allclose(y, resize(b), atol=1e-5)
    assert np.abs(x - resize(b)).mean() > 0.1


def test_flat_folder_holds_out_a_fixed_tenth_of_its_sorted_files(tmp_path):
    halves = {f"{i:02d}.png": side_by_side(tmp_path / f"{i:02d}.png", i) for i in range(10)}
    names = sorted(halves)
    ds, info = data.load_paired(None, folder=str(tmp_path), batch_size=4, seed=0, split="test", image_size=8)
    held = data.split_test(10)[1]
    assert info.sizes == (len(held), len(held))
    np.testing.assert_allclose(all_rows(ds, gray=False)[0], [halves[names[i]][0] for i in held], atol=1e-6)
    _, train = data.load_paired(None, folder=str(tmp_path), batch_size=4, seed=0, image_size=8)
    assert train.sizes == (10 - len(held), 10 - len(held))


def test_folder_errors_name_the_problem(tmp_path):
    root = tmp_path / "p"
    side_by_side(root / "train" / "good.png", 0)
    side_by_side(root / "train" / "square.png", 1, h=8, w=9)
    side_by_side(root / "test" / "t.png", 2)
    with pytest.raises(DataError, match=r"square\.png is 9x8 pixels.*twice its height") as e:
        data.load_paired(None, folder=str(root), batch_size=1, seed=0)
    assert str(root / "train" / "square.png") in str(e.value) and "\n" not in str(e.value)
    data.load_paired(None, folder=str(root), batch_size=1, seed=0, split="test")   # test/ has no such file
    cyc = tmp_path / "cyc"
    side_by_side(cyc / "trainA" / "a.png", 0)
    side_by_side(cyc / "trainB" / "b.png", 1)
    with pytest.raises(DataError, match="trainA/trainB.*unpaired"):
        data.load_paired(None, folder=str(cyc), batch_size=1, seed=0)
    with pytest.raises(DataError, match="not found"):
        data.load_paired(None, folder=str(tmp_path / "missing"), batch_size=1, seed=0)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"nope")
    (bad / "b.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 image files"):
        data.load_paired(None, folder=str(bad), batch_size=1, seed=0)
    empty = tmp_path / "empty"
    (empty / "train").mkdir(parents=True)
    with pytest.raises(DataError, match="no images .* for the train split"):
        data.load_paired(None, folder=str(empty), batch_size=1, seed=0)
