"""LPIPS v0.1 throughput (pairs/s): our Keras/TF port vs the official PyTorch package, same machine and inputs.

    python benchmarks/lpips_speed.py [--net alex] [--size 32] [--batch 256] [--pairs 4096] [--grad]

Needs the real weights ($LPIPS_WEIGHTS_DIR or ~/.cache/coupled_gan/lpips; `python -m metrics.weights --fetch
DIR`). The official package (pip install torch torchvision lpips) is timed only when importable; it gets the
same weights, so the table also prints the largest distance difference. --grad adds forward+backward w.r.t.
the first input (LPIPS used as a loss).
"""
import argparse
import os
import sys
import time
import types
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from metrics import LPIPS  # noqa: E402
from metrics import weights as W  # noqa: E402


def _time(fn, batches, warmup):
    for xb, yb in batches[:warmup]:
        fn(xb, yb)
    t0 = time.perf_counter()
    out = [fn(xb, yb) for xb, yb in batches]
    return time.perf_counter() - t0, np.concatenate(out)


def _official(net, arrays):
    """Official lpips.LPIPS with our arrays copied in, or None when torch/lpips are not importable."""
    try:
        import torch
        try:
            import torchvision  # noqa: F401
        except RuntimeError:
            # PyPI's CUDA-linked torchvision under a CPU-only torch: its C ops are missing and the import dies
            # registering fake kernels for them; LPIPS needs only torchvision.models.
            sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lpips
            model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False).eval()
    except (ImportError, RuntimeError) as e:
        print(f"official lpips not available ({e}); timing ours only")
        return None, None
    layout = W.official_layout(arrays, net)
    convs = [m for m in model.net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(layout["convs"]) and len(model.lins) == len(layout["lins"])
    with torch.no_grad():
        for conv, (weight, bias) in zip(convs, layout["convs"]):
            conv.weight.copy_(torch.from_numpy(weight))
            conv.bias.copy_(torch.from_numpy(bias))
        for lin, weight in zip(model.lins, layout["lins"]):
            lin.model[-1].weight.copy_(torch.from_numpy(weight))
    return torch, model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--net", default="alex", choices=["alex", "vgg"])
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--pairs", type=int, default=4096)
    p.add_argument("--warmup", type=int, default=2, help="batches run before timing (tracing, allocation)")
    p.add_argument("--grad", action="store_true", help="also time forward+backward w.r.t. the first input")
    a = p.parse_args()

    rng = np.random.default_rng(0)
    n_batches = max(1, a.pairs // a.batch)
    shape = (a.batch, a.size, a.size, 3)
    batches = [(rng.uniform(-1, 1, shape).astype(np.float32), rng.uniform(-1, 1, shape).astype(np.float32))
               for _ in range(n_batches)]
    pairs = n_batches * a.batch

    ours = LPIPS(a.net)
    torch, official = _official(a.net, W.load_weights(a.net))

    def tf_fwd(x, y):
        return ours(x, y).numpy()

    @tf.function(reduce_retracing=True)
    def tf_grad_step(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(ours(x, y))
        return tape.gradient(loss, x)

    def tf_grad(x, y):
        return tf_grad_step(tf.constant(x), tf.constant(y)).numpy()[:, 0, 0, 0]

    rows = [("ours (TF " + tf.__version__ + ")", "forward", tf_fwd)]
    if a.grad:
        rows.append(("ours (TF " + tf.__version__ + ")", "fwd+bwd", tf_grad))
    if official is not None:
        def pt_fwd(x, y):
            with torch.no_grad():
                return official(torch.from_numpy(x.transpose(0, 3, 1, 2)),
                                torch.from_numpy(y.transpose(0, 3, 1, 2))).numpy().reshape(-1)

        def pt_grad(x, y):
            xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
            official(xt, torch.from_numpy(y.transpose(0, 3, 1, 2))).sum().backward()
            return xt.grad.numpy()[:, 0, 0, 0]

        label = "official lpips (torch " + torch.__version__ + f", {torch.get_num_threads()} threads)"
        rows.append((label, "forward", pt_fwd))
        if a.grad:
            rows.append((label, "fwd+bwd", pt_grad))

    print(f"LPIPS-{a.net} v0.1, {a.size}x{a.size} RGB, batch {a.batch}, {pairs} pairs timed after "
          f"{a.warmup} warm-up batches; {os.cpu_count()} CPUs")
    print(f"command: python benchmarks/{os.path.basename(__file__)} " + " ".join(sys.argv[1:]))
    print(f"{'implementation':<44} {'pass':<8} {'pairs/s':>10} {'ms/batch':>9}")
    results = {}
    for name, kind, fn in rows:
        dt, out = _time(fn, batches, a.warmup)
        results[(name.split()[0], kind)] = out
        print(f"{name:<44} {kind:<8} {pairs / dt:>10.0f} {1000 * dt / n_batches:>9.1f}")
    if ("official", "forward") in results:
        diff = np.abs(results[("ours", "forward")] - results[("official", "forward")]).max()
        print(f"max |ours - official| over the {pairs} distances: {diff:.2e}")


if __name__ == "__main__":
    main()
