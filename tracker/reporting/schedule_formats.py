"""The yearly schedule as text for people (an aligned table) and for spreadsheets (CSV)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from tabulate import tabulate

from tracker.domain.money import Currency, units_text
from tracker.domain.schedule import PCT_PLACES, IndexStep, Schedule, YearFigures
from tracker.domain.schedule_document import YEAR_KEYS, year_document
from tracker.domain.terms import ContractTerms

#: Column titles of the table, for the amount fields of a year and its totals.
_AMOUNT_COLUMNS = (
    ("price", "Price"),
    ("baseline_cost", "Baseline\ncost"),
    ("planned_cost", "Planned\ncost"),
    ("efficiency_gain", "Efficiency\ngain"),
    ("efficiency_pct", "Gain\n%"),
    ("reinvest", "Reinvested"),
    ("buyer_credit", "Buyer\ncredit"),
    ("vendor_gain", "Vendor\ngain"),
    ("net_price", "Net\nprice"),
    ("gross_margin", "Gross\nmargin"),
    ("net_margin", "Net\nmargin"),
    ("reinvest_cumulative", "Reinvested\nto date"),
)


def schedule_csv(schedule: Schedule) -> str:
    """One row per year under the spec's column names, values exactly as in the JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(YEAR_KEYS)
    for year in schedule.years:
        doc = year_document(year, schedule.currency)
        writer.writerow("" if doc[key] is None else doc[key] for key in YEAR_KEYS)
    return buffer.getvalue()


def amount_display(units: int, currency: Currency) -> str:
    """An amount with thousands separators and the currency's places: 1,236,000.00."""
    return units_text(units, currency, grouped=True)


def percent_display(rate: Decimal) -> str:
    """A rate as a percentage with at least two decimals: 0.0139 -> 1.39 %."""
    percent = rate.scaleb(2).normalize()
    places = max(2, -int(percent.as_tuple().exponent))
    return f"{percent:.{places}f} %"


def schedule_table(terms: ContractTerms, schedule: Schedule, trace: tuple[IndexStep, ...]) -> str:
    """The schedule for a person: heading, aligned columns, totals, NPV, index steps."""
    currency = schedule.currency
    rows = [_year_row(year, currency) for year in schedule.years]
    totals = schedule.totals
    total_row = ["Total", "", ""] + [
        "" if key in ("efficiency_pct", "reinvest_cumulative")
        else amount_display(getattr(totals, key), currency)
        for key, _title in _AMOUNT_COLUMNS
    ]  # fmt: skip
    headers = ["Year", "Starts", "Escalation"] + [title for _key, title in _AMOUNT_COLUMNS]
    table = tabulate(
        [*rows, total_row],
        headers=headers,
        disable_numparse=True,
        colalign=("left", "left", *("right",) * (len(headers) - 2)),
    )
    parties = " / ".join(p for p in (terms.buyer, terms.vendor) if p)
    lines = [
        terms.name + (f" ({parties})" if parties else ""),
        f"{terms.term_years} years from {terms.start_date.isoformat()}, "
        f"amounts in {currency.code}, discount rate {percent_display(terms.discount_rate)}",
        "",
        table,
        "",
        f"Net present value of the net margin: {amount_display(totals.npv_net_margin, currency)}",
    ]
    if trace:
        lines += ["", "Index-linked escalation, year by year:", _trace_table(trace)]
    return "\n".join(lines) + "\n"


def _year_row(year: YearFigures, currency: Currency) -> list[str]:
    row = [
        str(year.year),
        year.start.isoformat(),
        "" if year.escalation is None else percent_display(year.escalation),
    ]
    for key, _title in _AMOUNT_COLUMNS:
        value = getattr(year, key)
        if key == "efficiency_pct":
            row.append("" if value is None else percent_display(Decimal(value).scaleb(-PCT_PLACES)))
        else:
            row.append(amount_display(value, currency))
    return row


def _trace_table(trace: tuple[IndexStep, ...]) -> str:
    rows = [
        [
            str(step.year),
            percent_display(step.index_change),
            percent_display(step.share),
            percent_display(step.offset),
            percent_display(step.unclamped),
            {"cap": "capped", "floor": "floored"}.get(step.clamped_by or "", ""),
            percent_display(step.applied),
        ]
        for step in trace
    ]
    return tabulate(
        rows,
        headers=["Year", "Index", "× share", "− offset", "= rate", "Clamp", "Applied"],
        disable_numparse=True,
        colalign=("left", *("right",) * 6),
    )
