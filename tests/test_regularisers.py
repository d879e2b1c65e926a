"""The SCoGAN coupling terms (thesis ch. 4) against hand-computed values, and their gradients."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import regularisers as R

Z_DIM = 4


# ---------------------------------------------------------------- tiny generator-like models

def tiny_generator(seed, out_dim):
    """z -> Dense(6) -> Dense(5) -> Dense(out_dim), tanh; the two hidden outputs are its 'features'."""
    init = lambda s: keras.initializers.GlorotUniform(seed=seed * 10 + s)  # noqa: E731
    return keras.Sequential([keras.Input((Z_DIM,)),
                             keras.layers.Dense(6, activation="tanh", kernel_initializer=init(1)),
                             keras.layers.Dense(5, activation="tanh", kernel_initializer=init(2)),
                             keras.layers.Dense(out_dim, activation="tanh", kernel_initializer=init(3))])


def with_features(g, z):
    """(output, [hidden layer outputs]) like nets' `call_with_features`."""
    feats, x = [], z
    for layer in g.layers[:-1]:
        x = layer(x)
        feats.append(x)
    return g.layers[-1](x), feats


def frozen_dense(in_dim, out_dim, seed=0):
    m = keras.Sequential([keras.Input((in_dim,)),
                          keras.layers.Dense(out_dim, kernel_initializer=keras.initializers.GlorotUniform(seed))])
    m.trainable = False
    return m


@pytest.fixture
def z():
    return tf.random.stateless_uniform((3, Z_DIM), seed=(1, 2), minval=-1.0, maxval=1.0)


# ---------------------------------------------------------------- Eq. 4.1 feature regulariser

def test_feature_regulariser_zero_for_identical_features(z):
    _, feats = with_features(tiny_generator(1, 3), z)
    assert float(R.feature_regulariser(feats, feats, 2)) == 0.0


def test_feature_regulariser_hand_value():
    f1 = [tf.fill((2, 3), 1.0), tf.fill((2, 2, 2), 0.0)]
    f2 = [tf.fill((2, 3), 3.0), tf.fill((2, 2, 2), 0.5)]
    # layer 1: (1 - 3)^2 = 4 everywhere; layer 2: 0.5^2 = 0.25; K = 2 averages them.
    assert float(R.feature_regulariser(f1, f2, 1)) == pytest.approx(4.0)
    assert float(R.feature_regulariser(f1, f2, 2)) == pytest.approx((4.0 + 0.25) / 2)


def test_feature_regulariser_validates_num_layers():
    f = [tf.zeros((1, 2)), tf.zeros((1, 2))]
    for bad in (0, 3, -1):
        with pytest.raises(ValueError, match="num_layers"):
            R.feature_regulariser(f, f, bad)
    with pytest.raises(ValueError, match="length"):
        R.feature_regulariser(f, f[:1], 1)
    with pytest.raises(ValueError, match="shape"):
        R.feature_regulariser([tf.zeros((1, 2))], [tf.zeros((1, 3))], 1)


# ---------------------------------------------------------------- Eq. 4.2 semantic loss

def test_classifier_probabilities_softmax_and_sigmoid():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], np.float32)
    soft = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    sig = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(R.classifier_probabilities(logits, multilabel=False), soft, rtol=1e-6)
    np.testing.assert_allclose(R.classifier_probabilities(logits, multilabel=True), sig, rtol=1e-6)
    # Multi-label probabilities are independent per attribute: the zero row gives 0.5 each, not 1/3.
    np.testing.assert_allclose(R.classifier_probabilities(logits, multilabel=True)[1], [0.5] * 3)


def test_semantic_loss_hand_value():
    p1 = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], np.float32)
    p2 = np.array([[0.0, 1.0, 0.0], [0.5, 0.25, 0.25]], np.float32)
    # squared differences 1, 1, 0 and 0, 0.0625, 0.0625: mean over batch and classes (the thesis code).
    assert float(R.semantic_loss(p1, p2)) == pytest.approx((2.0 + 0.125) / 6)
    with pytest.raises(ValueError, match="shape"):
        R.semantic_loss(p1, p2[:, :2])


