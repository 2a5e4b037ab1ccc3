"""Demo account maps: the vendor's influences, alternatives and action plan of each demo
contract, from ``seed_data/account_map.json``.

They are written through the account-map services as the vendor's demo staff account
(the system when there is none), so that every rule applies and every change is in
the audit trail under a person. Days are offsets from the contract's start date, so
that the file keeps working as time passes; what lies after the day the seed runs
(an influence not yet in the account, a meeting or a review still to come) is left
out. A contract whose map already holds anything is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.db.account_map_models import Alternative, Influence, PlanAction
from tracker.db.account_models import Membership, User
from tracker.db.followup_models import ContractFollowUp
from tracker.db.models import Contract
from tracker.domain.json_document import load_json_document
from tracker.services.access import SYSTEM, Actor
from tracker.services.account_map import share_account_map
from tracker.services.account_plan import add_alternative, add_influence
from tracker.services.account_plan_actions import add_plan_action, rate_indicator

#: The demo account maps, beside portfolio.json.
ACCOUNT_MAP_FILE = "account_map.json"


def seed_account_map(session: Session, folder: Path, *, today: date) -> None:
    """Load the demo account map of every demo contract whose map is still empty."""
    path = folder / ACCOUNT_MAP_FILE
    if not path.exists():
        return
    document = load_json_document(path.read_bytes())
    assert isinstance(document, dict)
    maps: Mapping[str, Any] = document["contracts"]
    for code, (contract_id, start, actor) in _empty_maps(session, tuple(maps)).items():
        _load_map(session, actor, contract_id, start, maps[code], today)


def _empty_maps(session: Session, codes: tuple[str, ...]) -> dict[str, tuple[int, date, Actor]]:
    """The named contracts (not archived) with nothing in their map, each with the
    vendor's demo staff account."""
    recorded = [
        exists().where(model.contract_id == Contract.id)
        for model in (Influence, Alternative, PlanAction)
    ]
    with session.begin():
        rows = session.execute(
            select(Contract.code, Contract.id, Contract.start_date, Contract.vendor_id).where(
                Contract.code.in_(codes),
                Contract.archived_at.is_(None),
                *(~clause for clause in recorded),
            )
        ).all()
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
        code: (contract_id, start, staff.get(vendor_id, SYSTEM))
        for code, contract_id, start, vendor_id in rows
    }


def _load_map(
    session: Session,
    actor: Actor,
    contract_id: int,
    start: date,
    data: Mapping[str, Any],
    today: date,
) -> None:
    """Influences, alternatives, the plan with its ratings, then the sharing."""

    def day(offset: object) -> date | None:
        return None if offset is None else start + timedelta(days=int(str(offset)))

    influence_ids: dict[str, int] = {}
    for person in data.get("influences", ()):
        added = day(person["added_day"])
        if added is None or added > today:
            continue  # not in the account yet on this day
        met = day(person.get("met_day"))
        met_before = met is not None and met <= today
        fields = {
            name: person.get(name)
            for name in ("name", "job_title", "role", "degree", "mode", "evidence", "win_result")
        }
        influence_ids[person["key"]] = add_influence(
            session, actor, contract_id,
            {
                **fields,
                "rating": str(person["rating"]),
                "covered_by": person.get("covered_by") if met_before else None,
                "last_met_on": met.isoformat() if met and met_before else None,
                "added_on": added.isoformat(),
            },
            today=today,
        )  # fmt: skip
    for alternative in data.get("alternatives", ()):
        add_alternative(session, actor, contract_id, dict(alternative))
    for action in data.get("actions", ()):
        due = day(action.get("due_day"))
        action_id = add_plan_action(
            session, actor, contract_id,
            {
                "title": action["title"], "indicator": action["indicator"],
                "influence_id": str(influence_ids.get(action.get("influence") or "", "")),
                "owner": action.get("owner"), "due_on": due.isoformat() if due else None,
                "status": action.get("status", "open"),
            },
            today=today,
        )  # fmt: skip
        for rating in action.get("ratings", ()):
            reviewed = day(rating["day"])
            if reviewed is None or reviewed > today:
                continue
            rate_indicator(
                session, actor, action_id, rating=str(rating["rating"]),
                note=rating.get("note"), reviewed_on=reviewed.isoformat(), today=today,
            )  # fmt: skip
    if data.get("shared"):
        with session.begin():
            version = session.scalar(
                select(ContractFollowUp.version).where(ContractFollowUp.contract_id == contract_id)
            )
        share_account_map(
            session, actor, contract_id, shared=True, expected_version=int(version or 0)
        )
