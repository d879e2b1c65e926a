"""data.py: derived domains, file formats, pipelines (range, shape, determinism, checkpointable position),
local folders, CelebA, the toy ring, and the tfds paths (missing data -> one-line DataError; a prepared
dataset is streamed) without any network access."""
import gzip
import time

import cv2
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import data
from data_sources import pipelines, tfds_source
from data import DataError


def batches(ds, n):
    it = iter(ds)
    return [next(it).numpy() for _ in range(n)]


def check_images(x, batch, size=32):
    assert x.shape == (batch, size, size, 3)
    assert x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0


# ---------------------------------------------------------------------------------------------- transforms
def test_edge_hand_made_5x5_matches_dilation_minus_image():
    img = np.zeros((5, 5), np.uint8)
    img[2, 2] = 200
    img[0, 0] = 100
    expected = np.array([[0, 100, 0, 0, 0],
                         [100, 200, 200, 200, 0],
                         [0, 200, 0, 200, 0],
                         [0, 200, 200, 200, 0],
                         [0, 0, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(data.edge(img), expected)
    np.testing.assert_array_equal(data.edge(img), cv2.dilate(img, np.ones((3, 3), np.uint8)) - img)


def test_edge_equals_cv2_on_real_mnist_and_digits(shared_data):
    x = data.read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")[:1000]
    expected = np.stack([cv2.dilate(im, np.ones((3, 3), np.uint8)) - im for im in x])
    np.testing.assert_array_equal(data.edge(x), expected)
    d = data._load_digits_array()[:200]   # float in [0, 1], the offline default's native 8x8
    expected = np.stack([cv2.dilate(im, np.ones((3, 3), np.uint8)) - im for im in d])
    np.testing.assert_array_equal(data.edge(d), expected)
    assert data.edge(x).any()


def test_negative_and_rotate_on_known_array():
    x = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    np.testing.assert_allclose(data.negative(x), [[1.0, 0.75], [0.5, 0.0]])
    np.testing.assert_array_equal(data.negative(np.array([[0, 10, 255]], np.uint8)), [[255, 245, 0]])
    # 90 degrees counter-clockwise: the top-right corner moves to the top-left.
    np.testing.assert_array_equal(data.rotate(x), [[0.25, 1.0], [0.0, 0.5]])
    stack = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    np.testing.assert_array_equal(data.rotate(stack)[1], tf.image.rot90(stack[1][..., None])[..., 0].numpy())


# ---------------------------------------------------------------------------------------------- formats
def test_read_idx_real_t10k_gz_and_raw(shared_data, tmp_path):
    path = shared_data / "mnist" / "t10k-images-idx3-ubyte.gz"
    x = data.read_idx(path)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert x.max() == 255 and x.min() == 0
    labels = data.read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    raw = tmp_path / "t10k-images-idx3-ubyte"
    raw.write_bytes(gzip.decompress(path.read_bytes()))
    np.testing.assert_array_equal(data.read_idx(raw), x)
    bad = tmp_path / "bad-idx"
    bad.write_bytes(gzip.decompress(path.read_bytes())[:5000])
    with pytest.raises(DataError, match="truncated"):
        data.read_idx(bad)
    bad.write_bytes(b"not an idx file")
    with pytest.raises(DataError, match="not an idx file"):
        data.read_idx(bad)


def test_split_halves_fixed_disjoint_and_complete():
    a, b = data.split_halves(1797)
    assert (len(a), len(b)) == (898, 899)
    assert not set(a) & set(b) and set(a) | set(b) == set(range(1797))
    np.random.seed(99)   # a property of the dataset: independent of any run's random state
    a2, b2 = data.split_halves(1797)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)


def test_epoch_indices_are_permutations_changing_per_epoch():
    idx = [int(i) for i in data._epoch_indices(10, seed=3).take(30)]
    epochs = [idx[i:i + 10] for i in (0, 10, 20)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2]   # each epoch reshuffles


# ---------------------------------------------------------------------------------------------- digit pairs
def test_mnist2edge_from_idx_files_content_and_range(shared_data, logged):
    a, b, info = data.load_pair("mnist2edge", batch_size=16, seed=0, data_dir=str(shared_data))
    assert any("test split" in m for m in logged.messages)   # only t10k is there
    # The domains split the 9,000 t10k digits load_paired's test split leaves (review 11 H1): 4,500 each.
    assert info == data.DataInfo("mnist2edge", (32, 32, 3), (4500, 4500), 0)
    xa, = batches(a, 1)
    xb, = batches(b, 1)
    for x in (xa, xb):
        check_images(x, 16)
        np.testing.assert_array_equal(x[..., 0], x[..., 1])   # grayscale repeated to RGB
        np.testing.assert_array_equal(x[..., 0], x[..., 2])
    # Every image of domain B is the edge image (at 28x28) of one of its half, resized to 32x32.
    raw = data.read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
    train, _ = data.split_test(len(raw))
    ia, ib = (train[h] for h in data.split_halves(len(train)))
    assert nearest_reference_distance(xb, raw[ib], data.edge).max() < 1e-5
    # ... and domain A is the other half, untransformed.
    assert nearest_reference_distance(xa, raw[ia], lambda x: x).max() < 1e-5
    assert nearest_reference_distance(xa, raw[ib], data.edge).min() > 0.1


def test_digits2edge_default_offline_sizes_range_and_determinism():
    a, b, info = data.load_pair("digits2edge", batch_size=8, seed=1)
    kept = 1797 - HELD_OUT_DIGITS   # the domains split the digits load_paired's test split leaves
    assert info.name == "digits2edge" and info.shape == (32, 32, 3) and info.sizes == (kept // 2, kept - kept // 2)
    assert info.skipped == 0
    xa, xb = batches(a, 1)[0], batches(b, 1)[0]
    check_images(xa, 8)
    check_images(xb, 8)
    assert xa.max() > 0.9 and xa.min() == -1.0
    tf.random.set_seed(12345)   # the order follows `seed` alone, not TF's global seed
    a2, b2, _ = data.load_pair("digits2edge", batch_size=8, seed=1)
    np.testing.assert_array_equal(batches(a2, 1)[0], xa)
    np.testing.assert_array_equal(batches(b2, 1)[0], xb)
    a3, _, _ = data.load_pair("digits2edge", batch_size=8, seed=2)
    assert not np.array_equal(batches(a3, 1)[0], xa)


HELD_OUT_DIGITS = 180   # load_paired("digits2*", split="test"): split_test's tenth of the 1,797 digits


@pytest.mark.parametrize("transform", ["edge", "negative", "rotate"])
def test_digit_pair_domains_leave_out_every_held_out_digit(transform):
    """Review A2.3: no training image of either domain (before the transform) is a held-out digit, so
    load_paired's test split is unseen by CoGAN, CycleGAN and UNIT as by pix2pix; together the domains hold
    every other digit once."""
    from data_sources.sources import derived_pair
    from data_sources.base import LoadRequest
    digits = data._load_digits_array()
    held_ds, info = data.load_paired(f"digits2{transform}", batch_size=1000, seed=0, split="test", image_size=8)
    held_x = next(iter(held_ds))[0].numpy()[..., 0]
    assert info.sizes[0] == len(held_x) == HELD_OUT_DIGITS
    a, b = derived_pair(f"digits2{transform}", LoadRequest(name=f"digits2{transform}", size=32, batch_size=8, seed=0))
    # domain B's images are transformed: recover each source digit by matching transform(digit) exactly
    t = data.TRANSFORMS[transform]
    index_a = {d.tobytes(): i for i, d in enumerate(digits)}
    index_b = {d.tobytes(): i for i, d in enumerate(t(digits))}
    src = np.array([index_a[im.tobytes()] for im in a] + [index_b[im.tobytes()] for im in b])
    # the held-out pairs at 8 px (no resampling) in the pipeline's [-1, 1]: matched exactly, each a distinct digit
    index_held = {(d * 2 - 1).astype(np.float32).tobytes(): i for i, d in enumerate(digits)}
    held = {index_held[im.tobytes()] for im in held_x}
    assert len(held) == HELD_OUT_DIGITS
    assert not set(src) & held
    assert sorted(src) == sorted(set(range(len(digits))) - held)   # each other digit once, in one domain


# MNIST idx layouts of a data_dir -> (domain A size, domain B size, held-out pairs): one split alone holds out
# split_test's tenth (20 -> 2, 30 -> 3) and the domains halve the rest; with both, t10k is held out, train halved.
MNIST_LAYOUTS = {"t10k": (9, 9, 2), "train": (13, 14, 3), "both": (15, 15, 20)}


@pytest.mark.parametrize("layout", MNIST_LAYOUTS)
def test_mnist_pair_domains_leave_out_every_held_out_image(layout, tmp_path):
    """Review 11 H1: with an MNIST folder of one split (../shared/data holds only t10k) no training image of either
    load_pair domain (before the transform) is one of load_paired's held-out pairs, load_labelled holds out the
    same images, and together the domains hold every other image once; with both splits all of train is used."""
    from data_sources.base import LoadRequest
    from data_sources.sources import derived_pair
    splits = ("train", "t10k") if layout == "both" else (layout,)
    files = {s: np.random.RandomState(7 + i).randint(0, 256, (30 if s == "train" else 20, 28, 28)).astype(np.uint8)
             for i, s in enumerate(splits)}
    for s, x in files.items():
        write_idx(tmp_path / "mnist" / f"{s}-images-idx3-ubyte.gz", x)
        write_idx(tmp_path / "mnist" / f"{s}-labels-idx1-ubyte.gz", np.arange(len(x)) % 10)
    pool = files["train" if "train" in files else "t10k"]   # the file the domains are drawn from
    req = LoadRequest(name="mnist2edge", size=28, batch_size=2, seed=0, data_dir=str(tmp_path), download=False)
    a, b = derived_pair("mnist2edge", req)
    n_a, n_b, n_held = MNIST_LAYOUTS[layout]
    assert (len(a), len(b)) == (n_a, n_b)
    # domain B's images are edge maps: recover each source image by matching edge(image) exactly
    index_a = {im.tobytes(): i for i, im in enumerate(pool)}
    index_b = {data.edge(im).tobytes(): i for i, im in enumerate(pool)}
    src = [index_a[im.tobytes()] for im in a] + [index_b[im.tobytes()] for im in b]
    trained = {pool[i].tobytes() for i in src}
    # the held-out pairs at native 28 px in [-1, 1]: back to uint8 (a grey level is 2/255 apart, rounding is exact)
    held_ds, info = data.load_paired("mnist2edge", batch_size=100, seed=0, split="test", data_dir=str(tmp_path),
                                     image_size=28, download=False)
    held_x = np.round((next(iter(held_ds))[0].numpy()[..., 0] + 1) * 127.5).astype(np.uint8)
    held = {im.tobytes() for im in held_x}
    assert info.sizes[0] == len(held) == n_held
    assert not trained & held
    all_pool = {im.tobytes() for im in pool}
    assert sorted(src) == sorted(index_a[h] for h in all_pool - held)   # each other image once, in one domain
    # load_labelled's mnist2edge set: trained on the same domains, tested on the same held-out images (as is first)
    x, _, xt, _ = data._digit_arrays("mnist2edge", str(tmp_path), False)
    np.testing.assert_array_equal(x, np.concatenate([a, b]))
    assert {im.tobytes() for im in xt[:len(xt) // 2]} == held and len(xt) == 2 * n_held


def nearest_reference_distance(batch, gray_native, transform, size=32):
    """For each image of `batch`, the distance to the closest transformed-and-resized reference image."""
    ref = transform(gray_native).astype(np.float32)[..., None]
    ref = ref / 255.0 if gray_native.dtype == np.uint8 else ref
    ref = tf.image.resize(ref, [size, size], antialias=True).numpy()[..., 0].reshape(len(ref), -1) * 2 - 1
    return np.abs(batch[..., 0].reshape(len(batch), 1, -1) - ref[None]).max(axis=2).min(axis=1)


@pytest.mark.parametrize("transform", ["edge", "negative", "rotate"])
def test_digit_pairs_are_half_as_is_and_half_transformed(transform):
    a, b, info = data.load_pair(f"digits2{transform}", batch_size=8, seed=0)
    kept = 1797 - HELD_OUT_DIGITS
    assert info.sizes == (kept // 2, kept - kept // 2)
    xa, xb = batches(a, 1)[0], batches(b, 1)[0]
    check_images(xb, 8)
    digits = data._load_digits_array()
    train, _ = data.split_test(len(digits))
    ia, ib = (train[h] for h in data.split_halves(len(train)))
    assert nearest_reference_distance(xb, digits[ib], data.TRANSFORMS[transform]).max() < 1e-5
    assert nearest_reference_distance(xa, digits[ia], lambda x: x).max() < 1e-5
    assert nearest_reference_distance(xa, digits[ib], lambda x: x).min() > 0.05   # the halves are disjoint


def test_single_digits_and_default_image_size():
    ds, info = data.load_single("digits", batch_size=5, seed=0, image_size=64)
    assert info == data.DataInfo("digits", (64, 64, 3), (1797,), 0)
    check_images(batches(ds, 1)[0], 5, size=64)
    assert data.default_image_size("digits2edge") == 32
    assert data.default_image_size(None) == 32
    assert data.default_image_size("mnist2svhn") == 32
    for name in ("celeba_Smiling", "Smiling", "celeba", "apple2orange", "horse2zebra"):
        assert data.default_image_size(name) == 128
    assert {"digits2edge", "mnist2rotate", "mnist2svhn", "mnist2fashion", "celeba_Blond_Hair",
            "apple2orange", "horse2zebra"} <= set(data.COGAN_DATASETS)
    assert {"toy", "digits", "mnist", "svhn", "fashion_mnist", "celeba"} <= set(data.SINGLE_DATASETS)


# ---------------------------------------------------------------------------------------------- checkpoint
def assert_iterator_checkpoint_resumes(ds, tmp_path, max_kb=None):
    it = iter(ds)
    for _ in range(3):
        next(it)
    ckpt = tf.train.Checkpoint(it=it)
    path = ckpt.save(str(tmp_path / "ckpt" / "it"))
    if max_kb is not None:   # positions only, not the prefetched batches
        assert sum(f.stat().st_size for f in (tmp_path / "ckpt").iterdir()) < max_kb * 1024
    expected = [next(it).numpy() for _ in range(2)]
    ckpt.restore(path)
    for e in expected:
        np.testing.assert_array_equal(next(it).numpy(), e)


def test_iterator_checkpoint_digits_and_toy(tmp_path):
    a, _, _ = data.load_pair("digits2rotate", batch_size=16, seed=0)
    assert_iterator_checkpoint_resumes(a, tmp_path / "digits", max_kb=64)
    toy, _ = data.load_single("toy", batch_size=16, seed=0)
    assert_iterator_checkpoint_resumes(toy, tmp_path / "toy", max_kb=64)


# ---------------------------------------------------------------------------------------------- folders
def solid(path, size, color, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def test_local_folders_pair_skips_corrupt_and_checkpoints(tmp_path):
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    for i in range(5):
        solid(dir_a / f"red{i}.png", (40 + i, 30), (255, 0, 0))
    solid(dir_a / "nested" / "red.bmp", (20, 20), (255, 0, 0))
    solid(dir_a / "nested" / "red.gif", (20, 20), (255, 0, 0))
    (dir_a / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    # A truncated JPEG passes PIL's verify() but not the decoder the pipeline uses: skipped too.
    truncated = tmp_path / "full.jpg"
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (64, 64, 3), np.uint8)).save(truncated)
    (dir_a / "nested" / "truncated.jpg").write_bytes(truncated.read_bytes()[:1500])
    with Image.open(dir_a / "nested" / "truncated.jpg") as im:
        im.verify()
    (dir_a / "notes.txt").write_text("not an image, not counted")
    for i in range(3):
        solid(dir_b / f"gray{i}.jpg", (64, 48), 128, mode="L")
    a, b, info = data.load_pair(None, domain_a=str(dir_a), domain_b=str(dir_b), batch_size=4, seed=0)
    assert info == data.DataInfo("folders", (32, 32, 3), (7, 3), 2)
    xa, = batches(a, 1)
    xb, = batches(b, 1)
    check_images(xa, 4)
    check_images(xb, 4)
    np.testing.assert_allclose(xa[..., 0], 1.0, atol=1e-6)    # red, whatever the source format
    np.testing.assert_allclose(xa[..., 1:], -1.0, atol=1e-6)
    np.testing.assert_allclose(xb, 128 / 255 * 2 - 1, atol=3 / 255)   # grayscale JPEG -> 3 equal channels
    assert_iterator_checkpoint_resumes(a, tmp_path / "ckpt_folder", max_kb=64)
    ds, info1 = data.load_single(None, domain_a=str(dir_b), batch_size=2, seed=0, image_size=64)
    assert info1 == data.DataInfo("folder", (64, 64, 3), (3,), 0)
    check_images(batches(ds, 1)[0], 2, size=64)


def test_folder_errors(tmp_path):
    good = tmp_path / "good"
    solid(good / "x.png", (8, 8), (0, 0, 0))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images")
    with pytest.raises(DataError, match="no images"):
        data.load_pair(None, domain_a=str(good), domain_b=str(empty), batch_size=2, seed=0)
    with pytest.raises(DataError, match="not found"):
        data.load_pair(None, domain_a=str(good), domain_b=str(tmp_path / "missing"), batch_size=2, seed=0)
    with pytest.raises(DataError, match="domain_b"):
        data.load_pair(None, domain_a=str(good), batch_size=2, seed=0)
    with pytest.raises(DataError, match="not both"):
        data.load_pair("digits2edge", domain_a=str(good), domain_b=str(good), batch_size=2, seed=0)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 image files"):
        data.load_single(None, domain_a=str(bad), batch_size=2, seed=0)
    with pytest.raises(DataError, match="unknown coupled dataset 'mnist2nothing'.*digits2edge"):
        data.load_pair("mnist2nothing", batch_size=2, seed=0)
    with pytest.raises(DataError, match="unknown single-GAN dataset 'ring'.*toy"):
        data.load_single("ring", batch_size=2, seed=0)
    with pytest.raises(DataError) as e:
        data.load_pair("nope", batch_size=2, seed=0)
    assert "\n" not in str(e.value)


def test_cycle_gan_name_uses_local_train_folders(tmp_path):
    for split, color in (("trainA", (0, 255, 0)), ("trainB", (0, 0, 255))):
        for i in range(2):
            solid(tmp_path / "horse2zebra" / split / f"{i}.png", (256, 256), color)
    a, b, info = data.load_pair("horse2zebra", data_dir=str(tmp_path), batch_size=2, seed=0, download=False)
    assert info == data.DataInfo("horse2zebra", (128, 128, 3), (2, 2), 0)
    xa, = batches(a, 1)
    check_images(xa, 2, size=128)
    np.testing.assert_allclose(xa[..., 1], 1.0, atol=1e-6)


# ---------------------------------------------------------------------------------------------- CelebA
def test_celeba_attribute_file_parsing(shared_data):
    files, names, attrs = data.read_celeba_attributes(shared_data / "celeba" / "list_attr_celeba.txt")
    assert len(files) == 20000 and attrs.shape == (20000, 40) and attrs.dtype == np.int8
    assert tuple(names) == data.CELEBA_ATTRIBUTES
    assert files[0] == "000001.jpg" and files[-1] == "020000.jpg"
    assert set(np.unique(attrs)) == {-1, 1}
    # Row 000001 as printed in the file.
    np.testing.assert_array_equal(attrs[0, :10], [-1, 1, 1, -1, -1, -1, -1, -1, -1, -1])
    assert attrs[0, names.index("Smiling")] == 1 and attrs[0, names.index("Male")] == -1


def test_celeba_center_crop_on_real_face(shared_data):
    face = np.array(Image.open(shared_data / "celeba" / "000001.png"))
    assert face.shape == (218, 178, 3)
    out = data.center_crop_resize(face, 128).numpy()
    ref = tf.image.resize(face[20:198].astype(np.float32) / 255.0, [128, 128], antialias=True).numpy()
    assert out.shape == (128, 128, 3)
    np.testing.assert_allclose(out, np.clip(ref, 0, 1), atol=1e-6)
    # Rows outside the central 178x178 never reach the output.
    marked = np.full((218, 178, 3), 100, np.uint8)
    marked[:20] = 255
    marked[198:] = 0
    np.testing.assert_allclose(data.center_crop_resize(marked, 64).numpy(), 100 / 255, atol=1e-6)


def test_celeba_attribute_pair_from_manual_layout(shared_data):
    files, names, attrs = data.read_celeba_attributes(shared_data / "celeba" / "list_attr_celeba.txt")
    smiling = attrs[:4, names.index("Smiling")]
    a, b, info = data.load_pair("Smiling", batch_size=3, seed=0, data_dir=str(shared_data), download=False)
    assert info == data.DataInfo("celeba_Smiling", (128, 128, 3), ((smiling == 1).sum(), (smiling == -1).sum()))
    check_images(batches(a, 1)[0], 3, size=128)
    ds, info1 = data.load_single("celeba", batch_size=2, seed=0, data_dir=str(shared_data), image_size=64)
    assert info1.sizes == (4,)
    check_images(batches(ds, 1)[0], 2, size=64)


CELEBA_FACES = ("000001", "000002", "000003", "000004")


def thesis_box(face):
    """The 0.7 central box of tf.image.central_crop, computed independently: start = int((h - 0.7 h) / 2),
    size = h - 2 start (TF's image_ops_impl.central_crop), likewise for the width."""
    h, w = face.shape[:2]
    top, left = int((h - h * 0.7) / 2), int((w - w * 0.7) / 2)
    return face[top:h - top, left:w - left], (top, left)


def reference_face(face, size, crop):
    """A real face (uint8 218x178x3) as the loaders should prepare it, in [0, 1]: the thesis box or the central
    178x178 square, resized with antialiasing."""
    box = thesis_box(face)[0] if crop == "thesis" else face[20:198]
    return np.clip(tf.image.resize(box.astype(np.float32) / 255.0, [size, size], antialias=True).numpy(), 0, 1)


@pytest.fixture
def celeba_manual(shared_data, tmp_path):
    """A manual CelebA layout of the four real aligned faces and their four real attribute rows ->
    (data_dir, faces uint8 [4, 218, 178, 3], attribute names, attrs [4, 40])."""
    root = tmp_path / "celeba_manual"
    (root / "img_align_celeba").mkdir(parents=True)
    lines = (shared_data / "celeba" / "list_attr_celeba.txt").read_text().splitlines()
    (root / "list_attr_celeba.txt").write_text("\n".join(["4", lines[1]] + lines[2:6]) + "\n")
    faces = []
    for stem in CELEBA_FACES:
        src = shared_data / "celeba" / f"{stem}.png"
        (root / "img_align_celeba" / f"{stem}.png").write_bytes(src.read_bytes())
        faces.append(np.array(Image.open(src).convert("RGB")))
    _, names, attrs = data.read_celeba_attributes(root / "list_attr_celeba.txt")
    return root, np.stack(faces), names, attrs


def assert_same_images(got01, expected01, atol=1e-5):
    """Every image in got01 equals one of expected01, and every expected one is there (a permutation)."""
    assert len(got01) == len(expected01)
    dist = np.abs(got01[:, None] - expected01[None]).max(axis=(2, 3, 4))
    assert sorted(dist.argmin(axis=1)) == list(range(len(expected01))), dist
    assert dist.min(axis=1).max() < atol, dist


def test_celeba_thesis_crop_is_the_07_central_box_on_real_faces(shared_data):
    for stem in CELEBA_FACES:
        face = np.array(Image.open(shared_data / "celeba" / f"{stem}.png").convert("RGB"))
        assert face.shape == (218, 178, 3)
        box, start = thesis_box(face)
        assert start == (32, 26) and box.shape == (154, 126, 3)    # the authors' 154x126 box, not a square
        out = data.center_crop_resize(face, 128, "thesis").numpy()
        np.testing.assert_allclose(out, reference_face(face, 128, "thesis"), atol=1e-6)
        # The same through the encoded-file decoder of the pipelines (dynamic shapes inside tf.data).
        png = (shared_data / "celeba" / f"{stem}.png").read_bytes()
        np.testing.assert_allclose((data._decode_encoded(png, 128, "thesis").numpy() + 1) / 2, out, atol=1e-6)
        square = data.center_crop_resize(face, 128, "square").numpy()
        np.testing.assert_allclose(square, reference_face(face, 128, "square"), atol=1e-6)
        assert np.abs(square - out).mean() > 0.02   # a different part of the face, unstretched
    # Pixels outside the 0.7 box (rows 32..185, columns 26..151) never reach the output.
    marked = np.full((218, 178, 3), 100, np.uint8)
    marked[:32], marked[186:], marked[:, :26], marked[:, 152:] = 255, 0, 255, 0
    np.testing.assert_allclose(data.center_crop_resize(marked, 64, "thesis").numpy(), 100 / 255, atol=1e-6)
    with pytest.raises(DataError, match="unknown crop 'wide'"):
        data.center_crop_resize(marked, 64, "wide")


@pytest.mark.parametrize("crop", ["thesis", "square"])
def test_celeba_manual_pair_single_and_labelled_use_the_crop(celeba_manual, crop):
    root, faces, names, attrs = celeba_manual
    smiling = attrs[:, names.index("Smiling")] == 1
    assert 0 < smiling.sum() < 4
    a, b, info = data.load_pair("celeba_Smiling", batch_size=1, seed=0, data_dir=str(root), image_size=64,
                                download=False, celeba_crop=crop)
    assert info == data.DataInfo("celeba_Smiling", (64, 64, 3), (int(smiling.sum()), int((~smiling).sum())))
    expected = np.stack([reference_face(f, 64, crop) for f in faces])
    for ds, members in ((a, smiling), (b, ~smiling)):
        got = np.concatenate(batches(ds, int(members.sum())))   # the first epoch: each face of the domain once
        assert_same_images((got + 1) / 2, expected[members])
    ds, info1 = data.load_single("celeba", batch_size=4, seed=0, data_dir=str(root), image_size=64,
                                 celeba_crop=crop)
    assert_same_images((batches(ds, 1)[0] + 1) / 2, expected)
    # The 13-attribute set of the SL classifier sees the faces prepared like the generators'.
    train, test, info2 = data.load_labelled("celeba", batch_size=3, seed=0, data_dir=str(root), image_size=64,
                                            celeba_crop=crop)
    assert info2.crop == crop and info2.sizes == (3, 1)
    kept, held = data.split_test(4)
    x, _ = next(iter(train))
    assert_same_images((x.numpy() + 1) / 2, expected[kept])
    assert_same_images((first_test_batch(test)[0] + 1) / 2, expected[held])


def test_celeba_crop_default_is_thesis_and_is_checked(celeba_manual):
    root, faces, _, _ = celeba_manual
    ds, _ = data.load_single("celeba", batch_size=4, seed=0, data_dir=str(root), image_size=32)
    assert_same_images((batches(ds, 1)[0] + 1) / 2, np.stack([reference_face(f, 32, "thesis") for f in faces]))
    for call in (data.load_pair, data.load_labelled):
        with pytest.raises(DataError, match="unknown CelebA crop 'wide': choose one of thesis, square"):
            call("celeba_Smiling", batch_size=2, seed=0, data_dir=str(root), celeba_crop="wide")


def test_crop_reaches_the_tfds_celeba_paths_but_not_cyclegan_folders(fake_celeb_a, tmp_path, monkeypatch):
    tfds = data._import_tfds()
    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: fake_celeb_a)
    seen = []
    crop_resize = data.center_crop_resize
    monkeypatch.setattr(pipelines, "center_crop_resize", lambda img, size, crop="square": seen.append(crop) or
                        crop_resize(img, size, crop))
    for crop in ("square", "thesis"):
        seen.clear()
        a, b, _ = data.load_pair("celeba_Smiling", batch_size=2, seed=0, data_dir=str(tmp_path), image_size=32,
                                 celeba_crop=crop)
        ds, _ = data.load_single("celeba", batch_size=2, seed=0, data_dir=str(tmp_path), image_size=32,
                                 celeba_crop=crop)
        for d in (a, b, ds):
            check_images(batches(d, 1)[0], 2)
        assert seen and set(seen) == {crop}
    for split in ("trainA", "trainB"):
        solid(tmp_path / "horse2zebra" / split / "0.png", (256, 200), (0, 255, 0))
    seen.clear()
    a, _, _ = data.load_pair("horse2zebra", data_dir=str(tmp_path), batch_size=1, seed=0, celeba_crop="thesis")
    batches(a, 1)
    assert set(seen) == {"square"}   # CycleGAN sets and folders keep the square crop


# ---------------------------------------------------------------------------------------------- tfds
@pytest.mark.parametrize("call", [
    lambda d: data.load_pair("mnist2edge", batch_size=2, seed=0, data_dir=d, download=False),
    lambda d: data.load_pair("apple2orange", batch_size=2, seed=0, data_dir=d, download=False),
    lambda d: data.load_pair("celeba_Eyeglasses", batch_size=2, seed=0, data_dir=d, download=False),
    lambda d: data.load_single("svhn", batch_size=2, seed=0, data_dir=d, download=False),
])
def test_tfds_missing_data_is_one_line_error(call, tmp_path):
    start = time.monotonic()
    with pytest.raises(DataError) as e:
        call(str(tmp_path))
    msg = str(e.value)
    assert "tfds build" in msg and str(tmp_path) in msg and "\n" not in msg
    assert time.monotonic() - start < 20   # no network probe


def test_tfds_failed_download_is_one_line_error(tmp_path, monkeypatch):
    tfds = data._import_tfds()

    class Offline:
        def is_prepared(self):
            return False

        def download_and_prepare(self):
            raise ConnectionError("Failed to resolve 'storage.googleapis.com'\nlong traceback text")

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: Offline())
    monkeypatch.setattr(tfds_source, "network_reachable", lambda *a, **k: True)  # the download itself fails
    expected = r"could not download 'svhn_cropped'.*ConnectionError.*tfds build svhn_cropped"
    with pytest.raises(DataError, match=expected) as e:
        data.load_single("svhn", batch_size=2, seed=0, data_dir=str(tmp_path))
    assert "\n" not in str(e.value)

    def missing_module():
        raise ModuleNotFoundError("No module named 'importlib_resources'", name="importlib_resources")

    monkeypatch.setattr(Offline, "download_and_prepare", lambda self: missing_module())
    with pytest.raises(DataError, match="pip install importlib_resources, or run `tfds build svhn_cropped"):
        data.load_single("svhn", batch_size=2, seed=0, data_dir=str(tmp_path))


def test_tfds_download_on_an_offline_machine_answers_at_once(tmp_path, monkeypatch):
    """No network: one line in seconds (not minutes of tfds retries), download_and_prepare never called."""
    tfds = data._import_tfds()
    probed = []

    class NeverCalled:
        def is_prepared(self):
            return False

        def download_and_prepare(self):
            raise AssertionError("download attempted offline")

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: NeverCalled())
    monkeypatch.setattr(tfds_source, "network_reachable", lambda *a, **k: probed.append(1) or False)
    with pytest.raises(DataError) as e:
        data.load_single("svhn", batch_size=2, seed=0, data_dir=str(tmp_path))
    msg = str(e.value)
    assert probed == [1] and "\n" not in msg
    assert "offline (storage.googleapis.com unreachable)" in msg and "tfds build svhn_cropped" in msg


@pytest.fixture(scope="module")
def fake_celeb_a(tmp_path_factory):
    """A tiny prepared tfds dataset with celeb_a's image/attributes features: face i is solid gray 5*i,
    smiling when i % 3 == 0. Exercises the real tfds reading path offline."""
    tfds = data._import_tfds()
    with tfds.core.registered.skip_registration():
        class FakeCelebA(tfds.core.GeneratorBasedBuilder):
            VERSION = tfds.core.Version("1.0.0")

            def _info(self):
                return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                    "image": tfds.features.Image(shape=(218, 178, 3), encoding_format="png"),
                    "attributes": {"Smiling": tf.bool, "Male": tf.bool}}))

            def _split_generators(self, dl_manager):
                return {"train": self._generate_examples(0, 30), "validation": self._generate_examples(30, 40),
                        "test": self._generate_examples(40, 50)}

            def _generate_examples(self, lo, hi):
                for i in range(lo, hi):
                    yield i, {"image": np.full((218, 178, 3), 5 * i, np.uint8),
                              "attributes": {"Smiling": i % 3 == 0, "Male": i % 2 == 0}}

    root = tmp_path_factory.mktemp("tfds")
    builder = FakeCelebA(data_dir=str(root))
    builder.download_and_prepare()
    return builder


