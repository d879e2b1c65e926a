"""Appendix B classifiers, the latent encoder, and the train / evaluate / prune / save helpers."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import classifiers as C


def _conv(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def _dense(n_in, n_out):
    return n_in * n_out + n_out


# ---------------------------------------------------------------- architectures

def test_digit_classifier_table_b1_shapes_and_parameters():
    model = C.digit_classifier()
    assert model.input_shape == (None, 32, 32, 3)
    assert model(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 10)
    # conv3x3 3->32, conv3x3 32->64 ("valid": 32 -> 30 -> 28), maxpool -> 14x14x64 = 12544,
    # dense 12544->128, dense 128->10.
    expected = _conv(3, 3, 32) + _conv(3, 32, 64) + _dense(14 * 14 * 64, 128) + _dense(128, 10)
    assert expected == 896 + 18_496 + 1_605_760 + 1_290 == 1_626_442
    assert model.count_params() == expected


def test_celeba_classifier_table_b2_shapes_and_parameters():
    model = C.celeba_classifier()
    assert model.input_shape == (None, 128, 128, 3)
    assert model(np.zeros((1, 128, 128, 3), np.float32)).shape == (1, 13)
    # 128 -> 126 -> 124, maxpool -> 62x62x64 = 246016 inputs to the 128-unit dense layer.
    expected = _conv(3, 3, 32) + _conv(3, 32, 64) + _dense(62 * 62 * 64, 128) + _dense(128, 13)
    assert expected == 896 + 18_496 + 31_490_176 + 1_677 == 31_511_245
    assert model.count_params() == expected


def test_latent_encoder_shapes_and_parameters():
    model = C.latent_encoder((32, 32, 3), 100)
    assert model(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 100)
    # conv 3->64, 64->128 /2, 128->128 /2, 128->256 /2 ("same": 32 -> 16 -> 8 -> 4), dense 4*4*256 -> 100.
    expected = (_conv(3, 3, 64) + _conv(3, 64, 128) + _conv(3, 128, 128) + _conv(3, 128, 256)
                + _dense(4 * 4 * 256, 100))
    assert expected == 1_792 + 73_856 + 147_584 + 295_168 + 409_700 == 928_100
    assert model.count_params() == expected
    bounded = C.latent_encoder((32, 32, 1), 3, output_activation="tanh")
    out = bounded(np.full((2, 32, 32, 1), 50.0, np.float32)).numpy()
    assert np.all(np.abs(out) <= 1.0)


def test_celeba_attribute_list_against_the_attribute_file(shared_data, shared_file):
    path = shared_file(shared_data / "celeba" / "list_attr_celeba.txt", "CelebA attribute file")
    lines = path.read_text().splitlines()
    total, names = int(lines[0]), lines[1].split()
    values = np.array([row.split()[1:] for row in lines[2:] if row.strip()], int)
    share = dict(zip(names, (values == 1).mean(axis=0)))
    # The sample estimates the full set's share: the listed 13 are its 13 most frequent attributes and each
    # lies above 50,000 / 202,599; the list keeps the file's column order.
    top13 = sorted(names, key=share.get, reverse=True)[:13]
    assert set(top13) == set(C.CELEBA_CLASSIFIER_ATTRIBUTES)
    assert min(share[a] for a in C.CELEBA_CLASSIFIER_ATTRIBUTES) > 50_000 / total
    assert list(C.CELEBA_CLASSIFIER_ATTRIBUTES) == [n for n in names if n in C.CELEBA_CLASSIFIER_ATTRIBUTES]


# ---------------------------------------------------------------- training on separable toy data

def _toy_images(n, seed):
    """8x8 grayscale images in [-1, 1]: class k in 0..2 lights the k-th third of the rows."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = np.full((n, 8, 8, 1), -1.0, np.float32)
    for i, k in enumerate(labels):
        images[i, 3 * k:3 * k + 2] = 1.0
    images += rng.normal(0, 0.1, images.shape).astype(np.float32)
    return np.clip(images, -1, 1), labels


