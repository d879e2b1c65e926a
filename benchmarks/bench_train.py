"""Training speed of the thesis configurations, our compiled step against a plain eager GradientTape loop of
the same model and data (the way the thesis prototype trained), side by side in one process.

    python benchmarks/bench_train.py [--configs scogan32_fr,cogan32] [--batch_size 64] [--steps 3] [--rounds 3]
                                     [--eager_steps 1] [--append]

For each configuration, after a warm-up step: the median seconds per iteration over `rounds` rounds of `steps`
compiled iterations, and of `eager_steps` eager iterations of two baselines: the same AdversarialTrainer.train_step
not wrapped in tf.function, and a hand-written plain eager loop of the same nets (`hand_eager_loop`, the way
the thesis prototype trained); iterations/s, generated images/s, the FLOPs of one iteration counted from the layers'
shapes (benchmarks/flops.py: dense layers and convolutions, forward and backward, the gradient penalty's double
backward) and the achieved FLOP/s against this device's float32 matmul peak, measured in the same run. The
printed line also gives TF's profiler count on the traced step ("profiler"), an upper bound only: it counts
the transposed convolutions' gradient ops as dense convolutions of the upsampled maps. Synthetic inputs: the
step, not the input pipeline. --append adds the rows to benchmarks/RESULTS.md ("Training speed"; the table
holds the shape-based count).
"""
import argparse
import os
import sys
import time
from datetime import date

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench_configs import build  # noqa: E402  (benchmarks/)
from flops import iteration_flops  # noqa: E402  (benchmarks/)


def profiler_flops(t, reals) -> float:
    """Float operations of one traced iteration as TF's profiler counts them (ops with registered statistics):
    an upper bound, kept for comparison with the shape-based count (flops.iteration_flops)."""
    from tensorflow.python.profiler import model_analyzer, option_builder
    graph = t._compiled_step.get_concrete_function(reals).graph
    opts = (option_builder.ProfileOptionBuilder(option_builder.ProfileOptionBuilder.float_operation())
            .with_empty_output().build())
    return float(model_analyzer.profile(graph, options=opts).total_float_ops)


def matmul_peak(n=2048, reps=10, dtype=tf.float32) -> float:
    """FLOP/s of a large matmul in `dtype` on this device (the practical peak)."""
    a, b = tf.cast(tf.random.uniform((n, n)), dtype), tf.cast(tf.random.uniform((n, n)), dtype)
    f = tf.function(lambda: tf.matmul(a, b))
    f().numpy()
    t0 = time.perf_counter()
    for _ in range(reps):
        out = f()
    out.numpy()
    return 2.0 * n ** 3 * reps / (time.perf_counter() - t0)


def hand_eager_loop(t):
    """One iteration written the way the thesis prototype trained: plain Python and eager GradientTapes over the
    trainer's own nets, each generator run whole (no shared trunk), WGAN-GP by an inner tape, fresh noise from
    tf.random, its own Adam optimizers, none of our trainer's machinery (no registries, logs dict, finite checks).
    A second baseline beside `t.train_step` run eagerly; it moves the trainer's weights (timing only)."""
    import keras
    import penalties
    cfg = t.cfg
    g_opt = keras.optimizers.Adam(cfg.g_lr, cfg.g_beta1, cfg.g_beta2)
    d_opt = keras.optimizers.Adam(cfg.d_lr, cfg.d_beta1, cfg.d_beta2)
    g_opt.build(t.g_vars)
    d_opt.build(t.d_vars)
    gp = cfg.disc_penalty == "wgan-gp"

    def step(reals):
        b = reals[0].shape[1]
        for k in range(cfg.disc_iters):
            z = tf.random.uniform([b, cfg.noise_dim], -1.0, 1.0)
            with tf.GradientTape() as tape:
                total = 0.0
                for g, d, r in zip(t.generators, t.discriminators, reals):
                    fake = g(z, training=True)
                    total += t.loss.discriminator(d(r[k], training=True), d(fake, training=True))
                    if gp:
                        alpha = tf.random.uniform([b, 1, 1, 1])
                        total += cfg.gp_weight * penalties.gradient_penalty(d, r[k], fake, alpha)
            d_opt.apply_gradients(zip(tape.gradient(total, t.d_vars), t.d_vars))
        z = tf.random.uniform([b, cfg.noise_dim], -1.0, 1.0)
        with tf.GradientTape() as tape:
            outs = [g.call_with_features(z, training=True) for g in t.generators]
            fakes, features = [o[0] for o in outs], [o[1] for o in outs]
            total = sum(t.loss.generator(d(f, training=True)) for f, d in zip(fakes, t.discriminators))
            total += sum(t.coupling_terms(z, fakes, features, [r[-1] for r in reals]).values())
        g_opt.apply_gradients(zip(tape.gradient(total, t.g_vars), t.g_vars))
        return {"g_total": total}

    return step


