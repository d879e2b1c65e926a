"""Mixed precision (`--mixed_precision none|bf16|fp16`): the nets compute in bfloat16 or float16 and keep float32
variables; what must stay exact stays float32 (../shared/PITFALLS.md, "Mixed precision"):

- the last layer of every net (the generators' tanh output and the critics' logit Dense are declared float32
  in nets.py), so the images the regularisers, VGG and the critics see and the logits the losses see are float32;
- the losses (losses._f32), the penalties (penalties.gradient_penalty works on float32 x_hat), the regularisers
  (regularisers._f32 on every feature map, probability and code) and weight decay;
- fp16 only: the optimizers scale the loss (keras.optimizers.LossScaleOptimizer, dynamic scale; Keras 3 has
  no get_scaled_loss: `optimizer.scale_loss` before the gradient, apply_gradients unscales and skips an update
  whose scaled gradients overflowed), and the gradient penalty's inner gradient is scaled and unscaled with
  the critic optimizer's current scale (tensorflow#48662), or its float16 gradient underflows.

bfloat16 has float32's exponent range, so it needs no loss scaling.
"""
from __future__ import annotations

import contextlib

import keras

POLICIES = {"none": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


@contextlib.contextmanager
def policy(name: str):
    """Layers built inside take the policy of `name` (Keras reads the global policy when a layer is built); the
    previous global policy is put back afterwards, so nothing else in the process changes."""
    try:
        wanted = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown --mixed_precision '{name}' (choose from {', '.join(POLICIES)})") from None
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(wanted)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def wrap_optimizer(optimizer, name: str):
    """fp16: the optimizer behind a dynamic loss scale; otherwise the optimizer itself."""
    return keras.optimizers.LossScaleOptimizer(optimizer) if name == "fp16" else optimizer


def loss_scale(optimizer):
    """The factor `optimizer.scale_loss` multiplies by (a float32 variable under fp16), or None without scaling:
    what a gradient taken inside an objective (the gradient penalty's) is scaled and unscaled with."""
    return getattr(optimizer, "dynamic_scale", None)
