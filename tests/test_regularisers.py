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

def _np_fr(f1, f2, k, reduce="sum"):
    """Listing 6.10: distance += mean((g1[idx] - g2[idx])^2) for idx < K; Eq. 4.1 divides by K."""
    total = sum(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2) for a, b in zip(f1[:k], f2[:k]))
    return total / k if reduce == "mean" else total


def test_feature_regulariser_is_the_listings_sum_on_random_maps():
    rng = np.random.default_rng(3)
    shapes = [(4, 8, 8, 5), (4, 16, 16, 3), (4, 32, 32, 3)]
    f1 = [rng.normal(size=s).astype(np.float32) for s in shapes]
    f2 = [rng.normal(size=s).astype(np.float32) * 0.5 for s in shapes]
    for k in (1, 2, 3):
        assert float(R.feature_regulariser(f1, f2, k)) == pytest.approx(_np_fr(f1, f2, k), rel=1e-5)
        assert float(R.feature_regulariser(f1, f2, k, reduce="mean")) == pytest.approx(
            _np_fr(f1, f2, k, "mean"), rel=1e-5)
    # Hand value: layer 1 differs by 2 everywhere, layer 2 by 0.5: the sum 4 + 0.25 (alpha_FR was tuned on it).
    h1 = [tf.fill((2, 3), 1.0), tf.fill((2, 2, 2), 0.0)]
    h2 = [tf.fill((2, 3), 3.0), tf.fill((2, 2, 2), 0.5)]
    assert float(R.feature_regulariser(h1, h2, 2)) == pytest.approx(4.25)
    with pytest.raises(ValueError, match="reduce"):
        R.feature_regulariser(h1, h2, 2, reduce="max")


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


def test_semantic_loss_is_the_listings_mean_on_random_outputs():
    rng = np.random.default_rng(4)
    p1, p2 = (rng.dirichlet(np.ones(10), size=16).astype(np.float32) for _ in range(2))
    # Listing 6.15: tf.reduce_mean(tf.math.squared_difference(pred1, pred2)), over batch and classes.
    assert float(R.semantic_loss(p1, p2)) == pytest.approx(np.mean((p1.astype(float) - p2) ** 2), rel=1e-5)
    # Eq. 4.2 as written: the sum over classes / 2, averaged over the batch -- 10 / 2 = 5 times the mean here.
    eq = np.mean(np.sum((p1.astype(float) - p2) ** 2, axis=1) / 2)
    assert float(R.semantic_loss(p1, p2, form="equation")) == pytest.approx(eq, rel=1e-5)
    assert eq == pytest.approx(5 * float(R.semantic_loss(p1, p2)), rel=1e-5)
    with pytest.raises(ValueError, match="form"):
        R.semantic_loss(p1, p2, form="sum")


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
    # l1: mean |e| = 3/4 and 0.5. l2 (Eq. 4.3): mean over the batch of ||e||^2 = (1 + 4) / 2 and 0.5.
    assert float(R.cycle_consistency(z, r1, r2, "l1")) == pytest.approx(0.75 + 0.5)
    assert float(R.cycle_consistency(z, r1, r2, "l2")) == pytest.approx(2.5 + 0.5)
    with pytest.raises(ValueError, match="norm"):
        R.cycle_consistency(z, r1, r2, "l3")


def test_cycle_consistency_on_random_latents_against_numpy():
    rng = np.random.default_rng(5)
    z = rng.uniform(-1, 1, size=(8, 100)).astype(np.float32)
    r1, r2 = (z + rng.normal(scale=0.3, size=z.shape).astype(np.float32) for _ in range(2))
    l1 = np.mean(np.abs(z - r1)) + np.mean(np.abs(z - r2))                      # Listing 6.16
    l2 = np.mean(np.sum((z - r1) ** 2, 1)) + np.mean(np.sum((z - r2) ** 2, 1))  # Eq. 4.3
    assert float(R.cycle_consistency(z, r1, r2, "l1")) == pytest.approx(l1, rel=1e-5)
    assert float(R.cycle_consistency(z, r1, r2, "l2")) == pytest.approx(l2, rel=1e-5)


# ---------------------------------------------------------------- Eq. 4.5 perceptual loss pieces

