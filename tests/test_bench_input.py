"""benchmarks/bench_input.py: the JPEG folder generator and the folder-pipeline measurement, on tiny folders."""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import bench_input  # noqa: E402


def test_make_jpeg_folder_makes_decodable_celeba_like_files(tmp_path):
    root = bench_input.make_jpeg_folder(tmp_path / "f", 12, workers=1)
    files = sorted(root.iterdir())
    assert len(files) == 12 and all(f.suffix == ".jpg" for f in files)
    for f in files:
        with Image.open(f) as im:
            assert im.format == "JPEG" and im.mode == "RGB" and im.size == (128, 128)
            assert np.asarray(im).std() > 10   # structure, not a flat colour
        assert 2_000 < f.stat().st_size < 12_000   # photo-like, neither flat nor noise
    mtimes = [f.stat().st_mtime_ns for f in files]
    bench_input.make_jpeg_folder(root, 12)   # already complete: reused, nothing rewritten
    assert [f.stat().st_mtime_ns for f in sorted(root.iterdir())] == mtimes


def test_make_jpeg_folder_is_deterministic_and_completes_a_partial_folder(tmp_path):
    a = bench_input.make_jpeg_folder(tmp_path / "a", 4, workers=1)
    b = tmp_path / "b"
    b.mkdir()
    (b / "000001.jpg").write_bytes((a / "000001.jpg").read_bytes())
    bench_input.make_jpeg_folder(b, 4, workers=1)
    assert [f.read_bytes() for f in sorted(a.iterdir())] == [f.read_bytes() for f in sorted(b.iterdir())]


def test_measure_folder_smoke_rate_and_memory(tmp_path):
    """Smoke test: the measurement runs and its numbers are plausible (wide limits; the benchmark's numbers are
    results, not something a test can pin)."""
    folder = bench_input.make_jpeg_folder(tmp_path / "f", 50, workers=1)
    r = bench_input.measure_folder(folder, batch_size=8, disc_iters=5, batches=3, warmup=1)
    assert r["files"] == 50
    assert 10 < r["images_per_s"] < 1e6   # 120 images decoded and resized on a CPU
    # This process ran other tests before (its peak is theirs): the pipeline's own growth is what is bounded.
    assert r["startup_s"] > 0 and 0 < r["rss_import_mb"] <= r["peak_rss_mb"]
    assert r["rss_end_mb"] - r["rss_import_mb"] < 1024
