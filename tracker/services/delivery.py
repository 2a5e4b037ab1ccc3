"""The delivery years of a contract as one read model: plan beside actuals, the fund's
ledger, service levels, initiatives, and what the reader may do.

Everything pages, exports, reconciliation and year closes show comes from
``delivery_view``: figures are computed here from the stored records by the pure
model (tracker.domain.actuals, ledger, kpis), never stored on their own.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.delivery_models import (
    DeliveryPlan,
    DeliveryYear,
    FundEntry,
    Initiative,
    Kpi,
    KpiYear,
)
from tracker.db.models import Contract, ContractYear, Organisation
from tracker.domain.actuals import ActualFigures, actual_figures
from tracker.domain.kpis import KpiStatus, kpi_status
from tracker.domain.ledger import FundPostings, LedgerYear, fund_ledger
from tracker.domain.schedule import YearFigures
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import Actor
from tracker.services.delivery_views import (
    COMPARED,
    DeliveryView,
    DeliveryYearView,
    FundEntryView,
    InitiativeView,
    KpiView,
    KpiYearView,
    Permissions,
    canonical,
    permissions_for,
    year_figures_document,
)
from tracker.services.errors import NotFound
from tracker.services.schedule_rows import stored_schedule

__all__ = [
    "COMPARED",
    "DeliveryView",
    "DeliveryYearView",
    "FundEntryView",
    "InitiativeView",
    "KpiView",
    "KpiYearView",
    "Permissions",
    "build_view",
    "build_views",
    "canonical",
    "delivery_view",
    "initiative_view",
    "kpi_view",
    "year_figures_document",
]


def delivery_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> DeliveryView:
    """The contract's delivery years, read in one transaction."""
    with session.begin():
        contract = session.scalars(
            select(Contract)
            .where(Contract.id == contract_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        return build_view(session, actor, contract, today or datetime.now(UTC).date())


def kpi_view(
    session: Session, actor: Actor, kpi_id: int, *, today: date | None = None
) -> tuple[DeliveryView, KpiView]:
    """A KPI within the read model of its contract; NotFound when the actor may not see it."""
    view = _record_view(session, actor, Kpi, kpi_id, "KPI", today)
    found = next((kpi for kpi in view.kpis if kpi.id == kpi_id), None)
    if found is None:
        raise NotFound(f"no KPI {kpi_id}")
    return view, found


def initiative_view(
    session: Session, actor: Actor, initiative_id: int, *, today: date | None = None
) -> tuple[DeliveryView, InitiativeView]:
    """An initiative within the read model of its contract; NotFound when not visible."""
    view = _record_view(session, actor, Initiative, initiative_id, "initiative", today)
    found = next((item for item in view.initiatives if item.id == initiative_id), None)
    if found is None:
        raise NotFound(f"no initiative {initiative_id}")
    return view, found


def _record_view(
    session: Session,
    actor: Actor,
    model: type[Kpi] | type[Initiative],
    record_id: int,
    what: str,
    today: date | None,
) -> DeliveryView:
    with session.begin():
        contract = session.scalars(
            select(Contract)
            .join(model, model.contract_id == Contract.id)
            .where(model.id == record_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no {what} {record_id}")
        return build_view(session, actor, contract, today or datetime.now(UTC).date())


def build_view(session: Session, actor: Actor, contract: Contract, today: date) -> DeliveryView:
    """The read model of a contract already loaded in the caller's transaction."""
    return build_views(session, actor, [contract], today)[0]


def build_views(
    session: Session, actor: Actor, contracts: Sequence[Contract], today: date
) -> list[DeliveryView]:
    """The read models of several contracts, loaded with a fixed number of queries."""
    ids = [contract.id for contract in contracts]
    rows = _Rows(session, ids, {p for c in contracts for p in (c.buyer_id, c.vendor_id)})
    return [_assemble(actor, contract, rows, today) for contract in contracts]


class _Rows:
    """Every stored row the read models of some contracts need, grouped by contract."""

    def __init__(self, session: Session, ids: list[int], party_ids: set[int]) -> None:
        # Plain rows, not ORM objects: a portfolio holds tens of thousands of them, and
        # the read model only reads them.
        def grouped(statement: Any, key: str = "contract_id") -> dict[int, list[Any]]:
            groups: dict[int, list[Any]] = defaultdict(list)
            for row in session.execute(statement):
                groups[getattr(row, key)].append(row)
            return groups

        self.planned = grouped(
            select(ContractYear.__table__)
            .where(ContractYear.contract_id.in_(ids))
            .order_by(ContractYear.contract_id, ContractYear.year)
        )
        self.plans = {
            row.contract_id: row
            for row in session.execute(
                select(DeliveryPlan.__table__).where(DeliveryPlan.contract_id.in_(ids))
            )
        }
        self.years = grouped(
            select(DeliveryYear.__table__).where(DeliveryYear.contract_id.in_(ids))
        )
        self.kpis = grouped(
            select(Kpi.__table__).where(Kpi.contract_id.in_(ids)).order_by(Kpi.name, Kpi.id)
        )
        self.kpi_years = grouped(
            select(KpiYear.__table__)
            .join(Kpi.__table__, Kpi.id == KpiYear.kpi_id)
            .where(Kpi.contract_id.in_(ids)),
            "kpi_id",
        )
        self.initiatives = grouped(
            select(Initiative.__table__)
            .where(Initiative.contract_id.in_(ids))
            .order_by(Initiative.planned_year, Initiative.id)
        )
        self.entries = grouped(
            select(FundEntry.__table__)
            .where(FundEntry.contract_id.in_(ids))
            .order_by(FundEntry.year, FundEntry.id)
        )
        self.parties = dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(party_ids))
            ).all()
        )


def _assemble(actor: Actor, contract: Contract, stored: _Rows, today: date) -> DeliveryView:
    terms = parse_terms(json.loads(contract.terms))
    schedule = stored_schedule(terms.currency, stored.planned[contract.id], contract.npv_net_margin)
    plan = stored.plans.get(contract.id)
    rows = {row.year: row for row in stored.years[contract.id]}
    kpis = tuple(
        _kpi_view(kpi, stored.kpi_years[kpi.id], contract.term_years)
        for kpi in stored.kpis[contract.id]
    )
    entries, initiatives = _entries_and_initiatives(
        stored.entries[contract.id], stored.initiatives[contract.id], kpis
    )
    parties = stored.parties
    spent: dict[int, int] = defaultdict(int)
    adjusted: dict[int, int] = defaultdict(int)
    for entry in entries:
        if entry.kind == "spending":
            spent[entry.year] += entry.amount
        else:
            adjusted[entry.year] += entry.amount
    delivered: dict[int, int] = defaultdict(int)
    for initiative in initiatives:
        if initiative.status == "delivered" and initiative.delivered_year is not None:
            delivered[initiative.delivered_year] += 1
    actuals: list[ActualFigures | None] = []
    for figures in schedule.years:
        row = rows.get(figures.year)
        actuals.append(
            None
            if row is None or row.actual_cost is None
            else actual_figures(
                figures, row.actual_cost, terms.reinvest_share, terms.buyer_share,
                planned_volume=_decimal(row.planned_volume),
                actual_volume=_decimal(row.actual_volume),
            )
        )  # fmt: skip
    ledger = fund_ledger(
        [
            FundPostings(
                figures.reinvest if actual is None else actual.reinvest,
                actual is not None,
                adjusted[figures.year],
                spent[figures.year],
            )
            for figures, actual in zip(schedule.years, actuals, strict=True)
        ]
    )
    years = tuple(
        _year_view(figures, actual, rows.get(figures.year), line, today, delivered[figures.year])
        for figures, actual, line in zip(schedule.years, actuals, ledger, strict=True)
    )
    return DeliveryView(
        contract_id=contract.id,
        code=contract.code,
        name=contract.name,
        buyer=parties.get(contract.buyer_id, ""),
        vendor=parties.get(contract.vendor_id, ""),
        status=contract.status,
        archived=contract.archived_at is not None,
        currency=terms.currency,
        reinvest_share=terms.reinvest_share,
        buyer_share=terms.buyer_share,
        schedule=schedule,
        volume_name=plan.volume_name if plan else None,
        volume_unit=plan.volume_unit if plan else None,
        initiatives_per_year=plan.initiatives_per_year if plan else None,
        plan_version=plan.version if plan else 0,
        plan_updated_at=plan.updated_at if plan else None,
        plan_updated_by=plan.updated_by if plan else None,
        years=years,
        kpis=kpis,
        initiatives=initiatives,
        entries=entries,
        permissions=permissions_for(actor, contract),
        today=today,
    )


def _year_view(
    figures: YearFigures,
    actual: ActualFigures | None,
    row: Any,
    line: LedgerYear,
    today: date,
    delivered: int,
) -> DeliveryYearView:
    return DeliveryYearView(
        plan=figures,
        actual=actual,
        planned_volume=_decimal(row.planned_volume) if row else None,
        actual_volume=_decimal(row.actual_volume) if row else None,
        note=row.note if row else None,
        version=row.version if row else 0,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
        closed_at=row.closed_at if row else None,
        closed_by=row.closed_by if row else None,
        closed_figures=row.closed_figures if row else None,
        ledger=line,
        started=figures.start <= today,
        ended=figures.end < today,
        delivered_initiatives=delivered,
    )


def _kpi_view(kpi: Any, rows: Sequence[Any], term_years: int) -> KpiView:
    tolerance = Decimal(kpi.tolerance)
    stored = {row.year: row for row in rows}
    years = []
    for year in range(1, term_years + 1):
        row = stored.get(year)
        if row is None:
            years.append(_empty_kpi_year(year))
            continue
        target = _decimal(row.target) if row else None
        actual = _decimal(row.actual) if row else None
        quarters = tuple(_decimal(getattr(row, f"q{n}")) if row else None for n in range(1, 5))
        years.append(
            KpiYearView(
                year=year,
                target=target,
                actual=actual,
                quarters=quarters,
                status=_status(kpi, actual, target, tolerance),
                quarter_status=tuple(_status(kpi, q, target, tolerance) for q in quarters),
                version=row.version if row else 0,
                updated_at=row.updated_at if row else None,
                updated_by=row.updated_by if row else None,
            )
        )
    return KpiView(
        kpi.id, kpi.name, kpi.unit, kpi.higher_is_better, tolerance, tuple(years),
        kpi.version, kpi.updated_at, kpi.updated_by,
    )  # fmt: skip


@lru_cache(maxsize=64)
def _empty_kpi_year(year: int) -> KpiYearView:
    # Most KPI years of a long contract hold nothing yet; they share one value each.
    return KpiYearView(year, None, None, (None,) * 4, None, (None,) * 4, 0, None, None)


def _status(
    kpi: Any, actual: Decimal | None, target: Decimal | None, tolerance: Decimal
) -> KpiStatus | None:
    if actual is None or target is None:
        return None
    return kpi_status(actual, target, tolerance, higher_is_better=kpi.higher_is_better)


def _entries_and_initiatives(
    stored_entries: Sequence[Any],
    initiatives: Sequence[Any],
    kpis: Sequence[KpiView],
) -> tuple[tuple[FundEntryView, ...], tuple[InitiativeView, ...]]:
    titles = {item.id: item.title for item in initiatives}
    entries = tuple(
        FundEntryView(
            e.id,
            e.year,
            e.kind,
            e.initiative_id,
            titles.get(e.initiative_id or 0),
            e.amount,
            e.prefunding,
            e.text,
            e.created_at,
            e.created_by,
        )
        for e in stored_entries
    )
    spent: dict[int, int] = defaultdict(int)
    for entry in entries:
        if entry.initiative_id is not None:
            spent[entry.initiative_id] += entry.amount
    kpi_names = {kpi.id: kpi.name for kpi in kpis}
    views = tuple(
        InitiativeView(
            id=i.id,
            title=i.title,
            description=i.description,
            proposed_by_side=i.proposed_by_side,
            proposed_by=i.proposed_by,
            expected_saving=i.expected_saving,
            kpi_id=i.kpi_id,
            kpi_name=kpi_names.get(i.kpi_id or 0),
            expected_kpi_effect=i.expected_kpi_effect,
            budget=i.budget,
            planned_year=i.planned_year,
            status=i.status,
            buyer_approved_at=i.buyer_approved_at,
            buyer_approved_by=i.buyer_approved_by,
            vendor_approved_at=i.vendor_approved_at,
            vendor_approved_by=i.vendor_approved_by,
            delivered_year=i.delivered_year,
            realised_saving=i.realised_saving,
            realised_note=i.realised_note,
            spent=spent[i.id],
            created_at=i.created_at,
            updated_at=i.updated_at,
            updated_by=i.updated_by,
            version=i.version,
        )
        for i in initiatives
    )
    return entries, views


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"
