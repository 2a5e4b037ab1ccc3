"""What the onboarding pages read: a contract's plan (its first 100 days) with each
milestone's state on the day read, the reader's rights over it, and the portfolio of every
contract in onboarding with what is late.

Every member of the buyer or the vendor reads a plan; anyone else is told the contract
does not exist. States (late, due soon) are computed on read from ``today`` by
tracker.domain.onboarding.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, true
from sqlalchemy.orm import Session, aliased

from tracker.db.followup_models import ContractFollowUp, Milestone
from tracker.db.models import Contract, Organisation
from tracker.domain.onboarding import (
    ONBOARDING_DAYS,
    MilestoneState,
    OnboardingSummary,
    date_window,
    day_zero,
    lateness_rank,
    may_move,
    milestone_state,
    onboarding_summary,
)
from tracker.services.access import Actor
from tracker.services.delivery_rules import DELIVERY_STATUSES, today_utc
from tracker.services.errors import NotFound

#: A milestone's statuses, as messages word them.
STATUS_WORDS = {
    "planned": "planned",
    "in_progress": "in progress",
    "done": "done",
    "dropped": "dropped",
}


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


# -- reading ----------------------------------------------------------------------------


def onboarding_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> OnboardingView:
    """The contract's plan, sorted by due day, with its summary and the reader's rights."""
    with session.begin():
        contract = session.get(Contract, contract_id, populate_existing=True)
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        return _view(session, actor, contract, today_utc(today))


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
        view = _view(session, actor, contract, today_utc(today))
    line = next(line for line in view.milestones if line.id == milestone_id)
    return view, line


def onboarding_portfolio(
    session: Session, actor: Actor, *, today: date | None = None
) -> tuple[OnboardingRow, ...]:
    """Every contract the actor sees that is in onboarding (or signed, not closed and
    within 100 days of its day 0), the most late first; three queries whatever the count."""
    day = today_utc(today)
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


# -- helpers shared with the writes -----------------------------------------------------


def signed_on_of(session: Session, contract_id: int) -> date | None:
    """The day the contract was signed, when recorded."""
    return session.scalar(
        select(ContractFollowUp.signed_on).where(ContractFollowUp.contract_id == contract_id)
    )


def read_only_reason(contract: Contract) -> str | None:
    """Why the contract's plan may not be changed, or None when it may."""
    if contract.archived_at is not None:
        return "this contract is archived: restore it before changing its onboarding plan"
    if contract.status == "closed":
        return "this contract is closed: its onboarding plan is read-only"
    if contract.status not in DELIVERY_STATUSES:
        return (
            f"the onboarding plan starts once the contract is signed; this one is {contract.status}"
        )
    return None


# -- helpers ----------------------------------------------------------------------------


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
        moves=tuple(to for to in STATUS_WORDS if may_move(row.status, to)),
    )  # fmt: skip


def _view(session: Session, actor: Actor, contract: Contract, today: date) -> OnboardingView:
    signed_on = signed_on_of(session, contract.id)
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_((contract.buyer_id, contract.vendor_id))
            )
        ).all()
    )
    lines = tuple(_line(row, today) for row in _milestones(session, [contract.id])[contract.id])
    start = day_zero(signed_on, contract.start_date)
    reason = read_only_reason(contract)
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
