"""Recording and changing governance meetings and the actions agreed in them.

Staff of either side record a meeting (held, or planned up to 60 days ahead) with its
agenda, attendees and decisions and the actions agreed, in one transaction; they edit
it, add actions, change them while open, mark them done, drop them with a reason or
reopen them. What the governance pages read is in tracker.services.meetings_views.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker.db.followup_models import ACTION_STATUSES, MEETING_KINDS, SIDES, Meeting, MeetingAction
from tracker.db.models import Contract
from tracker.domain.calendar import anniversary
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    DELIVERY_STATUSES,
    locked_contract,
    long_text,
    now_utc,
    optional_text,
    require_staff,
    require_version,
    snapshot_of,
    validated,
)
from tracker.services.errors import Conflict, NotFound

#: A meeting may be recorded ahead of the day it is held by at most this many days.
PLAN_AHEAD_DAYS = 60
#: The most actions one request records with a meeting.
MAX_ACTIONS = 30
_MEETING_FIELDS = ("kind", "held_on", "title", "agenda", "attendees", "decisions")
_ACTION_FIELDS = ("title", "owner_side", "owner", "due_on")
_ACTION_SNAPSHOT = ("meeting_id", *_ACTION_FIELDS, "status", "done_on")


def record_meeting(
    session: Session,
    actor: Actor,
    contract_id: int,
    fields: Mapping[str, object],
    actions: Sequence[Mapping[str, object]] = (),
    *,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Record a meeting with the actions agreed in it, all or nothing; returns its id.

    ``fields``: kind, held_on, title, agenda, attendees (one per line), decisions; each
    action: title, owner_side, owner (optional), due_on. Errors name ``actions[2].due_on``."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_staff(actor, contract)
        require_open(contract)

        def read(reader: FieldReader) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            values = _read_meeting(reader, contract, fields, day)
            rows = reader.item_list(list(actions), "actions") or []
            if len(rows) > MAX_ACTIONS:
                reader.error("actions", f"expected at most {MAX_ACTIONS} actions, got {len(rows)}")
                rows = []
            held_on = values.get("held_on")
            return values, [
                _read_action(reader, contract, row, f"actions[{index}].", held_on)
                for index, row in enumerate(rows)
            ]

        values, rows = validated(read)
        meeting = Meeting(contract_id=contract.id, version=1, **values)
        _stamp(meeting, actor, stamp)
        session.add(meeting)
        session.flush()
        added = [_new_action(session, meeting, row, actor, stamp) for row in rows]
        record(session, actor, "record", "meeting", meeting.id, contract_id=contract.id,
               after={**snapshot_of(meeting, _MEETING_FIELDS),
                      "actions": [_action_snapshot(a) for a in added]},
               request=request)  # fmt: skip
        return meeting.id


def update_meeting(
    session: Session,
    actor: Actor,
    meeting_id: int,
    fields: Mapping[str, object],
    *,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change a meeting's kind, day, title, agenda, attendees or decisions."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        meeting, contract = _locked_meeting(session, actor, meeting_id)
        require_staff(actor, contract)
        require_open(contract)
        require_version(f"The meeting “{meeting.title}”", meeting, expected_version)
        values = validated(lambda reader: _read_meeting(reader, contract, fields, day))
        before = snapshot_of(meeting, _MEETING_FIELDS)
        for name, value in values.items():
            setattr(meeting, name, value)
        _stamp(meeting, actor, stamp)
        record(session, actor, "update", "meeting", meeting.id, contract_id=contract.id,
               before=before, after=snapshot_of(meeting, _MEETING_FIELDS),
               request=request)  # fmt: skip


def add_action(
    session: Session,
    actor: Actor,
    meeting_id: int,
    fields: Mapping[str, object],
    *,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Add an action to a meeting (title, owner_side, owner, due_on); returns its id."""
    stamp = now_utc(now)
    with session.begin():
        meeting, contract = _locked_meeting(session, actor, meeting_id)
        require_staff(actor, contract)
        require_open(contract)
        row = validated(lambda reader: _read_action(reader, contract, fields, "", meeting.held_on))
        action = _new_action(session, meeting, row, actor, stamp)
        record(session, actor, "add", "meeting_action", action.id, contract_id=contract.id,
               after=_action_snapshot(action), request=request)  # fmt: skip
        return action.id


