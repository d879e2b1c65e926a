"""At what scale does the perceptual loss (thesis Eq. 4.5, Listings 6.17/6.18) enter the generator objective?

    python benchmarks/pl_scale.py [--iterations 60] [--batch_size 32] [--preset thesis] [--data_dir ../shared/data]
        [--lpips_weights DIR] [--out DIR] [--no_results]

The thesis chose alpha_PL = 0.001 and beta_PL = 1e-11 "such that they correspond better with our adversarial
loss" (sec. 5, line 988): the weighted terms should be of the adversarial terms' order, neither vanishing nor
dominating. This trains a short SCoGAN-PL run on real MNIST2edge (the t10k digits of DATA_DIR, split 50/50 as
`--cogan_data mnist2edge --data_dir DATA_DIR`) through main.py and compares the logged `pl_content`,
`pl_style_1`, `pl_style_2` with the adversarial generator terms `g_loss_1`, `g_loss_2`.

ImageNet VGG19 weights cannot be downloaded here. Stand-in: the real ImageNet-trained VGG16 convolution stack
shipped with the LPIPS weights (`python -m metrics.weights --fetch DIR`; torchvision's VGG16: RGB in [0, 1]
normalised by the ImageNet mean and std). VGG16 has the same layer names for PL's layers (block1..5_conv1,
block5_conv2); our Caffe-preprocessed input is mapped back to torchvision's normalisation inside the model, so
the activations are those of a trained network at the right input scale. VGG19 has three more convolutions
before block5_conv1/2, so its activations differ somewhat; the order of magnitude is what this measures.

It also prints, on the same VGG features, by how much the earlier normalisation (a later snapshot of the
authors' code: Gram / (H*W*C), content divided again by the layer size) would shrink each term.
One markdown row is added to the "PL scale" section of benchmarks/RESULTS.md.
"""
import argparse
import csv
import datetime
import os
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")

import numpy as np  # noqa: E402
import results_md  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## PL scale"
PREAMBLE = """
| date | commit | machine | command | logged steps | median abs g_loss_1 / g_loss_2 | median pl_content | median pl_style_1 / pl_style_2 | earlier normalisation: content divided by | earlier: style divided by | minutes |
|---|---|---|---|---|---|---|---|---|---|---|
"""
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=60)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--preset", default="thesis", help="sec. 5.1's WGAN-GP setting (default), as Table 5.1's PL run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data_dir", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--lpips_weights", default=os.environ.get("LPIPS_WEIGHTS_DIR"),
                   help="folder holding vgg16.npz (default $LPIPS_WEIGHTS_DIR)")
    p.add_argument("--out", help="run folder (default runs/pl_scale_<time>)")
    p.add_argument("--no_results", action="store_true")
    return p.parse_args()


def vgg16_imagenet_features(arrays, content_layer, style_layers):
    """A frozen VGG16 (keras layer names) with the LPIPS package's ImageNet weights, taking the Caffe-preprocessed
    input regularisers.vgg_preprocess produces -> {layer: features}."""
    import regularisers
    inp = keras.Input((None, None, 3))
    bgr_means = tf.constant(regularisers.VGG_BGR_MEANS, tf.float32)
    # Caffe (0..255, BGR, minus means) -> torchvision (RGB in [0, 1], minus mean, over std).
    rgb01 = keras.layers.Lambda(lambda x: (x + bgr_means)[..., ::-1] / 255.0)(inp)
    x = keras.layers.Lambda(lambda x: (x - tf.constant(TORCH_MEAN)) / tf.constant(TORCH_STD))(rgb01)
    vgg = keras.applications.VGG16(include_top=False, weights=None)
    convs = [layer for layer in vgg.layers if isinstance(layer, keras.layers.Conv2D)]
    for i, layer in enumerate(convs):
        layer.set_weights([arrays[f"VGG16_0/Conv_{i}/kernel"], arrays[f"VGG16_0/Conv_{i}/bias"]])
    names = list(dict.fromkeys([content_layer, *style_layers]))
    taps = keras.Model(vgg.input, {n: vgg.get_layer(n).output for n in names})
    model = keras.Model(inp, taps(x), name="vgg16_imagenet_features")
    model.trainable = False
    return model