def test_gram_matrix_hand_values():
    """Maps constant over positions, a_c in channel c (one set per batch item): every location contributes a_c a_d,
    so Gram[c, d] = a_c a_d with Listing 6.17's / (H*W) and a_c a_d / C with Eq. 4.5's / (H*W*C)."""
    a = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], np.float32)              # (batch 2, C 3)
    f = np.broadcast_to(a[:, None, None, :], (2, 4, 5, 3)).copy()                # H 4, W 5
    want = a[:, :, None] * a[:, None, :]
    np.testing.assert_allclose(R.gram_matrix(f), want, rtol=1e-6)
    np.testing.assert_allclose(R.gram_matrix(f, "equation"), want / 3, rtol=1e-6)
    # One location differs: in a 1x2 map with values (1, 3) in one channel, Gram = (1 + 9) / 2 = 5.
    np.testing.assert_allclose(R.gram_matrix(np.array([[[[1.0], [3.0]]]], np.float32)), [[[5.0]]], rtol=1e-6)


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
    # Listing 6.18: the plain mean of the squared difference, 4 (no further division by the layer size).
    assert float(R.perceptual_content(a, b)) == pytest.approx(4.0)
    # Image b's Gram against real image b's: squared differences 1 and 9 -> mean 5 per layer; 2 layers summed
    # and multiplied by 1 / num_style_layers.
    fake = tf.stack([tf.fill((2, 2), 1.0), tf.fill((2, 2), 3.0)])
    real = tf.zeros((2, 2, 2))
    assert float(R.perceptual_style([fake, fake], [real, real])) == pytest.approx(5.0)
    # Eq. 4.5's form: squared Frobenius norm per image (4 elements): 4 and 36 -> mean 20 per layer, summed over
    # the 2 layers.
    assert float(R.perceptual_style([fake, fake], [real, real], "equation")) == pytest.approx(40.0)
    with pytest.raises(ValueError, match="style layers"):
        R.perceptual_style([fake], [real, real])
    with pytest.raises(ValueError, match="equally large"):
        R.perceptual_style([fake], [tf.zeros((3, 2, 2))])


def _np_gram(f, per):
    f = np.asarray(f, np.float64)
    return np.einsum("bijc,bijd->bcd", f, f) / (f.shape[1] * f.shape[2] * (f.shape[3] if per == "equation" else 1))


def test_perceptual_terms_match_listing_6_18_in_numpy():
    """The whole PL term through a fixed stand-in feature extractor with real (non-zero) Grams on both sides:
    the b-th fake image is compared with the b-th real image of ITS domain, and content pairs by z."""
    rng = np.random.default_rng(6)
    layers = {"c": 4, "s1": 3, "s2": 5}
    kernels = {n: rng.normal(size=(3, c)).astype(np.float32) for n, c in layers.items()}

    class Extractor:  # {layer: relu(pixel-wise projection of the preprocessed image)}
        def __call__(self, x, training=False):
            return {n: tf.nn.relu(tf.einsum("bhwc,cd->bhwd", x / 100.0, k)) for n, k in kernels.items()}

    def feats(images, name):
        x = np.asarray(R.vgg_preprocess(images), np.float64) / 100.0
        return np.maximum(np.einsum("bhwc,cd->bhwd", x, kernels[name].astype(np.float64)), 0.0)

    fakes = [rng.uniform(-1, 1, size=(3, 32, 32, 3)).astype(np.float32) for _ in range(2)]
    reals = [rng.uniform(-1, 1, size=(3, 32, 32, 3)).astype(np.float32) for _ in range(2)]
    alpha, beta = 0.001, 1e-3
    style = ("s1", "s2")
    got = R.perceptual_terms(Extractor(), fakes, reals, alpha, beta, content_layer="c", style_layers=style)
    assert set(got) == {"pl_content", "pl_style_1", "pl_style_2"}

    content = alpha * np.mean((feats(fakes[0], "c") - feats(fakes[1], "c")) ** 2)
    assert float(got["pl_content"]) == pytest.approx(content, rel=1e-4)
    for i in range(2):
        ref = beta / len(style) * sum(np.mean((_np_gram(feats(fakes[i], n), "listing")
                                               - _np_gram(feats(reals[i], n), "listing")) ** 2) for n in style)
        assert float(got[f"pl_style_{i + 1}"]) == pytest.approx(ref, rel=1e-4)
        # A wrong pairing (the other domain's reals, or reals in another order) gives another value.
        wrong = beta / len(style) * sum(np.mean((_np_gram(feats(fakes[i], n), "listing")
                                                 - _np_gram(feats(reals[i][::-1], n), "listing")) ** 2) for n in style)
        assert abs(wrong - ref) > 1e-3 * abs(ref)


