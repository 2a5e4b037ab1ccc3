"""A contract's lifecycle: moving it along (draft ... closed), its notice and renewal days,
and the page that shows its history, dates, alerts and amendments.

Moves are kept forever (never edited); the rules of which move is allowed and the alerts
live in tracker.domain.lifecycle. Amending the terms of a signed contract is in
tracker.services.amendments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.delivery_models import DeliveryYear
from tracker.db.followup_models import ContractAmendment, ContractFollowUp, ContractMove
from tracker.db.models import Contract, Organisation
from tracker.domain.calendar import anniversary
from tracker.domain.fields import FieldReader
from tracker.domain.lifecycle import (
    Alert,
    allowed_moves,
    closed_reason_problem,
    is_allowed,
    lifecycle_alerts,
    notice_deadline,
    refused_move_message,
    renewal_day,
)
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    DELIVERY_STATUSES,
    locked_contract,
    long_text,
    now_utc,
    require_staff,
    require_version,
    validated,
)
from tracker.services.errors import Conflict, NotFound, StaleEdit

#: The longest notice period, in months.
MAX_NOTICE_MONTHS = 60


@dataclass(frozen=True)
class MoveView:
    """One move of the contract, as the timeline shows it."""

    from_status: str
    to_status: str
    effective_on: date
    reason: str | None
    at: datetime
    by: str


@dataclass(frozen=True)
class AmendmentSummary:
    """An amendment as listed on the lifecycle page."""

    number: int
    effective_year: int
    reason: str
    at: datetime
    by: str


@dataclass(frozen=True)
class LifecycleView:
    """Everything the lifecycle page shows, as plain data."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    #: The contract's version (moves and amendments check it).
    version: int
    start_date: date
    end_date: date
    term_years: int
    #: Newest first.
    moves: tuple[MoveView, ...]
    #: The moves this reader may make now (none for finance, admins or an archived contract).
    allowed: tuple[str, ...]
    signed_on: date | None
    notice_months: int | None
    renewal_on: date | None
    notice_deadline: date | None
    renewal_day: date | None
    closed_reason: str | None
    #: The version of the lifecycle dates (0 before they are first set).
    dates_version: int
    dates_updated_at: datetime | None
    dates_updated_by: str | None
    alerts: tuple[Alert, ...]
    #: Newest first.
    amendments: tuple[AmendmentSummary, ...]
    last_closed_year: int
    may_change: bool
    today: date

    @property
    def may_amend(self) -> bool:
        """Whether this reader may amend the terms now (a signed, not closed contract)."""
        return self.may_change and self.status in DELIVERY_STATUSES

    @property
    def may_set_dates(self) -> bool:
        """Whether this reader may set the notice period and the renewal day now."""
        return self.may_change and self.status != "closed"


