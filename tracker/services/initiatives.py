"""Improvement initiatives: proposed by either side, approved by both, delivered or dropped.

An initiative moves proposed -> approved (once the buyer and the vendor have both
approved it) -> in_progress -> delivered; until delivered it may be dropped with
a reason. Its terms can change only while proposed, and a change withdraws the
approvals already given, so that both sides approve what is finally written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.db.delivery_models import Initiative, Kpi
from tracker.db.models import Contract
from tracker.domain.fields import FieldReader
from tracker.domain.money import minor_units
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    contract_currency,
    locked_contract,
    locked_record,
    long_text,
    now_utc,
    optional_text,
    require_delivery,
    require_staff,
    require_vendor_staff,
    require_version,
    snapshot_of,
    validated,
)
from tracker.services.errors import Conflict, Forbidden

_FIELDS = (
    "title", "description", "expected_saving", "kpi_id", "expected_kpi_effect", "budget",
    "planned_year", "status", "buyer_approved_by", "vendor_approved_by", "delivered_year",
    "realised_saving", "realised_note",
)  # fmt: skip
#: Where an initiative may go from each status.
TRANSITIONS = {
    "proposed": ("approved", "dropped"),
    "approved": ("in_progress", "delivered", "dropped"),
    "in_progress": ("delivered", "dropped"),
    "delivered": (),
    "dropped": (),
}
#: Statuses in which the fund may pay for an initiative.
FUNDABLE = frozenset({"approved", "in_progress", "delivered"})


def propose_initiative(
    session: Session,
    actor: Actor,
    contract_id: int,
    fields: dict[str, object],
    *,
    side: str | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """A new initiative proposed by the actor's side; returns its id.

    ``fields``: title, description, expected_saving, budget, planned_year, and optionally
    kpi_id and expected_kpi_effect. Staff of both sides name the ``side`` they speak for."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_staff(actor, contract)
        require_delivery(contract)
        proposer = _speaking_side(actor, contract, side)
        values = validated(lambda reader: _read(reader, session, contract, fields))
        initiative = Initiative(
            contract_id=contract.id, proposed_by_side=proposer, proposed_by=actor.label,
            status="proposed", created_at=stamp, version=1, **values,
        )  # fmt: skip
        initiative.updated_at, initiative.updated_by = stamp, actor.label
        session.add(initiative)
        session.flush()
        record(session, actor, "propose", "initiative", initiative.id, contract_id=contract.id,
               after=_snapshot(initiative, contract), request=request)  # fmt: skip
        return initiative.id