def old_normalisation_factors(vgg, images, content_layer, style_layers):
    """How much smaller each term is under the earlier normalisation, on these features: content / (H*W*C);
    Gram / (H*W*C) instead of / (H*W), i.e. the squared Gram difference / C^2 per layer."""
    import regularisers
    out = vgg(regularisers.vgg_preprocess(images), training=False)
    c = out[content_layer].shape
    content = float(np.prod(c[1:]))
    style = [float(out[n].shape[-1]) ** 2 for n in style_layers]
    return content, style


def main():
    a = parse()
    import regularisers
    from metrics import weights as W
    import data
    import main as cli

    if data._find_idx_file(a.data_dir, "mnist", "t10k") is None:
        sys.exit(f"error: no MNIST t10k idx files under {a.data_dir}/mnist (see ../shared/data/README.md)")
    try:
        arrays = W.load_weights("vgg", a.lpips_weights, download=False)
    except W.WeightsError as e:
        sys.exit(f"error: {' '.join(str(e).split())}")
    content_layer, style_layers = regularisers.VGG_CONTENT_LAYER, regularisers.VGG_STYLE_LAYERS
    built = []

    def stand_in(weights="imagenet", content_layer=content_layer, style_layers=style_layers):
        built.append(vgg16_imagenet_features(arrays, content_layer, style_layers))
        return built[-1]

    regularisers.build_vgg19_features = stand_in   # the trainer builds PL's network through this function
    out = Path(a.out or ROOT / "runs" / f"pl_scale_{time.strftime('%Y%m%d-%H%M%S')}")
    argv = ["--gan_type", "scogan", "--cogan_data", "mnist2edge", "--data_dir", a.data_dir, "--no_download",
            "--perceptual_loss", "--preset", a.preset, "--iterations", a.iterations, "--batch_size", a.batch_size,
            "--seed", a.seed, "--log_interval", 10, "--sample_interval", a.iterations, "--checkpoint_interval",
            a.iterations, "--no_final_eval", "--dir", out, "--overwrite"]
    t0 = time.time()
    rc = cli.main([str(v) for v in argv])
    if rc:
        sys.exit(f"error: the PL run failed (exit {rc})")
    minutes = (time.time() - t0) / 60
    with open(out / "losses.csv") as f:
        rows = list(csv.DictReader(f))
    col = lambda k: np.array([float(r[k]) for r in rows])  # noqa: E731
    med = {k: float(np.median(np.abs(col(k)))) for k in ("g_loss_1", "g_loss_2", "pl_content", "pl_style_1",
                                                           "pl_style_2")}
    adv = (med["g_loss_1"] + med["g_loss_2"]) / 2
    images = next(iter(data.load_pair("mnist2edge", batch_size=8, seed=0, data_dir=a.data_dir, download=False)[0]))
    shrink_content, shrink_style = old_normalisation_factors(built[-1], images, content_layer, style_layers)
    print(f"median |g_loss| {adv:.4g}; pl_content {med['pl_content']:.4g}, pl_style_1 {med['pl_style_1']:.4g}, "
          f"pl_style_2 {med['pl_style_2']:.4g}")
    print(f"the earlier normalisation would divide pl_content by {shrink_content:,.0f} and each style layer's "
          f"term by {min(shrink_style):,.0f}..{max(shrink_style):,.0f}")
    command = "python benchmarks/pl_scale.py " + " ".join(
        f"--{k} {shlex.quote(str(getattr(a, k)))}" for k in ("iterations", "batch_size", "preset", "seed"))
    row = (f"| {datetime.date.today().isoformat()} | {results_md.commit()} | {os.cpu_count()}-core CPU, TF {tf.__version__} | "
           f"`{command}` | {len(rows)} | {med['g_loss_1']:.3g} / {med['g_loss_2']:.3g} | {med['pl_content']:.3g} | "
           f"{med['pl_style_1']:.3g} / {med['pl_style_2']:.3g} | {shrink_content:,.0f} | "
           f"{min(shrink_style):,.0f}..{max(shrink_style):,.0f} | {minutes:.1f} |")
    print(row)
    if not a.no_results:
        results_md.add_row(SECTION, row, PREAMBLE)
        print(f"added to {RESULTS}")

if __name__ == "__main__":
    main()
