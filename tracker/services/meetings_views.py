"""The governance read side: plain, immutable views of a contract's meetings and the
actions agreed in them, and the loaders that assemble them.

Every member of either side reads them; anyone else is told there is no such contract.
Whether an action is overdue, and whether the meetings keep their rhythm, is computed on
read (tracker.domain.governance). The writes are in tracker.services.meetings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tracker.db.followup_models import Meeting, MeetingAction
from tracker.db.models import Contract, Organisation
from tracker.domain.governance import (
    KIND_LABELS,
    ActionState,
    CadenceAlert,
    action_state,
    cadence_alerts,
    open_action_order,
)
from tracker.services.access import Actor
from tracker.services.delivery_rules import DELIVERY_STATUSES, now_utc
from tracker.services.errors import Conflict, NotFound
from tracker.services.meetings import require_open


@dataclass(frozen=True)
class ContractHeader:
    """The contract a governance page is about."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    start_date: date
    end_date: date


@dataclass(frozen=True)
class ActionView:
    """An action agreed in a meeting, with its state on the day read."""

    id: int
    meeting_id: int
    meeting_title: str
    meeting_held_on: date
    title: str
    owner_side: str
    owner: str | None
    due_on: date
    status: str
    done_on: date | None
    state: ActionState
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its actions (by due day)."""

    id: int
    kind: str
    held_on: date
    title: str
    agenda: str | None
    attendees: tuple[str, ...]
    decisions: str | None
    #: Recorded ahead: the day has not come yet.
    planned: bool
    actions: tuple[ActionView, ...]
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def kind_label(self) -> str:
        """The kind as people read it."""
        return KIND_LABELS[self.kind]

    @property
    def open_actions(self) -> int:
        """How many of its actions are still to be done."""
        return sum(1 for action in self.actions if action.state.is_open)


@dataclass(frozen=True)
class GovernanceCounts:
    """How many meetings and actions a contract has, by state."""

    meetings: int
    open: int
    overdue: int
    due_soon: int
    done: int
    dropped: int


@dataclass(frozen=True)
class GovernancePermissions:
    """What the reader may do; ``reason`` says why not, when it is the contract's state."""

    write: bool
    reason: str | None


@dataclass(frozen=True)
class GovernanceView:
    """Everything the governance page of a contract shows, as plain data."""

    contract: ContractHeader
    meetings: tuple[MeetingView, ...]
    open_actions: tuple[ActionView, ...]
    counts: GovernanceCounts
    alerts: tuple[CadenceAlert, ...]
    permissions: GovernancePermissions
    today: date


@dataclass(frozen=True)
class MeetingPage:
    """One meeting, its contract and what the reader may do."""

    contract: ContractHeader
    meeting: MeetingView
    permissions: GovernancePermissions
    today: date


@dataclass(frozen=True)
class GovernanceSummary:
    """A contract's governance in figures, for the portfolio and the health score."""

    open_actions: int
    overdue_actions: int
    alerts: tuple[CadenceAlert, ...]


def governance_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> GovernanceView:
    """A contract's meetings (newest first) with their actions, the open actions (overdue
    first), the counts, the rhythm alerts and what the reader may do."""
    with session.begin():
        return load_governance(session, actor, contract_id, today or now_utc().date())


def meeting_view(
    session: Session, actor: Actor, meeting_id: int, *, today: date | None = None
) -> MeetingPage:
    """One meeting with its actions and its contract; NotFound when the reader may not see it."""
    with session.begin():
        contract_id = session.scalar(select(Meeting.contract_id).where(Meeting.id == meeting_id))
        if contract_id is None:
            raise NotFound(f"no meeting {meeting_id}")
        try:
            view = load_governance(session, actor, contract_id, today or now_utc().date())
        except NotFound:
            raise NotFound(f"no meeting {meeting_id}") from None
    meeting = next(m for m in view.meetings if m.id == meeting_id)
    return MeetingPage(view.contract, meeting, view.permissions, view.today)


def action_meeting_id(session: Session, actor: Actor, action_id: int) -> int:
    """The meeting an action belongs to; NotFound when the reader may not see it."""
    with session.begin():
        row = session.execute(
            select(MeetingAction.meeting_id, Contract.buyer_id, Contract.vendor_id)
            .join(Contract, Contract.id == MeetingAction.contract_id)
            .where(MeetingAction.id == action_id)
        ).one_or_none()
    if row is None or not actor.sees(row.buyer_id, row.vendor_id):
        raise NotFound(f"no action {action_id}")
    return int(row.meeting_id)


