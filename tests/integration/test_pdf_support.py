"""The start-up check of the libraries report PDFs rely on."""

from __future__ import annotations

import ctypes.util
import logging
from pathlib import Path

import pytest

from tracker.app import create_app
from tracker.reporting import pdf_support


def _without_subsetting(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ctypes.util.find_library
    monkeypatch.setattr(
        pdf_support.ctypes.util,
        "find_library",
        lambda name: None if name == "harfbuzz-subset" else real(name),
    )


def test_the_application_warns_at_start_up_when_harfbuzz_subsetting_is_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    _without_subsetting(monkeypatch)
    with caplog.at_level(logging.WARNING):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k"})

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert any("libharfbuzz-subset0" in record.getMessage() for record in warnings)


def test_no_warning_when_the_library_is_there(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    assert pdf_support.font_subsetting_available()  # installed by .ci/run and the Makefile
    with caplog.at_level(logging.WARNING):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k"})

    assert not any("harfbuzz" in record.getMessage() for record in caplog.records)
