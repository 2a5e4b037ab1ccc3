"""The onboarding plan of a contract (its first 100 days): milestones from a template,
each with an owner side, a due day and a status, and the view of every contract in
onboarding with what is late.

Staff of the buyer or the vendor change the plan; every member of either party reads
it; anyone else is told the contract does not exist. A plan is changed while the
contract is signed and not closed or archived. States (late, due soon) are computed
on read from ``today`` by tracker.domain.onboarding.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, true
from sqlalchemy.orm import Session, aliased

from tracker.db.followup_models import ContractFollowUp, Milestone
from tracker.db.models import Contract, Organisation
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.onboarding import (
    ONBOARDING_DAYS,
    OWNER_SIDES,
    MilestoneState,
    OnboardingSummary,
    date_window,
    day_zero,
    lateness_rank,
    may_move,
    milestone_state,
    onboarding_summary,
    planned_template,
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
    snapshot_of,
    validated,
)
from tracker.services.errors import Conflict, NotFound

_FIELDS = ("title", "owner_side", "due_on", "status", "done_on", "note")
_WORDS = {"planned": "planned", "in_progress": "in progress", "done": "done", "dropped": "dropped"}


@dataclass(frozen=True)
class MilestoneLine:
    """A milestone of the plan with its state on the day read."""

    id: int
    title: str
    owner_side: str
    due_on: date
    status: str
    done_on: date | None
    note: str | None
    version: int
    updated_at: datetime
    updated_by: str
    state: MilestoneState
    #: The statuses it may be moved to.
    moves: tuple[str, ...]


@dataclass(frozen=True)
class OnboardingPermissions:
    """What the reader may do with the plan."""

    #: The contract is signed, not closed and not archived.
    writable: bool
    #: The reader is staff of the buyer or the vendor (and the plan is writable).
    edit: bool
    #: Why the plan is read-only, when it is.
    read_only_reason: str | None


@dataclass(frozen=True)
class OnboardingView:
    """A contract's onboarding plan as plain data, on the day read."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    start_date: date
    end_date: date
    #: The first day of the onboarding period, and where it comes from.
    day_zero: date
    day_zero_source: str
    today: date
    milestones: tuple[MilestoneLine, ...]
    summary: OnboardingSummary
    permissions: OnboardingPermissions
    #: The earliest and latest day a milestone may be due or done on.
    window: tuple[date, date]

    @property
    def day_100(self) -> date:
        """The last day of the onboarding period."""
        return self.day_zero + timedelta(days=ONBOARDING_DAYS)


@dataclass(frozen=True)
class LateMilestone:
    """A late milestone as the portfolio lists it."""

    id: int
    title: str
    owner_side: str
    due_on: date
    days_late: int