def seconds(fn, reals, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        logs = fn(reals)
    float(logs["g_total"])
    return (time.perf_counter() - t0) / steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--configs", default="scogan32_fr,cogan32")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--eager_steps", type=int, default=1)
    p.add_argument("--mixed_precision", default="none",
                   help="comma-separated: also time the compiled step in these precisions (e.g. none,bf16); the "
                        "eager baseline is always float32, the way the thesis trained")
    p.add_argument("--append", action="store_true")
    a = p.parse_args()
    device = tf.config.list_logical_devices()[-1].device_type
    peak = matmul_peak()
    rows = []
    for name in a.configs.split(","):
        t, reals = build(name, a.batch_size)
        flops = iteration_flops(t, a.batch_size)["total"]
        prof = profiler_flops(t, reals)
        float(t._compiled_step(reals)["g_total"])   # trace + warm up
        float(t.train_step(reals)["g_total"])       # eager warm-up
        hand_step = hand_eager_loop(t)
        float(hand_step(reals)["g_total"])
        compiled, eager, hand = [], [], []
        for _ in range(a.rounds):
            compiled.append(seconds(t._compiled_step, reals, a.steps))
            eager.append(seconds(t.train_step, reals, a.eager_steps))
            hand.append(seconds(hand_step, reals, a.eager_steps))
        c, e, h = float(np.median(compiled)), float(np.median(eager)), float(np.median(hand))
        line = (f"{name} batch {a.batch_size}: compiled {c:.3f} s/it ({1 / c:.3f} it/s, {2 * a.batch_size / c:.0f} "
                f"images/s), eager {e:.3f} s/it, speed-up {e / c:.2f}x; {flops / 1e9:.1f} GFLOP/it, "
                f"{flops / c / 1e9:.1f} GFLOP/s = {flops / c / peak:.0%} of the matmul peak {peak / 1e9:.0f} GFLOP/s "
                f"({device}); profiler {prof / 1e9:.1f} GFLOP/it (upper bound); hand-written eager loop {h:.3f} "
                f"s/it, speed-up {h / c:.2f}x")
        print(line, flush=True)
        rows.append((name, c, e, flops, peak))
        for mp in [m for m in a.mixed_precision.split(",") if m != "none"]:
            tm, _ = build(name, a.batch_size, mp)
            float(tm._compiled_step(reals)["g_total"])
            # Interleaved with float32 compiled rounds, so that load changes hit both alike.
            cm, c32 = [], []
            for _ in range(a.rounds):
                cm.append(seconds(tm._compiled_step, reals, a.steps))
                c32.append(seconds(t._compiled_step, reals, a.steps))
            cm, c32 = float(np.median(cm)), float(np.median(c32))
            peak_mp = matmul_peak(dtype=tf.bfloat16 if mp == "bf16" else tf.float16)
            print(f"{name}+{mp} batch {a.batch_size}: compiled {cm:.3f} s/it against float32 compiled {c32:.3f} "
                  f"({c32 / cm:.2f}x), float32 eager {e:.3f} ({e / cm:.2f}x) and the hand-written float32 eager "
                  f"loop {h:.3f} ({h / cm:.2f}x); {flops / cm / 1e9:.1f} GFLOP/s = "
                  f"{flops / cm / peak_mp:.0%} of the {mp} matmul peak {peak_mp / 1e9:.0f} GFLOP/s", flush=True)
            rows.append((f"{name}+{mp}", cm, e, flops, peak_mp))
    if a.append:
        from results_md import add_row, commit
        command = "python benchmarks/bench_train.py " + " ".join(sys.argv[1:])
        pre = ("Our compiled step against a plain eager GradientTape loop of the same trainer (the same train_step, "
               "not wrapped in tf.function), side by side in one process; synthetic inputs; FLOPs counted from the "
               "layers' shapes (benchmarks/flops.py); peak = float32 2048x2048 matmul in the same run.\n\n"
               "| date | commit | device | command | config | batch | compiled (s/it) | eager (s/it) | speed-up | "
               "GFLOP/it | GFLOP/s (of peak) |\n|---|---|---|---|---|---|---|---|---|---|---|")
        for name, c, e, flops, peak in rows:
            add_row("## Training speed", f"| {date.today()} | {commit()} | {device}, {os.cpu_count()} cores | "
                    f"`{command.replace('--append', '').strip()}` | {name} | {a.batch_size} | {c:.3f} | {e:.3f} | "
                    f"{e / c:.2f}x | {flops / 1e9:.1f} | {flops / c / 1e9:.1f} ({flops / c / peak:.0%} of "
                    f"{peak / 1e9:.0f}) |", pre)


if __name__ == "__main__":
    main()
