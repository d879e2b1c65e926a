"""Input-pipeline throughput and memory: the tf.data streams the trainer reads, measured alone (no training step).

    python benchmarks/bench_input.py [--sizes 10000,50000,200000] [--dir /tmp/bench_input] [--batch_size 64]
                                     [--disc_iters 5] [--batches 40] [--warmup 5] [--append]

Measured, each pipeline consumed exactly as trainers/base.py does (`ds.batch(disc_iters)` of the stream that
data.load_pair returns, batch 64, K=5 critic batches per element):
  * throughput: images/s (= elements x K x batch / s) over `--batches` elements after `--warmup` elements, for
    (a) a folder of 128x128 JPEGs (made by make_jpeg_folder under --dir/n<size>) through the functions each
    domain of `--domain_a DIR --domain_b DIR` runs (_folder_images -> _files_pipeline, via load_single), the
    start-up (listing + the `_decodable` check of every file) timed separately, and (b) the in-memory
    digit pipelines at 32x32 (mnist2fashion and mnist2edge from the real idx files of ../shared/data; the
    MNIST there is the 10k test split, which only changes the array length, not the per-batch work);
  * memory: the peak RSS (ru_maxrss) of a fresh subprocess that builds the folder pipeline of one folder size
    and reads `--batches` elements, per size in --sizes, beside a baseline process that only imports TF;
  * the training step it feeds, as images/s consumed = 2 domains x K x batch / (s/it): cogan128 (one compiled
    iteration measured once here, or --step_seconds) for the folder, cogan32 (2.793 s/it, RESULTS.md "Training
    speed") for the digits; ratio = one stream's images/s over that (the two streams share the cores).
--append adds the rows to benchmarks/RESULTS.md ("## Input pipeline").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
COGAN32_STEP_S = 2.793   # RESULTS.md "Training speed", cogan32 batch 64 compiled on this 2-core CPU


# ---------------------------------------------------------------------------------------------- test data
def _jpeg_bytes(index: int, size: int, seed: int, quality: int = 90) -> bytes:
    """One CelebA-like stand-in: a smooth colour field, a few soft blobs and mild grain -> JPEG bytes.

    Pure noise would encode to ~30 KB and decode slower than a photo; flat colour to <2 KB. This lands in the
    4-8 KB of a 128x128 face at quality 90, so read + decode cost is realistic.
    """
    import io
    from PIL import Image
    rng = np.random.default_rng([seed, index])
    low = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    img = np.asarray(Image.fromarray(low).resize((size, size), Image.BICUBIC), np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for _ in range(rng.integers(3, 7)):
        cy, cx = rng.uniform(0, size, 2)
        ry, rx = rng.uniform(size / 12, size / 4, 2)
        mask = np.exp(-(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2))
        img += mask[..., None] * rng.uniform(-120, 120, 3).astype(np.float32)
    img += rng.normal(0, 6.0, img.shape).astype(np.float32)   # sensor-like grain: what keeps JPEGs from being tiny
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _write_range(path: str, start: int, stop: int, size: int, seed: int) -> int:
    root, written = Path(path), 0
    for i in range(start, stop):
        target = root / f"{i:06d}.jpg"
        if target.exists():
            continue
        tmp = root / f".{i:06d}.jpg.tmp"   # rename: an interrupted run never leaves a truncated JPEG behind
        tmp.write_bytes(_jpeg_bytes(i, size, seed))
        tmp.rename(target)
        written += 1
    return written


def make_jpeg_folder(path, n: int, size: int = 128, seed: int = 0, workers: int = 2) -> Path:
    """A folder of n RGB JPEGs 000000.jpg..., size x size, quality 90, deterministic in (seed, index).

    Reuses what is there: a folder that already holds n files is returned at once; a partial one is completed.
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    if sum(1 for f in os.scandir(root) if f.name.endswith(".jpg")) >= n:
        return root
    workers = max(1, min(workers, n // 500 or 1))   # process start-up outweighs a few hundred files
    bounds = np.linspace(0, n, workers + 1).astype(int)
    if workers == 1:
        _write_range(str(root), 0, n, size, seed)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_write_range, [str(root)] * workers, bounds[:-1], bounds[1:], [size] * workers,
                          [seed] * workers))
    return root


# ---------------------------------------------------------------------------------------------- measuring
def _rss_mb() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 2 ** 20