def test_semantic_loss_zero_for_equal_classifier_outputs(z):
    g1, g2 = tiny_generator(1, 8), tiny_generator(2, 8)
    x1, x2 = g1(z), g2(z)
    # A classifier that ignores its input (zero kernel) gives equal outputs for different images ...
    blind = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, kernel_initializer="zeros",
                                                                    bias_initializer="random_normal")])
    assert float(R.semantic_loss(R.classifier_probabilities(blind(x1), False),
                                 R.classifier_probabilities(blind(x2), False))) == 0.0
    # ... and any classifier gives equal outputs for identical images.
    clf = frozen_dense(8, 3)
    p = R.classifier_probabilities(clf(x1), True)
    assert float(R.semantic_loss(p, p)) == 0.0


# ---------------------------------------------------------------- Eq. 4.3 cycle consistency

def test_cycle_consistency_zero_for_exact_inverse(z):
    assert float(R.cycle_consistency(z, z, z, "l1")) == 0.0
    assert float(R.cycle_consistency(z, z, z, "l2")) == 0.0


def test_cycle_consistency_hand_values():
    z = np.array([[0.0, 1.0], [1.0, -1.0]], np.float32)
    r1 = np.ones((2, 2), np.float32)  # errors [-1, 0], [0, -2]
    r2 = z + 0.5                       # errors 0.5 everywhere
    # l1: mean |e| = 3/4 and 0.5; l2: mean e^2 = 5/4 and 0.25 (= mean_b ||e||^2 / dim).
    assert float(R.cycle_consistency(z, r1, r2, "l1")) == pytest.approx(0.75 + 0.5)
    assert float(R.cycle_consistency(z, r1, r2, "l2")) == pytest.approx(1.25 + 0.25)
    with pytest.raises(ValueError, match="norm"):
        R.cycle_consistency(z, r1, r2, "l3")


# ---------------------------------------------------------------- Eq. 4.5 perceptual loss pieces

def test_gram_matrix_equals_numpy_reference():
    f = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    ref = np.einsum("bijc,bijd->bcd", f, f) / (3 * 4 * 5)  # H*W*C, as the thesis code
    np.testing.assert_allclose(R.gram_matrix(f), ref, rtol=1e-5, atol=1e-6)


def test_vgg_preprocess_maps_range_to_caffe_bgr():
    means_bgr = np.array([103.939, 116.779, 123.68], np.float32)
    ones = np.ones((1, 32, 32, 3), np.float32)
    np.testing.assert_allclose(R.vgg_preprocess(-ones)[0, 0, 0], -means_bgr, rtol=1e-6)
    np.testing.assert_allclose(R.vgg_preprocess(ones)[0, 0, 0], 255.0 - means_bgr, rtol=1e-6)
    # Pure red in RGB lands in the last (R) channel of BGR.
    red = np.concatenate([ones[..., :1], -ones[..., :2]], axis=-1)
    np.testing.assert_allclose(R.vgg_preprocess(red)[0, 0, 0], [-103.939, -116.779, 255.0 - 123.68], rtol=1e-6)
    # Grayscale is repeated to three channels.
    gray = np.zeros((1, 32, 32, 1), np.float32)
    np.testing.assert_allclose(R.vgg_preprocess(gray)[0, 5, 5], 127.5 - means_bgr, rtol=1e-6)
    with pytest.raises(ValueError, match="at least 32x32"):
        R.vgg_preprocess(np.zeros((1, 28, 28, 1), np.float32))


