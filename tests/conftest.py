"""Shared fixtures: where the test data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
PROJECT = Path(__file__).parent.parent


@pytest.fixture
def data_dir() -> Path:
    """The folder of the spec's worked examples and other test documents."""
    return DATA
