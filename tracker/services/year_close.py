"""Closing a contract year (finance) and reopening it (an administrator, with a reason).

A year closes once it has ended, the year before it is closed, its actuals and KPI
results are all recorded and the fund ties out. Closing keeps the year's figures
as they stand (canonical JSON) so that reconciliation can show they never change;
a closed year is read-only, and a correction is an adjustment in an open year.
Only the latest closed year can be reopened, so the closed years stay a prefix, and
never a year whose annual report both sides have signed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.delivery_models import DeliveryYear
from tracker.db.report_models import AnnualReport
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery import build_view, canonical, year_figures_document
from tracker.services.delivery_rules import (
    locked_contract,
    long_text,
    now_utc,
    require_delivery,
    require_finance,
    require_year,
    validated,
)
from tracker.services.errors import Conflict, Forbidden
from tracker.services.reconciliation import close_blockers


def close_year(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    *,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Close a year; Conflict naming every reason when it cannot be closed yet."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_finance(actor, contract, "close a year")
        require_delivery(contract)
        require_year(contract, year)
        row = session.scalars(
            select(DeliveryYear)
            .where(DeliveryYear.contract_id == contract.id, DeliveryYear.year == year)
            .with_for_update()
        ).one_or_none()
        if row is not None and row.closed_at is not None:
            raise Conflict(
                f"year {year} was already closed on {row.closed_at:%Y-%m-%d} by {row.closed_by}"
            )
        view = build_view(session, actor, contract, today or datetime.now(UTC).date())
        blockers = close_blockers(view, year)
        if blockers or row is None:
            raise Conflict(f"year {year} cannot be closed yet: " + "; ".join(blockers))
        row.closed_at, row.closed_by = stamp, actor.label
        row.closed_figures = canonical(year_figures_document(view, year))
        row.updated_at, row.updated_by = stamp, actor.label
        record(session, actor, "close_year", "delivery_year", year, contract_id=contract.id,
               after={"year": year, "figures": year_figures_document(view, year)},
               request=request)  # fmt: skip


def reopen_year(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    reason: object,
    *,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Reopen the latest closed year, by an administrator of either party, with a reason."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        if not actor.has_role("admin", contract.buyer_id, contract.vendor_id):
            raise Forbidden("only an administrator of the buyer or the vendor may reopen a year")
        require_year(contract, year)
        text = validated(lambda reader: _reason(reader, reason))
        rows = session.scalars(
            select(DeliveryYear)
            .where(DeliveryYear.contract_id == contract.id, DeliveryYear.closed_at.is_not(None))
            .order_by(DeliveryYear.year)
            .with_for_update()
        ).all()
        closed = {row.year: row for row in rows}
        if year not in closed:
            raise Conflict(f"year {year} is not closed")
        if year != max(closed):
            raise Conflict(f"reopen year {max(closed)} first: closed years stay in order")
        row = closed[year]
        report = session.scalars(
            select(AnnualReport).where(
                AnnualReport.contract_id == contract.id,
                AnnualReport.year == year,
                AnnualReport.frozen_at.is_not(None),
            )
        ).one_or_none()
        if report is not None and report.frozen_at is not None:
            raise Conflict(
                f"the annual report of year {year} was signed by both sides on "
                f"{report.frozen_at:%Y-%m-%d}: the year stays closed; record a correction "
                "as an adjustment in an open year, which the next report shows"
            )
        closed_at = row.closed_at.isoformat() if row.closed_at else None
        before = {"year": year, "closed_at": closed_at, "closed_by": row.closed_by}
        row.closed_at = row.closed_by = row.closed_figures = None
        row.updated_at, row.updated_by = stamp, actor.label
        record(session, actor, "reopen_year", "delivery_year", year, contract_id=contract.id,
               before=before, after={"year": year, "reason": text}, request=request)  # fmt: skip


def _reason(reader: FieldReader, reason: object) -> str | None:
    return long_text(reader, reason, "reason", required=True)
