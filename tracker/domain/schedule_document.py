"""The schedule as the spec's output document (section 4): decimal strings, spec names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tracker.domain.money import Currency, rate_text, units_text
from tracker.domain.schedule import (
    PCT_PLACES,
    SUM_FIELDS,
    Schedule,
    YearFigures,
)

#: The keys of one year, in the spec's order.
YEAR_KEYS: tuple[str, ...] = YearFigures._fields
#: The keys of the totals, in the spec's order.
TOTAL_KEYS: tuple[str, ...] = (*SUM_FIELDS, "npv_net_margin")


def pct_text(pct: int | None) -> str | None:
    """Ten-thousandths as a 4-place decimal string ("0.0400"); None stays None."""
    if pct is None:
        return None
    return f"{Decimal(pct).scaleb(-PCT_PLACES):f}"


def year_document(year: YearFigures, currency: Currency) -> dict[str, Any]:
    """One year of the schedule with every value as the spec writes it."""
    doc: dict[str, Any] = {
        "year": year.year,
        "start": year.start.isoformat(),
        "end": year.end.isoformat(),
        "escalation": None if year.escalation is None else rate_text(year.escalation),
    }
    for key in YEAR_KEYS[4:]:
        value = getattr(year, key)
        doc[key] = pct_text(value) if key == "efficiency_pct" else units_text(value, currency)
    assert tuple(doc) == YEAR_KEYS
    return doc


def schedule_document(schedule: Schedule) -> dict[str, Any]:
    """The whole schedule: ``{"currency", "years", "totals"}`` as in spec section 4."""
    currency = schedule.currency
    return {
        "currency": currency.code,
        "years": [year_document(year, currency) for year in schedule.years],
        "totals": {key: units_text(getattr(schedule.totals, key), currency) for key in TOTAL_KEYS},
    }
