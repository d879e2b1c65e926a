"""Shared test fixtures.

`shared_data` points at ../shared/data beside the checkout (real MNIST test set, LPIPS examples, CelebA
sample). A user's clone has no such folder, so tests that need it skip with a reason; every such skip goes through
`need_shared` (the `shared_file` fixture), and where ../shared exists it is a failure instead (a file that should be
there is missing, or a path is wrong), so a test that needs ../shared never silently stops running where it can.
"""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")
# A run fetches missing LPIPS weights on first use (issue 19, item 7); no test reaches the network for them (the
# tests of that fetch unset this and monkeypatch it).
os.environ.setdefault("LPIPS_NO_DOWNLOAD", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = Path(os.environ.get("COGAN_SHARED_DATA", SHARED / "data"))
NEEDS_SHARED = "needs ../shared"  # how every skip reason for want of ../shared starts


def need_shared(path, what):
    """`path` (a file or folder of ../shared), or skip the test: `what` is not at `path`."""
    path = Path(path)
    if not path.exists():
        pytest.skip(f"{NEEDS_SHARED}: {what} not found at {path} (only present beside the project checkout)")
    return path


@pytest.fixture(scope="session")
def shared_file():
    """need_shared(path, what), for tests and fixtures outside this file."""
    return need_shared


@pytest.fixture
def shared_data():
    return need_shared(SHARED_DATA, "real test data")


# pytest-xdist work units (pytest.ini: --dist loadgroup; issue 19, CI time). A file is one unit, so its module
# fixtures (a trained run, a fetched table) are computed once; xdist hands units out largest first by number of
# tests, so few-test files, often long (subprocesses, full-width runs), come last. The files below share nothing
# between their tests (no module or session fixture of their own, no file outside tmp_path, no fixed port: keep
# it so, as two of their tests may now run at once), so each of their tests is a unit of one: ~60 short units at
# the end of the queue keep both workers busy to the end, instead of one finishing a long file alone.
SPLIT_FILES = frozenset({"test_combinations.py", "test_dry_run.py", "test_golden.py"})


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name not in SPLIT_FILES:
            item.add_marker(pytest.mark.xdist_group(item.path.name))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip for want of ../shared (its reason starts with NEEDS_SHARED) fails where ../shared exists."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and not hasattr(report, "wasxfail") and isinstance(report.longrepr, tuple)
            and NEEDS_SHARED in str(report.longrepr[2]) and SHARED.is_dir()):
        report.outcome = "failed"
        report.longrepr = f"{report.longrepr[2]}, although {SHARED} exists: a test that needs ../shared must run there"


class _Collect:
    """A logging handler that appends each message to a list and calls `on_message` (if set) with it."""

    def __init__(self):
        import logging
        self.messages, self.on_message = [], None
        self.handler = logging.Handler(logging.INFO)
        self.handler.emit = self._emit

    def _emit(self, record):
        message = record.getMessage()
        self.messages.append(message)
        if self.on_message is not None:
            self.on_message(message)


@pytest.fixture
def logged():
    """The messages the framework logs (logger "coupled_gan", INFO and above) during the test, in order;
    `.on_message = f` calls f on each as it is logged."""
    import logging
    import run_folder
    collect = _Collect()
    root = logging.getLogger(run_folder.LOGGER)
    level = root.level
    root.addHandler(collect.handler)
    root.setLevel(logging.INFO)
    yield collect
    root.removeHandler(collect.handler)
    root.setLevel(level)


@pytest.fixture(autouse=True, scope="session")
def _console_logging():
    """As main.main does: the framework's messages as lines on stdout, so a test sees the same output whether
    it calls a library function directly or through the command line, in any order."""
    import run_folder
    run_folder.log_to_console()


@pytest.fixture(autouse=True, scope="module")
def _release_models():
    """After each test file, drop what Keras and TensorFlow keep of its nets and traced steps: a process that
    runs many files (a pytest-xdist worker runs half the suite) would otherwise grow by gigabytes."""
    yield
    import gc
    import sys
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    gc.collect()
