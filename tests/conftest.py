"""Shared fixtures: paths to ../shared (tests that need it skip cleanly where it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# OpenMM's multi-threaded CPU platform sums in a thread-dependent order even with
# DeterministicForces, so relaxations differ by ~0.005 Å run to run; one thread makes the
# physics tests reproducible (set before any test module imports openmm).
os.environ.setdefault("OPENMM_CPU_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """Path under ../shared, or skip the calling test if it is not there."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"../shared not available ({p})")
    return p


@pytest.fixture
def shared_data() -> Path:
    return shared_path("data")


@pytest.fixture
def score_fixtures() -> Path:
    return shared_path("fixtures", "score")
