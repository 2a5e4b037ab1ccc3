"""The worked examples of the financial model spec (section 5), reproduced to the cent.

The examples are byte copies of ``shared/spec/examples/`` kept in ``tests/data``;
the expected schedule is the exact output of ``tracker model NAME.json --format json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.domain.json_document import load_json_document
from tracker.domain.schedule import compute_schedule
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms_parser import parse_terms

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = ("fixed-5y", "index-capped-4y")


def computed(name: str) -> dict[str, Any]:
    """The schedule document the domain computes for an example's terms."""
    raw = (DATA / f"{name}.json").read_bytes()
    return schedule_document(compute_schedule(parse_terms(load_json_document(raw))))


def expected(name: str) -> dict[str, Any]:
    """The spec's expected schedule document for an example."""
    result: dict[str, Any] = json.loads((DATA / f"{name}.expected.json").read_text("utf-8"))
    return result


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_schedule_is_reproduced_exactly(name: str) -> None:
    assert computed(name) == expected(name)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_document_has_the_spec_key_order(name: str) -> None:
    actual, wanted = computed(name), expected(name)
    assert list(actual) == list(wanted) == ["currency", "years", "totals"]
    assert len(actual["years"]) == len(wanted["years"])
    for actual_year, wanted_year in zip(actual["years"], wanted["years"], strict=True):
        assert list(actual_year) == list(wanted_year)
    assert list(actual["totals"]) == list(wanted["totals"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_serialises_to_the_expected_json_text(name: str) -> None:
    # Same values, same types (strings, not numbers), same order: the JSON text matches.
    assert json.dumps(computed(name), indent=2) == json.dumps(expected(name), indent=2)


def test_the_example_data_files_are_present_and_valid_json() -> None:
    for name in EXAMPLES:
        for suffix in (".json", ".expected.json"):
            assert isinstance(json.loads((DATA / f"{name}{suffix}").read_bytes()), dict)
