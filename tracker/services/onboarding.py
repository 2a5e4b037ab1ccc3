"""Changes to a contract's onboarding plan (its first 100 days): the template's
milestones, milestones added or edited, and their moves between statuses.

Staff of the buyer or the vendor change the plan while the contract is signed and not
closed or archived. The plan as read, with its states on a given day, is in
onboarding_views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.followup_models import Milestone
from tracker.db.models import Contract
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.onboarding import OWNER_SIDES, date_window, day_zero, may_move, planned_template
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    locked_contract,
    long_text,
    now_utc,
    require_staff,
    require_version,
    snapshot_of,
    today_utc,
    validated,
)
from tracker.services.errors import Conflict, NotFound
from tracker.services.onboarding_views import (
    STATUS_WORDS,
    read_only_reason,
    signed_on_of,
)

_FIELDS = ("title", "owner_side", "due_on", "status", "done_on", "note")


@dataclass(frozen=True)
class TemplateApplied:
    """What applying the template did: milestones made, and how many were already late."""

    created: int
    late: int
    start_on: date


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
        first = given or day_zero(signed_on_of(session, contract.id), contract.start_date)
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
        late = sum(planned.due_on < today_utc(today) for planned in created)
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
    day = today_utc(today)
    with session.begin():
        if status not in STATUS_WORDS:
            raise InvalidTerms([FieldError("status", f"expected one of {', '.join(STATUS_WORDS)}")])
        milestone, contract = _locked(session, actor, milestone_id, expected_version)
        if not may_move(milestone.status, status):
            raise Conflict(
                f"a milestone that is {STATUS_WORDS.get(milestone.status, milestone.status)} "
                f"cannot become {STATUS_WORDS.get(status, status)}"
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


def _writable(session: Session, actor: Actor, contract_id: int) -> Contract:
    contract = locked_contract(session, actor, contract_id)
    require_staff(actor, contract)
    _require_open(contract)
    return contract


def _require_open(contract: Contract) -> None:
    reason = read_only_reason(contract)
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
