"""A contract in delivery with a person of every role, for tests of the delivery years.

``contract_in_delivery(session)`` stores the fixed-5y example (tests/data) as an
active contract whose year 1 began on ``START``, with an account of each role in
the buyer and the vendor organisation and a staff member of an unrelated
organisation. Pass ``today=TODAY`` to the services: years 1-3 have then ended,
year 4 is running and year 5 has not begun.

    delivery = contract_in_delivery(session, code="FUND-1")
    record_actuals(session, delivery.vendor_staff, delivery.contract_id, 1,
                   actual_cost="950000.00", expected_version=0, today=TODAY)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracker.db.models import Contract, Organisation
from tracker.domain.json_document import load_json_document
from tracker.services import accounts
from tracker.services.access import SYSTEM, Actor
from tracker.services.contracts import create_contract
from tracker.services.initiatives import approve_initiative, propose_initiative

DATA = Path(__file__).parent / "data"
#: The first day of year 1 of the contracts made here.
START = date(2022, 1, 1)
#: A day in year 4 (2025): years 1-3 have ended, year 5 has not begun.
TODAY = date(2025, 6, 30)
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Delivery:
    """A contract in delivery and the people who act on it."""

    contract_id: int
    code: str
    buyer_id: int
    vendor_id: int
    buyer_staff: Actor
    buyer_finance: Actor
    buyer_admin: Actor
    vendor_staff: Actor
    vendor_finance: Actor
    vendor_admin: Actor
    #: Staff of an organisation that is not a party to the contract.
    outsider: Actor


def fixed_terms(**changes: Any) -> dict[str, Any]:
    """The fixed-5y example starting on ``START``, with ``changes`` laid over it."""
    document = load_json_document((DATA / "fixed-5y.json").read_bytes())
    assert isinstance(document, dict)
    return {**document, "start_date": START.isoformat(), **changes}


def contract_in_delivery(
    session: Session,
    *,
    code: str = "DLV-1",
    status: str = "active",
    accounts_too: bool = True,
    **changes: Any,
) -> Delivery:
    """Store a fixed-5y contract in ``status`` (terms ``changes`` laid over it) and its people.

    Contract codes and e-mail addresses derive from ``code``: use another code for a
    second contract. With ``accounts_too=False`` the people are actors without user
    rows (faster, for property tests that make many contracts)."""
    contract_id = create_contract(session, SYSTEM, fixed_terms(**changes), code=code, status=status)
    with session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        buyer_id, vendor_id = contract.buyer_id, contract.vendor_id
    slug = code.lower()
    outsider_org = accounts.create_organisation(session, SYSTEM, f"Outsider of {code}")
    people = {
        f"{side}_{role}": person(
            session, f"{side}-{role}@{slug}.test", party, role, account=accounts_too
        )
        for side, party in (("buyer", buyer_id), ("vendor", vendor_id))
        for role in ("staff", "finance", "admin")
    }
    outsider = person(session, f"outsider@{slug}.test", outsider_org, "staff", account=accounts_too)
    return Delivery(contract_id, code, buyer_id, vendor_id, outsider=outsider, **people)


def person(
    session: Session, email: str, organisation_id: int, role: str, *, account: bool = True
) -> Actor:
    """An actor with ``role`` in one organisation; with ``account``, a stored user as well."""
    if not account:
        return Actor(user_id=None, label=email, memberships={organisation_id: role})
    with session.begin():
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        name = organisation.name
    user_id = accounts.create_user(
        session, SYSTEM, email=email, name=email, password=PASSWORD, organisation=name, role=role
    )
    return Actor(user_id=user_id, label=email, memberships={organisation_id: role})


def initiative_fields(**changes: object) -> dict[str, object]:
    """A valid initiative proposal: budget 10,000.00 EUR, planned for year 1."""
    return {
        "title": "Self-service password reset",
        "description": "Users reset their own passwords.",
        "expected_saving": "12000.00",
        "budget": "10000.00",
        "planned_year": 1,
        **changes,
    }


def approved_initiative(session: Session, delivery: Delivery, **changes: object) -> int:
    """An initiative proposed by the vendor and approved by both sides; returns its id."""
    initiative_id = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields(**changes)
    )
    approve_initiative(session, delivery.vendor_staff, initiative_id, expected_version=1)
    approve_initiative(session, delivery.buyer_staff, initiative_id, expected_version=2)
    return initiative_id
