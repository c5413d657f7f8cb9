from pathlib import Path

import pytest

from l2o4rl import configure_jax
from l2o4rl.runtime import anchors_dir as find_anchors

configure_jax()  # before any test module imports jax: one CPU device per core, the compile cache

REPO = Path(__file__).resolve().parents[1]
ANCHORS = find_anchors()


@pytest.fixture
def anchors_dir() -> Path:
    """The authors' published data, beside the checkout; tests skip when it is absent."""
    if not ANCHORS.is_dir():
        pytest.skip(f"authors' anchors not found at {ANCHORS}")
    return ANCHORS
