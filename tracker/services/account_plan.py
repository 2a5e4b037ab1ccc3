"""Changing the vendor's account plan: the buying influences and the alternatives the
buyer has, the choices its forms offer, and the readers of its form fields (the action
plan and its ratings are changed in ``account_plan_actions``).

Every change is made by staff of the vendor (see ``account_map`` for who may see and
change what), validated, audited and written in one transaction; records people edit
carry a version, and a change made from an out-of-date page is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.account_map_models import (
    ALTERNATIVE_KINDS,
    INFLUENCE_DEGREES,
    INFLUENCE_ROLES,
    PLAN_STATUSES,
    POSITIONS,
    RESPONSE_MODES,
    Alternative,
    Influence,
    PlanAction,
)
from tracker.db.models import Contract
from tracker.domain.fields import FieldReader
from tracker.domain.red_flags import MODE_WORDS, ROLE_WORDS
from tracker.services.access import Actor
from tracker.services.account_map import (
    DEGREE_WORDS,
    KIND_WORDS,
    POSITION_WORDS,
    STATUS_WORDS,
    audit,
    writable_contract,
    writable_record,
)
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

_INFLUENCE_FIELDS = (
    "name", "job_title", "role", "degree", "mode", "rating", "evidence", "win_result",
    "covered_by", "last_met_on", "added_on",
)  # fmt: skip
_ALTERNATIVE_FIELDS = ("kind", "name", "position", "note")
#: The allowed values for forms: (value, words).
ROLE_OPTIONS = tuple((role, ROLE_WORDS[role]) for role in INFLUENCE_ROLES)
DEGREE_OPTIONS = tuple((value, DEGREE_WORDS[value]) for value in INFLUENCE_DEGREES)
MODE_OPTIONS = tuple((value, MODE_WORDS[value]) for value in RESPONSE_MODES)
KIND_OPTIONS = tuple((value, KIND_WORDS[value]) for value in ALTERNATIVE_KINDS)
POSITION_OPTIONS = tuple((value, POSITION_WORDS[value]) for value in POSITIONS)
PLAN_STATUS_OPTIONS = tuple((value, STATUS_WORDS[value]) for value in PLAN_STATUSES)


# -- reading fields -----------------------------------------------------------------------


def choice(reader: FieldReader, value: object, path: str, allowed: Mapping[str, str]) -> str | None:
    """One of ``allowed`` (value -> words); "required" when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        reader.error(path, "required")
        return None
    if not isinstance(value, str) or value.strip() not in allowed:
        reader.error(path, f"choose one of: {', '.join(allowed.values())}")
        return None
    return value.strip()


def day_of(
    reader: FieldReader,
    value: object,
    path: str,
    contract: Contract,
    today: date,
    *,
    past: bool,
) -> date | None:
    """An optional date within a year of the contract's term; with ``past``, not after today."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        value = value.isoformat()
    day = reader.date(value, path)
    if day is None:
        return None
    earliest = _years_from(contract.start_date, -1)
    latest = _years_from(contract.end_date, 1)
    if not earliest <= day <= latest:
        reader.error(
            path, f"expected a date from {earliest} to {latest} (the term, give or take a year)"
        )
        return None
    if past and day > today:
        reader.error(path, f"must not be in the future (today is {today})")
        return None
    return day


def required_number(
    reader: FieldReader, value: object, path: str, low: int, high: int
) -> int | None:
    """A whole number from ``low`` to ``high``; "required" when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        reader.error(path, "required")
        return None
    return reader.whole_number(value, path, low, high)


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- influences -------------------------------------------------------------------------


