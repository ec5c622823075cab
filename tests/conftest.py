"""Shared fixtures: paths to ../shared (tests that need it skip cleanly where it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
