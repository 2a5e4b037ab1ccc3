"""The stored yearly schedule: writing a computed Schedule to rows and reading it back."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tracker.db.models import Contract, ContractYear
from tracker.domain.money import Currency, rate_text
from tracker.domain.schedule import Schedule, Totals, YearFigures

_AMOUNTS = YearFigures._fields[4:]


def year_rows(schedule: Schedule) -> list[ContractYear]:
    """One ContractYear per year of the schedule (not yet attached to a contract)."""
    rows = []
    for figures in schedule.years:
        row = ContractYear(
            year=figures.year,
            start=figures.start,
            end=figures.end,
            escalation=None if figures.escalation is None else rate_text(figures.escalation),
        )
        for key in _AMOUNTS:
            setattr(row, key, getattr(figures, key))
        rows.append(row)
    return rows


def store_totals(contract: Contract, schedule: Schedule) -> None:
    """Copy the totals the portfolio lists and sums onto the contract row."""
    totals = schedule.totals
    contract.total_price = totals.price
    contract.total_efficiency_gain = totals.efficiency_gain
    contract.total_reinvest = totals.reinvest
    contract.total_net_margin = totals.net_margin
    contract.npv_net_margin = totals.npv_net_margin


def stored_schedule(
    currency: Currency, rows: Sequence[ContractYear], npv_net_margin: int
) -> Schedule:
    """The schedule as stored: year rows back to YearFigures, totals summed from them."""
    years = tuple(
        YearFigures(
            row.year,
            row.start,
            row.end,
            None if row.escalation is None else Decimal(row.escalation),
            *(getattr(row, key) for key in _AMOUNTS),
        )
        for row in rows
    )
    sums = {key: sum(getattr(y, key) for y in years) for key in Totals._fields[:-1]}
    return Schedule(currency, years, Totals(**sums, npv_net_margin=npv_net_margin))
