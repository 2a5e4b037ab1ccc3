"""Demo onboarding plans: the 100-day template of each demo contract in delivery, with
the milestones done, started, dropped or annotated as seed_data/onboarding.json says.

Everything is written through the onboarding services as the demo accounts (the
vendor's staff plans; each milestone is moved by the staff of its owner side; the
system where a demo account is missing), so the rules and the audit trail apply.
Days are offsets from the contract's start date, so the file keeps working as time
passes; a change whose day lies after ``today`` is left out. A contract that already
has an onboarding plan, or that is not in delivery, is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.account_models import Membership, User
from tracker.db.models import Contract
from tracker.domain.json_document import load_json_document
from tracker.domain.onboarding import TEMPLATE
from tracker.services.access import SYSTEM, Actor
from tracker.services.errors import Conflict
from tracker.services.onboarding import (
    add_milestone,
    apply_template,
    set_milestone_status,
    update_milestone,
)
from tracker.services.onboarding_views import onboarding_view

#: The demo onboarding plans, beside portfolio.json.
ONBOARDING_FILE = "onboarding.json"


def seed_onboarding(session: Session, folder: Path, *, today: date) -> None:
    """Give every demo contract named in the file its onboarding plan, unless it has one."""
    path = folder / ONBOARDING_FILE
    if not path.exists():
        return
    document = load_json_document(path.read_bytes())
    assert isinstance(document, dict)
    plans: Mapping[str, Any] = document["contracts"]
    for code, plan in plans.items():
        found = _contract(session, code)
        if found is None:
            continue
        contract_id, start = found
        people = _demo_staff(session, contract_id)
        try:
            apply_template(
                session, people.get("vendor", SYSTEM), contract_id, start_on=start, today=today,
                now=_moment(start),
            )  # fmt: skip
        except Conflict:
            continue  # a plan of its own already, or not in delivery
        _load_plan(session, contract_id, start, today, plan, people)


def _load_plan(
    session: Session,
    contract_id: int,
    start: date,
    today: date,
    plan: Mapping[str, Any],
    people: Mapping[str, Actor],
) -> None:
    view = onboarding_view(session, SYSTEM, contract_id, today=today)
    by_title = {line.title: line for line in view.milestones}
    entries = plan.get("milestones", {})
    for step in TEMPLATE:
        line, entry = by_title[step.title], entries.get(step.key)
        if entry:
            milestone = _Milestone(line.id, line.version, line.title, line.owner_side, line.due_on)
            _apply(session, people.get(line.owner_side, SYSTEM), milestone, start, today, entry)
    for extra in plan.get("extra", ()):
        side, due = str(extra["owner_side"]), start + timedelta(days=int(extra["day"]))
        milestone_id = add_milestone(
            session, people.get(side, SYSTEM), contract_id, title=extra["title"],
            owner_side=side, due_on=due, now=_moment(start),
        )  # fmt: skip
        milestone = _Milestone(milestone_id, 1, str(extra["title"]), side, due)
        _apply(session, people.get(side, SYSTEM), milestone, start, today, extra)


@dataclass(frozen=True)
class _Milestone:
    """A stored milestone as the seed changes it."""

    id: int
    version: int
    title: str
    owner_side: str
    due_on: date


def _apply(
    session: Session,
    person: Actor,
    milestone: _Milestone,
    start: date,
    today: date,
    entry: Mapping[str, Any],
) -> None:
    """The entry's note (written on its first move's day, else on the due day), then its
    moves (in progress, done, dropped) on their days; nothing after ``today``."""
    moves = [
        (start + timedelta(days=int(entry[status])), status)
        for status in ("in_progress", "done", "dropped")
        if status in entry
    ]
    version = milestone.version
    note = entry.get("note")
    noted_on = moves[0][0] if moves else milestone.due_on
    if note is not None and noted_on <= today:
        update_milestone(
            session, person, milestone.id, title=milestone.title,
            owner_side=milestone.owner_side, due_on=milestone.due_on, note=note,
            expected_version=version, now=_moment(noted_on),
        )  # fmt: skip
        version += 1
    for day, status in moves:
        if day > today:
            return
        set_milestone_status(
            session, person, milestone.id, status, expected_version=version,
            done_on=day if status == "done" else None,
            note=entry.get("reason") if status == "dropped" else None,
            today=today, now=_moment(day),
        )  # fmt: skip
        version += 1


def _contract(session: Session, code: str) -> tuple[int, date] | None:
    with session.begin():
        row = session.execute(
            select(Contract.id, Contract.start_date).where(Contract.code == code)
        ).one_or_none()
    return None if row is None else (row.id, row.start_date)


def _demo_staff(session: Session, contract_id: int) -> dict[str, Actor]:
    """The demo staff account of each side of the contract (side -> actor)."""
    with session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        sides = {contract.buyer_id: "buyer", contract.vendor_id: "vendor"}
        rows = session.execute(
            select(User.id, User.email, Membership.organisation_id)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.email.like("%.demo"),
                User.disabled_at.is_(None),
                Membership.role == "staff",
                Membership.organisation_id.in_(sorted(sides)),
            )
            .order_by(User.id)
        ).all()
    people: dict[str, Actor] = {}
    for user_id, email, organisation_id in rows:
        people.setdefault(sides[organisation_id], Actor(user_id, email, {organisation_id: "staff"}))
    return people


def _moment(day: date) -> datetime:
    """The time a demo change is stamped with: nine in the morning (UTC) of its day."""
    return datetime.combine(day, time(9), UTC)