def test_perceptual_content_and_style_hand_values():
    a, b = tf.fill((2, 2, 2, 3), 1.0), tf.fill((2, 2, 2, 3), -1.0)
    # mean squared difference 4, divided by the layer size 2*2*3 (thesis code).
    assert float(R.perceptual_content(a, b)) == pytest.approx(4.0 / 12)
    # Image b's Gram against real image b's: squared differences 1 and 9 -> mean 5 per layer; mean of 2 layers.
    fake = tf.stack([tf.fill((2, 2), 1.0), tf.fill((2, 2), 3.0)])
    real = tf.zeros((2, 2, 2))
    assert float(R.perceptual_style([fake, fake], [real, real])) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="style layers"):
        R.perceptual_style([fake], [real, real])
    with pytest.raises(ValueError, match="equally large"):
        R.perceptual_style([fake], [tf.zeros((3, 2, 2))])


# ---------------------------------------------------------------- Fig. 4.1 weight difference

def test_weight_difference_hand_value_and_validation():
    m1, m2 = tiny_generator(1, 3), tiny_generator(2, 3)
    assert float(R.weight_difference(m1, m1)) == 0.0
    for v1, v2 in zip(m1.trainable_variables, m2.trainable_variables):
        v1.assign(tf.zeros_like(v1))
        v2.assign(tf.fill(v2.shape, 2.0 if "bias" in v2.path else 1.0))
    # 6 variables (3 kernels at |diff| 1, 3 biases at |diff| 2): (3 * 1 + 3 * 2) / 6.
    assert float(R.weight_difference(m1, m2)) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="shape"):
        R.weight_difference(m1, tiny_generator(3, 4))
    with pytest.raises(ValueError, match="number"):
        R.weight_difference(m1, frozen_dense(4, 3))


# ---------------------------------------------------------------- gradients

def _grads(term_fn, sources):
    with tf.GradientTape() as tape:
        value = term_fn()
    return value, tape.gradient(value, sources)


def _all_reached(grads):
    return all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)


def test_coupling_terms_reach_both_generators_and_the_encoder(z):
    g1, g2 = tiny_generator(1, 8), tiny_generator(2, 8)
    encoder = keras.Sequential([keras.Input((8,)), keras.layers.Dense(Z_DIM)])
    clf = frozen_dense(8, 3)
    v1, v2 = g1.trainable_variables, g2.trainable_variables

    def fr():
        return R.feature_regulariser(with_features(g1, z)[1], with_features(g2, z)[1], 2)

    def sl():
        return R.semantic_loss(R.classifier_probabilities(clf(g1(z)), False),
                               R.classifier_probabilities(clf(g2(z)), False))

    def cc():
        return R.cycle_consistency(z, encoder(g1(z)), encoder(g2(z)), "l2")

    for name, term in (("SL", sl), ("CC", cc)):
        _, grads = _grads(term, v1 + v2)
        assert _all_reached(grads), name
    # FR compares hidden layers only: it reaches the layers before them, not the output layer.
    hidden = [v for g in (g1, g2) for layer in g.layers[:2] for v in layer.trainable_variables]
    _, grads = _grads(fr, hidden)
    assert _all_reached(grads)
    _, grads = _grads(fr, g1.layers[-1].trainable_variables + g2.layers[-1].trainable_variables)
    assert all(g is None for g in grads)
    _, grads = _grads(cc, encoder.trainable_variables)
    assert _all_reached(grads)
    # A frozen model contributes no variables to the list the trainer differentiates and updates (the
    # tape itself would still differentiate its weights if asked: Keras 3 variables stay tf-trainable).
    assert clf.trainable_variables == []


def test_frozen_classifier_unchanged_by_an_optimiser_step(z):
    g1, g2 = tiny_generator(1, 8), tiny_generator(2, 8)
    clf = frozen_dense(8, 3)
    assert clf.trainable_variables == []
    before_clf = [w.numpy().copy() for w in clf.weights]
    before_g1 = [w.numpy().copy() for w in g1.trainable_variables]
    variables = g1.trainable_variables + g2.trainable_variables + clf.trainable_variables
    _, grads = _grads(lambda: R.semantic_loss(R.classifier_probabilities(clf(g1(z)), True),
                                              R.classifier_probabilities(clf(g2(z)), True)), variables)
    keras.optimizers.SGD(1.0).apply_gradients(zip(grads, variables))
    for b, w in zip(before_clf, clf.weights):
        np.testing.assert_array_equal(b, w.numpy())
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before_g1, g1.trainable_variables))


