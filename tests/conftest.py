"""Shared test fixtures.

`shared_data` points at ../shared/data beside the checkout (real MNIST test set, LPIPS examples, CelebA
sample). A user's clone has no such folder, so tests that need it skip with a reason.
"""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("COGAN_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (only present beside the project checkout)")
    return SHARED_DATA