def test_tfds_celeba_stream_filters_counts_and_checkpoints(fake_celeb_a, tmp_path, monkeypatch):
    tfds = data._import_tfds()
    seen = []
    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: seen.append(name) or fake_celeb_a)
    a, b, info = data.load_pair("celeba_Smiling", batch_size=8, seed=0, data_dir=str(tmp_path), image_size=32)
    assert seen[0] == "celeb_a"
    assert info == data.DataInfo("celeba_Smiling", (32, 32, 3), (17, 33))   # all three splits: 50 faces
    for ds, smiling in ((a, True), (b, False)):
        x = np.concatenate(batches(ds, 3))
        check_images(x, 24)
        ids = np.round((x[:, 0, 0, 0] + 1) / 2 * 255 / 5).astype(int)
        assert all((i % 3 == 0) == smiling for i in ids)
        assert len(set(ids)) > 8   # shuffled across the whole domain
    assert_iterator_checkpoint_resumes(a, tmp_path)


# ---------------------------------------------------------------------------------------------- toy
def test_toy_ring_points_near_the_ten_modes():
    """The "metz" ring (--toy_ring metz), sampled afresh; the authors' ring: tests/test_toy_ring.py."""
    modes = data.ring_modes()
    assert modes.shape == (10, 2)
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(modes[0], [2.0, 0.0], atol=1e-6)
    ds, info = data.load_single("toy", batch_size=500, seed=0, toy_ring="metz")
    assert info.name == "toy" and info.shape == (2,) and info.sizes == (0,)
    x = np.concatenate(batches(ds, 4))
    assert x.shape == (2000, 2) and x.dtype == np.float32
    d = np.linalg.norm(x[:, None] - modes[None], axis=2)
    assert d.min(axis=1).max() < 0.02 * 6          # every point within 6 std of a mode
    assert set(d.argmin(axis=1)) == set(range(10))  # every mode is hit
    assert 0.015 < np.std(x - modes[d.argmin(axis=1)]) < 0.025
    again, _ = data.load_single("toy", batch_size=500, seed=0, toy_ring="metz")
    np.testing.assert_array_equal(batches(again, 1)[0], x[:500])
    other, _ = data.load_single("toy", batch_size=500, seed=1, toy_ring="metz")
    assert not np.array_equal(batches(other, 1)[0], x[:500])