def add_influence(
    session: Session,
    actor: Actor,
    contract_id: int,
    fields: Mapping[str, object],
    *,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Add a buying influence to the map; returns its id.

    ``fields``: name, job_title, role, degree, mode, rating (−5..+5), evidence,
    win_result, covered_by, last_met_on, added_on (default today)."""
    stamp, day = now_utc(now), today_utc(today)
    with session.begin():
        contract = writable_contract(session, actor, contract_id)
        values = validated(lambda reader: _read_influence(reader, contract, fields, day))
        influence = Influence(contract_id=contract.id, version=1, **values)
        influence.updated_at, influence.updated_by = stamp, actor.label
        session.add(influence)
        session.flush()
        audit(session, actor, "create", "influence", influence.id, contract,
              after=snapshot_of(influence, _INFLUENCE_FIELDS), request=request)  # fmt: skip
        return influence.id


def update_influence(
    session: Session,
    actor: Actor,
    influence_id: int,
    fields: Mapping[str, object],
    *,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change a buying influence (an empty added_on keeps the day it was added)."""
    stamp, day = now_utc(now), today_utc(today)
    with session.begin():
        influence, contract = writable_record(session, actor, Influence, influence_id, "influence")
        require_version(f"Influence {influence.name}", influence, expected_version)
        kept = influence.added_on
        values = validated(
            lambda reader: _read_influence(reader, contract, fields, day, default_added=kept)
        )
        before = snapshot_of(influence, _INFLUENCE_FIELDS)
        for name, value in values.items():
            setattr(influence, name, value)
        influence.updated_at, influence.updated_by = stamp, actor.label
        audit(session, actor, "update", "influence", influence.id, contract, before=before,
              after=snapshot_of(influence, _INFLUENCE_FIELDS), request=request)  # fmt: skip


def remove_influence(
    session: Session,
    actor: Actor,
    influence_id: int,
    *,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Remove a buying influence; plan actions aimed at them keep their history."""
    stamp = now_utc(now)
    with session.begin():
        influence, contract = writable_record(session, actor, Influence, influence_id, "influence")
        require_version(f"Influence {influence.name}", influence, expected_version)
        before = snapshot_of(influence, _INFLUENCE_FIELDS)
        for action in session.scalars(
            select(PlanAction).where(PlanAction.influence_id == influence.id)
        ):
            action.influence_id = None
            action.updated_at, action.updated_by = stamp, actor.label
        session.delete(influence)
        audit(session, actor, "delete", "influence", influence_id, contract, before=before,
              request=request)  # fmt: skip


def _read_influence(
    reader: FieldReader,
    contract: Contract,
    fields: Mapping[str, object],
    today: date,
    *,
    default_added: date | None = None,
) -> dict[str, Any]:
    rating = required_number(reader, fields.get("rating"), "rating", -5, 5)
    added = day_of(reader, fields.get("added_on"), "added_on", contract, today, past=True)
    return {
        "name": reader.required_field(fields, "name", "name", reader.text, max_length=200),
        "job_title": optional_text(reader, fields.get("job_title"), "job_title", 200),
        "role": choice(reader, fields.get("role"), "role", ROLE_WORDS),
        "degree": choice(reader, fields.get("degree"), "degree", DEGREE_WORDS),
        "mode": choice(reader, fields.get("mode"), "mode", MODE_WORDS),
        "rating": rating,
        "evidence": long_text(reader, fields.get("evidence"), "evidence", required=False),
        "win_result": long_text(reader, fields.get("win_result"), "win_result", required=False),
        "covered_by": optional_text(reader, fields.get("covered_by"), "covered_by", 200),
        "last_met_on": day_of(
            reader, fields.get("last_met_on"), "last_met_on", contract, today, past=True
        ),
        "added_on": added or default_added or today,
    }


# -- alternatives -----------------------------------------------------------------------


def add_alternative(
    session: Session,
    actor: Actor,
    contract_id: int,
    fields: Mapping[str, object],
    *,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Record an alternative the buyer has (kind, name, our position, note); returns its id."""
    stamp = now_utc(now)
    with session.begin():
        contract = writable_contract(session, actor, contract_id)
        values = validated(lambda reader: _read_alternative(reader, fields))
        alternative = Alternative(contract_id=contract.id, version=1, **values)
        alternative.updated_at, alternative.updated_by = stamp, actor.label
        session.add(alternative)
        session.flush()
        audit(session, actor, "create", "alternative", alternative.id, contract,
              after=snapshot_of(alternative, _ALTERNATIVE_FIELDS), request=request)  # fmt: skip
        return alternative.id


def update_alternative(
    session: Session,
    actor: Actor,
    alternative_id: int,
    fields: Mapping[str, object],
    *,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change an alternative (its kind, name, our position against it, the note)."""
    stamp = now_utc(now)
    with session.begin():
        alternative, contract = writable_record(
            session, actor, Alternative, alternative_id, "alternative"
        )
        require_version(f"Alternative {alternative.name}", alternative, expected_version)
        values = validated(lambda reader: _read_alternative(reader, fields))
        before = snapshot_of(alternative, _ALTERNATIVE_FIELDS)
        for name, value in values.items():
            setattr(alternative, name, value)
        alternative.updated_at, alternative.updated_by = stamp, actor.label
        audit(session, actor, "update", "alternative", alternative.id, contract, before=before,
              after=snapshot_of(alternative, _ALTERNATIVE_FIELDS), request=request)  # fmt: skip


def remove_alternative(
    session: Session,
    actor: Actor,
    alternative_id: int,
    *,
    expected_version: int,
    request: RequestInfo | None = None,
) -> None:
    """Remove an alternative from the map."""
    with session.begin():
        alternative, contract = writable_record(
            session, actor, Alternative, alternative_id, "alternative"
        )
        require_version(f"Alternative {alternative.name}", alternative, expected_version)
        before = snapshot_of(alternative, _ALTERNATIVE_FIELDS)
        session.delete(alternative)
        audit(session, actor, "delete", "alternative", alternative_id, contract, before=before,
              request=request)  # fmt: skip


def _read_alternative(reader: FieldReader, fields: Mapping[str, object]) -> dict[str, Any]:
    return {
        "kind": choice(reader, fields.get("kind"), "kind", KIND_WORDS),
        "name": reader.required_field(fields, "name", "name", reader.text, max_length=200),
        "position": choice(reader, fields.get("position"), "position", POSITION_WORDS),
        "note": long_text(reader, fields.get("note"), "note", required=False),
    }