def governance_summaries(
    session: Session, contracts: Sequence[Contract], today: date
) -> dict[int, GovernanceSummary]:
    """Open and overdue actions and the rhythm alerts of contracts already loaded (and
    visible to the caller) in the caller's transaction: two queries whatever their number."""
    ids = [contract.id for contract in contracts]
    held: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in session.scalars(select(Meeting).where(Meeting.contract_id.in_(ids))):
        held[meeting.contract_id].append(meeting)
    states: dict[int, list[ActionState]] = defaultdict(list)
    for contract_id, due_on in session.execute(
        select(MeetingAction.contract_id, MeetingAction.due_on).where(
            MeetingAction.contract_id.in_(ids), MeetingAction.status == "open"
        )
    ):
        states[contract_id].append(action_state("open", due_on, today))
    return {
        contract.id: GovernanceSummary(
            len(states[contract.id]),
            sum(1 for state in states[contract.id] if state.overdue),
            _alerts(contract, held[contract.id], today),
        )
        for contract in contracts
    }


def load_governance(
    session: Session, actor: Actor, contract_id: int, today: date
) -> GovernanceView:
    """The governance read model, in the caller's transaction: three queries."""
    buyer, vendor = aliased(Organisation), aliased(Organisation)
    row = session.execute(
        select(Contract, buyer.name, vendor.name)
        .join(buyer, buyer.id == Contract.buyer_id)
        .join(vendor, vendor.id == Contract.vendor_id)
        .where(Contract.id == contract_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None or not actor.sees(row[0].buyer_id, row[0].vendor_id):
        raise NotFound(f"no contract {contract_id}")
    contract: Contract = row[0]
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.contract_id == contract.id)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
    ).all()
    titles = {meeting.id: (meeting.title, meeting.held_on) for meeting in meetings}
    by_meeting: dict[int, list[ActionView]] = defaultdict(list)
    actions = []
    for action in session.scalars(
        select(MeetingAction)
        .where(MeetingAction.contract_id == contract.id)
        .order_by(MeetingAction.due_on, MeetingAction.id)
    ):
        view = _action_view(action, *titles[action.meeting_id], today)
        by_meeting[action.meeting_id].append(view)
        actions.append(view)
    header = ContractHeader(
        contract.id, contract.code, contract.name, row[1], row[2], contract.status,
        contract.archived_at is not None, contract.start_date, contract.end_date,
    )  # fmt: skip
    open_actions = sorted(
        (a for a in actions if a.state.is_open), key=lambda a: open_action_order(a.due_on, a.id)
    )
    return GovernanceView(
        contract=header,
        meetings=tuple(_meeting_view(m, tuple(by_meeting[m.id]), today) for m in meetings),
        open_actions=tuple(open_actions),
        counts=GovernanceCounts(
            meetings=len(meetings),
            open=len(open_actions),
            overdue=sum(1 for a in open_actions if a.state.overdue),
            due_soon=sum(1 for a in open_actions if a.state.state == "due_soon"),
            done=sum(1 for a in actions if a.status == "done"),
            dropped=sum(1 for a in actions if a.status == "dropped"),
        ),
        alerts=_alerts(contract, meetings, today),
        permissions=_permissions(actor, contract),
        today=today,
    )


def _alerts(
    contract: Contract, meetings: Iterable[Meeting], today: date
) -> tuple[CadenceAlert, ...]:
    """The rhythm alerts of a contract under way (none before it is signed, nor once
    closed or archived: nobody meets about it any more)."""
    if contract.archived_at is not None or contract.status not in DELIVERY_STATUSES:
        return ()
    return cadence_alerts(meetings, contract.start_date, today, end_date=contract.end_date)


def _permissions(actor: Actor, contract: Contract) -> GovernancePermissions:
    try:
        require_open(contract)
    except Conflict as exc:
        return GovernancePermissions(write=False, reason=str(exc))
    return GovernancePermissions(
        write=actor.works_for(contract.buyer_id, contract.vendor_id), reason=None
    )


def _meeting_view(meeting: Meeting, actions: tuple[ActionView, ...], today: date) -> MeetingView:
    return MeetingView(
        id=meeting.id,
        kind=meeting.kind,
        held_on=meeting.held_on,
        title=meeting.title,
        agenda=meeting.agenda,
        attendees=tuple((meeting.attendees or "").splitlines()),
        decisions=meeting.decisions,
        planned=meeting.held_on > today,
        actions=actions,
        version=meeting.version,
        updated_at=meeting.updated_at,
        updated_by=meeting.updated_by,
    )


def _action_view(action: MeetingAction, title: str, held_on: date, today: date) -> ActionView:
    return ActionView(
        id=action.id,
        meeting_id=action.meeting_id,
        meeting_title=title,
        meeting_held_on=held_on,
        title=action.title,
        owner_side=action.owner_side,
        owner=action.owner,
        due_on=action.due_on,
        status=action.status,
        done_on=action.done_on,
        state=action_state(action.status, action.due_on, today),
        version=action.version,
        updated_at=action.updated_at,
        updated_by=action.updated_by,
    )
