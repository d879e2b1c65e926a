"""--shared_update: how CoGAN's shared layers are updated. `listing` (default) as Listings 6.12/6.13: one
apply_gradients per network on its side's one optimizer, D2's gradient taken after D1's update, both generators'
gradients taken before the first update; `summed` as the CoGAN Caffe code: one update with both GANs' gradients.

Checked through the trainer's own step, against an independent computation: the gradients every update applied
(recorded) against gradients taken here by hand at the weights the listing prescribes, and the final weights
against Keras 3's SGD and Adam update rules written out in NumPy (slots per variable, one iteration count per
optimizer object), applied in the order the listing prescribes."""
import json

import numpy as np
import pytest
import tensorflow as tf

import config
import nets
from trainers import base
from optimisers import apply_if_finite
from test_trainers import make

LR = 1e-3


class NumpyOptimizer:
    """Keras 3's SGD (no momentum) and Adam (epsilon 1e-7) in float64: Adam's moments per variable, its bias
    correction from the optimizer's iteration count, which every apply_gradients call advances by one."""

    def __init__(self, kind, lr, beta1=0.5, beta2=0.999, eps=1e-7):
        self.kind, self.lr, self.b1, self.b2, self.eps = kind, lr, beta1, beta2, eps
        self.iterations, self.m, self.v = 0, {}, {}

    def apply(self, grads, variables, weights):
        t = self.iterations + 1
        for g, var in zip(grads, variables):
            k, g = id(var), g.astype(np.float64)
            if self.kind == "sgd":
                weights[k] = weights[k] - self.lr * g
                continue
            self.m[k] = self.m.get(k, 0.0) + (g - self.m.get(k, 0.0)) * (1 - self.b1)
            self.v[k] = self.v.get(k, 0.0) + (g * g - self.v.get(k, 0.0)) * (1 - self.b2)
            alpha = self.lr * np.sqrt(1 - self.b2 ** t) / (1 - self.b1 ** t)
            weights[k] = weights[k] - self.m[k] * alpha / (np.sqrt(self.v[k]) + self.eps)
        self.iterations += 1


def _trainer(kind, mode):
    # dcgan: non-saturating loss, 1 critic step, no penalty draw; CoGAN32's default sharing (G 4, D 3 blocks).
    return make(preset="dcgan", optimizer=kind, shared_update=mode, g_lr=LR, d_lr=LR, g_beta1=0.5, d_beta1=0.5)


def _record_step(t, monkeypatch):
    """One iteration of the trainer's step, run eagerly: -> [(optimizer, [(gradient as NumPy, variable)])] in the
    order the updates were applied."""
    calls = []

    def recording(optimizer, grads, variables, values=(), skip=False):
        grads, variables = list(grads), list(variables)
        calls.append((optimizer, [(g.numpy().copy(), v) for g, v in zip(grads, variables)]))
        return apply_if_finite(optimizer, grads, variables, values, skip)

    monkeypatch.setattr(base, "apply_if_finite", recording)
    reals = [next(it) for it in t.iterators]
    snapshot = [v.numpy().copy() for v in _all_variables(t)]
    t.train_step(reals)
    return calls, reals, snapshot


def _all_variables(t):
    return nets.unique_variables(t.generators + t.discriminators, trainable=False)


def _restore(t, snapshot):
    for v, value in zip(_all_variables(t), snapshot):
        v.assign(value)


def _set(variables, weights):
    for v in variables:
        v.assign(weights[id(v)].astype(np.float32))


def _assert_gradients(recorded, expected, what):
    """Float32 gradients of the same ops from the same inputs agree to 1e-4 of the network's largest gradient
    entry: an entry's rounding error scales with the terms summed into it, not with the entry (a bias before
    BatchNorm has a zero gradient made of such terms)."""
    scale = max(float(np.abs(e.numpy()).max()) for e in expected)
    for (g, v), e in zip(recorded, expected):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-4 * scale, err_msg=f"{what}: {v.path}")