# ---------------------------------------------------------------------------------------------- labelled sets
def write_idx(path, array):
    """Write `array` (uint8) as a gzip-compressed idx file, the MNIST format."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))


def resized(gray, size=32):
    """Native grayscale images (uint8 or [0, 1]) -> what the pipelines make of them: (N, size, size) in [-1, 1]."""
    x = gray.astype(np.float32)[..., None] / (255.0 if gray.dtype == np.uint8 else 1.0)
    return np.clip(tf.image.resize(x, [size, size], antialias=True).numpy(), 0, 1)[..., 0] * 2 - 1


def first_test_batch(test):
    x, y = next(iter(test))
    return x.numpy(), y.numpy()


def test_labelled_digits_holds_out_a_fixed_tenth_with_true_labels():
    from sklearn.datasets import load_digits
    train, test, info = data.load_labelled("digits", batch_size=16, seed=0)
    assert info == data.LabelledInfo("digits", (32, 32, 3), (1617, 180), data.DIGIT_CLASSES, False, 0)
    x, y = next(iter(train))
    check_images(x.numpy(), 16)
    assert y.dtype == tf.int32 and set(y.numpy()) <= set(range(10))
    # The test split goes once, in a fixed order, over split_test's held-out images with their true labels.
    _, held = data.split_test(1797)
    xt, yt = first_test_batch(test)
    digits = load_digits()
    np.testing.assert_allclose(xt[..., 0], resized(data._load_digits_array()[held[:len(xt)]]), atol=1e-5)
    np.testing.assert_array_equal(yt, digits.target[held[:len(xt)]])
    assert sum(len(b[1]) for b in test) == 180
    tr, te = data.split_test(1797)
    assert not set(tr) & set(te) and len(te) == 180


def test_labelled_derived_pair_holds_both_domains_with_their_labels():
    """Training: load_pair's two domains (808 digits as is + 809 rotated); test: the 180 digits load_paired and
    load_labelled("digits") hold out, as is and rotated (review A2.3: unseen by the GANs and this classifier)."""
    from sklearn.datasets import load_digits
    _, test, info = data.load_labelled("digits2rotate", batch_size=64, seed=0)
    assert info.name == "digits2rotate" and not info.multilabel
    assert info.sizes == (1797 - HELD_OUT_DIGITS, 2 * HELD_OUT_DIGITS)
    x, y = data._load_digits_array(), load_digits().target
    _, held = data.split_test(len(x))
    xt, yt = (np.concatenate(v) for v in zip(*((a.numpy(), b.numpy()) for a, b in test)))
    np.testing.assert_allclose(xt[..., 0], resized(np.concatenate([x[held], data.rotate(x[held])])), atol=1e-5)
    np.testing.assert_array_equal(yt, np.concatenate([y[held], y[held]]))


def test_labelled_mnist_from_real_idx_files(shared_data, tmp_path, logged):
    raw = data.read_idx(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
    labels = data.read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    # The shared folder holds only t10k: a fixed tenth of it is held out.
    _, _, info = data.load_labelled("mnist", batch_size=8, seed=0, data_dir=str(shared_data), download=False)
    assert info.sizes == (9000, 1000) and any("only the mnist test split" in m for m in logged.messages)
    # A train + t10k layout: t10k is the test split.
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", raw[:8000])
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", labels[:8000])
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", raw[8000:])
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", labels[8000:])
    train, test, info = data.load_labelled("mnist", batch_size=32, seed=0, data_dir=str(tmp_path), download=False)
    assert info == data.LabelledInfo("mnist", (32, 32, 3), (8000, 2000), data.DIGIT_CLASSES)
    xt, yt = first_test_batch(test)
    np.testing.assert_allclose(xt[..., 0], resized(raw[8000:8000 + len(xt)]), atol=1e-5)
    np.testing.assert_array_equal(yt, labels[8000:8000 + len(xt)])
    x, y = next(iter(train))
    check_images(x.numpy(), 32)
    # Each training image is the MNIST training image of its label (nearest reference among those with it).
    ref = resized(raw[:8000]).reshape(8000, -1)
    got = x.numpy()[..., 0].reshape(32, -1)
    squared = (got ** 2).sum(1)[:, None] + (ref ** 2).sum(1)[None] - 2 * got @ ref.T   # squared L2 distances
    assert squared.min(axis=1).max() < 1e-3
    np.testing.assert_array_equal(labels[squared.argmin(axis=1)], y.numpy())
    # Images without their labels file: one clear line.
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no labels beside it"):
        data.load_labelled("mnist", batch_size=8, seed=0, data_dir=str(tmp_path), download=False)


def test_labelled_folder_classes_skips_unreadable(tmp_path):
    colours = {"blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0)}
    for name, rgb in colours.items():
        for i in range(7):
            solid(tmp_path / "cls" / name / f"{i}.png", (20 + i, 24), rgb)
    (tmp_path / "cls" / "red" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    solid(tmp_path / "cls" / "stray.png", (8, 8), (9, 9, 9))   # directly in the root: no class, ignored
    train, test, info = data.load_labelled(None, domain_a=str(tmp_path / "cls"), batch_size=4, seed=0)
    assert info.names == ("blue", "green", "red") and info.skipped == 1 and not info.multilabel
    assert info.sizes == (19, 2) and info.name == "folder"
    for x, y in [next(iter(train)), first_test_batch(test)]:
        x, y = np.asarray(x), np.asarray(y)
        check_images(x, len(y))
        for img, k in zip(x, y):   # each image has its folder's colour
            np.testing.assert_allclose(img[0, 0], np.array(colours[info.names[k]]) / 127.5 - 1, atol=1e-5)


@pytest.mark.parametrize("layout,msg", [
    ({}, "no class subfolders"),
    ({"a.png": None}, "no class subfolders"),
    ({"only/a.png": None}, "one class subfolder"),
    ({"cat/a.png": None, "dog/broken.png": b"junk"}, "holds no readable images"),
    ({"cat/notes.txt": b"x", "dog/readme.txt": b"y"}, "no images"),
])
def test_labelled_folder_errors(tmp_path, layout, msg):
    root = tmp_path / "labelled"
    root.mkdir()
    for rel, content in layout.items():
        if content is None:
            solid(root / rel, (8, 8), (1, 2, 3))
        else:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
    with pytest.raises(DataError, match=msg) as e:
        data.load_labelled(None, domain_a=str(root), batch_size=2, seed=0)
    assert "\n" not in str(e.value)


def test_labelled_celeba_thirteen_attributes_from_manual_layout(shared_data):
    import classifiers
    files, names, attrs = data.read_celeba_attributes(shared_data / "celeba" / "list_attr_celeba.txt")
    train, test, info = data.load_labelled("celeba_Smiling", batch_size=2, seed=0, data_dir=str(shared_data),
                                           image_size=64, download=False)
    assert info.name == "celeba" and info.multilabel and info.sizes == (3, 1)   # four faces present
    assert info.names == classifiers.CELEBA_CLASSIFIER_ATTRIBUTES
    expected = (attrs[:4, [names.index(a) for a in info.names]] > 0).astype(np.float32)
    x, y = next(iter(train))
    check_images(x.numpy(), 2, size=64)
    assert y.dtype == tf.float32 and y.shape == (2, 13)
    assert all(any(np.array_equal(row, e) for e in expected) for row in y.numpy())
    _, held = data.split_test(4)
    np.testing.assert_array_equal(first_test_batch(test)[1], expected[held])


def test_classifier_data_for_pairs():
    # Edge pairs: the standard classifier (thesis line 1020, SL on mnist2edge with the MNIST classifier).
    assert data.classifier_data_for("mnist2edge") == "mnist"
    assert data.classifier_data_for("digits2edge") == data.classifier_data_for(" Digits2Edge ") == "digits"
    # Negative / rotate: the pair's own classifier (upright digits on black cannot judge their inversions).
    for pair in ("digits2negative", "digits2rotate", "mnist2negative", "mnist2rotate"):
        assert data.classifier_data_for(pair) == pair
    assert data.classifier_data_for("mnist2svhn") == data.classifier_data_for("mnist2svhn_prune") == "mnist_svhn"
    assert data.classifier_data_for("celeba_Eyeglasses") == data.classifier_data_for("Smiling") == "celeba"
    for pair, msg in (("mnist2fashion", "share none"), (None, "--classifier_path"), ("horse2zebra", "--classifier_path")):
        with pytest.raises(DataError, match=msg):
            data.classifier_data_for(pair)
    with pytest.raises(DataError, match="unknown labelled dataset 'toy'"):
        data.load_labelled("toy", batch_size=2, seed=0)


# SVHN itself is not available offline: a tiny prepared tfds set with svhn_cropped's features stands in.
# Image i is solid white (even i) or solid black (odd i), label i % 10.
SVHN_TRAIN, SVHN_TEST = 20, 6


@pytest.fixture(scope="module")
def fake_svhn(tmp_path_factory):
    tfds = data._import_tfds()
    with tfds.core.registered.skip_registration():
        class FakeSvhn(tfds.core.GeneratorBasedBuilder):
            VERSION = tfds.core.Version("1.0.0")

            def _info(self):
                return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                    "image": tfds.features.Image(shape=(32, 32, 3)),
                    "label": tfds.features.ClassLabel(num_classes=10)}))

            def _split_generators(self, dl_manager):
                return {"train": self._generate_examples(SVHN_TRAIN), "test": self._generate_examples(SVHN_TEST)}

            def _generate_examples(self, n):
                for i in range(n):
                    yield i, {"image": np.full((32, 32, 3), 255 * (i % 2 == 0), np.uint8), "label": i % 10}

    builder = FakeSvhn(data_dir=str(tmp_path_factory.mktemp("tfds")))
    builder.download_and_prepare()
    return builder


@pytest.fixture
def mnist_dir(tmp_path):
    """A data_dir with 60 synthetic MNIST-format digits (train) and 20 (t10k): textured, never solid."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 60), ("t10k", 20)):
        write_idx(tmp_path / "mnist" / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / "mnist" / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return tmp_path


def use_fake_svhn(monkeypatch, builder):
    tfds = data._import_tfds()
    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: builder)