def peak_rss_mb() -> float:
    """This process's peak resident set so far (ru_maxrss: KiB on Linux)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def images_per_second(ds, batch_size: int, disc_iters: int = 5, batches: int = 40, warmup: int = 5) -> float:
    """Images/s of one stream read as the trainer reads it: `ds.batch(disc_iters)` (trainers/base.py), the
    elements pulled to NumPy, timed over `batches` elements after `warmup` elements (tracing, the first
    prefetch fill and the autotuner's ramp-up are left out)."""
    it = iter(ds.batch(disc_iters, drop_remainder=True))
    for _ in range(warmup):
        next(it).numpy()
    t0 = time.perf_counter()
    for _ in range(batches):
        next(it).numpy()
    return batches * disc_iters * batch_size / (time.perf_counter() - t0)


def measure_folder(folder, batch_size: int = 64, disc_iters: int = 5, batches: int = 40, warmup: int = 5,
                   size: int = 128) -> dict:
    """One domain of `--domain_a DIR`: data.load_single(None, domain_a=folder) runs the same functions as each
    domain of load_pair(None, domain_a=, domain_b=) (_folder_images -> _files_pipeline). Returns the start-up
    seconds (listing + the `_decodable` check of every file), images/s, and the RSS (MiB) after import, after
    start-up, after the timed batches, and the peak."""
    import data
    out = {"files": None, "rss_import_mb": _rss_mb()}
    t0 = time.perf_counter()
    ds, info = data.load_single(None, batch_size=batch_size, seed=0, domain_a=str(folder), image_size=size)
    out["startup_s"] = time.perf_counter() - t0
    out["files"] = info.sizes[0]
    out["rss_startup_mb"], out["peak_startup_mb"] = _rss_mb(), peak_rss_mb()
    out["images_per_s"] = images_per_second(ds, batch_size, disc_iters, batches, warmup)
    out["rss_end_mb"] = _rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def measure_digits(data_dir, batch_size: int = 64, disc_iters: int = 5, batches: int = 40, warmup: int = 5,
                   size: int = 32) -> list[dict]:
    """The in-memory digit pipelines at 32x32 (_array_pipeline), each domain's stream alone: mnist2fashion
    (two whole datasets, as mnist2svhn) and mnist2edge (a derived pair), from the idx files in `data_dir`."""
    import data
    rows = []
    for name in ("mnist2fashion", "mnist2edge"):
        ds_a, ds_b, info = data.load_pair(name, batch_size=batch_size, seed=0, data_dir=str(data_dir),
                                          image_size=size, download=False)
        for domain, ds, n in (("A", ds_a, info.sizes[0]), ("B", ds_b, info.sizes[1])):
            rows.append({"pipeline": f"{name} {domain}", "images": n,
                         "images_per_s": images_per_second(ds, batch_size, disc_iters, batches, warmup)})
    return rows


def measure_step(config: str = "cogan128", batch_size: int = 64) -> float:
    """Seconds of one compiled training iteration (bench_configs.build: synthetic inputs), after a warm-up
    iteration that traces it; measured once."""
    sys.path.insert(0, os.path.dirname(__file__))
    from bench_configs import build
    t, reals = build(config, batch_size)
    float(t._compiled_step(reals)["g_total"])
    t0 = time.perf_counter()
    float(t._compiled_step(reals)["g_total"])
    return time.perf_counter() - t0


def _in_subprocess(folder, a) -> dict:
    """measure_folder in a fresh interpreter, so that each folder size's peak RSS is its own."""
    code = ("import json, sys; sys.path.insert(0, %r); import bench_input as b; "
            "print('RESULT ' + json.dumps(b.measure_folder(%r, %d, %d, %d, %d)))"
            % (os.path.dirname(os.path.abspath(__file__)), str(folder), a.batch_size, a.disc_iters, a.batches,
               a.warmup))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"measuring {folder} failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _baseline_rss_mb() -> float:
    """Peak RSS of a fresh interpreter that imports data (TF, Keras) and nothing else: the floor of every row."""
    code = "import sys; sys.path.insert(0, %r); import data, bench_input as b; print(b.peak_rss_mb())" % (
        os.path.dirname(os.path.abspath(__file__)))
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                                check=True).stdout.split()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,50000,200000")
    p.add_argument("--dir", default="/tmp/bench_input")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--disc_iters", type=int, default=5)
    p.add_argument("--batches", type=int, default=40, help="timed elements of disc_iters batches")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--data_dir", default=str(SHARED_DATA), help="MNIST / Fashion-MNIST idx files")
    p.add_argument("--step_seconds", type=float, default=None,
                   help="s/it of the cogan128 step (skip measuring it); default: measure one compiled iteration")
    p.add_argument("--append", action="store_true")
    a = p.parse_args()
    per_element = a.disc_iters * a.batch_size
    lines, rows = [], []

    def say(line):
        print(line, flush=True)
        lines.append(line)

    base = _baseline_rss_mb()
    say(f"baseline: a fresh interpreter importing data (TF + Keras) peaks at {base:.0f} MiB RSS")
    folder_rates = []
    for n in (int(s) for s in a.sizes.split(",")):
        t0 = time.perf_counter()
        folder = make_jpeg_folder(Path(a.dir) / f"n{n}", n)
        made = time.perf_counter() - t0
        r = _in_subprocess(folder, a)
        folder_rates.append(r["images_per_s"])
        say(f"folder {n} JPEGs 128x128 (made/reused in {made:.0f} s): start-up {r['startup_s']:.1f} s, "
            f"{r['images_per_s']:.0f} images/s ({r['images_per_s'] / per_element:.2f} elements of "
            f"{a.disc_iters}x{a.batch_size}/s); RSS import {r['rss_import_mb']:.0f} -> start-up "
            f"{r['rss_startup_mb']:.0f} (peak {r['peak_startup_mb']:.0f}) -> end {r['rss_end_mb']:.0f} MiB, "
            f"peak {r['peak_rss_mb']:.0f} MiB")
        rows.append(("folder", f"{n} JPEGs", 128, r["images_per_s"], r["startup_s"], r["peak_rss_mb"]))
    if (Path(a.data_dir) / "mnist").is_dir() and (Path(a.data_dir) / "fashion_mnist").is_dir():
        for r in measure_digits(a.data_dir, a.batch_size, a.disc_iters, a.batches, a.warmup):
            say(f"in-memory {r['pipeline']} ({r['images']} images) 32x32: {r['images_per_s']:.0f} images/s")
            rows.append(("in-memory", f"{r['pipeline']} ({r['images']})", 32, r["images_per_s"], None, None))
    else:
        say(f"in-memory digit pipelines skipped: no mnist/ and fashion_mnist/ idx files under {a.data_dir}")

    step128 = a.step_seconds if a.step_seconds else measure_step("cogan128", a.batch_size)
    source = "given" if a.step_seconds else "measured once, compiled"
    need128, need32 = 2 * per_element / step128, 2 * per_element / COGAN32_STEP_S
    # The ratio is conservative: one stream's rate against both domains' need, because the two streams
    # share the same 2 cores (each alone already uses both through AUTOTUNE).
    if folder_rates:
        say(f"cogan128 step batch {a.batch_size} K={a.disc_iters}: {step128:.2f} s/it ({source}) consumes "
            f"{need128:.0f} images/s (2 domains x {per_element} per iteration); one folder stream gives "
            f"{min(folder_rates):.0f}-{max(folder_rates):.0f} images/s: ratio {min(folder_rates) / need128:.1f}x")
    digit = [r[3] for r in rows if r[0] == "in-memory"]
    if digit:
        say(f"cogan32 step {COGAN32_STEP_S} s/it (RESULTS.md) consumes {need32:.0f} images/s; the in-memory streams "
            f"give {min(digit):.0f}-{max(digit):.0f} images/s: ratio {min(digit) / need32:.0f}x")
    if a.append:
        from results_md import add_row, commit
        command = "python benchmarks/bench_input.py " + " ".join(x for x in sys.argv[1:] if x != "--append")
        pre = ("Each stream alone, read as the trainer reads it (`ds.batch(K)`, K=5 batches of 64 per element), "
               "images/s after a warm-up; folder rows in a fresh process per size (peak RSS = ru_maxrss of that "
               f"process; a process that only imports TF peaks at {base:.0f} MiB); folders of generated 128x128 "
               "JPEGs (quality 90, ~5 KB), warm page cache. 'ratio' = stream images/s over the images/s the "
               "training step consumes (2 domains x K x batch / step s/it: cogan128 for the 128x128 rows, "
               "cogan32 from \"Training speed\" for the 32x32 rows).\n\n"
               "| date | commit | device | command | pipeline | data | size | images/s | start-up (s) | "
               "peak RSS (MiB) | step (s/it) | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
        for kind, what, size, rate, start, peak in rows:
            step = step128 if size == 128 else COGAN32_STEP_S
            add_row("## Input pipeline", f"| {date.today()} | {commit()} | CPU, {os.cpu_count()} cores | "
                    f"`{command.strip()}` | {kind} | {what} | {size} | {rate:.0f} | "
                    f"{'' if start is None else f'{start:.1f}'} | {'' if peak is None else f'{peak:.0f}'} | "
                    f"{step:.2f} | {rate / (2 * per_element / step):.1f}x |", pre)
    return lines


if __name__ == "__main__":
    main()
