"""CoGAN with the default sharing: the shared generator trunk run once per forward pass (nets.forward_coupled)
against both generators run whole (the behaviour before), side by side in one process, alternating rounds.

    python benchmarks/cogan_trunk.py [--arch cogan32] [--batch_size 64] [--preset thesis] [--steps 5] [--rounds 3]

Synthetic inputs (the step, not the input pipeline); prints the median seconds per iteration of each and the ratio.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import nets  # noqa: E402
from config import Config, resolve  # noqa: E402
from bench_configs import SIZE, synthetic, synthetic_info  # noqa: E402  (benchmarks/)
from bench_train import seconds  # noqa: E402  (benchmarks/: the same timing as bench_train.py)
from trainers.cogan import CoGANTrainer  # noqa: E402


def separately(generators, z, training=False, shared=None):
    return [g.call_with_features(z, training=training) for g in generators]


def trainer(arch, batch_size, preset, forward):
    nets_forward = nets.forward_coupled
    nets.forward_coupled = forward  # read when the step is traced
    size = SIZE[arch]
    cfg = resolve(Config(gan_type="cogan", arch=arch, batch_size=batch_size, iterations=1, preset=preset,
                         cogan_data="synthetic"), lambda c: size)
    t = CoGANTrainer(cfg, synthetic_info(size), synthetic(batch_size, size))
    reals = [next(it) for it in t.iterators]
    float(t._compiled_step(reals)["g_total"])  # trace and warm up
    nets.forward_coupled = nets_forward
    return t, reals


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="cogan32")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--preset", default="thesis")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    once = trainer(a.arch, a.batch_size, a.preset, nets.forward_coupled)
    twice = trainer(a.arch, a.batch_size, a.preset, separately)
    times = {"once": [], "twice": []}
    for _ in range(a.rounds):
        times["once"].append(seconds(once[0]._compiled_step, once[1], a.steps))
        times["twice"].append(seconds(twice[0]._compiled_step, twice[1], a.steps))
    m = {k: float(np.median(v)) for k, v in times.items()}
    print(f"cogan {a.arch} batch {a.batch_size} preset {a.preset} (shared g blocks {once[0].shared_g}): "
          f"trunk once {m['once']:.3f} s/it, both generators whole {m['twice']:.3f} s/it, "
          f"speed-up {m['twice'] / m['once']:.2f}x (medians of {a.rounds} rounds of {a.steps} steps; "
          f"{os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
