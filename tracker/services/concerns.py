"""The concern register: concerns raised by either side, worked on, resolved or reopened.

Staff of the buyer or the vendor raise a concern for their own side, name the side
that owns it and the day it is due; either side's staff move it to in progress,
resolve it (saying how) or reopen it (saying why). Members of either party read the
register; finance and admin only read. Overdue concerns are escalated on read
(tracker.domain.concerns). Who may write, for which side and when: follow_up_rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.followup_models import CONCERN_CATEGORIES, CONCERN_STATUSES, SEVERITIES, SIDES
from tracker.db.followup_models import Concern as ConcernRow
from tracker.db.models import Contract
from tracker.domain.concerns import (
    CATEGORY_LABELS,
    SEVERITY_ORDER,
    ConcernState,
    allowed_moves,
    concern_state,
    register_order,
)
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, changed_fields, record
from tracker.services.delivery_rules import (
    locked_contract,
    long_text,
    now_utc,
    optional_text,
    require_version,
    snapshot_of,
    validated,
)
from tracker.services.errors import Conflict, NotFound
from tracker.services.follow_up_rules import (
    FollowUpContract,
    FollowUpPermissions,
    contract_query,
    followup_contract,
    followup_permissions,
    require_staff,
    require_writable,
    speaking_side,
    visible_contract,
)

_FIELDS = (
    "title", "description", "category", "severity", "raised_by_side", "raised_by", "raised_on",
    "owner_side", "owner", "due_on", "status", "resolution", "resolved_on",
)  # fmt: skip
#: The fields a person gives when raising or editing a concern.
EDITABLE = ("title", "description", "category", "severity", "owner_side", "owner", "due_on")
#: How far ahead a concern may be due.
LONGEST_DUE = timedelta(days=365)
_YEAR = timedelta(days=365)
_ACTIONS = {"in_progress": "start", "resolved": "resolve", "open": "reopen"}


@dataclass(frozen=True)
class ConcernView:
    """A concern as the register shows it, with its state on the day read."""

    id: int
    title: str
    description: str | None
    category: str
    severity: str
    raised_by_side: str
    raised_by: str
    raised_on: date
    owner_side: str
    owner: str | None
    due_on: date
    status: str
    resolution: str | None
    resolved_on: date | None
    state: ConcernState
    moves: tuple[str, ...]
    updated_at: datetime
    updated_by: str
    version: int

    @property
    def category_label(self) -> str:
        """The category in words."""
        return CATEGORY_LABELS.get(self.category, self.category)


@dataclass(frozen=True)
class ConcernsView:
    """A contract's concern register on one day, in register order."""

    contract: FollowUpContract
    today: date
    concerns: tuple[ConcernView, ...]
    permissions: FollowUpPermissions

    @property
    def open(self) -> tuple[ConcernView, ...]:
        """The concerns not resolved yet (open or in progress)."""
        return tuple(c for c in self.concerns if c.status != "resolved")

    @property
    def resolved(self) -> tuple[ConcernView, ...]:
        """The resolved concerns, most recently resolved first."""
        return tuple(c for c in self.concerns if c.status == "resolved")

    @property
    def overdue(self) -> tuple[ConcernView, ...]:
        """The open concerns past their due day."""
        return tuple(c for c in self.concerns if c.state.overdue)

    @property
    def by_severity(self) -> tuple[tuple[str, int], ...]:
        """How many concerns are not resolved, per severity, critical first."""
        return tuple(
            (severity, sum(1 for c in self.open if c.severity == severity))
            for severity in reversed(SEVERITY_ORDER)
        )

    @property
    def highest_escalation(self) -> int:
        """The highest escalation level among the open concerns (0: none)."""
        return max((c.state.escalation for c in self.open), default=0)


@dataclass(frozen=True)
class ConcernEvent:
    """One recorded change of a concern, from the audit trail."""

    at: datetime
    actor: str
    action: str
    changes: tuple[tuple[str, str | None, str | None], ...]
    reason: str | None


@dataclass(frozen=True)
class ConcernDetail:
    """One concern with its contract, the viewer's permissions and its history."""

    contract: FollowUpContract
    today: date
    concern: ConcernView
    permissions: FollowUpPermissions
    history: tuple[ConcernEvent, ...]


# -- writes -------------------------------------------------------------------------