@dataclass(frozen=True)
class OnboardingRow:
    """One contract of the onboarding portfolio."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    day_zero: date
    summary: OnboardingSummary
    #: Late milestones, the most recently due first.
    late: tuple[LateMilestone, ...]

    @property
    def latest_late(self) -> LateMilestone | None:
        """The late milestone whose due day is the most recent."""
        return self.late[0] if self.late else None


@dataclass(frozen=True)
class TemplateApplied:
    """What applying the template did: milestones made, and how many were already late."""

    created: int
    late: int
    start_on: date


# -- reading ----------------------------------------------------------------------------


def onboarding_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> OnboardingView:
    """The contract's plan, sorted by due day, with its summary and the reader's rights."""
    with session.begin():
        contract = session.get(Contract, contract_id, populate_existing=True)
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        return _view(session, actor, contract, _today(today))


def milestone_view(
    session: Session, actor: Actor, milestone_id: int, *, today: date | None = None
) -> tuple[OnboardingView, MilestoneLine]:
    """A milestone within its contract's plan; NotFound when the actor may not see it."""
    with session.begin():
        contract = session.scalars(
            select(Contract)
            .join(Milestone, Milestone.contract_id == Contract.id)
            .where(Milestone.id == milestone_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no milestone {milestone_id}")
        view = _view(session, actor, contract, _today(today))
    line = next(line for line in view.milestones if line.id == milestone_id)
    return view, line


def onboarding_portfolio(
    session: Session, actor: Actor, *, today: date | None = None
) -> tuple[OnboardingRow, ...]:
    """Every contract the actor sees that is in onboarding (or signed, not closed and
    within 100 days of its day 0), the most late first; three queries whatever the count."""
    day = _today(today)
    buyer, vendor = aliased(Organisation), aliased(Organisation)
    start = case(
        (ContractFollowUp.signed_on > Contract.start_date, ContractFollowUp.signed_on),
        else_=Contract.start_date,
    )
    visible = (
        true()
        if actor.system
        else or_(
            Contract.buyer_id.in_(sorted(actor.organisation_ids)),
            Contract.vendor_id.in_(sorted(actor.organisation_ids)),
        )
    )
    with session.begin():
        contracts = session.execute(
            select(
                Contract.id, Contract.code, Contract.name, Contract.status, Contract.start_date,
                ContractFollowUp.signed_on, buyer.name.label("buyer"), vendor.name.label("vendor"),
            )
            .outerjoin(ContractFollowUp, ContractFollowUp.contract_id == Contract.id)
            .join(buyer, buyer.id == Contract.buyer_id)
            .join(vendor, vendor.id == Contract.vendor_id)
            .where(
                visible,
                Contract.archived_at.is_(None),
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
                or_(
                    Contract.status == "onboarding",
                    and_(start <= day, start >= day - timedelta(days=ONBOARDING_DAYS)),
                ),
            )
        ).all()  # fmt: skip
        milestones = _milestones(session, [row.id for row in contracts])
    rows = [_row(row, milestones[row.id], day) for row in contracts]
    return tuple(sorted(rows, key=lambda r: (*lateness_rank(m.days_late for m in r.late), r.code)))


# -- changing ---------------------------------------------------------------------------


def apply_template(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    start_on: object = None,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> TemplateApplied:
    """Plan the template's milestones from ``start_on`` (default: day 0); refused when the
    contract already has milestones."""
    stamp = now_utc(now)
    with session.begin():
        contract = _writable(session, actor, contract_id)
        if session.scalar(select(Milestone.id).where(Milestone.contract_id == contract.id)):
            raise Conflict("this contract already has an onboarding plan: add milestones to it")
        given = validated(
            lambda reader: _day(reader, contract, start_on, "start_on", required=False)
        )
        first = given or day_zero(_signed_on(session, contract.id), contract.start_date)
        created = planned_template(first)
        for planned in created:
            milestone = Milestone(
                contract_id=contract.id, title=planned.title, owner_side=planned.owner_side,
                due_on=planned.due_on, status="planned", version=1,
            )  # fmt: skip
            _stamp(milestone, actor, stamp)
            session.add(milestone)
        session.flush()
        record(session, actor, "apply_template", "onboarding", contract.id,
               contract_id=contract.id, after={"start_on": first.isoformat(),
               "milestones": len(created)}, request=request)  # fmt: skip
        late = sum(planned.due_on < _today(today) for planned in created)
        return TemplateApplied(len(created), late, first)


def add_milestone(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    title: object,
    owner_side: object,
    due_on: object,
    note: object = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Add a planned milestone to the contract's plan; returns its id."""
    stamp = now_utc(now)
    with session.begin():
        contract = _writable(session, actor, contract_id)
        values = validated(lambda reader: _read(reader, contract, title, owner_side, due_on, note))
        milestone = Milestone(contract_id=contract.id, status="planned", version=1, **values)
        _stamp(milestone, actor, stamp)
        session.add(milestone)
        session.flush()
        record(session, actor, "create", "milestone", milestone.id, contract_id=contract.id,
               after=snapshot_of(milestone, _FIELDS), request=request)  # fmt: skip
        return milestone.id


def update_milestone(
    session: Session,
    actor: Actor,
    milestone_id: int,
    *,
    title: object,
    owner_side: object,
    due_on: object,
    note: object = None,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change a milestone's title, owner side, due day and note."""
    stamp = now_utc(now)
    with session.begin():
        milestone, contract = _locked(session, actor, milestone_id, expected_version)
        values = validated(lambda reader: _read(reader, contract, title, owner_side, due_on, note))
        before = snapshot_of(milestone, _FIELDS)
        for name, value in values.items():
            setattr(milestone, name, value)
        _stamp(milestone, actor, stamp)
        record(session, actor, "update", "milestone", milestone.id, contract_id=contract.id,
               before=before, after=snapshot_of(milestone, _FIELDS), request=request)  # fmt: skip


def set_milestone_status(
    session: Session,
    actor: Actor,
    milestone_id: int,
    status: str,
    *,
    expected_version: int,
    done_on: object = None,
    note: object = None,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Move a milestone to in_progress, done (on ``done_on``, default today, never in the
    future), dropped (``note`` gives the reason) or back to planned. A note given
    replaces the milestone's note."""
    stamp = now_utc(now)
    day = _today(today)
    with session.begin():
        if status not in _WORDS:
            raise InvalidTerms([FieldError("status", f"expected one of {', '.join(_WORDS)}")])
        milestone, contract = _locked(session, actor, milestone_id, expected_version)
        if not may_move(milestone.status, status):
            raise Conflict(
                f"a milestone that is {_WORDS.get(milestone.status, milestone.status)} "
                f"cannot become {_WORDS.get(status, status)}"
            )

        def read(reader: FieldReader) -> dict[str, Any]:
            values: dict[str, Any] = {"done_on": None}
            if status == "done":
                blank = done_on is None or (isinstance(done_on, str) and not done_on.strip())
                values["done_on"] = day if blank else _day(reader, contract, done_on, "done_on")
                if values["done_on"] is not None and values["done_on"] > day:
                    reader.error("done_on", f"expected a day no later than today ({day})")
            reason = long_text(reader, note, "note", required=status == "dropped")
            if reason is not None:
                values["note"] = reason
            return values

        values = validated(read)
        before = snapshot_of(milestone, _FIELDS)
        for name, value in values.items():
            setattr(milestone, name, value)
        milestone.status = status
        _stamp(milestone, actor, stamp)
        record(session, actor, status, "milestone", milestone.id, contract_id=contract.id,
               before=before, after=snapshot_of(milestone, _FIELDS), request=request)  # fmt: skip


# -- helpers ----------------------------------------------------------------------------


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def _writable(session: Session, actor: Actor, contract_id: int) -> Contract:
    contract = locked_contract(session, actor, contract_id)
    require_staff(actor, contract)
    _require_open(contract)
    return contract


def _require_open(contract: Contract) -> None:
    reason = _read_only_reason(contract)
    if reason is not None:
        raise Conflict(reason)


def _locked(
    session: Session, actor: Actor, milestone_id: int, expected_version: int
) -> tuple[Milestone, Contract]:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound(f"no milestone {milestone_id}")
    try:
        contract = locked_contract(session, actor, milestone.contract_id)
    except NotFound:
        raise NotFound(f"no milestone {milestone_id}") from None
    session.refresh(milestone)
    require_staff(actor, contract)
    _require_open(contract)
    require_version(f"Milestone “{milestone.title}”", milestone, expected_version)
    return milestone, contract


def _stamp(milestone: Milestone, actor: Actor, stamp: datetime) -> None:
    milestone.updated_at, milestone.updated_by = stamp, actor.label


def _read(
    reader: FieldReader,
    contract: Contract,
    title: object,
    owner_side: object,
    due_on: object,
    note: object,
) -> dict[str, Any]:
    checked_title = reader.required_field({"t": title}, "t", "title", reader.text, max_length=200)
    if owner_side not in OWNER_SIDES:
        reader.error("owner_side", 'expected "buyer" or "vendor"')
    return {
        "title": checked_title,
        "owner_side": owner_side,
        "due_on": _day(reader, contract, due_on, "due_on", required=True),
        "note": long_text(reader, note, "note", required=False),
    }


def _day(
    reader: FieldReader, contract: Contract, value: object, path: str, *, required: bool = True
) -> date | None:
    """A day within a year of the contract's term, as a date or YYYY-MM-DD text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            reader.error(path, "required")
        return None
    day = value if isinstance(value, date) else reader.date(value, path)
    if day is None:
        return None
    low, high = date_window(contract.start_date, contract.end_date)
    if not low <= day <= high:
        reader.error(path, f"expected a day from {low} to {high} (a year around the term)")
        return None
    return day


def _signed_on(session: Session, contract_id: int) -> date | None:
    return session.scalar(
        select(ContractFollowUp.signed_on).where(ContractFollowUp.contract_id == contract_id)
    )


def _milestones(session: Session, ids: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(Milestone.__table__)
        .where(Milestone.contract_id.in_(ids))
        .order_by(Milestone.due_on, Milestone.id)
    ):
        grouped[row.contract_id].append(row)
    return grouped


def _line(row: Any, today: date) -> MilestoneLine:
    return MilestoneLine(
        id=row.id, title=row.title, owner_side=row.owner_side, due_on=row.due_on,
        status=row.status, done_on=row.done_on, note=row.note, version=row.version,
        updated_at=row.updated_at, updated_by=row.updated_by,
        state=milestone_state(row.status, row.due_on, today),
        moves=tuple(to for to in _WORDS if may_move(row.status, to)),
    )  # fmt: skip


def _view(session: Session, actor: Actor, contract: Contract, today: date) -> OnboardingView:
    signed_on = _signed_on(session, contract.id)
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_((contract.buyer_id, contract.vendor_id))
            )
        ).all()
    )
    lines = tuple(_line(row, today) for row in _milestones(session, [contract.id])[contract.id])
    start = day_zero(signed_on, contract.start_date)
    reason = _read_only_reason(contract)
    return OnboardingView(
        contract_id=contract.id, code=contract.code, name=contract.name,
        buyer=names[contract.buyer_id], vendor=names[contract.vendor_id],
        status=contract.status, archived=contract.archived_at is not None,
        start_date=contract.start_date, end_date=contract.end_date, day_zero=start,
        day_zero_source="signature" if start != contract.start_date else "start of the service",
        today=today,
        milestones=lines,
        summary=onboarding_summary(((m.status, m.due_on) for m in lines), start, today),
        permissions=OnboardingPermissions(
            writable=reason is None,
            edit=reason is None and actor.works_for(contract.buyer_id, contract.vendor_id),
            read_only_reason=reason,
        ),
        window=date_window(contract.start_date, contract.end_date),
    )  # fmt: skip


def _read_only_reason(contract: Contract) -> str | None:
    if contract.archived_at is not None:
        return "this contract is archived: restore it before changing its onboarding plan"
    if contract.status == "closed":
        return "this contract is closed: its onboarding plan is read-only"
    if contract.status not in DELIVERY_STATUSES:
        return (
            f"the onboarding plan starts once the contract is signed; this one is {contract.status}"
        )
    return None


def _row(row: Any, milestones: list[Any], today: date) -> OnboardingRow:
    start = day_zero(row.signed_on, row.start_date)
    lines = [_line(m, today) for m in milestones]
    late = sorted(
        (
            LateMilestone(m.id, m.title, m.owner_side, m.due_on, m.state.days_late)
            for m in lines
            if m.state.kind == "late"
        ),
        key=lambda m: (m.due_on, m.id),
        reverse=True,
    )
    return OnboardingRow(
        contract_id=row.id, code=row.code, name=row.name, buyer=row.buyer, vendor=row.vendor,
        status=row.status, day_zero=start,
        summary=onboarding_summary(((m.status, m.due_on) for m in lines), start, today),
        late=tuple(late),
    )  # fmt: skip
