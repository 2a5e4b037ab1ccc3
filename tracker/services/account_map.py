"""The vendor's account map (Strategic Selling): who may read and change it, the helpers
every change of it shares, and whether the vendor shares the map with the buyer. Its read
models are in ``account_map_views``; its changes in ``account_plan`` and
``account_plan_actions``.

The map is the vendor's. Members of the vendor (any role) read it and its staff
change it. The buyer's members read it only while the vendor shares it, and never
change it; while it is not shared, everything of it answers NotFound to them exactly
like a missing object, so that its existence does not leak. Anyone else: NotFound.

The audit events of the map carry the contract's id in their snapshots, not in the
event's contract link: the contract's history page is shown to both parties, and
would otherwise show the buyer the vendor's private map.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.account_map_models import Alternative, Influence, PlanAction
from tracker.db.followup_models import ContractFollowUp
from tracker.db.models import Contract
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    locked_contract,
    now_utc,
    require_version,
)
from tracker.services.errors import Conflict, Forbidden, NotFound

KIND_WORDS = {"competitor": "competitor", "in_house": "in-house", "do_nothing": "doing nothing"}
DEGREE_WORDS = {"high": "high", "medium": "medium", "low": "low"}
POSITION_WORDS = {"ahead": "ahead", "level": "level", "behind": "behind", "unknown": "unknown"}
STATUS_WORDS = {"open": "open", "done": "done", "dropped": "dropped"}


# -- access -----------------------------------------------------------------------------


def may_read(actor: Actor, contract: Contract, shared: bool) -> bool:
    """Members of the vendor; members of the buyer while the vendor shares the map."""
    if actor.system or contract.vendor_id in actor.memberships:
        return True
    return shared and contract.buyer_id in actor.memberships


def may_write(actor: Actor, contract: Contract) -> bool:
    """Staff of the vendor only."""
    return actor.system or actor.memberships.get(contract.vendor_id) == "staff"


def _is_shared(session: Session, contract_id: int) -> bool:
    shared = session.scalar(
        select(ContractFollowUp.account_map_shared).where(
            ContractFollowUp.contract_id == contract_id
        )
    )
    return bool(shared)


def writable_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """The contract, locked, for a change of its account map by ``actor``: NotFound when
    the actor may not see the map, Forbidden unless vendor staff, Conflict when archived."""
    contract = locked_contract(session, actor, contract_id)
    if not may_read(actor, contract, _is_shared(session, contract.id)):
        raise NotFound(f"no contract {contract_id}")
    if not may_write(actor, contract):
        raise Forbidden("only staff of the vendor may change its account map")
    if contract.archived_at is not None:
        raise Conflict("this contract is archived: restore it before changing its account map")
    return contract


M = TypeVar("M", Influence, Alternative, PlanAction)


def writable_record(
    session: Session, actor: Actor, model: type[M], record_id: int, what: str
) -> tuple[M, Contract]:
    """A record of the map with its contract locked (see ``writable_contract``); NotFound,
    named ``what``, when the actor may not see it."""
    item = session.get(model, record_id)
    if item is None:
        raise NotFound(f"no {what} {record_id}")
    try:
        contract = writable_contract(session, actor, item.contract_id)
    except NotFound:
        raise NotFound(f"no {what} {record_id}") from None
    session.refresh(item)
    return item, contract


def contract_of(session: Session, actor: Actor, model: type[M], record_id: int, what: str) -> int:
    """The contract id of a record of the map the actor may read; NotFound otherwise."""
    with session.begin():
        row = session.execute(
            select(model.contract_id, Contract.vendor_id, Contract.buyer_id)
            .join(Contract, Contract.id == model.contract_id)
            .where(model.id == record_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"no {what} {record_id}")
        contract_id, vendor_id, buyer_id = row
        shared = _is_shared(session, contract_id)
    if not (
        actor.system or vendor_id in actor.memberships or (shared and buyer_id in actor.memberships)
    ):
        raise NotFound(f"no {what} {record_id}")
    return int(contract_id)


# -- helpers of every write -------------------------------------------------------------


def audit(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int,
    contract: Contract,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request: RequestInfo | None = None,
) -> None:
    """An audit event of the map: the contract named in the snapshots, not linked (see
    the module's docstring)."""
    link = {"contract_id": contract.id}
    record(
        session, actor, action, entity, entity_id,
        before=None if before is None else {**link, **before},
        after=None if after is None else {**link, **after},
        request=request,
    )  # fmt: skip


# -- sharing ----------------------------------------------------------------------------


def share_account_map(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    shared: bool,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Share the map with the buyer (read only) or stop sharing it; vendor staff only.

    ``expected_version`` is that of the contract's follow-up settings (0 before they
    exist). Returns their version afterwards."""
    stamp = now_utc(now)
    with session.begin():
        contract = writable_contract(session, actor, contract_id)
        settings = session.get(ContractFollowUp, contract.id)
        require_version("The contract's follow-up settings", settings, expected_version)
        if settings is None:
            settings = ContractFollowUp(
                contract_id=contract.id, account_map_shared=False, version=1
            )
            session.add(settings)
        elif settings.account_map_shared == shared:
            return settings.version
        before = {"shared": settings.account_map_shared}
        settings.account_map_shared = shared
        settings.updated_at, settings.updated_by = stamp, actor.label
        session.flush()
        audit(session, actor, "share" if shared else "unshare", "account_map", contract.id,
              contract, before=before, after={"shared": shared}, request=request)  # fmt: skip
        return settings.version