def test_train_classifier_single_label_reaches_high_accuracy(logged):
    keras.utils.set_random_seed(0)
    x, y = _toy_images(256, 0)
    xe, ye = _toy_images(96, 1)
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(256, seed=0).batch(32)
    evaluation = tf.data.Dataset.from_tensor_slices((xe, ye)).batch(48)
    model = C.digit_classifier(input_shape=(8, 8, 1), num_classes=3)
    logs = logged.messages
    result = C.train_classifier(model, train, steps=30, multilabel=False, eval_ds=evaluation, log_every=10)
    assert set(result) == {"train_loss", "accuracy"}
    assert result["accuracy"] >= 0.95
    assert result["train_loss"] < 0.5
    assert len(logs) == 4 and logs[0].startswith("classifier step 10/30")
    assert C.evaluate_classifier(model, evaluation, multilabel=False, max_batches=1) >= 0.9


def test_train_classifier_multilabel_reaches_high_accuracy():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, (256, 2)).astype(np.float32)
    # Attribute 0 lights the top half, attribute 1 the bottom half; both, one or none may be present.
    images = np.full((256, 8, 8, 1), -1.0, np.float32)
    images[labels[:, 0] == 1, :4] = 1.0
    images[labels[:, 1] == 1, 4:] = 1.0
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(256, seed=0).batch(32)
    model = C.celeba_classifier(input_shape=(8, 8, 1), num_labels=2)
    result = C.train_classifier(model, ds, steps=30, multilabel=True)
    assert result["accuracy"] >= 0.9  # training batches: no eval_ds given
    assert C.evaluate_classifier(model, ds, multilabel=True) >= 0.95


def test_evaluate_classifier_hand_values():
    # Logits = the input pixels, so the predictions are known.
    model = keras.Sequential([keras.Input((1, 1, 3)), keras.layers.Flatten()])
    x = np.array([[2, 0, 0], [0, 3, 0], [0, 0, 1], [5, 0, 0]], np.float32).reshape(4, 1, 1, 3)
    ds = tf.data.Dataset.from_tensor_slices((x, np.array([0, 1, 1, 2]))).batch(2)
    assert C.evaluate_classifier(model, ds, multilabel=False) == pytest.approx(0.5)
    assert C.evaluate_classifier(model, ds, multilabel=False, max_batches=1) == pytest.approx(1.0)
    # Multi-label: a logit > 0 predicts the attribute; 12 decisions, these labels get 10 right.
    multi = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 1], [1, 0, 0]], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, multi)).batch(4)
    assert C.evaluate_classifier(model, ds, multilabel=True) == pytest.approx(10 / 12)


# ---------------------------------------------------------------- pruning (thesis sec. 2.7)

def test_prune_by_confidence_with_known_outputs():
    model = keras.Sequential([keras.Input((1, 1, 3)), keras.layers.Flatten()])  # logits = pixels
    logits = np.array([[0, 0, 0],         # top softmax 1/3           -> pruned
                       [2, 0, 0],         # e^2 / (e^2 + 2) = 0.787   -> kept
                       [1, 1, 0],         # e / (2e + 1) = 0.422      -> kept at 0.4, pruned at 0.45
                       [0, 0, 5]], np.float32)
    top = np.max(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), axis=1)
    np.testing.assert_allclose(top[2], np.e / (2 * np.e + 1), rtol=1e-6)
    images = logits.reshape(4, 1, 1, 3)
    expected = np.array([False, True, True, True])
    np.testing.assert_array_equal(C.prune_by_confidence(model, images, batch_size=3), expected)
    np.testing.assert_array_equal(C.prune_by_confidence(model, images, threshold=0.45), [False, True, False, True])
    # Datasets: unbatched images, and batched (images, labels) pairs.
    mask = C.prune_by_confidence(model, tf.data.Dataset.from_tensor_slices(images), batch_size=3)
    np.testing.assert_array_equal(mask, expected)
    pairs = tf.data.Dataset.from_tensor_slices((images, np.arange(4))).batch(2)
    np.testing.assert_array_equal(C.prune_by_confidence(model, pairs), expected)
    assert mask.dtype == bool


# ---------------------------------------------------------------- save / load