def _assert_replayed(t, calls, snapshot, final, kind):
    """The trainer's final weights equal the recorded updates replayed from the start in NumPy, in their order, one
    NumpyOptimizer per optimizer object. float32 weights of magnitude <= ~1 after steps of ~LR round at ~1e-7;
    the steps are 1e-3 (one or two per variable)."""
    _restore(t, snapshot)
    weights = {id(v): v.numpy().astype(np.float64) for v in _all_variables(t)}
    ref = {"d": NumpyOptimizer(kind, LR), "g": NumpyOptimizer(kind, LR)}
    for opt, pairs in calls:
        ref["d" if opt is t.d_opt else "g"].apply([g for g, _ in pairs], [v for _, v in pairs], weights)
    for v in nets.unique_variables(t.generators + t.discriminators):
        np.testing.assert_allclose(final[id(v)], weights[id(v)], rtol=0, atol=2e-6, err_msg=v.path)


def _hand_gradients(t, reals, snapshot, optimizers):
    """The gradients Listings 6.12/6.13 take, by hand: D1's at the start, D2's after D1's update (replayed with
    the NumPy optimizer from the recorded D1 gradient), both generators' after the critic updates from one
    forward pass. -> ([D1, D2, G1, G2] gradients, the D2 gradient at the start for comparison)."""
    noise = t.noise_source(t.cfg.seed, 0)
    b = t.cfg.batch_size
    z_d = noise.z([b, t.cfg.noise_dim])
    z_g = noise.z([b, t.cfg.noise_dim])
    _restore(t, snapshot)
    fakes = [x for x, _ in nets.forward_coupled(t.generators, z_d, training=True)]
    d1, d2 = t.discriminators
    real = [r[0] for r in reals]

    def critic_grad(i, d):
        with tf.GradientTape() as tape:
            loss = t.loss.discriminator(d(real[i], training=True), d(fakes[i], training=True))
        return tape.gradient(loss, d.trainable_variables)

    grads = [critic_grad(0, d1)]
    state = [v.numpy() for v in d2.non_trainable_variables]  # dropout seeds: a call advances them
    d2_at_start = critic_grad(1, d2)
    for v, value in zip(d2.non_trainable_variables, state):
        v.assign(value)
    weights = {id(v): v.numpy().astype(np.float64) for v in nets.unique_variables(t.discriminators)}
    optimizers["d"].apply([g.numpy() for g in grads[0]], d1.trainable_variables, weights)
    _set(d1.trainable_variables, weights)
    grads.append(critic_grad(1, d2))
    optimizers["d"].apply([g.numpy() for g in grads[1]], d2.trainable_variables, weights)
    _set(d2.trainable_variables, weights)
    with tf.GradientTape(persistent=True) as tape:
        outs = nets.forward_coupled(t.generators, z_g, training=True)
        advs = [t.loss.generator(d(x, training=True)) for (x, _), d in zip(outs, t.discriminators)]
    grads += [tape.gradient(a, g.trainable_variables) for a, g in zip(advs, t.generators)]
    return grads, d2_at_start


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_listing_updates_each_network_in_turn_as_listings_6_12_and_6_13(kind, monkeypatch):
    t = _trainer(kind, "listing")
    assert t.shared_g == 4 and t.cfg.shared_layers_d == 3
    calls, reals, snapshot = _record_step(t, monkeypatch)
    d1, d2 = t.discriminators
    g1, g2 = t.generators
    # One update per network, in domain order, each on its side's one optimizer: D1, D2, G1, G2.
    assert [(opt, [id(v) for _, v in pairs]) for opt, pairs in calls] == [
        (t.d_opt, [id(v) for v in d1.trainable_variables]), (t.d_opt, [id(v) for v in d2.trainable_variables]),
        (t.g_opt, [id(v) for v in g1.trainable_variables]), (t.g_opt, [id(v) for v in g2.trainable_variables])]
    assert int(t.d_opt.iterations) == 2 and int(t.g_opt.iterations) == 2
    final = {id(v): v.numpy() for v in _all_variables(t)}

    # The gradients are those of the listings' order.
    optimizers = {"d": NumpyOptimizer(kind, LR), "g": NumpyOptimizer(kind, LR)}
    expected, d2_at_start = _hand_gradients(t, reals, snapshot, optimizers)
    for (_, pairs), e, what in zip(calls, expected, ("D1", "D2", "G1", "G2")):
        _assert_gradients(pairs, e, what)
    # ... and D2's is not the one at the start: its shared blocks had moved (what `summed` would take).
    shared_d = {id(v) for blk in d1.blocks[-3:] for v in blk.trainable_variables}
    gap = max(float(np.abs(g - s.numpy()).max()) for (g, v), s in zip(calls[1][1], d2_at_start) if id(v) in shared_d)
    scale = max(float(np.abs(s.numpy()).max()) for s in d2_at_start)
    assert gap > 1e-2 * scale, (gap, scale)

    # The final weights: the recorded gradients applied in turn with Keras' update rules, written out in NumPy.
    _assert_replayed(t, calls, snapshot, final, kind)
    if kind == "adam":
        # Two Adam updates of a shared generator kernel (the second at iteration 2, its moments carried over) are
        # not one update with g1 + g2 (what `summed` gives; with SGD the two coincide in the generator step).
        shared_kernel = g1.blocks[0].trainable_variables[0]
        assert shared_kernel is g2.blocks[0].trainable_variables[0]
        g_sum = sum(g for _, pairs in calls[2:] for g, v in pairs if v is shared_kernel)
        start = snapshot[_index(t, shared_kernel)].astype(np.float64)
        once = {id(shared_kernel): start}
        NumpyOptimizer(kind, LR).apply([g_sum], [shared_kernel], once)
        step = np.abs(final[id(shared_kernel)] - start).max()
        assert np.abs(final[id(shared_kernel)] - once[id(shared_kernel)]).max() > 0.1 * step


