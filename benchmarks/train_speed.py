"""Training throughput of one compiled iteration (K critic steps + 1 generator step) per architecture.

    python benchmarks/train_speed.py [--arch cogan32] [--gan_type cogan] [--batch_size 64] [--steps 10] [--xla]

Synthetic inputs, so it measures the step, not the input pipeline. Prints iterations/s and images/s.
"""
import argparse
import os
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from config import Config, resolve  # noqa: E402
from trainers import get_trainer  # noqa: E402


@dataclass(frozen=True)
class Info:
    name: str
    shape: tuple
    sizes: tuple
    skipped: int = 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="cogan32")
    p.add_argument("--gan_type", default="cogan", choices=["gan", "cogan", "scogan"])
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--preset", default="dcgan")
    p.add_argument("--xla", action="store_true")
    a = p.parse_args()
    size = {"cogan32": 32, "dcgan64": 64, "cogan128": 128, "cogan256": 256}[a.arch]
    key = "dataset" if a.gan_type == "gan" else "cogan_data"
    cfg = resolve(Config(gan_type=a.gan_type, arch=a.arch, batch_size=a.batch_size, iterations=a.steps,
                         preset=a.preset, xla=a.xla, **{key: "synthetic"}), lambda c: size)
    shape = (size, size, 3)
    domains = 1 if a.gan_type == "gan" else 2
    data = [tf.data.Dataset.from_tensors(tf.random.uniform((a.batch_size,) + shape, -1, 1)).repeat()] * domains
    t = get_trainer(a.gan_type)(cfg, Info("synthetic", shape, (1,) * domains), data)
    reals = [next(it) for it in t.iterators]
    t0 = time.time()
    float(t._compiled_step(reals)["g_total"])
    trace = time.time() - t0
    t0 = time.time()
    for _ in range(a.steps):
        logs = t._compiled_step(reals)
    float(logs["g_total"])
    dt = (time.time() - t0) / a.steps
    print(f"{a.gan_type} {a.arch} batch {a.batch_size} preset {a.preset} xla {a.xla}: "
          f"{1 / dt:.3f} it/s ({dt:.3f} s/it, {a.batch_size * domains / dt:.0f} generated images/s); "
          f"first call incl. tracing {trace:.1f} s; device {tf.config.list_logical_devices()[-1].device_type}")


if __name__ == "__main__":
    np.random.seed(0)
    main()