def test_save_load_round_trip(tmp_path):
    model = C.digit_classifier(input_shape=(8, 8, 1), num_classes=3)
    x = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 1)).astype(np.float32)
    path = C.save_classifier(model, tmp_path / "clf", multilabel=False, names=["a", "b", "c"],
                             extra={"accuracy": 0.5})
    assert path.endswith("clf.keras")
    loaded, meta = C.load_classifier(tmp_path / "clf.keras")
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), rtol=1e-6, atol=1e-6)
    assert meta["multilabel"] is False
    assert meta["names"] == ["a", "b", "c"]
    assert meta["input_shape"] == [8, 8, 1]
    assert meta["extra"] == {"accuracy": 0.5}
    assert loaded.trainable_variables == []  # frozen by default: a fixed judge for Eq. 4.2
    with pytest.raises(ValueError, match="names"):
        C.save_classifier(model, tmp_path / "bad", multilabel=False, names=["a"])


def test_a_failed_save_leaves_the_old_classifier_whole(tmp_path, monkeypatch):
    """A write that breaks half-way (a full disk) leaves the earlier file under its name and no temporary file."""
    import run_folder
    model = C.digit_classifier(input_shape=(8, 8, 1), num_classes=3)
    path = C.save_classifier(model, tmp_path / "clf", multilabel=False)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full_disk(self, filepath, *a, **k):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(keras.Model, "save", full_disk)
    with pytest.raises(run_folder.WriteFailed, match="No space left on device"):
        C.save_classifier(model, path, multilabel=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert C.load_classifier(path)[1]["multilabel"] is False


def test_load_classifier_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        C.load_classifier(tmp_path / "missing.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    (tmp_path / "broken.keras.json").write_text('{"kind": "scogan-classifier", "multilabel": false}')
    with pytest.raises(ValueError, match="unreadable classifier file") as err:
        C.load_classifier(broken)
    assert "\n" not in str(err.value)
    (tmp_path / "nometa.keras").write_bytes(b"x")
    with pytest.raises(ValueError, match="metadata not found"):
        C.load_classifier(tmp_path / "nometa.keras")
    (tmp_path / "badmeta.keras").write_bytes(b"x")
    (tmp_path / "badmeta.keras.json").write_text("{")
    with pytest.raises(ValueError, match="unreadable classifier metadata"):
        C.load_classifier(tmp_path / "badmeta.keras")


def test_build_classifier_by_labels_and_per_attribute_accuracy():
    single = C.build_classifier((32, 32, 3), list("abc"), multilabel=False)
    assert single.name == "digit_classifier" and single.output_shape == (None, 3)
    multi = C.build_classifier((64, 64, 3), ["x", "y"], multilabel=True)
    assert multi.name == "celeba_classifier" and multi.output_shape == (None, 2)
    # Per-attribute accuracy on known logits (= the input pixels): attribute 0 right 3/4, attribute 1 right 2/4.
    model = keras.Sequential([keras.Input((1, 1, 2)), keras.layers.Flatten()])
    x = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], np.float32).reshape(4, 1, 1, 2)
    y = np.array([[1, 1], [1, 1], [0, 0], [1, 0]], np.float32)
    acc, per, n = C.classifier_accuracies(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(3), True)
    np.testing.assert_allclose(per, [0.75, 0.5])
    assert acc == pytest.approx(0.625) and n == 4
    acc, per, n = C.classifier_accuracies(model, tf.data.Dataset.from_tensor_slices((x, np.zeros(4))).batch(3), False)
    assert per is None and acc == pytest.approx(0.75) and n == 4   # argmax 0 on rows 0, 1, 3 (ties -> first)


def test_make_train_step_updates_and_reports():
    keras.utils.set_random_seed(3)
    x, y = _toy_images(64, 3)
    model = C.digit_classifier(input_shape=(8, 8, 1), num_classes=3)
    optimizer = keras.optimizers.Adam(C.LEARNING_RATE)
    optimizer.build(model.trainable_variables)
    step = C.make_train_step(model, optimizer, multilabel=False)
    before = [w.copy() for w in model.get_weights()]
    losses = [float(step(x, y)["loss"]) for _ in range(15)]
    assert losses[-1] < losses[0]
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
