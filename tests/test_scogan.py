"""SCoGAN trainer: each regulariser alone and in the thesis's combinations, gradients reach only the
intended variables, the encoder trains, the classifier and VGG stay frozen."""
import numpy as np
import pytest
import tensorflow as tf

import classifiers
from test_trainers import make


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


# Each term alone and the thesis's pairs run end to end in test_cli.py; here all four in one step.
@pytest.mark.parametrize("combo", [("feature_regulariser", "semantic_loss", "cycle_consistency", "perceptual_loss")])
def test_each_combination_steps_and_logs_its_terms(combo, classifier_path):
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


def test_coupling_gradient_reaches_both_generators_with_weight_once(classifier_path):
    t = scogan(classifier_path, feature_regulariser=True, fr_weight=10.0)
    z = tf.random.uniform((2, 100), -1, 1)
    with tf.GradientTape(persistent=True) as tape:
        outs = [g.call_with_features(z, training=True) for g in t.generators]
        terms = t.coupling_terms(z, [o[0] for o in outs], [o[1] for o in outs], None)
        import regularisers
        r = regularisers.feature_regulariser(outs[0][1], outs[1][1], 3)
    for g in t.generators:
        gw = tape.gradient(terms["fr"], g.trainable_variables)
        gr = tape.gradient(r, g.trainable_variables)
        assert any(x is not None and float(tf.reduce_max(tf.abs(x))) > 0 for x in gw)
        for a, b in zip(gw, gr):
            if a is not None:
                np.testing.assert_allclose(a.numpy(), 10.0 * b.numpy(), rtol=1e-4, atol=1e-7)
    assert all(x is None for x in tape.gradient(terms["fr"], t.d_vars))


def test_weight_difference_is_logged(classifier_path):
    t = scogan(classifier_path, log_weight_difference=True)
    logs = t._compiled_step([next(it) for it in t.iterators])
    assert float(logs["weight_difference"]) > 0
    adv = float(logs["g_loss_1"]) + float(logs["g_loss_2"])
    assert float(logs["g_total"]) == pytest.approx(adv, rel=1e-5)
