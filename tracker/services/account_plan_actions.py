"""Changing the vendor's action plan: its actions (each aimed, optionally, at a buying
influence) and the ratings of their indicators at each review.

Every change is made by staff of the vendor (see ``account_map``), validated, audited
and written in one transaction; an action carries a version, and a change made from an
out-of-date page is refused. Ratings of an indicator are never edited: each review adds
one, and the history is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.db.account_map_models import IndicatorRating, Influence, PlanAction
from tracker.db.models import Contract
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.account_map import (
    STATUS_WORDS,
    audit,
    writable_contract,
    writable_record,
)
from tracker.services.account_plan import choice, day_of, required_number
from tracker.services.audit import RequestInfo
from tracker.services.delivery_rules import (
    long_text,
    now_utc,
    optional_text,
    require_version,
    snapshot_of,
    today_utc,
    validated,
)
from tracker.services.errors import Conflict

_ACTION_FIELDS = ("title", "indicator", "influence_id", "owner", "due_on", "status")
_RATING_FIELDS = ("reviewed_on", "rating", "note")


def add_plan_action(
    session: Session,
    actor: Actor,
    contract_id: int,
    fields: Mapping[str, object],
    *,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Add an action to the plan; returns its id.

    ``fields``: title, indicator (what is measured to know it works), influence_id
    (optional, an influence of the same contract), owner, due_on, status (default open)."""
    stamp, day = now_utc(now), today_utc(today)
    with session.begin():
        contract = writable_contract(session, actor, contract_id)
        values = validated(lambda reader: _read_action(reader, session, contract, fields, day))
        action = PlanAction(contract_id=contract.id, version=1, **values)
        action.updated_at, action.updated_by = stamp, actor.label
        session.add(action)
        session.flush()
        audit(session, actor, "create", "plan_action", action.id, contract,
              after=snapshot_of(action, _ACTION_FIELDS), request=request)  # fmt: skip
        return action.id


def update_plan_action(
    session: Session,
    actor: Actor,
    plan_action_id: int,
    fields: Mapping[str, object],
    *,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change an action of the plan (mark it done or dropped with ``status``)."""
    stamp, day = now_utc(now), today_utc(today)
    with session.begin():
        action, contract = writable_record(
            session, actor, PlanAction, plan_action_id, "plan action"
        )
        require_version(f"Action “{action.title}”", action, expected_version)
        values = validated(lambda reader: _read_action(reader, session, contract, fields, day))
        before = snapshot_of(action, _ACTION_FIELDS)
        for name, value in values.items():
            setattr(action, name, value)
        action.updated_at, action.updated_by = stamp, actor.label
        audit(session, actor, "update", "plan_action", action.id, contract, before=before,
              after=snapshot_of(action, _ACTION_FIELDS), request=request)  # fmt: skip


def rate_indicator(
    session: Session,
    actor: Actor,
    plan_action_id: int,
    rating: object,
    note: object = None,
    reviewed_on: object = None,
    *,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Record a review's rating (0..10) of an action's indicator, on ``reviewed_on``
    (default today, never in the future); returns the rating's id. Ratings are never
    edited: a new review adds a new one."""
    stamp, day = now_utc(now), today_utc(today)
    with session.begin():
        action, contract = writable_record(
            session, actor, PlanAction, plan_action_id, "plan action"
        )
        if action.status == "dropped":
            raise Conflict(f"the action “{action.title}” was dropped: its indicator is not rated")

        def read(reader: FieldReader) -> dict[str, Any]:
            return {
                "rating": required_number(reader, rating, "rating", 0, 10),
                "note": long_text(reader, note, "note", required=False),
                "reviewed_on": day_of(
                    reader, reviewed_on, "reviewed_on", contract, day, past=True
                ) or day,
            }  # fmt: skip

        values = validated(read)
        entry = IndicatorRating(action_id=action.id, at=stamp, by=actor.label, **values)
        session.add(entry)
        session.flush()
        audit(session, actor, "rate", "plan_action", action.id, contract,
              after={"rating_id": entry.id, **snapshot_of(entry, _RATING_FIELDS)},
              request=request)  # fmt: skip
        return entry.id


def _read_action(
    reader: FieldReader,
    session: Session,
    contract: Contract,
    fields: Mapping[str, object],
    today: date,
) -> dict[str, Any]:
    status = fields.get("status")
    blank_status = status is None or (isinstance(status, str) and not status.strip())
    return {
        "title": reader.required_field(fields, "title", "title", reader.text, max_length=200),
        "indicator": reader.required_field(
            fields, "indicator", "indicator", reader.text, max_length=300
        ),
        "influence_id": _influence_of(reader, session, contract, fields.get("influence_id")),
        "owner": optional_text(reader, fields.get("owner"), "owner", 200),
        "due_on": day_of(reader, fields.get("due_on"), "due_on", contract, today, past=False),
        "status": "open" if blank_status else choice(reader, status, "status", STATUS_WORDS),
    }


def _influence_of(
    reader: FieldReader, session: Session, contract: Contract, value: object
) -> int | None:
    if value is None or value in {"", "0"}:
        return None
    number = reader.whole_number(value, "influence_id", 1, 2**31 - 1)
    if number is None:
        return None
    influence = session.get(Influence, number)
    if influence is None or influence.contract_id != contract.id:
        reader.error("influence_id", "choose one of this contract's influences")
        return None
    return number
