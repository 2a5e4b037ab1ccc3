"""Demo lifecycle: the moves that led each demo contract to its status, its notice and
renewal days, and its amendments (``seed_data/lifecycle.json``).

Days are offsets from the contract's start date, so the file keeps working as time
passes; what lies after ``today`` is skipped. Everything goes through the lifecycle
services as the demo accounts of each side (the system where one is missing). A
contract that already has moves or amendments is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.db.account_models import Membership, User
from tracker.db.followup_models import ContractAmendment, ContractFollowUp, ContractMove
from tracker.db.models import Contract
from tracker.domain.json_document import load_json_document
from tracker.services.access import SYSTEM, Actor
from tracker.services.amendments import amend_terms
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.lifecycle import move_contract, set_lifecycle_dates

#: The demo lifecycle data, beside portfolio.json.
LIFECYCLE_FILE = "lifecycle.json"


def seed_lifecycle(session: Session, folder: Path, *, today: date) -> None:
    """Load the demo lifecycle of every listed contract in delivery that has none yet."""
    path = folder / LIFECYCLE_FILE
    if not path.exists():
        return
    document = load_json_document(path.read_bytes())
    assert isinstance(document, dict)
    for code, data in document["contracts"].items():
        _load_contract(session, str(code), data, today)


def _load_contract(session: Session, code: str, data: Mapping[str, Any], today: date) -> None:
    with session.begin():
        contract = session.scalars(
            select(Contract).where(
                Contract.code == code,
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
                Contract.archived_at.is_(None),
                ~exists().where(ContractMove.contract_id == Contract.id),
                ~exists().where(ContractAmendment.contract_id == Contract.id),
            )
        ).one_or_none()
        if contract is None:
            return
        contract_id, start, original = contract.id, contract.start_date, contract.status
        people = _demo_staff(session, contract.buyer_id, contract.vendor_id)

    def day(offset: object) -> date:
        return start + timedelta(days=int(str(offset)))

    def person(side: object) -> Actor:
        return people.get(str(side), SYSTEM)

    moves = [move for move in data.get("moves", ()) if day(move["day"]) <= today]
    if not moves or moves[-1]["to"] not in DELIVERY_STATUSES:
        return
    # The contract was stored in its present status: its history starts again from draft,
    # and each move is made (and checked) as it happened.
    _set_status(session, contract_id, "draft")
    try:
        for move in moves:
            move_contract(
                session, person(move["by"]), contract_id, str(move["to"]),
                effective_on=day(move["day"]).isoformat(), reason=move.get("reason"),
                closed_reason=move.get("closed_reason"),
                expected_version=_version(session, contract_id), today=today,
            )  # fmt: skip
    except Exception:
        _set_status(session, contract_id, original)
        raise
    notice, renewal = data.get("notice_months"), data.get("renewal_day")
    if notice is not None or renewal is not None:
        set_lifecycle_dates(
            session, person("vendor"), contract_id,
            notice_months=None if notice is None else str(notice),
            renewal_on=None if renewal is None else day(renewal).isoformat(),
            expected_version=_dates_version(session, contract_id),
        )  # fmt: skip
    for amendment in data.get("amendments", ()):
        if day(amendment["day"]) > today:
            continue
        with session.begin():
            found = session.get(Contract, contract_id)
            assert found is not None
            terms = load_json_document(found.terms)
        amend_terms(
            session, person(amendment.get("by", "vendor")), contract_id,
            _merged(terms, amendment["changes"]),
            effective_year=str(amendment["effective_year"]), reason=amendment["reason"],
            expected_version=_version(session, contract_id), today=today,
        )  # fmt: skip


def _demo_staff(session: Session, buyer_id: int, vendor_id: int) -> dict[str, Actor]:
    """The demo staff account of each side (staff@<organisation>.demo), when there is one."""
    found: dict[str, Actor] = {}
    sides = {buyer_id: "buyer", vendor_id: "vendor"}
    for user_id, email, organisation_id in session.execute(
        select(User.id, User.email, Membership.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id.in_(sides),
            Membership.role == "staff",
            User.email.like("%.demo"),
            User.disabled_at.is_(None),
        )
        .order_by(User.id)
    ):
        found.setdefault(sides[organisation_id], Actor(user_id, email, {organisation_id: "staff"}))
    return found


def _set_status(session: Session, contract_id: int, status: str) -> None:
    with session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        contract.status = status


def _version(session: Session, contract_id: int) -> int:
    with session.begin():
        found = session.scalar(select(Contract.version).where(Contract.id == contract_id))
        assert found is not None
        return int(found)


def _dates_version(session: Session, contract_id: int) -> int:
    with session.begin():
        found = session.scalar(
            select(ContractFollowUp.version).where(ContractFollowUp.contract_id == contract_id)
        )
        return int(found or 0)


def _merged(document: Any, changes: Any) -> Any:
    """``document`` with ``changes`` laid over it (objects merged, other values replaced)."""
    if not isinstance(document, dict) or not isinstance(changes, dict):
        return changes
    result = dict(document)
    for key, value in changes.items():
        result[key] = _merged(document.get(key), value)
    return result
