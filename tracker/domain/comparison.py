"""Side-by-side figures of a contract and its scenarios: totals, NPV and yearly deltas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.domain.schedule import Schedule
from tracker.domain.terms import ContractTerms

#: Figures a comparison can show year by year, with their titles.
COMPARED_FIELDS = (
    ("price", "Price"),
    ("planned_cost", "Planned cost"),
    ("efficiency_gain", "Efficiency gain"),
    ("reinvest", "Reinvested"),
    ("buyer_credit", "Credited to the buyer"),
    ("net_price", "Net price"),
    ("net_margin", "Net margin"),
)
#: Totals a comparison lists for every variant, NPV last.
TOTAL_FIELDS = (*(key for key, _title in COMPARED_FIELDS), "npv_net_margin")


@dataclass(frozen=True)
class Column:
    """One variant: its totals, and each total's difference from the first variant."""

    label: str
    scenario_id: int | None
    terms: ContractTerms
    totals: dict[str, int]
    deltas: dict[str, int]


@dataclass(frozen=True)
class YearRow:
    """One year of one figure: each variant's value and its difference from the first.

    ``None`` where a variant's term has no such year."""

    year: int
    values: tuple[int | None, ...]
    deltas: tuple[int | None, ...]


@dataclass(frozen=True)
class ComparisonFigures:
    """Everything a comparison page shows for one chosen yearly figure."""

    currency_code: str
    field: str
    columns: tuple[Column, ...]
    years: tuple[YearRow, ...]


def comparison_figures(
    variants: Sequence[tuple[str, int | None, ContractTerms, Schedule]], field: str
) -> ComparisonFigures:
    """Compare every variant with the first (the contract); ``field`` is shown by year."""
    if field not in dict(COMPARED_FIELDS):
        raise ValueError(f"unknown field {field}")
    base_schedule = variants[0][3]
    base_totals = _totals(base_schedule)
    columns = []
    for label, scenario_id, terms, schedule in variants:
        totals = _totals(schedule)
        deltas = {key: totals[key] - base_totals[key] for key in TOTAL_FIELDS}
        columns.append(Column(label, scenario_id, terms, totals, deltas))
    longest = max(len(schedule.years) for *_rest, schedule in variants)
    series = [_by_year(schedule, field, longest) for *_rest, schedule in variants]
    rows = []
    for index in range(longest):
        values = tuple(values_by_year[index] for values_by_year in series)
        base = values[0]
        differences = tuple(
            None if value is None or base is None else value - base for value in values
        )
        rows.append(YearRow(index + 1, values, differences))
    return ComparisonFigures(base_schedule.currency.code, field, tuple(columns), tuple(rows))


def _totals(schedule: Schedule) -> dict[str, int]:
    return {key: getattr(schedule.totals, key) for key in TOTAL_FIELDS}


def _by_year(schedule: Schedule, field: str, length: int) -> list[int | None]:
    values: list[int | None] = [getattr(year, field) for year in schedule.years]
    return values + [None] * (length - len(values))