# ---------------------------------------------------------------- Fig. 4.1 weight difference

def test_weight_difference_hand_value_and_validation():
    m1, m2 = tiny_generator(1, 3), tiny_generator(2, 3)
    assert float(R.weight_difference(m1, m1)) == 0.0
    for v1, v2 in zip(m1.trainable_variables, m2.trainable_variables):
        v1.assign(tf.zeros_like(v1))
        v2.assign(tf.fill(v2.shape, 2.0 if "bias" in v2.path else 1.0))
    # The authors' weight_regularizer: sum over the 6 variables of mean((w1 - w2)^2): 3 kernels at 1, 3 biases
    # at 4.
    assert float(R.weight_difference(m1, m2)) == pytest.approx(3 * 1.0 + 3 * 4.0)
    rng = np.random.default_rng(7)
    for v1, v2 in zip(m1.trainable_variables, m2.trainable_variables):
        v1.assign(rng.normal(size=v1.shape).astype(np.float32))
    ref = sum(np.mean((a.numpy().astype(float) - b.numpy()) ** 2) for a, b in
              zip(m1.trainable_variables, m2.trainable_variables))
    assert float(R.weight_difference(m1, m2)) == pytest.approx(ref, rel=1e-5)
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


def test_frozen_vgg_stays_out_of_the_trainers_updates():
    """Through a real SCoGAN step with PL (random VGG19): no VGG variable is in a variable list the trainer's
    optimizers update, and after one iteration every VGG weight is bit for bit what it was (the frozen classifier:
    test_scogan.py::test_encoder_trains_and_classifier_stays_frozen). A net's `trainable = False` alone would not
    protect it: Keras 3 variables stay tf-trainable, so what matters is which lists reach apply_gradients."""
    from test_trainers import make
    t = make(gan_type="scogan", weight_decay=0.0, perceptual_loss=True, vgg_weights="none")
    vgg_ids = {id(v) for v in t.vgg.weights}
    assert t.vgg.weights and not vgg_ids & {id(v) for v in t.g_vars + t.d_vars}
    before = [w.numpy().copy() for w in t.vgg.weights]
    g_before = [v.numpy().copy() for v in t.g_vars]
    logs = t._compiled_step([next(it) for it in t.iterators])
    assert float(logs["pl_content"]) != 0.0   # the VGG was used in the step
    for b, w in zip(before, t.vgg.weights):
        np.testing.assert_array_equal(b, w.numpy())
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(g_before, t.g_vars))


# ---------------------------------------------------------------- VGG19 (random init: no download)

def test_vgg19_features_grams_and_gradients(z):
    vgg = R.build_vgg19_features(weights=None)
    assert vgg.trainable_variables == []
    assert set(vgg.output.keys()) == {R.VGG_CONTENT_LAYER, *R.VGG_STYLE_LAYERS}
    g1, g2 = tiny_generator(1, 32 * 32 * 3), tiny_generator(2, 32 * 32 * 3)
    zz = z[:1]
    variables = g1.trainable_variables + g2.trainable_variables
    with tf.GradientTape() as tape:
        images = tf.reshape(tf.concat([g1(zz), g2(zz)], axis=0), (2, 32, 32, 3))
        content, grams = R.vgg_content_and_grams(vgg, images)  # one VGG call for both domains
        loss = R.perceptual_content(content[:1], content[1:]) + R.perceptual_style(
            [g[:1] for g in grams], [g[1:] for g in grams])
    assert content.shape == (2, 2, 2, 512)
    assert [tuple(g.shape) for g in grams] == [(2, c, c) for c in (64, 128, 256, 512, 512)]
    grads = tape.gradient(loss, variables)
    assert _all_reached(grads)


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
