"""What a run leaves in its folder: config.json, losses.csv, samples/, plots, TensorBoard scalars.

Layout of a run folder:
    config.json      resolved config (repeat with --config)
    provenance.json  what produced the run: one entry per invocation (start and every resume): command, time,
                     host, Python and package versions, git commit, devices, distribution strategy
    losses.csv       step + every logged term, one row per iteration
    losses.png       loss curves
    samples/         step_XXXXXXX.png: domain 1 above domain 2, same z per column (thesis figures)
    tb/              TensorBoard scalars (every losses.csv column) and the sample grids as images
    checkpoints/     tf.train.Checkpoint files (step, nets, optimisers, data iterators; the noise is stateless)
    models/          final weights of every network (<name>.weights.h5)
    .run.lock        while a process writes the run: the lock that keeps a second writer out (issue 22, item 1)

Every file is written atomically (a temporary name beside it, then a rename): a kill or a full disk leaves the
old file or none, never a truncated one (issue 22, item 6).
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np


class RunDirError(ValueError):
    """A run folder problem (would overwrite, nothing to resume): one line, exit 2."""


class WriteFailed(RunDirError):
    """A file the run relies on could not be written (disk full, a file-size limit, ...): one line, exit 2."""


def write_cause(error) -> str:
    """The reason of a failed write in a few words: 'File too large', 'No space left on device', ..."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(getattr(error, "message", None) or error).split())
    text = text.split(" [Op:")[0]
    return (text.rsplit("; ", 1)[-1] or type(error).__name__)[:200]


@contextlib.contextmanager
def writing(path):
    """Turn a failed write of `path` into WriteFailed naming it and the cause."""
    try:
        yield
    except OSError as e:
        raise WriteFailed(f"could not write {path} ({write_cause(e)})") from None


def finite_for_json(value, where="", found=None):
    """A copy of `value` (dicts, lists, numbers) with NaN/inf as None; their paths ('a.b[2]') appended to `found`."""
    if isinstance(value, dict):
        return {k: finite_for_json(v, f"{where}.{k}" if where else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_for_json(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        if found is not None:
            found.append(where)
        return None
    return value


def write_json(path, obj):
    """Strict JSON, written atomically: a NaN/inf value becomes null and the key "non_finite" lists where
    (bare NaN is not JSON, and a reader would take it for a number)."""
    found = []
    clean = finite_for_json(obj, found=found)
    if found and isinstance(clean, dict):
        clean["non_finite"] = {"keys": found, "note": "these values were NaN or infinite and are written as null"}
    with writing(path):
        atomic_write_text(path, json.dumps(clean, indent=2, allow_nan=False) + "\n")
    return found


def run_contents(d) -> list:
    """The entries of run folder `d`, its lock file left out (a folder holding only the lock is empty)."""
    return [p for p in Path(d).iterdir() if p.name != LOCK_FILE]


def prepare_run_dir(path, *, resume: bool, overwrite: bool) -> Path:
    """Create the run folder; refuse to touch an existing run unless --resume or --overwrite says so."""
    d = Path(path)
    has_run = (d / "config.json").is_file()
    if resume:
        if not has_run:
            raise RunDirError(f"nothing to resume: {d} holds no run (config.json missing)")
        return d
    if d.exists() and not d.is_dir():
        raise RunDirError(f"--dir {d} exists and is not a folder")
    if d.is_dir() and run_contents(d):
        if not overwrite:
            what = "a run" if has_run else "files"
            raise RunDirError(f"{d} already holds {what}: pass --resume to continue it or --overwrite to replace it")
        if not has_run:
            raise RunDirError(f"refusing to --overwrite {d}: it is not a run folder (no config.json)")
        for p in run_contents(d):  # the lock stays: this process holds it
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    with writing(d):
        (d / "samples").mkdir(parents=True, exist_ok=True)
    return d


# ---------------------------------------------------------------------------------------------- sizes
def available_memory():
    """Bytes of memory still available to a process (MemAvailable of /proc/meminfo, else the physical memory), or
    None where neither can be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n) -> str:
    return f"{n / 2 ** 30:,.1f} GiB"


def memory_shortfall(need: float, what: str):
    """None when `need` bytes fit in the available memory, else the one line saying they do not (issue 22, item 7:
    refused up front rather than ending in a traceback or a segfault mid-way)."""
    have = available_memory()
    if have is None or need <= have:
        return None
    return f"{what} needs at least {_gib(need)} of memory, and {_gib(have)} is available: ask for less"


# ---------------------------------------------------------------------------------------------- one writer per run
LOCK_FILE = ".run.lock"
_held = {}   # real path of a run folder -> (open lock file, whether this process created the folder)


def _holder(lock_path) -> str:
    """Who holds a run's lock, from what the holder wrote into the lock file."""
    try:
        info = json.loads(Path(lock_path).read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "another process (it has not said which yet)"
    return f"process {info.get('pid')} on {info.get('host', '?')} (since {info.get('since', '?')})"


def lock_run_dir(path) -> Path:
    """Take the exclusive lock of run folder `path` (creating the folder) for as long as this process writes it
    (issue 22, item 1): fcntl.flock on RUN/.run.lock, which the operating system releases when the process dies
    (kill -9 leaves no stale lock). A second writer gets RunDirError naming the holder (pid, host, since when).
    Re-entrant within a process; release_run_locks() lets go. Without fcntl (Windows) there is no lock."""
    import socket
    try:
        import fcntl
    except ImportError:
        return Path(path)
    d = Path(path)
    key = os.path.realpath(d)
    if key in _held:
        return d
    if d.exists() and not d.is_dir():
        raise RunDirError(f"--dir {d} exists and is not a folder")
    created = not d.exists()
    with writing(d):
        d.mkdir(parents=True, exist_ok=True)
    lock = d / LOCK_FILE
    while True:
        try:
            f = open(lock, "a+")
        except OSError as e:
            raise WriteFailed(f"cannot write into the run folder {d} ({write_cause(e)})") from None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise RunDirError(f"{d} is being written by {_holder(lock)}: one writer per run folder; wait for it to "
                              f"end (or stop it) and try again") from None
        except OSError as e:  # a file system without locks: say so, and go on as before
            logger("run").warning(f"warning: cannot lock {d} ({write_cause(e)}): nothing keeps a second writer out")
            f.close()
            return d
        try:  # the holder removes the file on release: retry if we locked a file that is no longer the lock
            same = os.stat(lock).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        f.close()
    f.seek(0)
    f.truncate()
    f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                        "since": time.strftime("%Y-%m-%d %H:%M:%S%z")}) + "\n")
    f.flush()
    _held[key] = (f, d, created)
    return d


def release_run_locks():
    """Let go of every run lock this process holds: the lock file goes (a run folder holds only the run), and so
    does a folder this process created that holds nothing else (a command refused before writing anything)."""
    while _held:
        _, (f, d, created) = _held.popitem()
        try:
            (d / LOCK_FILE).unlink(missing_ok=True)  # before the unlock: a waiting locker then sees another file
            if created and d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        except OSError:
            pass
        f.close()


PROVENANCE_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "tensorflow-datasets", "tensorboard",
                       "scikit-learn", "pillow")


