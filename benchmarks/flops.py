"""Shape-based FLOP count of the networks and of one training iteration (issue 11).

    python benchmarks/flops.py [--configs scogan32,scogan32_fr,cogan32] [--batch_size 64]

What is counted: multiply-adds x 2 of the layers that dominate, from their input/output shapes (per image):
- Dense:            2 * (input elements / C_in) * C_in * units
- Conv2D:           2 * H_out * W_out * kh * kw * C_in / groups * C_out
- Conv2DTranspose:  2 * H_in * W_in * kh * kw * C_in * C_out -- the cost of the convolution it is the input
                    gradient of (TF runs it as Conv2DBackpropInput); the inserted zeros are not multiplied.
Bias adds, normalisation, activations, pooling, the losses, FR and the optimizers' updates are element-wise and
left out of the totals; `elementwise` counts the output elements of every layer (about one op each) as a
separate, rough figure.

Per iteration (trainers/base.py train_step), with F the forward FLOPs of a net per image and f1 those of its
first Dense/Conv layer (whose input gradient nobody needs when the input is noise or data):
- backward w.r.t. weights and inputs = 2F - f1 (a weight gradient and an input gradient each cost one
  forward of the layer); w.r.t. the inputs only (a frozen net, or a critic in the generator step) = F.
- K = disc_iters critic steps, each: the generators forward (CoGAN: the shared trunk once, nets.forward_coupled);
  every critic forward on the real and the fake batch and backward w.r.t. its weights on both (2F - f1 each);
  no gradient reaches the generators. WGAN-GP (penalties.gradient_penalty), per critic: forward on x_hat (F),
  the inner gradient w.r.t. x_hat (F: inputs only, down to x_hat), and the double backward, the weight gradient
  of that inner gradient: each input-gradient op (g_in = W^T g_out) is differentiated w.r.t. W and w.r.t. g_out,
  2F (GP_DOUBLE_BACKWARD). Mathematically that is all: the critics are piecewise linear (PReLU, max-pool, no
  normalisation in cogan32), so the masks' second derivatives are zero. TF still runs the backward of the x_hat
  forward pass on those zero tensors (ReluGrad's and MaxPoolGrad's gradients w.r.t. their features are
  zeros_like, not None): a weight gradient and an input gradient per layer, 2F - f1, seen in a trace of the
  scogan32 step (gradient_tape/D1_5/.../Conv2DBackpropFilter_1, Conv2DBackpropInput_1, MatMul_2, MatMul_3).
  It is executed work, so it is counted, and reported apart as "gp_zero_path". The penalty: 6F - f1 per critic.
- the generator step: the generators forward, every critic forward on its fake and backward w.r.t. its input
  (F), the generators backward w.r.t. weights and inputs (2F - f1, the shared trunk once). Regularisers:
  FR is element-wise (not counted); CC (classifiers.latent_encoder E) forward on both fakes, backward w.r.t.
  its input for the generators' gradient (E each) and, in its own tape.gradient, w.r.t. its weights
  (2E - e1 each: counted as a separate pass, grappler may share the input-gradient ops of the two calls);
  SL: the frozen classifier forward and backward w.r.t. its input on both fakes; PL: VGG19 on the 4B images
  of one call (fakes and reals), backward w.r.t. its input on all 4B (TF differentiates the concatenated batch).
Not counted: the optimizers (Adam: ~10 element-wise ops per weight), random numbers, the losses.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass, field

import keras

# Double backward of the gradient penalty, in forward passes of the critic (see the docstring: 2F).
GP_DOUBLE_BACKWARD = 2.0


@dataclass
class LayerCost:
    name: str
    kind: str           # "Dense", "Conv2D", "Conv2DTranspose" or "other"
    flops: float        # per image; 0 for "other"
    elements: int       # output elements per image
    output_shape: tuple


@dataclass
class NetCost:
    """Per image: forward FLOPs, those of the first Dense/Conv layer, output elements of all layers."""
    forward: float = 0.0
    first: float = 0.0
    elementwise: float = 0.0
    layers: list = field(default_factory=list)

    def backward(self, weights=True, input_grad=False) -> float:
        """FLOPs per image of one backward pass: weight gradients (F) and input gradients (F, less the first
        layer's when its input needs none)."""
        return (self.forward if weights else 0.0) + self.forward - (0.0 if input_grad else self.first)


def _prod(xs) -> int:
    return int(math.prod(int(x) for x in xs))


def layer_flops(layer, input_shape) -> LayerCost:
    """Cost of one leaf layer for an input of `input_shape` (without the batch axis)."""
    input_shape = tuple(int(x) for x in input_shape)
    out = tuple(int(x) for x in layer.compute_output_shape((1,) + input_shape)[1:])
    kind, flops = "other", 0.0
    if isinstance(layer, keras.layers.Dense):
        kind, flops = "Dense", 2.0 * _prod(input_shape) * layer.units
    elif isinstance(layer, keras.layers.Conv2DTranspose):  # before Conv2D: keep the subclass check first
        if layer.data_format != "channels_last":
            raise ValueError(f"{layer.name}: only channels_last is counted")
        kh, kw = layer.kernel_size
        kind, flops = "Conv2DTranspose", 2.0 * _prod(input_shape[:2]) * kh * kw * input_shape[-1] * layer.filters
    elif isinstance(layer, keras.layers.Conv2D):
        if layer.data_format != "channels_last":
            raise ValueError(f"{layer.name}: only channels_last is counted")
        kh, kw = layer.kernel_size
        kind = "Conv2D"
        flops = 2.0 * _prod(out[:2]) * kh * kw * (input_shape[-1] // layer.groups) * layer.filters
    elif layer.weights and not isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                                                   keras.layers.PReLU)):
        raise ValueError(f"{layer.name}: no FLOP rule for {type(layer).__name__}")
    return LayerCost(layer.name, kind, flops, _prod(out), out)


