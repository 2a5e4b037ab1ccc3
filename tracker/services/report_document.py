"""The joint annual improvement report of one contract year as one plain document.

Every figure and text the report shows is here, as canonical text (money as decimal
strings with the currency's places, rates as decimal fractions), computed from the
delivery read model: the page, the PDF, the draft both sides sign and the frozen
snapshot are all this document. It holds nothing that changes with the day it is
read, and of the years after the reported one only the plan, so that the report of
a closed year stays the same while the next year's data comes in; what it says of
initiatives (status, spending) is as at the end of the reported year where the
records tell, and as at drafting otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from tracker.domain.kpis import count_met
from tracker.domain.ledger import unspent_at_end
from tracker.domain.schedule import PCT_PLACES
from tracker.services.delivery_views import (
    COMPARED,
    DeliveryView,
    InitiativeView,
    KpiView,
    canonical,
)

#: Bumped when the document's shape changes; stored in every draft and snapshot.
REPORT_FORMAT = 1
#: The most differences a refused signature lists before "and N more".
SHOWN_DIFFERENCES = 12


def report_document(
    view: DeliveryView, year: int, relationship: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every figure and text of the report of contract year ``year``; ``relationship`` is
    the year's follow-up (tracker.services.report_relationship), None when there is none."""
    entry = view.year(year)
    plan = entry.plan
    money = view.money
    last = len(view.years)
    unspent = unspent_at_end(view.ledger)
    return {
        "format": REPORT_FORMAT,
        "contract": {
            "code": view.code,
            "name": view.name,
            "buyer": view.buyer,
            "vendor": view.vendor,
            "currency": view.currency.code,
            "start": view.years[0].plan.start.isoformat(),
            "end": view.years[-1].plan.end.isoformat(),
            "years": last,
            "reinvest_share": _share(view.reinvest_share),
            "buyer_share": _share(view.buyer_share),
        },
        "year": year,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "summary": _summary(view, year),
        "figures": _figures(view, year),
        "volume": _volume(view, year),
        "note": entry.note,
        "curves": [
            {
                "year": item.year,
                "price": money(item.plan.price),
                "baseline_cost": money(item.plan.baseline_cost),
                "planned_cost": money(item.plan.planned_cost),
                "actual_cost": money(item.actual.actual_cost)
                if item.actual is not None and item.year <= year
                else None,
            }
            for item in view.years
        ],
        "fund": _ledger_row(view, year),
        "fund_years": [_ledger_row(view, number) for number in range(1, year + 1)],
        "entries": [
            {
                "id": item.id,
                "date": item.created_at.date().isoformat(),
                "kind": item.kind,
                "initiative": item.initiative_title,
                "amount": money(item.amount),
                "effect": money(item.effect),
                "prefunding": item.prefunding,
                "text": item.text,
                "by": item.created_by,
            }
            for item in view.entries
            if item.year == year
        ],
        "initiatives": _initiatives(view, year),
        "kpis": [_kpi(kpi, year) for kpi in view.kpis],
        "relationship": relationship,
        "next_year": _next_year(view, year) if year < last else None,
        # Only in the last year's report, and only when something is left.
        "unspent_at_end": money(unspent) if year == last and unspent else None,
    }


def sha256_hex(text: str | bytes) -> str:
    """The SHA-256 of a text (as UTF-8) or of bytes, in hex."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def document_fingerprint(document: dict[str, Any]) -> str:
    """The SHA-256 of the document's canonical JSON."""
    return sha256_hex(canonical(document))


def differences(before: Any, after: Any) -> list[str]:
    """What changed between two documents, one "path: old → new" line per value."""
    lines = [
        f"{path}: {_shown(old)} → {_shown(new)}" for path, old, new in _changes("", before, after)
    ]
    if len(lines) > SHOWN_DIFFERENCES:
        rest = len(lines) - SHOWN_DIFFERENCES
        lines = [*lines[:SHOWN_DIFFERENCES], f"and {rest} more"]
    return lines


