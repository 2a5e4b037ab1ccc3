"""Demo governance: the meetings of the demo contracts and the actions agreed in them.

``seed_data/meetings.json`` holds them by contract code, every day written as a number
of days after the contract's start (so the file keeps working as time passes). They are
recorded through the meetings services as the demo staff of the side that writes the
minutes; each action is then marked done or dropped by its owner side's staff. A
meeting after ``today`` is left out, and so is a status change after ``today`` (the
action stays open). A contract that already has meetings is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.db.account_models import Membership, User
from tracker.db.followup_models import Meeting
from tracker.db.models import Contract
from tracker.domain.json_document import load_json_document
from tracker.services.access import SYSTEM, Actor
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.meetings import record_meeting, set_action_status
from tracker.services.meetings_views import meeting_view

#: The demo meetings, beside portfolio.json.
MEETINGS_FILE = "meetings.json"


def seed_meetings(session: Session, folder: Path, *, today: date) -> None:
    """Record the demo meetings of every demo contract under way that has none yet."""
    path = folder / MEETINGS_FILE
    if not path.exists():
        return
    document = load_json_document(path.read_bytes())
    assert isinstance(document, dict)
    contracts: Mapping[str, Any] = document["contracts"]
    for code, (contract_id, start, staff) in _targets(session, tuple(contracts)).items():
        for meeting in contracts[code]:
            _load_meeting(session, contract_id, start, staff, meeting, today)


def _targets(
    session: Session, codes: tuple[str, ...]
) -> dict[str, tuple[int, date, dict[str, Actor]]]:
    """code -> (contract id, start date, side -> its demo staff account) of the named
    contracts under way without meetings."""
    with session.begin():
        rows = session.execute(
            select(Contract.code, Contract.id, Contract.start_date, Contract.buyer_id,
                   Contract.vendor_id)
            .where(
                Contract.code.in_(codes),
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
                Contract.archived_at.is_(None),
                ~exists().where(Meeting.contract_id == Contract.id),
            )
        ).all()  # fmt: skip
        staff: dict[int, Actor] = {}
        for user_id, email, organisation_id in session.execute(
            select(User.id, User.email, Membership.organisation_id)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.email.like("staff@%.demo"),
                User.disabled_at.is_(None),
                Membership.role == "staff",
            )
            .order_by(User.id)
        ):
            staff.setdefault(organisation_id, Actor(user_id, email, {organisation_id: "staff"}))
    return {
        code: (contract_id, start, {
            side: staff.get(party, SYSTEM)
            for side, party in (("buyer", buyer_id), ("vendor", vendor_id))
        })
        for code, contract_id, start, buyer_id, vendor_id in rows
    }  # fmt: skip


def _load_meeting(
    session: Session,
    contract_id: int,
    start: date,
    staff: Mapping[str, Actor],
    item: Mapping[str, Any],
    today: date,
) -> None:
    """One meeting with its actions, then each action's status as far as ``today`` allows."""

    def day(offset: object) -> date:
        return start + timedelta(days=int(str(offset)))

    held_on = day(item["day"])
    if held_on > today:
        return
    actions = item.get("actions", ())
    meeting_id = record_meeting(
        session,
        staff[item["by"]],
        contract_id,
        {
            "kind": item["kind"],
            "held_on": held_on.isoformat(),
            "title": item["title"],
            "agenda": "\n".join(item.get("agenda", ())),
            "attendees": "\n".join(item.get("attendees", ())),
            "decisions": "\n".join(item.get("decisions", ())),
        },
        [
            {"title": a["title"], "owner_side": a["owner_side"], "owner": a.get("owner"),
             "due_on": day(a["due"]).isoformat()}
            for a in actions
        ],
        today=today,
    )  # fmt: skip
    stored = meeting_view(session, SYSTEM, meeting_id, today=today).meeting.actions
    # The view lists actions by due day; the file by row: match them by title and due day.
    ids = {(a.title, a.due_on): (a.id, a.version) for a in stored}
    for action in actions:
        status = action.get("status", "open")
        closed_on = day(action.get("closed", action["due"]))
        if status == "open" or closed_on > today:
            continue
        action_id, version = ids[(action["title"], day(action["due"]))]
        set_action_status(
            session, staff[action["owner_side"]], action_id, status,
            expected_version=version, reason=action.get("reason"), today=closed_on,
        )  # fmt: skip