@pytest.mark.parametrize("term", ["FR", "CC"])
def test_weighted_term_gradient_is_weight_times_gradient(z, term):
    g1, g2 = tiny_generator(1, 8), tiny_generator(2, 8)
    encoder = keras.Sequential([keras.Input((8,)), keras.layers.Dense(Z_DIM)])
    if term == "FR":
        fn = lambda: R.feature_regulariser(with_features(g1, z)[1], with_features(g2, z)[1], 2)  # noqa: E731
    else:
        fn = lambda: R.cycle_consistency(z, encoder(g1(z)), encoder(g2(z)), "l1")  # noqa: E731
    a = 2.5
    _, plain = _grads(fn, g1.trainable_variables)
    _, weighted = _grads(lambda: a * fn(), g1.trainable_variables)
    assert sum(p is not None for p in plain) >= 4  # FR leaves G1's output layer alone
    for p, w in zip(plain, weighted):
        assert (p is None) == (w is None)
        if p is not None:
            # float32 sums of terms of both signs: compare up to rounding of the largest terms
            np.testing.assert_allclose(w, a * p, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- VGG19 (random init: no download)

def test_vgg19_features_grams_and_gradients(z):
    vgg = R.build_vgg19_features(weights=None)
    assert vgg.trainable_variables == []
    assert set(vgg.output.keys()) == {R.VGG_CONTENT_LAYER, *R.VGG_STYLE_LAYERS}
    g1, g2 = tiny_generator(1, 32 * 32 * 3), tiny_generator(2, 32 * 32 * 3)
    zz = z[:1]
    variables = g1.trainable_variables + g2.trainable_variables + vgg.trainable_variables
    probe = vgg.get_layer("block1_conv1").kernel
    before = probe.numpy().copy()
    with tf.GradientTape() as tape:
        images = tf.reshape(tf.concat([g1(zz), g2(zz)], axis=0), (2, 32, 32, 3))
        content, grams = R.vgg_content_and_grams(vgg, images)  # one VGG call for both domains
        loss = R.perceptual_content(content[:1], content[1:]) + R.perceptual_style(
            [g[:1] for g in grams], [g[1:] for g in grams])
    assert content.shape == (2, 2, 2, 512)
    assert [tuple(g.shape) for g in grams] == [(2, c, c) for c in (64, 128, 256, 512, 512)]
    grads = tape.gradient(loss, variables)
    assert _all_reached(grads)
    keras.optimizers.SGD(0.1).apply_gradients(zip(grads, variables))
    np.testing.assert_array_equal(before, probe.numpy())


def test_vgg19_weight_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="not found"):
        R.build_vgg19_features(weights=str(tmp_path / "missing.h5"))

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")
    monkeypatch.setattr(keras.applications, "VGG19", offline)
    with pytest.raises(ValueError, match=r"~/.keras/models or pass --vgg_weights PATH\|none"):
        R.build_vgg19_features("imagenet")
    with pytest.raises(ValueError, match="weights must be"):
        R.build_vgg19_features(weights=3)


def test_vgg19_weights_from_a_local_file(tmp_path):
    # The offline route: a weights file placed by hand (here written from a random VGG19, no top).
    source = keras.applications.VGG19(include_top=False, weights=None)
    path = tmp_path / "vgg19_notop.weights.h5"
    source.save_weights(str(path))
    vgg = R.build_vgg19_features(weights=str(path), content_layer="block4_conv2", style_layers=("block1_conv1",))
    assert set(vgg.output.keys()) == {"block4_conv2", "block1_conv1"}
    np.testing.assert_array_equal(vgg.get_layer("block3_conv1").kernel.numpy(),
                                  source.get_layer("block3_conv1").kernel.numpy())
    bad = tmp_path / "not_vgg.weights.h5"
    bad.write_bytes(b"not an h5 file")
    with pytest.raises(ValueError, match="could not load VGG19"):
        R.build_vgg19_features(weights=str(bad))