def move_contract(
    session: Session,
    actor: Actor,
    contract_id: int,
    to_status: str,
    *,
    effective_on: object,
    reason: object = None,
    closed_reason: object = None,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Move the contract to ``to_status`` from the day ``effective_on``; returns its new
    version. Conflict naming the allowed moves when this one is not."""
    day = today or datetime.now(UTC).date()
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_staff(actor, contract)
        require_not_archived(contract)
        require_contract_version(contract, expected_version)
        from_status = contract.status
        if not is_allowed(from_status, to_status):
            raise Conflict(refused_move_message(from_status, to_status))
        previous = session.scalar(
            select(ContractMove.effective_on)
            .where(ContractMove.contract_id == contract.id)
            .order_by(ContractMove.id.desc())
            .limit(1)
        )
        checked_day, checked_reason, checked_closed = validated(
            lambda reader: _read_move(
                reader, contract, to_status, effective_on, reason, closed_reason, day, previous
            )
        )
        assert checked_day is not None
        session.add(
            ContractMove(
                contract_id=contract.id, from_status=from_status, to_status=to_status,
                effective_on=checked_day, reason=checked_reason, at=stamp, by=actor.label,
            )
        )  # fmt: skip
        if to_status in {"signed", "closed"}:
            follow_up = _follow_up(session, contract.id, actor, stamp)
            if to_status == "signed":
                follow_up.signed_on = checked_day
            else:
                follow_up.closed_reason = checked_closed
        contract.status = to_status
        contract.updated_at = stamp
        session.flush()
        record(session, actor, "move", "contract", contract.id, contract_id=contract.id,
               before={"status": from_status},
               after={"status": to_status, "effective_on": checked_day.isoformat(),
                      "reason": checked_reason, "closed_reason": checked_closed},
               request=request)  # fmt: skip
        return contract.version


def set_lifecycle_dates(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    notice_months: object,
    renewal_on: object,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Set (or clear, when blank) the notice period and the renewal day; returns the new
    version of the lifecycle dates."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_staff(actor, contract)
        require_not_archived(contract)
        if contract.status == "closed":
            raise Conflict("this contract is closed: its lifecycle dates are kept as they were")
        row = session.get(ContractFollowUp, contract.id)
        require_version(f"The lifecycle dates of {contract.code}", row, expected_version)
        months, day = validated(
            lambda reader: _read_dates(reader, contract, notice_months, renewal_on)
        )
        before = None if row is None else _dates_snapshot(row)
        row = _follow_up(session, contract.id, actor, stamp)
        row.notice_months, row.renewal_on = months, day
        session.flush()
        record(session, actor, "set_dates", "contract_lifecycle", contract.id,
               contract_id=contract.id, before=before, after=_dates_snapshot(row),
               request=request)  # fmt: skip
        return row.version


def lifecycle_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> LifecycleView:
    """The contract's lifecycle: status, moves, dates, alerts, amendments (six queries)."""
    day = today or datetime.now(UTC).date()
    with session.begin():
        contract = session.scalars(
            select(Contract)
            .where(Contract.id == contract_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        names = dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_((contract.buyer_id, contract.vendor_id))
                )
            ).all()
        )
        moves = tuple(
            MoveView(m.from_status, m.to_status, m.effective_on, m.reason, m.at, m.by)
            for m in session.scalars(
                select(ContractMove)
                .where(ContractMove.contract_id == contract.id)
                .order_by(ContractMove.id.desc())
            )
        )
        row = session.scalars(
            select(ContractFollowUp)
            .where(ContractFollowUp.contract_id == contract.id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        amendments = tuple(
            AmendmentSummary(a.number, a.effective_year, a.reason, a.at, a.by)
            for a in session.scalars(
                select(ContractAmendment)
                .where(ContractAmendment.contract_id == contract.id)
                .order_by(ContractAmendment.number.desc())
            )
        )
        last_closed = last_closed_year(session, contract.id)
        archived = contract.archived_at is not None
        may_change = actor.works_for(contract.buyer_id, contract.vendor_id) and not archived
        months = row.notice_months if row else None
        renewal_on = row.renewal_on if row else None
        renewed = bool(moves) and (moves[0].from_status, moves[0].to_status) == (
            "renewal",
            "active",
        )
        return LifecycleView(
            contract_id=contract.id,
            code=contract.code,
            name=contract.name,
            buyer=names.get(contract.buyer_id, ""),
            vendor=names.get(contract.vendor_id, ""),
            status=contract.status,
            archived=archived,
            version=contract.version,
            start_date=contract.start_date,
            end_date=contract.end_date,
            term_years=contract.term_years,
            moves=moves,
            allowed=allowed_moves(contract.status) if may_change else (),
            signed_on=row.signed_on if row else None,
            notice_months=months,
            renewal_on=renewal_on,
            notice_deadline=notice_deadline(contract.end_date, months),
            renewal_day=renewal_day(contract.end_date, months, renewal_on),
            closed_reason=row.closed_reason if row else None,
            dates_version=row.version if row else 0,
            dates_updated_at=row.updated_at if row else None,
            dates_updated_by=row.updated_by if row else None,
            alerts=lifecycle_alerts(
                contract.status, contract.end_date, months, renewal_on, day, renewed=renewed
            ),
            amendments=amendments,
            last_closed_year=last_closed,
            may_change=may_change,
            today=day,
        )


def last_closed_year(session: Session, contract_id: int) -> int:
    """The latest closed year of the contract, 0 when none is closed."""
    found = session.scalar(
        select(func.max(DeliveryYear.year)).where(
            DeliveryYear.contract_id == contract_id, DeliveryYear.closed_at.is_not(None)
        )
    )
    return int(found or 0)


def require_not_archived(contract: Contract) -> None:
    """Conflict when the contract is archived (read-only)."""
    if contract.archived_at is not None:
        raise Conflict("this contract is archived: restore it before changing its lifecycle")


def require_contract_version(contract: Contract, expected_version: int) -> None:
    """StaleEdit unless the contract is still at the version the reader saw."""
    if contract.version != expected_version:
        raise StaleEdit(f"Contract {contract.code}", contract.updated_at)


def earliest_day(contract: Contract) -> date:
    """The earliest day a lifecycle date may take: a year before the start, or the first
    day of the year before the contract was entered, whichever is earlier."""
    return min(anniversary(contract.start_date, -1), date(contract.created_at.year - 1, 1, 1))


def _read_move(
    reader: FieldReader,
    contract: Contract,
    to_status: str,
    effective_on: object,
    reason: object,
    closed_reason: object,
    today: date,
    previous: date | None,
) -> tuple[date | None, str | None, str | None]:
    day = reader.required_field({"d": effective_on}, "d", "effective_on", reader.date)
    if day is not None:
        earliest = earliest_day(contract)
        if day > today:
            reader.error("effective_on", f"a move takes effect today ({today}) or earlier")
            day = None
        elif previous is not None and day < previous:
            reader.error(
                "effective_on", f"expected {previous} or later: the previous move took effect then"
            )
            day = None
        elif day < earliest:
            reader.error("effective_on", f"expected {earliest} or later")
            day = None
    text = long_text(reader, reason, "reason", required=False)
    given = None if closed_reason in (None, "") else closed_reason
    kept: str | None = None
    if to_status == "closed":
        checked = given if isinstance(given, str) else None
        # Without a valid day only the reason itself is checked, not whether it expired.
        problem = closed_reason_problem(checked, day or contract.end_date, contract.end_date)
        if problem is not None:
            reader.error("closed_reason", problem)
        else:
            kept = checked
    elif given is not None:
        reader.error("closed_reason", "only a move to closed takes a reason for closing")
    return day, text, kept


def _read_dates(
    reader: FieldReader, contract: Contract, notice_months: object, renewal_on: object
) -> tuple[int | None, date | None]:
    months = None
    if not _blank(notice_months):
        months = reader.whole_number(notice_months, "notice_months", 0, MAX_NOTICE_MONTHS)
        deadline = notice_deadline(contract.end_date, months)
        if deadline is not None and deadline < contract.start_date:
            reader.error(
                "notice_months",
                f"{months} months before the end ({contract.end_date}) falls before the "
                f"start ({contract.start_date})",
            )
            months = None
    day = None
    if not _blank(renewal_on):
        day = reader.date(renewal_on, "renewal_on")
        if day is not None and not contract.start_date <= day <= contract.end_date:
            reader.error(
                "renewal_on",
                f"expected a day within the term, {contract.start_date} to {contract.end_date}",
            )
            day = None
    return months, day


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _follow_up(
    session: Session, contract_id: int, actor: Actor, stamp: datetime
) -> ContractFollowUp:
    row = session.get(ContractFollowUp, contract_id)
    if row is None:
        row = ContractFollowUp(contract_id=contract_id, account_map_shared=False, version=1)
        session.add(row)
    row.updated_at, row.updated_by = stamp, actor.label
    return row


def _dates_snapshot(row: ContractFollowUp) -> dict[str, object]:
    return {
        "notice_months": row.notice_months,
        "renewal_on": None if row.renewal_on is None else row.renewal_on.isoformat(),
    }