def _git_commit(repo):
    """(commit, dirty) of the checkout holding this code, or (None, None) outside git / without git."""
    import subprocess
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode:
            return None, None
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def provenance(argv, strategy="default") -> dict:
    """What produces a run, for provenance.json: command line, time, host, Python, package versions, the git
    commit of this code (and whether it had uncommitted changes), the devices TensorFlow sees and the strategy."""
    import platform
    import socket
    import sys
    from importlib import metadata
    versions = {}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    commit, dirty = _git_commit(Path(__file__).resolve().parent)
    tf = sys.modules.get("tensorflow")
    devices = [f"{d.name} ({d.device_type})" for d in tf.config.list_logical_devices()] if tf else []
    return {"command": ["main.py", *map(str, argv)], "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": socket.gethostname(), "python": platform.python_version(), "platform": platform.platform(),
            "packages": versions, "git_commit": commit, "git_dirty": dirty, "devices": devices,
            "strategy": strategy, "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


def record_provenance(run_dir, entry):
    """Append this invocation's entry to RUN/provenance.json (atomically; an unreadable file starts over)."""
    path = Path(run_dir) / "provenance.json"
    try:
        entries = json.loads(path.read_text())["invocations"]
    except (OSError, ValueError, KeyError, TypeError):
        entries = []
    write_json(path, {"invocations": entries + [entry]})


LOGGER = "coupled_gan"


def logger(name: str) -> logging.Logger:
    """The logger of one part of the framework ("coupled_gan.<name>"): progress and notes go through the
    standard logging module; main.main prints them on stdout (log_to_console), a library user decides."""
    return logging.getLogger(f"{LOGGER}.{name}")


class _ConsoleHandler(logging.StreamHandler):
    """Writes each message as a line on the *current* sys.stdout (tests and redirections replace it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def log_to_console():
    """Messages of INFO and above as plain lines on stdout, once per process (what the command line shows)."""
    root = logging.getLogger(LOGGER)
    if not any(isinstance(h, _ConsoleHandler) for h in root.handlers):
        handler = _ConsoleHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False  # once here, not again through a handler some library put on the root logger


def atomic_write_text(path, text: str):
    """Write `path` so that a reader (or a resume after kill -9 / power loss) sees the old file or the new one,
    never a mix: write a temporary file beside it, fsync, then os.replace."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with tmp.open("w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LossLog:
    """losses.csv: a header naming the step and every logged term, then one row per iteration.

    Rows are appended as they are logged; `append(rows, durable=True)` (before every checkpoint) also fsyncs,
    so the rows up to a checkpoint are on disk before the checkpoint is. A resume rewrites the file through a
    temporary file and os.replace: a kill during the rewrite leaves the old file whole."""

    def __init__(self, path, resume_step=None):
        self.path = Path(path)
        self.columns = None
        if resume_step is not None and self.path.is_file():
            # Rows written after the checkpoint we resume from would be logged again: drop them. So is a row
            # torn by a kill in the middle of its write (too few fields or an unreadable step).
            with self.path.open(newline="") as f:
                rows = list(csv.reader(f))
            if rows:
                self.columns = rows[0][1:]
                kept = [r for r in rows[1:] if len(r) == len(rows[0]) and _step_of(r) is not None
                        and _step_of(r) <= resume_step]
                self._write_all([rows[0]] + kept)
        elif self.path.exists():
            self.path.unlink()

    def _write_all(self, rows):
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        with writing(self.path):
            atomic_write_text(self.path, buf.getvalue())

    def append(self, rows, durable=False):
        """rows: list of (step, {name: float}). durable: fsync before returning."""
        if not rows:
            return
        if self.columns is None:
            self.columns = list(rows[0][1])
            self._write_all([["step"] + self.columns])
        with writing(self.path), self.path.open("a", newline="") as f:
            w = csv.writer(f)
            for step, values in rows:
                w.writerow([step] + [f"{values[c]:.6g}" for c in self.columns])
            if durable:
                f.flush()
                os.fsync(f.fileno())

    def read(self):
        """{column: np.ndarray} of everything logged so far."""
        if not self.path.is_file():
            return {}
        with self.path.open(newline="") as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            return {}
        data = np.array(rows[1:], dtype=np.float64)
        return {name: data[:, i] for i, name in enumerate(rows[0])}


def _step_of(row):
    try:
        return int(row[0])
    except (ValueError, IndexError):
        return None


def to_uint8(images):
    """[-1, 1] floats -> uint8 RGB (grayscale repeated)."""
    x = np.clip((np.asarray(images, np.float32) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x


def pair_grid(domains, rows: int, cols: int, pad: int = 2):
    """Thesis layout: for each of `rows` groups, one row per domain (domain 1 above domain 2), the same z in
    a column. `domains` is a list of arrays (rows*cols, H, W, C) in [-1, 1]; returns a uint8 image."""
    n_dom = len(domains)
    h, w = domains[0].shape[1:3]
    grid = np.full(((h + pad) * rows * n_dom + pad * (rows - 1) * 2 + pad, (w + pad) * cols + pad, 3), 255, np.uint8)
    for r in range(rows):
        for d, imgs in enumerate(domains):
            y = pad + (r * n_dom + d) * (h + pad) + r * 2 * pad
            for c in range(cols):
                x = pad + c * (w + pad)
                grid[y:y + h, x:x + w] = to_uint8(imgs[r * cols + c])
    return grid


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside `path` (same extensions: writers infer the format from them) that becomes
    `path` by os.replace once the body has written it (issue 22, item 6): a kill, a full disk or a file-size limit
    leaves the old file or none, never a truncated one. A failed write is WriteFailed naming `path`."""
    path = Path(path)
    base, dot, rest = path.name.partition(".")
    tmp = path.with_name(f".{base}.tmp{os.getpid()}{dot}{rest}")
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise WriteFailed(f"could not write {path} ({write_cause(e)})") from None
        raise
    _fsync_dir(path.parent)


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_png(path, image):
    from PIL import Image
    with atomic_output(path) as tmp:
        Image.fromarray(image).save(tmp)


def save_scatter(path, points, reference=None):
    """2-D samples (toy ring) as a scatter plot over the true modes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 4))
    if reference is not None:
        ax.scatter(reference[:, 0], reference[:, 1], s=40, c="tab:red", marker="x", label="modes")
    ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.5, label="generated")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)


def plot_losses(log: LossLog, path):
    """One panel for discriminator terms, one for generator terms."""
    data = log.read()
    if not data:
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = data.pop("step")
    groups = [("discriminator", [k for k in data if k.startswith("d_")]),
              ("generator and coupling", [k for k in data if not k.startswith("d_")])]
    groups = [(t, ks) for t, ks in groups if ks]
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 3 * len(groups)), squeeze=False)
    for ax, (title, keys) in zip(axes[:, 0], groups):
        for k in keys:
            ax.plot(steps, data[k], label=k, linewidth=0.8)
        ax.set_title(title)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)


def format_duration(seconds: float) -> str:
    s = int(round(seconds))
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def progress_line(step: int, total: int, first: int, started: float, values: dict) -> str:
    """`[step/total] rate it/s ETA .. | name value ...`: the log line of every training loop."""
    rate = (step - first) / max(time.time() - started, 1e-9)
    eta = format_duration((total - step) / max(rate, 1e-9))
    terms = " ".join(f"{k} {v:.4g}" for k, v in values.items())
    return f"[{step}/{total}] {rate:.2f} it/s ETA {eta} | {terms}"