def _index(t, variable):
    return [id(v) for v in _all_variables(t)].index(id(variable))


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_summed_takes_one_update_with_both_gans_gradients(kind, monkeypatch):
    t = _trainer(kind, "summed")
    calls, reals, snapshot = _record_step(t, monkeypatch)
    assert [(opt, len(pairs)) for opt, pairs in calls] == [(t.d_opt, len(t.d_vars)), (t.g_opt, len(t.g_vars))]
    assert int(t.d_opt.iterations) == 1 and int(t.g_opt.iterations) == 1
    final = {id(v): v.numpy() for v in _all_variables(t)}
    # The shared critic blocks' gradient is D1's plus D2's, both at the start.
    noise = t.noise_source(t.cfg.seed, 0)
    z_d = noise.z([t.cfg.batch_size, t.cfg.noise_dim])
    _restore(t, snapshot)
    fakes = [x for x, _ in nets.forward_coupled(t.generators, z_d, training=True)]
    with tf.GradientTape() as tape:
        loss = sum(t.loss.discriminator(d(r[0], training=True), d(f, training=True))
                   for d, r, f in zip(t.discriminators, reals, fakes))
    _assert_gradients(calls[0][1], tape.gradient(loss, t.d_vars), "D (summed)")
    _assert_replayed(t, calls, snapshot, final, kind)


def test_thesis_experiments_default_to_listing_and_old_runs_keep_summed(tmp_path):
    def parse(*argv):
        return config.parse_config(list(argv), lambda c: 32)

    assert parse("--experiment", "cogan_mnist2edge_table51").shared_update == "listing"
    assert parse("--gan_type", "cogan").shared_update == "listing"
    assert parse("--shared_update", "summed").shared_update == "summed"
    # A run saved before the option existed trained with the summed update: resuming it keeps that.
    saved = parse("--dir", str(tmp_path)).to_dict()
    saved.pop("shared_update")
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert parse("--dir", str(tmp_path), "--resume").shared_update == "summed"
    with pytest.raises(SystemExit):
        parse("--shared_update", "twice")


def test_compiled_step_keeps_the_listings_order():
    """In the compiled step D2's forward must read the shared critic blocks after D1's update (TensorFlow orders
    the reads and writes of one variable as written). The compiled and the eager step agree to 1e-3 of what the
    step moved the weights (float32 differences of graph and eager kernels are ~1e-6 of it; D2's gradient before
    and after D1's update differs by over 1e-2 of its scale, test above)."""
    results = []
    for compiled in (False, True):
        t = _trainer("sgd", "listing")
        reals = [next(it) for it in t.iterators]
        before = [v.numpy() for v in t.d_vars + t.g_vars]
        (t._compiled_step if compiled else t.train_step)(reals)
        results.append([v.numpy() for v in t.d_vars + t.g_vars])
    moved = max(float(np.abs(a - b).max()) for a, b in zip(results[0], before))
    differ = max(float(np.abs(a - b).max()) for a, b in zip(results[0], results[1]))
    assert moved > 0 and differ < 1e-3 * moved, (moved, differ)