def _leaves(model, input_shape):
    """(leaf layer, its input shape) of a BlockNet, a Sequential or a chain-shaped functional model, in order."""
    shape = tuple(input_shape)
    if hasattr(model, "blocks"):
        for block in model.blocks:
            for leaf, s in _leaves(block, shape):
                yield leaf, s
                shape = tuple(leaf.compute_output_shape((1,) + tuple(s))[1:])
        return
    if isinstance(model, keras.Model):
        prev = None
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            # Functional: only chains (each layer reads the previous one's output) are walked.
            if prev is not None and not isinstance(model, keras.Sequential) and layer.input is not prev.output:
                raise ValueError(f"{model.name}: not a chain of layers at {layer.name}")
            for leaf, s in _leaves(layer, shape):
                yield leaf, s
                shape = tuple(leaf.compute_output_shape((1,) + tuple(s))[1:])
            prev = layer
        return
    yield model, shape


def net_flops(model, input_shape=None, blocks=None) -> NetCost:
    """Per-image cost of `model` (or of the given `blocks` of a BlockNet) on inputs of `input_shape` (no batch
    axis; default: BlockNet.input_spec_shape, or the model's own input shape)."""
    if input_shape is None:
        input_shape = getattr(model, "input_spec_shape", None) or tuple(model.inputs[0].shape[1:])
    target = model if blocks is None else _Blocks(blocks)
    cost = NetCost()
    for leaf, s in _leaves(target, input_shape):
        c = layer_flops(leaf, s)
        if c.flops and not any(lc.flops for lc in cost.layers):
            cost.first = c.flops
        cost.layers.append(c)
        cost.forward += c.flops
        cost.elementwise += c.elements
    return cost


class _Blocks:
    def __init__(self, blocks):
        self.blocks = list(blocks)


def _shape_after(blocks, input_shape):
    shape = tuple(input_shape)
    for leaf, s in _leaves(_Blocks(blocks), shape):
        shape = tuple(leaf.compute_output_shape((1,) + tuple(s))[1:])
    return shape


def generators_flops(generators, shared=None) -> NetCost:
    """Per-z cost of all generators together as nets.forward_coupled runs them: the `shared` leading blocks
    (default nets.shared_prefix) once, then every generator's own blocks. `first` sums the first layers of the
    distinct passes that start from z (the trunk, or each generator when nothing is shared)."""
    import nets
    k = nets.shared_prefix(generators) if shared is None else shared
    z_shape = generators[0].input_spec_shape
    parts = []
    if k:
        parts.append(net_flops(generators[0], z_shape, generators[0].blocks[:k]))
    trunk_out = _shape_after(generators[0].blocks[:k], z_shape)
    for g in generators:
        head = net_flops(g, trunk_out, g.blocks[k:])
        if k:
            head.first = 0.0  # its input (the trunk's output) needs a gradient
        parts.append(head)
    total = NetCost()
    for p in parts:
        total.forward += p.forward
        total.first += p.first
        total.elementwise += p.elementwise
        total.layers += p.layers
    return total