def update_initiative(
    session: Session,
    actor: Actor,
    initiative_id: int,
    fields: dict[str, object],
    *,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change a proposed initiative; approvals already given are withdrawn."""
    stamp = now_utc(now)
    with session.begin():
        initiative, contract = _locked(session, actor, initiative_id, expected_version)
        require_staff(actor, contract)
        require_delivery(contract)
        if initiative.status != "proposed":
            raise Conflict(
                f"the initiative is {_words(initiative.status)}: only proposals can be changed"
            )
        values = validated(lambda reader: _read(reader, session, contract, fields))
        before = _snapshot(initiative, contract)
        for name, value in values.items():
            setattr(initiative, name, value)
        initiative.buyer_approved_at = initiative.buyer_approved_by = None
        initiative.vendor_approved_at = initiative.vendor_approved_by = None
        initiative.updated_at, initiative.updated_by = stamp, actor.label
        record(session, actor, "update", "initiative", initiative.id, contract_id=contract.id,
               before=before, after=_snapshot(initiative, contract), request=request)  # fmt: skip


def approve_initiative(
    session: Session,
    actor: Actor,
    initiative_id: int,
    *,
    expected_version: int,
    side: str | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> str:
    """Record the actor's side's approval; the second side's approval makes it approved.

    Returns the initiative's status afterwards."""
    stamp = now_utc(now)
    with session.begin():
        initiative, contract = _locked(session, actor, initiative_id, expected_version)
        require_delivery(contract)
        approver = _speaking_side(actor, contract, side)
        if initiative.status != "proposed":
            raise Conflict(f"the initiative is already {_words(initiative.status)}")
        if getattr(initiative, f"{approver}_approved_at") is not None:
            raise Conflict(f"the {approver} has already approved this initiative")
        before = _snapshot(initiative, contract)
        setattr(initiative, f"{approver}_approved_at", stamp)
        setattr(initiative, f"{approver}_approved_by", actor.label)
        if initiative.buyer_approved_at and initiative.vendor_approved_at:
            initiative.status = "approved"
        initiative.updated_at, initiative.updated_by = stamp, actor.label
        record(session, actor, f"approve_{approver}", "initiative", initiative.id,
               contract_id=contract.id, before=before, after=_snapshot(initiative, contract),
               request=request)  # fmt: skip
        return initiative.status


def move_initiative(
    session: Session,
    actor: Actor,
    initiative_id: int,
    status: str,
    *,
    expected_version: int,
    delivered_year: object = None,
    realised_saving: object = None,
    note: object = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Start (in_progress), deliver or drop an initiative.

    Delivering records the year it was delivered in, the realised yearly saving and
    what it did for the service (``note``); dropping needs the reason (``note``).
    The vendor starts and delivers; either side may drop."""
    stamp = now_utc(now)
    with session.begin():
        initiative, contract = _locked(session, actor, initiative_id, expected_version)
        require_delivery(contract)
        if status not in TRANSITIONS.get(initiative.status, ()) or status == "approved":
            raise Conflict(
                f"an initiative that is {_words(initiative.status)} cannot become {_words(status)}"
            )
        if status == "dropped":
            require_staff(actor, contract)
        else:
            require_vendor_staff(actor, contract, f"mark an initiative {_words(status)}")
        before = _snapshot(initiative, contract)
        money = contract_currency(contract)

        def read(reader: FieldReader) -> dict[str, Any]:
            if status == "dropped":
                return {"realised_note": long_text(reader, note, "note", required=True)}
            if status != "delivered":
                return {}
            year = reader.required_field(
                {"y": delivered_year},
                "y",
                "delivered_year",
                reader.whole_number,
                1,
                contract.term_years,
            )
            saving = reader.required_field(
                {"s": realised_saving}, "s", "realised_saving", reader.money, money, positive=False
            )
            return {
                "delivered_year": year,
                "realised_saving": None if saving is None else minor_units(saving, money),
                "realised_note": long_text(reader, note, "note", required=False),
            }

        for name, value in validated(read).items():
            setattr(initiative, name, value)
        initiative.status = status
        initiative.updated_at, initiative.updated_by = stamp, actor.label
        record(session, actor, status, "initiative", initiative.id, contract_id=contract.id,
               before=before, after=_snapshot(initiative, contract), request=request)  # fmt: skip


def _locked(
    session: Session, actor: Actor, initiative_id: int, expected_version: int
) -> tuple[Initiative, Contract]:
    initiative, contract = locked_record(session, actor, Initiative, initiative_id, "initiative")
    require_version(f"Initiative “{initiative.title}”", initiative, expected_version)
    return initiative, contract


def _speaking_side(actor: Actor, contract: Contract, side: str | None) -> str:
    sides = ("buyer", "vendor") if actor.system else actor.staff_sides(
        contract.buyer_id, contract.vendor_id
    )  # fmt: skip
    if not sides:
        raise Forbidden("only staff of the buyer or the vendor may propose or approve initiatives")
    if side is None:
        if len(sides) > 1:
            raise Forbidden("you are staff of both parties: say which side you speak for")
        return sides[0]
    if side not in sides:
        raise Forbidden(f"you are not staff of the {side}")
    return side


def _read(
    reader: FieldReader, session: Session, contract: Contract, fields: dict[str, object]
) -> dict[str, Any]:
    money = contract_currency(contract)
    title = reader.required_field(fields, "title", "title", reader.text, max_length=200)
    description = long_text(reader, fields.get("description"), "description", required=True)
    saving = reader.required_field(
        fields, "expected_saving", "expected_saving", reader.money, money, positive=False
    )
    budget = reader.required_field(fields, "budget", "budget", reader.money, money, positive=False)
    year = reader.required_field(
        fields, "planned_year", "planned_year", reader.whole_number, 1, contract.term_years
    )
    effect = optional_text(reader, fields.get("expected_kpi_effect"), "expected_kpi_effect", 200)
    kpi_id = _kpi_of(reader, session, contract, fields.get("kpi_id"))
    return {
        "title": title,
        "description": description,
        "expected_saving": None if saving is None else minor_units(saving, money),
        "budget": None if budget is None else minor_units(budget, money),
        "planned_year": year,
        "kpi_id": kpi_id,
        "expected_kpi_effect": effect,
    }


def _kpi_of(reader: FieldReader, session: Session, contract: Contract, value: object) -> int | None:
    if value is None or value in {"", "0"}:
        return None
    number = reader.whole_number(value, "kpi_id", 1, 2**31 - 1)
    if number is None:
        return None
    kpi = session.get(Kpi, number)
    if kpi is None or kpi.contract_id != contract.id:
        reader.error("kpi_id", "choose one of this contract's KPIs")
        return None
    return number


def _words(status: str) -> str:
    return status.replace("_", " ")


def _snapshot(initiative: Initiative, contract: Contract) -> Mapping[str, Any]:
    """What the audit trail records of the initiative, amounts in the contract's currency."""
    return snapshot_of(initiative, _FIELDS, contract_currency(contract))
