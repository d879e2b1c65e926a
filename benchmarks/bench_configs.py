"""The thesis configurations the benchmarks time, built as trainers on synthetic inputs (the step, not the
input pipeline). A module of its own so that bench_train.py, flops.py, bench_input.py and cogan_trunk.py
import it without importing each other."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tensorflow as tf  # noqa: E402

from config import Config, resolve  # noqa: E402
from data_sources.base import DataInfo  # noqa: E402
from trainers import get_trainer  # noqa: E402

# The thesis's configurations (sec. 5.1: WGAN-GP, 5 critic steps; CoGAN with the tables' sharing).
CONFIGS = {
    "scogan32": dict(gan_type="scogan", arch="cogan32", preset="thesis"),
    "scogan32_fr": dict(gan_type="scogan", arch="cogan32", preset="thesis", feature_regulariser=True),
    "scogan32_cc": dict(gan_type="scogan", arch="cogan32", preset="thesis", cycle_consistency=True),
    "cogan32": dict(gan_type="cogan", arch="cogan32", preset="thesis"),
    "cogan32_dcgan": dict(gan_type="cogan", arch="cogan32", preset="dcgan"),
    "cogan128": dict(gan_type="cogan", arch="cogan128", preset="wgan-gp"),
}
SIZE = {"cogan32": 32, "cogan128": 128, "cogan256": 256}


def synthetic_info(size):
    """The DataInfo of `synthetic`'s two domains of size x size RGB images (one batch each, repeated)."""
    return DataInfo("synthetic", (size, size, 3), (1, 1))


def synthetic(batch_size, size):
    """Two endless datasets repeating one uniform [-1, 1] batch of size x size RGB images."""
    shape = (size, size, 3)
    return [tf.data.Dataset.from_tensors(tf.random.uniform((batch_size,) + shape, -1, 1)).repeat()] * 2


def build(name, batch_size, mixed_precision="none"):
    """-> (trainer of CONFIGS[name], one real batch per domain)."""
    settings = dict(CONFIGS[name])
    size = SIZE[settings["arch"]]
    cfg = resolve(Config(batch_size=batch_size, iterations=1, cogan_data="synthetic", mixed_precision=mixed_precision,
                         **settings), lambda c: size)
    t = get_trainer(cfg.gan_type)(cfg, synthetic_info(size), synthetic(batch_size, size))
    return t, [next(it) for it in t.iterators]
