"""A contract beside its scenarios: totals, differences and yearly rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.domain.comparison import TOTAL_FIELDS, comparison_figures
from tracker.domain.schedule import compute_schedule
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms

DATA = Path(__file__).parent.parent / "data"


def terms(**changes: Any) -> ContractTerms:
    doc = json.loads((DATA / "fixed-5y.json").read_text())
    doc.update(changes)
    return parse_terms(doc)


def variant(label: str, scenario_id: int | None, **changes: Any) -> tuple[Any, ...]:
    chosen = terms(**changes)
    return (label, scenario_id, chosen, compute_schedule(chosen))


def test_the_contract_differs_from_itself_by_nothing() -> None:
    figures = comparison_figures([variant("Contract", None)], "price")
    assert figures.columns[0].deltas == dict.fromkeys(TOTAL_FIELDS, 0)
    assert all(row.deltas == (0,) for row in figures.years)


def test_each_difference_is_the_scenario_minus_the_contract() -> None:
    base = variant("Contract", None)
    cheaper = variant("Cheaper", 7, discount_rate="0.1", term_years=3)
    figures = comparison_figures([base, cheaper], "net_margin")
    for key in TOTAL_FIELDS:
        assert figures.columns[1].deltas[key] == (
            getattr(cheaper[3].totals, key) - getattr(base[3].totals, key)
        )
    assert figures.columns[1].scenario_id == 7


def test_years_beyond_a_shorter_term_are_empty_not_zero() -> None:
    figures = comparison_figures(
        [variant("Contract", None), variant("Short", 1, term_years=3)], "price"
    )
    assert [row.year for row in figures.years] == [1, 2, 3, 4, 5]
    assert figures.years[3].values[1] is None
    assert figures.years[3].deltas[1] is None
    assert figures.years[0].deltas[1] == 0


def test_a_longer_scenario_still_lists_every_one_of_its_years() -> None:
    figures = comparison_figures(
        [variant("Contract", None, term_years=2), variant("Long", 1)], "price"
    )
    assert len(figures.years) == 5
    assert figures.years[4].values[0] is None
    assert figures.years[4].values[1] is not None
    assert figures.years[4].deltas[1] is None


def test_an_unknown_figure_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        comparison_figures([variant("Contract", None)], "discount_rate")