def update_action(
    session: Session,
    actor: Actor,
    action_id: int,
    fields: Mapping[str, object],
    *,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change an open action's title, owner or due day."""
    stamp = now_utc(now)
    with session.begin():
        action, meeting, contract = _locked_action(session, actor, action_id)
        require_staff(actor, contract)
        require_open(contract)
        require_version(f"The action “{action.title}”", action, expected_version)
        if action.status != "open":
            raise Conflict(f"the action is {action.status}: reopen it before changing it")
        row = validated(lambda reader: _read_action(reader, contract, fields, "", meeting.held_on))
        before = _action_snapshot(action)
        for name, value in row.items():
            setattr(action, name, value)
        _stamp(action, actor, stamp)
        record(session, actor, "update", "meeting_action", action.id, contract_id=contract.id,
               before=before, after=_action_snapshot(action), request=request)  # fmt: skip


def set_action_status(
    session: Session,
    actor: Actor,
    action_id: int,
    status: str,
    *,
    expected_version: int,
    reason: object = None,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Mark an action done (done today), drop it (a reason is required and kept in the
    audit trail) or reopen a done or dropped one (a reason is optional)."""
    stamp = now_utc(now)
    day = today or stamp.date()
    with session.begin():
        action, _meeting, contract = _locked_action(session, actor, action_id)
        require_staff(actor, contract)
        require_open(contract)
        if status not in ACTION_STATUSES:
            validated(lambda reader: reader.error("status", f"expected one of {_listed()}"))
        require_version(f"The action “{action.title}”", action, expected_version)
        if status == action.status:
            raise Conflict(f"the action is already {status}")
        if action.status != "open" and status != "open":
            raise Conflict(f"the action is {action.status}: reopen it first")
        why = validated(
            lambda reader: long_text(reader, reason, "reason", required=status == "dropped")
        )
        before = _action_snapshot(action)
        action.status = status
        action.done_on = day if status == "done" else None
        _stamp(action, actor, stamp)
        verb = {"done": "done", "dropped": "drop", "open": "reopen"}[status]
        after = {**_action_snapshot(action), **({"reason": why} if why else {})}
        record(session, actor, verb, "meeting_action", action.id, contract_id=contract.id,
               before=before, after=after, request=request)  # fmt: skip


def require_open(contract: Contract) -> None:
    """Conflict unless the contract's meetings may be recorded or changed."""
    if contract.archived_at is not None:
        raise Conflict("this contract is archived: restore it before recording meetings")
    if contract.status == "closed":
        raise Conflict("this contract is closed: its meetings are read-only")
    if contract.status not in DELIVERY_STATUSES:
        raise Conflict(
            f"governance meetings are recorded once a contract is signed; this one is "
            f"{contract.status}"
        )


def _locked_meeting(session: Session, actor: Actor, meeting_id: int) -> tuple[Meeting, Contract]:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"no meeting {meeting_id}")
    try:
        contract = locked_contract(session, actor, meeting.contract_id)
    except NotFound:
        raise NotFound(f"no meeting {meeting_id}") from None
    session.refresh(meeting)
    return meeting, contract


def _locked_action(
    session: Session, actor: Actor, action_id: int
) -> tuple[MeetingAction, Meeting, Contract]:
    action = session.get(MeetingAction, action_id)
    if action is None:
        raise NotFound(f"no action {action_id}")
    try:
        contract = locked_contract(session, actor, action.contract_id)
    except NotFound:
        raise NotFound(f"no action {action_id}") from None
    session.refresh(action)
    meeting = session.get(Meeting, action.meeting_id)
    assert meeting is not None
    return action, meeting, contract


def _read_meeting(
    reader: FieldReader, contract: Contract, fields: Mapping[str, object], today: date
) -> dict[str, Any]:
    fields = reader.mapping(fields, "", _MEETING_FIELDS) or {}
    kind = fields.get("kind")
    if kind not in MEETING_KINDS:
        reader.error("kind", f"expected one of {', '.join(MEETING_KINDS)}")
    held_on = _day(reader, contract, fields.get("held_on"), "held_on")
    latest = today + timedelta(days=PLAN_AHEAD_DAYS)
    if held_on is not None and held_on > latest:
        reader.error(
            "held_on",
            f"a meeting is recorded at most {PLAN_AHEAD_DAYS} days ahead, by {latest.isoformat()}",
        )
    attendees = long_text(reader, fields.get("attendees"), "attendees", required=False)
    return {
        "kind": kind,
        "held_on": held_on,
        "title": _title(reader, fields.get("title"), "title"),
        "agenda": long_text(reader, fields.get("agenda"), "agenda", required=False),
        # One person per line: blank lines and surrounding spaces mean nothing.
        "attendees": "\n".join(
            line.strip(" ") for line in (attendees or "").split("\n") if line.strip(" ")
        ) or None,
        "decisions": long_text(reader, fields.get("decisions"), "decisions", required=False),
    }  # fmt: skip


def _read_action(
    reader: FieldReader,
    contract: Contract,
    row: object,
    prefix: str,
    held_on: date | None,
) -> dict[str, Any]:
    fields = reader.mapping(row, prefix.rstrip("."), _ACTION_FIELDS) or {}
    side = fields.get("owner_side")
    if side not in SIDES:
        reader.error(f"{prefix}owner_side", "expected buyer or vendor")
    due_on = _day(reader, contract, fields.get("due_on"), f"{prefix}due_on")
    if due_on is not None and held_on is not None and due_on < held_on:
        reader.error(
            f"{prefix}due_on", f"must be on or after the meeting day, {held_on.isoformat()}"
        )
    return {
        "title": _title(reader, fields.get("title"), f"{prefix}title"),
        "owner_side": side,
        "owner": optional_text(reader, fields.get("owner"), f"{prefix}owner", 200),
        "due_on": due_on,
    }  # fmt: skip


def _title(reader: FieldReader, value: object, path: str) -> str | None:
    """A required single-line title of at most 200 characters."""
    if value is None or (isinstance(value, str) and not value.strip(" ")):
        reader.error(path, "required")
        return None
    return reader.text(value, path, max_length=200)


def _day(reader: FieldReader, contract: Contract, value: object, path: str) -> date | None:
    """A required day, from a year before the contract's start to a year after its end."""
    if value is None or (isinstance(value, str) and not value.strip()):
        reader.error(path, "required")
        return None
    day = reader.date(value, path)
    earliest = anniversary(contract.start_date, -1)
    latest = anniversary(contract.end_date, 1)
    if day is not None and not earliest <= day <= latest:
        reader.error(
            path,
            f"expected a day from {earliest.isoformat()} to {latest.isoformat()} "
            "(a year around the contract's term)",
        )
        return None
    return day


def _new_action(
    session: Session, meeting: Meeting, row: Mapping[str, Any], actor: Actor, stamp: datetime
) -> MeetingAction:
    action = MeetingAction(
        meeting_id=meeting.id, contract_id=meeting.contract_id, status="open", version=1, **row
    )
    _stamp(action, actor, stamp)
    session.add(action)
    session.flush()
    return action


def _stamp(item: Meeting | MeetingAction, actor: Actor, stamp: datetime) -> None:
    item.updated_at, item.updated_by = stamp, actor.label


def _action_snapshot(action: MeetingAction) -> Mapping[str, Any]:
    return {"id": action.id, **snapshot_of(action, _ACTION_SNAPSHOT)}


def _listed() -> str:
    return ", ".join(ACTION_STATUSES)
