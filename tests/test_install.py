"""The install files: one TensorFlow build per runtime file, the same version and packages for CPU and GPU,
test-only packages apart, and CI installing what the tests need."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def requirements(name, seen=None):
    """{package: spec} of a requirements file, following its -r includes."""
    out = {}
    for line in (REPO / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            out.update(requirements(line[3:].strip()))
            continue
        m = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", line)
        out[m.group(1).lower() + (m.group(2) or "")] = m.group(3)
    return out


def test_cpu_and_gpu_installs_differ_only_in_the_tensorflow_build():
    cpu, gpu = requirements("requirements.txt"), requirements("requirements-gpu.txt")
    assert cpu.pop("tensorflow-cpu") == gpu.pop("tensorflow[and-cuda]") == "==2.21.0"
    assert cpu == gpu and "keras" in cpu
    assert not any(k.startswith("tensorflow[") or k == "tensorflow" for k in cpu)


def test_test_packages_are_apart_and_ci_installs_them():
    dev = requirements("requirements-dev.txt")
    assert "pytest" in dev and "tensorflow-cpu" in dev
    for runtime in ("requirements.txt", "requirements-gpu.txt"):
        assert "pytest" not in requirements(runtime)
    assert "pip install -q -r requirements-dev.txt" in (REPO / ".ci" / "run").read_text()
