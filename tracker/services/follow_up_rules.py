"""Rules the follow-up services (concerns, pulse) share: the contract a follow-up page is
about, who may change its follow-up, for which side, and when.

The contract's follow-up is written once it is signed and until it is closed or archived;
members of either party read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tracker.db.followup_models import SIDES
from tracker.db.models import Contract, Organisation
from tracker.services.access import Actor
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.errors import Conflict, Forbidden, NotFound


@dataclass(frozen=True)
class FollowUpContract:
    """The contract a follow-up page is about: names for the heading, status, dates."""

    contract_id: int
    code: str
    name: str
    buyer_id: int
    vendor_id: int
    buyer: str
    vendor: str
    status: str
    archived: bool
    start_date: date
    end_date: date


@dataclass(frozen=True)
class FollowUpPermissions:
    """What the viewer may do: the sides they speak for, and why all is read-only if so."""

    sides: tuple[str, ...]
    read_only: str | None

    @property
    def write(self) -> bool:
        """Whether the viewer may change the contract's follow-up now."""
        return bool(self.sides) and self.read_only is None


def followup_contract(session: Session, actor: Actor, contract_id: int) -> FollowUpContract:
    """The contract's heading data, in the caller's transaction; NotFound when not visible."""
    row = session.execute(contract_query().where(Contract.id == contract_id)).one_or_none()
    return visible_contract(row, actor, f"no contract {contract_id}")


def followup_permissions(actor: Actor, contract: FollowUpContract) -> FollowUpPermissions:
    """The sides the actor speaks for on the contract and why it is read-only, if so."""
    sides = SIDES if actor.system else actor.staff_sides(contract.buyer_id, contract.vendor_id)
    return FollowUpPermissions(tuple(sides), read_only_reason(contract.status, contract.archived))


def read_only_reason(status: str, archived: bool) -> str | None:
    """Why a contract's follow-up may not be changed now (None when it may)."""
    if archived:
        return "this contract is archived: restore it before changing its follow-up"
    if status == "closed":
        return "this contract is closed: its follow-up is read-only"
    if status not in DELIVERY_STATUSES:
        return f"the follow-up begins once the contract is signed; this one is {status}"
    return None


def require_writable(contract: Contract) -> None:
    """Conflict, with the reason, unless the contract's follow-up may be changed."""
    reason = read_only_reason(contract.status, contract.archived_at is not None)
    if reason is not None:
        raise Conflict(reason)


def speaking_side(actor: Actor, contract: Contract, side: str | None, what: str) -> str:
    """The side the actor acts for: their only staff side, or ``side`` when staff of both."""
    sides = SIDES if actor.system else actor.staff_sides(contract.buyer_id, contract.vendor_id)
    if not sides:
        raise Forbidden(f"only staff of the buyer or the vendor may {what}")
    if side is None:
        if len(sides) > 1:
            raise Forbidden("you are staff of both parties: say which side you speak for")
        return sides[0]
    if side not in sides:
        raise Forbidden(f"you are not staff of the {side}")
    return side


def require_staff(actor: Actor, contract: Contract, what: str) -> None:
    """Forbidden unless the actor is staff of the contract's buyer or vendor."""
    if not actor.works_for(contract.buyer_id, contract.vendor_id):
        raise Forbidden(f"only staff of the buyer or the vendor may {what}")


def contract_query() -> Any:
    """A select of a contract with its buyer's and vendor's names, read afresh."""
    buyer, vendor = aliased(Organisation), aliased(Organisation)
    return (
        select(Contract, buyer.name, vendor.name)
        .join(buyer, buyer.id == Contract.buyer_id)
        .join(vendor, vendor.id == Contract.vendor_id)
        .execution_options(populate_existing=True)
    )


def visible_contract(row: Any, actor: Actor, missing: str) -> FollowUpContract:
    """The heading data of a ``contract_query`` row; NotFound (``missing``) when not visible."""
    if row is None:
        raise NotFound(missing)
    contract: Contract = row[0]
    if not actor.sees(contract.buyer_id, contract.vendor_id):
        raise NotFound(missing)
    return FollowUpContract(
        contract.id, contract.code, contract.name, contract.buyer_id, contract.vendor_id,
        row[1], row[2], contract.status, contract.archived_at is not None,
        contract.start_date, contract.end_date,
    )  # fmt: skip
