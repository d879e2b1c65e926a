"""SCoGAN trainer: each regulariser alone and in the thesis's combinations, gradients reach only the
intended variables, the encoder trains, the classifier and VGG stay frozen."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import classifiers
import regularisers
from test_trainers import assert_update_difference, make, sgd_generator_step


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    model = classifiers.digit_classifier((32, 32, 3), 10)
    return classifiers.save_classifier(model, tmp_path_factory.mktemp("clf") / "classifier.keras",
                                       multilabel=False, names=[str(i) for i in range(10)])


def scogan(classifier_path=None, **flags):
    kw = dict(gan_type="scogan", weight_decay=0.0)
    if flags.get("semantic_loss"):
        kw["classifier_path"] = classifier_path
    if flags.get("perceptual_loss"):
        kw["vgg_weights"] = "none"
    return make(**kw, **flags)


TERMS = {"feature_regulariser": ["fr"], "semantic_loss": ["sl"], "cycle_consistency": ["cc"],
         "perceptual_loss": ["pl_content", "pl_style_1", "pl_style_2"]}


def test_all_four_terms_step_together_and_log_their_columns(classifier_path):
    """All four regularisers in one compiled step: each logs its columns, finite, and g_total is their sum with the
    adversarial terms (each term's value and gradient are checked through the trainer's objective below; each
    term alone and the thesis's pairs run end to end in test_cli.py)."""
    combo = ("feature_regulariser", "semantic_loss", "cycle_consistency", "perceptual_loss")
    t = scogan(classifier_path, **{c: True for c in combo})
    assert not any(a is b for a, b in zip(t.generators[0].blocks, t.generators[1].blocks))
    logs = t._compiled_step([next(it) for it in t.iterators])
    expected = [k for c in combo for k in TERMS[c]]
    assert set(expected) <= set(logs)
    assert all(np.isfinite(float(logs[k])) for k in expected)
    adv = float(logs["g_loss_1"]) + float(logs["g_loss_2"])
    assert float(logs["g_total"]) == pytest.approx(adv + sum(float(logs[k]) for k in expected), rel=1e-4)


def test_encoder_trains_and_classifier_stays_frozen(classifier_path):
    t = scogan(classifier_path, semantic_loss=True, cycle_consistency=True)
    enc_before = [w.copy() for w in t.encoder.get_weights()]
    clf_before = [w.copy() for w in t.classifier.get_weights()]
    t._compiled_step([next(it) for it in t.iterators])
    assert any(not np.allclose(a, b) for a, b in zip(enc_before, t.encoder.get_weights()))
    for a, b in zip(clf_before, t.classifier.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not t.classifier.trainable_variables
    ids = {id(v) for v in t.g_vars}
    assert not ids & {id(v) for v in t.encoder.trainable_variables}


def _sgd_generator_step(t, lr):
    """One generator update of the trainer's own objective with plain SGD (so the change is -lr * gradient)."""
    t.g_opt = keras.optimizers.SGD(lr)
    t.g_opt.build(t.g_vars)
    before = [v.numpy().copy() for v in t.g_vars]
    t.generator_step([next(it)[-1] for it in t.iterators])
    return [v.numpy() - b for v, b in zip(t.g_vars, before)]


def test_fr_changes_the_generator_step_by_weight_times_the_listings_gradient(classifier_path):
    """Through the trainer's objective: the step with FR (weight a) minus the step without it equals
    -lr * a * dFR/dtheta, FR as Listing 6.10 sums it over the thesis's maps (Listing 6.7: 8x8, 16x16, image) on
    the same z; every variable of both generators moves (the image map reaches the output layers)."""
    a, lr = 10.0, 0.5
    on = scogan(classifier_path, feature_regulariser=True, fr_weight=a)
    off = scogan(classifier_path)
    for u, v in zip(on.g_vars, off.g_vars):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    # The z the generator step draws at step 0 (its first draw: trainers.base.StepNoise).
    z = on.noise_source(on.cfg.seed, on.step).uniform([on.cfg.batch_size, on.cfg.noise_dim], -1.0, 1.0)
    with tf.GradientTape() as tape:
        maps = [g.call_with_features(z, training=True)[1] for g in on.generators]
        fr = regularisers.feature_regulariser([maps[0][i] for i in (1, 2, 4)], [maps[1][i] for i in (1, 2, 4)], 3)
    expected = [-lr * a * g.numpy() for g in tape.gradient(fr, on.g_vars)]
    d_on, d_off = _sgd_generator_step(on, lr), _sgd_generator_step(off, lr)
    for v, e, x, y in zip(on.g_vars, expected, d_on, d_off):
        np.testing.assert_allclose(x - y, e, rtol=2e-3, atol=1e-6 * max(1.0, np.abs(e).max()), err_msg=v.path)
    moved = [np.abs(e).max() > 0 for e in expected]
    assert all(moved), [v.path for v, m in zip(on.g_vars, moved) if not m]


def _vgg(t, images):
    """VGG19's features of images in [-1, 1], by hand: 0..255, RGB -> BGR, minus the ImageNet means (keras "caffe")."""
    pixels = (tf.cast(images, tf.float32) + 1.0) * 127.5
    return t.vgg(pixels[..., ::-1] - tf.constant([103.939, 116.779, 123.68]), training=False)


def _gram(f):
    """Listing 6.17: sum over positions of F F^T / (H * W), per image."""
    f = tf.cast(f, tf.float32)
    return tf.einsum("bijc,bijd->bcd", f, f) / float(f.shape[1] * f.shape[2])


def _sl(t, z, fakes, reals):  # Listing 6.15: mean over batch and classes of the squared softmax difference
    p1, p2 = (tf.nn.softmax(t.classifier(x, training=False), axis=-1) for x in fakes)
    return {"sl": tf.reduce_mean(tf.square(p1 - p2))}


def _cc(t, z, fakes, reals):  # Listing 6.16: mean |z - F(G_i(z))| per domain, F in inference mode, summed
    return {"cc": tf.add_n([tf.reduce_mean(tf.abs(z - t.encoder(x, training=False))) for x in fakes])}


def _pl_content(t, z, fakes, reals):  # Listing 6.18: block5_conv2 features of G1(z) against G2(z)
    f1, f2 = (_vgg(t, x)[regularisers.VGG_CONTENT_LAYER] for x in fakes)
    return {"pl_content": tf.reduce_mean(tf.square(f1 - f2))}


def _pl_style(t, z, fakes, reals):  # Listing 6.18: the mean over the 5 style layers of mean((Gram(G_i(z)) - Gram(x_i))^2)
    out = {}
    for i, (x, real) in enumerate(zip(fakes, reals)):
        f, r = _vgg(t, x), _vgg(t, real)
        layers = regularisers.VGG_STYLE_LAYERS
        out[f"pl_style_{i + 1}"] = tf.add_n([tf.reduce_mean(tf.square(_gram(f[n]) - _gram(r[n]))) for n in layers]) / len(layers)
    return out


# (flags, the unweighted terms recomputed here, their weight). Weights large enough that each term moves every
# kernel by far more than the float32 tolerance next to the adversarial step (random classifier, encoder and VGG).
TERM_CASES = {
    "sl": (dict(semantic_loss=True, sl_weight=1000.0), _sl, 1000.0),
    "cc": (dict(cycle_consistency=True, cc_weight=10.0), _cc, 10.0),
    "pl_content": (dict(perceptual_loss=True, pl_content_weight=100.0, pl_style_weight=0.0), _pl_content, 100.0),
    "pl_style": (dict(perceptual_loss=True, pl_content_weight=0.0, pl_style_weight=1e-4), _pl_style, 1e-4),
}


@pytest.mark.parametrize("case", list(TERM_CASES))
def test_term_changes_the_generator_step_by_weight_times_its_gradient(case, classifier_path):
    """SL, CC and PL (content and style) through the trainer's own objective, as FR above: the logged term equals its
    weight times the term recomputed here on the z the step draws, its generators' outputs and the real batch it is
    given, and the SGD step with the term minus the step without it equals -lr * weight * its gradient. The
    recomputation fixes what the step must use: SL's softmax (a single-label classifier), F in inference mode
    (its dropout off, as the thesis code called it), VGG's caffe preprocessing, each fake's style against its own
    domain's real batch."""
    flags, ref, a = TERM_CASES[case]
    lr = 0.5
    on, off = scogan(classifier_path, **flags), scogan(classifier_path)
    for u, v in zip([v for m in on.generators + on.discriminators for v in m.variables],
                    [v for m in off.generators + off.discriminators for v in m.variables]):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    reals = [next(it)[-1] for it in on.iterators]
    z = on.noise_source(on.cfg.seed, on.step).z([on.cfg.batch_size, on.cfg.noise_dim])  # the step's first draw
    with tf.GradientTape() as tape:
        fakes = [g(z, training=True) for g in on.generators]
        terms = ref(on, z, fakes, reals)
        total = a * tf.add_n(list(terms.values()))
    expected = [-lr * g.numpy() for g in tape.gradient(total, on.g_vars)]
    (logs, d_on), (_, d_off) = sgd_generator_step(on, lr, reals), sgd_generator_step(off, lr, reals)
    for k, value in terms.items():
        assert float(logs[k]) == pytest.approx(a * float(value), rel=1e-4), k
    assert_update_difference(on.g_vars, d_on, d_off, expected)


@pytest.mark.parametrize("gan_type,shared", [("scogan", 0), ("cogan", 4)])
def test_weight_difference_is_the_authors_measure(classifier_path, gan_type, shared):
    """Fig. 4.1: sum over the generators' corresponding variables of mean((w1 - w2)^2), logged after the update;
    for CoGAN the shared blocks contribute nothing."""
    t = make(gan_type=gan_type, log_weight_difference=True, shared_layers_g=shared,
             shared_layers_d=3 if gan_type == "cogan" else 0)
    logs = t._compiled_step([next(it) for it in t.iterators])
    g1, g2 = t.generators
    ref = sum(np.mean((a.numpy().astype(np.float64) - b.numpy()) ** 2)
              for a, b in zip(g1.trainable_variables, g2.trainable_variables))
    assert float(logs["weight_difference"]) == pytest.approx(ref, rel=1e-5)
    adv = float(logs["g_loss_1"]) + float(logs["g_loss_2"])
    assert float(logs["g_total"]) == pytest.approx(adv, rel=1e-5)  # logged, never in the objective
    # Its split by block (scripts/weight_difference_blocks.py): shared blocks exactly 0, each other block its own
    # trainable variables only (BatchNorm's moving statistics are not weights), the blocks summing to the total.
    blocks = regularisers.weight_difference_by_block(g1, g2)
    assert [s for s, _ in blocks] == [k < shared for k in range(len(g1.blocks))]
    for (_, d), b1, b2 in zip(blocks, g1.blocks, g2.blocks):
        assert d == pytest.approx(sum(np.mean((a.numpy().astype(np.float64) - b.numpy()) ** 2)
                                      for a, b in zip(b1.trainable_variables, b2.trainable_variables)), rel=1e-5)
    assert sum(d for _, d in blocks) == pytest.approx(float(logs["weight_difference"]), rel=1e-5)