def raise_concern(
    session: Session,
    actor: Actor,
    contract_id: int,
    fields: Mapping[str, object],
    *,
    side: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """A new concern raised by the actor's side on ``today``; returns its id.

    ``fields``: title, description, category, severity, owner_side, owner (optional) and
    due_on (from today to a year ahead). Staff of both parties name the ``side``."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        raiser = speaking_side(actor, contract, side, "raise concerns")
        require_writable(contract)
        values = validated(lambda reader: _read(reader, contract, fields, day, None))
        concern = ConcernRow(
            contract_id=contract.id, raised_by_side=raiser, raised_by=actor.label,
            raised_on=day, status="open", updated_at=stamp, updated_by=actor.label, version=1,
            **values,
        )  # fmt: skip
        session.add(concern)
        session.flush()
        record(session, actor, "raise", "concern", concern.id, contract_id=contract.id,
               after=snapshot_of(concern, _FIELDS), request=request)  # fmt: skip
        return concern.id


def update_concern(
    session: Session,
    actor: Actor,
    concern_id: int,
    fields: Mapping[str, object],
    *,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change a concern that is not resolved; a new due day lies from today to a year ahead."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        concern, contract = _locked(session, actor, concern_id)
        require_staff(actor, contract, "change concerns")
        require_writable(contract)
        require_version(f"Concern “{concern.title}”", concern, expected_version)
        if concern.status == "resolved":
            raise Conflict("the concern is resolved: reopen it before changing it")
        values = validated(lambda reader: _read(reader, contract, fields, day, concern.due_on))
        before = snapshot_of(concern, _FIELDS)
        for name, value in values.items():
            setattr(concern, name, value)
        concern.updated_at, concern.updated_by = stamp, actor.label
        session.flush()
        record(session, actor, "update", "concern", concern.id, contract_id=contract.id,
               before=before, after=snapshot_of(concern, _FIELDS), request=request)  # fmt: skip


def move_concern(
    session: Session,
    actor: Actor,
    concern_id: int,
    status: str,
    *,
    expected_version: int,
    resolution: object = None,
    reason: object = None,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Move a concern: open -> in_progress; open or in_progress -> resolved (``resolution``
    required, resolved today); resolved -> open (``reason`` required, kept in the history)."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        concern, contract = _locked(session, actor, concern_id)
        require_staff(actor, contract, "move concerns")
        require_writable(contract)
        if status not in CONCERN_STATUSES:
            expected = ", ".join(CONCERN_STATUSES)
            raise InvalidTerms([FieldError("status", f"expected one of {expected}")])
        require_version(f"Concern “{concern.title}”", concern, expected_version)
        if status not in allowed_moves(concern.status):
            raise Conflict(
                f"a concern that is {_words(concern.status)} cannot become {_words(status)}"
            )

        def read(reader: FieldReader) -> dict[str, Any]:
            if status == "resolved":
                text = long_text(reader, resolution, "resolution", required=True)
                return {"resolution": text, "resolved_on": day}
            if status == "open":
                return {"reason": long_text(reader, reason, "reason", required=True)}
            return {}

        values = validated(read)
        before = snapshot_of(concern, _FIELDS)
        if status == "open":
            concern.resolution = concern.resolved_on = None
        else:
            for name, value in values.items():
                setattr(concern, name, value)
        concern.status = status
        concern.updated_at, concern.updated_by = stamp, actor.label
        session.flush()
        after = dict(snapshot_of(concern, _FIELDS))
        if "reason" in values:
            after["reason"] = values["reason"]
        record(session, actor, _ACTIONS[status], "concern", concern.id, contract_id=contract.id,
               before=before, after=after, request=request)  # fmt: skip


# -- reads --------------------------------------------------------------------------


def concerns_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> ConcernsView:
    """The contract's concern register on ``today``: two queries whatever its size."""
    day = today or now_utc().date()
    with session.begin():
        contract = followup_contract(session, actor, contract_id)
        concerns = session.scalars(
            select(ConcernRow).where(ConcernRow.contract_id == contract.contract_id)
        ).all()
        views = sorted((_view(c, day) for c in concerns), key=_order)
        return ConcernsView(contract, day, tuple(views), followup_permissions(actor, contract))


def concern_view(
    session: Session, actor: Actor, concern_id: int, *, today: date | None = None
) -> ConcernDetail:
    """One concern with its history from the audit trail; NotFound when not visible."""
    day = today or now_utc().date()
    with session.begin():
        found = session.execute(
            contract_query()
            .add_columns(ConcernRow)
            .join(ConcernRow, ConcernRow.contract_id == Contract.id)
            .where(ConcernRow.id == concern_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        contract = visible_contract(found, actor, f"no concern {concern_id}")
        assert found is not None
        concern: ConcernRow = found[-1]
        events = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.contract_id == contract.contract_id,
                AuditEvent.entity == "concern",
                AuditEvent.entity_id == concern_id,
            )
            .order_by(AuditEvent.id.desc())
        ).all()
        history = tuple(_event(event) for event in events)
        return ConcernDetail(
            contract, day, _view(concern, day), followup_permissions(actor, contract), history
        )


# -- helpers ------------------------------------------------------------------------


def _locked(session: Session, actor: Actor, concern_id: int) -> tuple[ConcernRow, Contract]:
    """The concern with its contract locked, read afresh; NotFound when not visible."""
    concern = session.get(ConcernRow, concern_id)
    if concern is None:
        raise NotFound(f"no concern {concern_id}")
    try:
        contract = locked_contract(session, actor, concern.contract_id)
    except NotFound:
        raise NotFound(f"no concern {concern_id}") from None
    session.refresh(concern)
    return concern, contract


def _read(
    reader: FieldReader,
    contract: Contract,
    fields: Mapping[str, object],
    today: date,
    current_due: date | None,
) -> dict[str, Any]:
    title = reader.required_field(fields, "title", "title", reader.text, max_length=200)
    description = long_text(reader, fields.get("description"), "description", required=True)
    category = _choice(reader, fields.get("category"), "category", CONCERN_CATEGORIES)
    severity = _choice(reader, fields.get("severity"), "severity", SEVERITIES)
    owner_side = _choice(reader, fields.get("owner_side"), "owner_side", SIDES)
    owner = optional_text(reader, fields.get("owner"), "owner", 200)
    due_on = _due_on(reader, contract, fields.get("due_on"), today, current_due)
    return {
        "title": title, "description": description, "category": category,
        "severity": severity, "owner_side": owner_side, "owner": owner, "due_on": due_on,
    }  # fmt: skip


def _due_on(
    reader: FieldReader, contract: Contract, value: object, today: date, current: date | None
) -> date | None:
    """A due day from today to a year ahead (and within a year of the contract's end);
    an unchanged due day is kept even when it has passed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        reader.error("due_on", "required")
        return None
    if isinstance(value, date):
        value = value.isoformat()
    due = reader.date(value, "due_on")
    if due is None or due == current:
        return due
    latest = min(today + LONGEST_DUE, contract.end_date + _YEAR)
    if due < today:
        reader.error("due_on", f"expected today ({today}) or later, got {due}")
    elif due > latest:
        reader.error("due_on", f"expected a day by {latest} (a year ahead at most), got {due}")
    elif due < contract.start_date - _YEAR:
        reader.error("due_on", f"expected a day from {contract.start_date - _YEAR}, got {due}")
    return due


def _choice(reader: FieldReader, value: object, path: str, allowed: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        reader.error(path, "required")
        return None
    if not isinstance(value, str) or value not in allowed:
        reader.error(path, f"expected one of {', '.join(allowed)}")
        return None
    return value


def _view(concern: ConcernRow, today: date) -> ConcernView:
    state = concern_state(
        status=concern.status, severity=concern.severity, due_on=concern.due_on, today=today
    )
    return ConcernView(
        concern.id, concern.title, concern.description, concern.category, concern.severity,
        concern.raised_by_side, concern.raised_by, concern.raised_on, concern.owner_side,
        concern.owner, concern.due_on, concern.status, concern.resolution, concern.resolved_on,
        state, allowed_moves(concern.status), concern.updated_at, concern.updated_by,
        concern.version,
    )  # fmt: skip


def _order(view: ConcernView) -> tuple[int, int, int, int, int]:
    return register_order(view.state, view.severity, view.due_on, view.resolved_on, view.id)


def _event(event: AuditEvent) -> ConcernEvent:
    before = _loaded(event.before)
    after = _loaded(event.after)
    reason = after.pop("reason", None) if after else None
    changes = changed_fields(before, after) if before is not None else ()
    return ConcernEvent(event.at, event.actor, event.action, changes, reason)


def _loaded(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


def _words(status: str) -> str:
    return status.replace("_", " ")