def test_labelled_mnist_svhn_mixes_both_sources(fake_svhn, mnist_dir, monkeypatch):
    use_fake_svhn(monkeypatch, fake_svhn)
    train, test, info = data.load_labelled("mnist2svhn", batch_size=40, seed=0, data_dir=str(mnist_dir))
    assert info == data.LabelledInfo("mnist_svhn", (32, 32, 3), (60 + SVHN_TRAIN, 20 + SVHN_TEST), data.DIGIT_CLASSES)
    x, y = (t.numpy() for t in next(iter(train)))
    solid_images = x.reshape(40, -1).std(axis=1) == 0     # the fake SVHN images; MNIST's are textured
    assert 0 < solid_images.sum() < 40
    svhn_ids = (x[solid_images, 0, 0, 0] > 0)               # white = even index, label i % 10 even
    np.testing.assert_array_equal(y[solid_images] % 2 == 0, svhn_ids)
    assert sum(len(b[1]) for b in test) == 20 + SVHN_TEST


def brightness_classifier():
    """Logits (10 * mean pixel, 0, ..., 0): white images -> top softmax 0.9996, black -> 1 / (9 + e^-10) = 0.11."""
    import keras
    inputs = keras.Input((32, 32, 3))
    dense = keras.layers.Dense(10)
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(inputs)))
    kernel = np.zeros((3, 10), np.float32)
    kernel[:, 0] = 10 / 3
    dense.set_weights([kernel, np.zeros(10, np.float32)])
    return model