def iteration_flops(trainer, batch_size=None, gp_double_backward=GP_DOUBLE_BACKWARD) -> dict:
    """FLOPs of one train_step of an AdversarialTrainer (see the module docstring for what is counted):
    {"critic_steps": the K critic steps without the penalty, "gp": the K steps' gradient penalties
    ("gp_zero_path": the part of "gp" that back-propagates zeros through the x_hat forward pass),
    "generator_step": ..., "regularisers": the generator step's regulariser nets (CC, SL, PL), "total",
    "elementwise": output elements of the layers in the forward passes (about one op each, not in the total),
    "per_image": forward FLOPs per image of the nets, "not_counted": what is left out}. Totals for
    `batch_size` images per batch (default cfg.batch_size)."""
    cfg = trainer.cfg
    b = float(batch_size or cfg.batch_size)
    k = int(cfg.disc_iters)
    g = generators_flops(trainer.generators, trainer.shared_g)
    ds = [net_flops(d) for d in trainer.discriminators]
    d_fwd = sum(d.forward for d in ds)

    # Critic step: generators forward, critics forward on real and fake, their weight gradients on both.
    critic = g.forward + sum(2 * d.forward + 2 * d.backward(weights=True) for d in ds)
    gp = zero_path = 0.0
    if cfg.disc_penalty == "wgan-gp":
        zero_path = sum(d.backward(weights=True) for d in ds)
        gp = sum(d.forward + d.forward + gp_double_backward * d.forward for d in ds) + zero_path
    gen = g.forward + d_fwd + d_fwd + g.backward(weights=True)  # critics: inputs only

    reg, notes = 0.0, ["optimizer updates", "losses, FR and other element-wise ops"]
    n_fakes = len(trainer.generators)
    if getattr(cfg, "cycle_consistency", False):
        e = net_flops(trainer.encoder)
        # forward, input gradient for the generators, then its own weight gradient pass (see the docstring).
        reg += n_fakes * (e.forward + e.forward + e.backward(weights=True))
    if getattr(cfg, "semantic_loss", False):
        c = net_flops(trainer.classifier, trainer.input_shape)
        reg += n_fakes * (c.forward + c.forward)
    if getattr(cfg, "perceptual_loss", False):
        v = net_flops(trainer.vgg, tuple(trainer.input_shape[:2]) + (3,))  # grey images are repeated to RGB
        reg += 2 * n_fakes * (v.forward + v.forward)  # fakes and as many reals in one call, backward on all
    gen += reg

    total = b * (k * (critic + gp) + gen)
    # Forward passes only (real, fake and x_hat per critic step; the fakes in the generator step).
    d_el = sum(d.elementwise for d in ds)
    elementwise = b * (k * (g.elementwise + (3 if gp else 2) * d_el) + g.elementwise + d_el)
    per_image = {"generators": g.forward}
    per_image.update({net.name: cost.forward for net, cost in zip(trainer.discriminators, ds)})
    return {"critic_steps": b * k * critic, "gp": b * k * gp, "gp_zero_path": b * k * zero_path,
            "generator_step": b * (gen - reg), "regularisers": b * reg, "total": total, "elementwise": elementwise,
            "per_image": per_image, "not_counted": notes}


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from bench_configs import build
    p = argparse.ArgumentParser()
    p.add_argument("--configs", default="scogan32,scogan32_fr,scogan32_cc,cogan32")
    p.add_argument("--batch_size", type=int, default=64)
    a = p.parse_args()
    for name in a.configs.split(","):
        t, _ = build(name, a.batch_size)
        f = iteration_flops(t)
        parts = ", ".join(f"{key} {f[key] / 1e9:.1f}" for key in ("critic_steps", "gp", "generator_step",
                                                                   "regularisers"))
        per = ", ".join(f"{n} {v / 1e6:.2f}" for n, v in f["per_image"].items())
        print(f"{name} batch {a.batch_size}: {f['total'] / 1e9:.1f} GFLOP/it ({parts}); forward MFLOP per image: "
              f"{per}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