def _changes(path: str, before: Any, after: Any) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _changes(f"{path}.{key}" if path else key, before.get(key), after.get(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _changes(f"{path}[{index + 1}]", old, new)
    elif before != after:
        yield path, before, after


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return f"{len(value)} items"
    if isinstance(value, dict):
        return "a section"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _share(value: Decimal) -> str:
    return f"{value:f}"


def _pct(ten_thousandths: int | None) -> str | None:
    if ten_thousandths is None:
        return None
    return f"{Decimal(ten_thousandths).scaleb(-PCT_PLACES):.{PCT_PLACES}f}"


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _summary(view: DeliveryView, year: int) -> dict[str, Any]:
    """The key figures of the executive summary."""
    entry = view.year(year)
    plan, actual = entry.plan, entry.actual
    met, measured = count_met([kpi.year(year).status for kpi in view.kpis])
    delivered = [item for item in view.initiatives if _delivered_in(item, year)]
    money = view.money
    return {
        "price": money(plan.price),
        "planned_gain": money(plan.efficiency_gain),
        "actual_gain": None if actual is None else money(actual.efficiency_gain),
        "gain_variance": None
        if actual is None
        else money(actual.efficiency_gain - plan.efficiency_gain),
        "planned_efficiency_pct": _pct(plan.efficiency_pct),
        "actual_efficiency_pct": None if actual is None else _pct(actual.efficiency_pct),
        "reinvested": money(entry.ledger.committed),
        "reinvested_from_actuals": entry.ledger.from_actuals,
        "spent": money(entry.ledger.spent),
        "fund_balance": money(entry.ledger.closing),
        "kpis_met": met,
        "kpis_measured": measured,
        "kpis": len(view.kpis),
        "initiatives_delivered": len(delivered),
        "initiatives_committed": view.initiatives_per_year,
    }


def _figures(view: DeliveryView, year: int) -> list[dict[str, Any]]:
    """Plan, actual and variance of the price, each compared figure and the efficiency."""
    entry = view.year(year)
    money = view.money
    rows: list[dict[str, Any]] = [
        {
            "field": "price",
            "label": "Price",
            "plan": money(entry.plan.price),
            "actual": money(entry.plan.price) if entry.actual is not None else None,
            "variance": None,
            "variance_pct": None,
        }
    ]
    for field, label in COMPARED:
        change = entry.variance(field)
        actual = entry.actual_value(field)
        rows.append({
            "field": field,
            "label": label,
            "plan": money(entry.planned(field)),
            "actual": None if actual is None else money(actual),
            "variance": None if change is None else money(change.amount),
            "variance_pct": None if change is None else _pct(change.pct),
        })  # fmt: skip
    rows.append({
        "field": "efficiency_pct",
        "label": "Efficiency",
        "plan": _pct(entry.plan.efficiency_pct),
        "actual": None if entry.actual is None else _pct(entry.actual.efficiency_pct),
        "variance": None,
        "variance_pct": None,
    })  # fmt: skip
    return rows


def _volume(view: DeliveryView, year: int) -> dict[str, Any] | None:
    """The volume driver of the year and the baseline it normalises, when there is one."""
    entry = view.year(year)
    if entry.planned_volume is None:
        return None
    actual = entry.actual
    return {
        "name": view.volume_name,
        "unit": view.volume_unit,
        "planned": _decimal(entry.planned_volume),
        "actual": _decimal(entry.actual_volume),
        "baseline": view.money(entry.plan.baseline_cost),
        "baseline_used": None if actual is None else view.money(actual.baseline_used),
    }


def _ledger_row(view: DeliveryView, year: int) -> dict[str, Any]:
    ledger = view.year(year).ledger
    money = view.money
    return {
        "year": year,
        "opening": money(ledger.opening),
        "committed": money(ledger.committed),
        "from_actuals": ledger.from_actuals,
        "adjusted": money(ledger.adjusted),
        "spent": money(ledger.spent),
        "closing": money(ledger.closing),
    }


def _delivered_in(item: InitiativeView, year: int) -> bool:
    return item.status == "delivered" and item.delivered_year == year


def _initiatives(view: DeliveryView, year: int) -> dict[str, list[dict[str, Any]]]:
    """Delivered in the year, in progress at its end, and planned (proposed or approved)."""
    spent: dict[int, int] = {}
    for posting in view.entries:
        if posting.kind == "spending" and posting.initiative_id and posting.year <= year:
            spent[posting.initiative_id] = spent.get(posting.initiative_id, 0) + posting.amount
    groups: dict[str, list[dict[str, Any]]] = {"delivered": [], "in_progress": [], "planned": []}
    for item in view.initiatives:
        if _delivered_in(item, year):
            group = "delivered"
        elif item.status == "in_progress" or (
            item.status == "delivered" and (item.delivered_year or 0) > year
        ):
            group = "in_progress"
        elif item.status in ("proposed", "approved"):
            group = "planned"
        else:
            continue
        groups[group].append(_initiative(view, item, spent.get(item.id, 0), group))
    return groups


def _initiative(view: DeliveryView, item: InitiativeView, spent: int, group: str) -> dict[str, Any]:
    delivered = group == "delivered"
    return {
        "id": item.id,
        "title": item.title,
        "proposed_by": item.proposed_by_side,
        "status": "in_progress" if group == "in_progress" else item.status,
        "planned_year": item.planned_year,
        "delivered_year": item.delivered_year if delivered else None,
        "budget": view.money(item.budget),
        "spent": view.money(spent),
        "expected_saving": view.money(item.expected_saving),
        "realised_saving": view.money(item.realised_saving)
        if delivered and item.realised_saving is not None
        else None,
        "realised_note": item.realised_note if delivered else None,
        "kpi": item.kpi_name,
        "kpi_effect": item.expected_kpi_effect,
        "approved_by": [side for side in ("buyer", "vendor") if item.approved_by(side)],
    }


def _kpi(kpi: KpiView, year: int) -> dict[str, Any]:
    """A KPI's result in the year against its target, with its trend up to the year."""
    result = kpi.year(year)
    return {
        "id": kpi.id,
        "name": kpi.name,
        "unit": kpi.unit,
        "higher_is_better": kpi.higher_is_better,
        "tolerance": _decimal(kpi.tolerance),
        "target": _decimal(result.target),
        "actual": _decimal(result.actual),
        "status": None if result.status is None else str(result.status),
        "quarters": [_decimal(value) for value in result.quarters],
        "trend": [
            {
                "year": item.year,
                "target": _decimal(item.target),
                "actual": _decimal(item.actual),
                "status": None if item.status is None else str(item.status),
            }
            for item in kpi.years[:year]
        ],
    }


def _next_year(view: DeliveryView, year: int) -> dict[str, Any]:
    """What the parties commit to for the year after: its plan, targets and initiatives."""
    plan = view.year(year + 1).plan
    money = view.money
    return {
        "year": year + 1,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "price": money(plan.price),
        "escalation": None if plan.escalation is None else f"{plan.escalation:f}",
        "planned_cost": money(plan.planned_cost),
        "planned_gain": money(plan.efficiency_gain),
        "efficiency_pct": _pct(plan.efficiency_pct),
        "reinvest": money(plan.reinvest),
        "initiatives_committed": view.initiatives_per_year,
        "kpi_targets": [
            {"name": kpi.name, "unit": kpi.unit, "target": _decimal(kpi.year(year + 1).target)}
            for kpi in view.kpis
            if kpi.year(year + 1).target is not None
        ],
        "initiatives": [
            {
                "id": item.id,
                "title": item.title,
                "status": item.status,
                "budget": money(item.budget),
                "expected_saving": money(item.expected_saving),
            }
            for item in view.initiatives
            if item.planned_year == year + 1 and item.status in ("proposed", "approved")
        ],
    }