def test_pruned_svhn_keeps_confident_images_only(fake_svhn, mnist_dir, monkeypatch, logged):
    use_fake_svhn(monkeypatch, fake_svhn)
    model = brightness_classifier()
    a, b, info = data.load_pair("mnist2svhn_prune", batch_size=8, seed=0, data_dir=str(mnist_dir),
                                prune_classifier=model, prune_threshold=0.4)
    assert info == data.DataInfo("mnist2svhn_prune", (32, 32, 3), (60, SVHN_TRAIN // 2))
    assert any("kept 10 of 20" in m for m in logged.messages)
    xb = np.concatenate(batches(b, 4))           # 32 images: several epochs over the 10 kept
    np.testing.assert_allclose(xb, 1.0)          # only the white (confident) images remain
    check_images(batches(a, 1)[0], 8)
    # The threshold is a strict bound (thesis: top softmax <= T is dropped); nothing kept is an error.
    _, b_all, info_all = data.load_pair("mnist2svhn_prune", batch_size=8, seed=0, data_dir=str(mnist_dir),
                                        prune_classifier=model, prune_threshold=0.1)
    assert info_all.sizes == (60, SVHN_TRAIN)
    with pytest.raises(DataError, match="kept none of the 20"):
        data.load_pair("mnist2svhn_prune", batch_size=8, seed=0, data_dir=str(mnist_dir),
                       prune_classifier=model, prune_threshold=0.9999)
    with pytest.raises(DataError, match="needs the MNIST\\+SVHN classifier"):
        data.load_pair("mnist2svhn_prune", batch_size=8, seed=0, data_dir=str(mnist_dir))
