"""The vendor's account map (Strategic Selling): buying influences, the buyer's
alternatives, the red flags, and whether the vendor shares the map with the buyer.

The map is the vendor's. Members of the vendor (any role) read it and its staff
change it. The buyer's members read it only while the vendor shares it, and never
change it; while it is not shared, everything of it answers NotFound to them exactly
like a missing object, so that its existence does not leak. Anyone else: NotFound.

The audit events of the map carry the contract's id in their snapshots, not in the
event's contract link: the contract's history page is shown to both parties, and
would otherwise show the buyer the vendor's private map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tracker.db.account_map_models import (
    INFLUENCE_ROLES,
    Alternative,
    IndicatorRating,
    Influence,
    PlanAction,
)
from tracker.db.followup_models import ContractFollowUp
from tracker.db.models import Contract, Organisation
from tracker.domain.red_flags import (
    ROLE_WORDS,
    RedFlag,
    indicator_trend,
    red_flags,
    signed,
)
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


# -- read models ------------------------------------------------------------------------


@dataclass(frozen=True)
class InfluenceView:
    """A buying influence as the page shows it."""

    id: int
    name: str
    job_title: str | None
    role: str
    degree: str
    mode: str
    rating: int
    evidence: str | None
    win_result: str | None
    covered_by: str | None
    last_met_on: date | None
    added_on: date
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def rating_text(self) -> str:
        """The rating with its sign: +3, 0, −4."""
        return signed(self.rating)


@dataclass(frozen=True)
class RoleGroup:
    """The influences of one role."""

    role: str
    label: str
    influences: tuple[InfluenceView, ...]


@dataclass(frozen=True)
class AlternativeView:
    """An alternative the buyer has and our position against it."""

    id: int
    kind: str
    name: str
    position: str
    note: str | None
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class RatingView:
    """One review's rating of an indicator (never edited)."""

    id: int
    reviewed_on: date
    rating: int
    note: str | None
    at: datetime
    by: str


@dataclass(frozen=True)
class PlanActionView:
    """An action of the account plan with its indicator's ratings, latest first."""

    id: int
    title: str
    indicator: str
    influence_id: int | None
    influence_name: str | None
    owner: str | None
    due_on: date | None
    status: str
    ratings: tuple[RatingView, ...]
    trend: str | None
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def latest(self) -> RatingView | None:
        """The most recent rating, if any."""
        return self.ratings[0] if self.ratings else None

    @property
    def last_rated_on(self) -> date | None:
        """The day of the most recent rating, if any."""
        return self.ratings[0].reviewed_on if self.ratings else None


@dataclass(frozen=True)
class AccountMapPermissions:
    """What the viewer may do with the map (the services check it again)."""

    edit: bool
    share: bool


@dataclass(frozen=True)
class AccountMapView:
    """A contract's account map as the viewer may see it on ``today``."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    start_date: date
    end_date: date
    influences: tuple[InfluenceView, ...]
    groups: tuple[RoleGroup, ...]
    alternatives: tuple[AlternativeView, ...]
    actions: tuple[PlanActionView, ...]
    red_flags: tuple[RedFlag, ...]
    shared: bool
    share_version: int
    permissions: AccountMapPermissions
    today: date

    def influence(self, influence_id: int) -> InfluenceView | None:
        """The influence with this id, if it is in the map."""
        return next((i for i in self.influences if i.id == influence_id), None)

    def action(self, plan_action_id: int) -> PlanActionView | None:
        """The plan action with this id, if it is in the map."""
        return next((a for a in self.actions if a.id == plan_action_id), None)


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


def today_or(today: date | None) -> date:
    """``today``, or the UTC date."""
    return today or datetime.now(UTC).date()


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


# -- reading ----------------------------------------------------------------------------


def account_map_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> AccountMapView:
    """The contract's account map as ``actor`` may see it on ``today``; NotFound when the
    actor may not (a buyer while the map is not shared, an outsider)."""
    day = today_or(today)
    with session.begin():
        buyer, vendor = aliased(Organisation), aliased(Organisation)
        row = session.execute(
            select(Contract, buyer.name, vendor.name, ContractFollowUp)
            .join(buyer, buyer.id == Contract.buyer_id)
            .join(vendor, vendor.id == Contract.vendor_id)
            .outerjoin(ContractFollowUp, ContractFollowUp.contract_id == Contract.id)
            .where(Contract.id == contract_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"no contract {contract_id}")
        contract, buyer_name, vendor_name, settings = row
        shared = bool(settings and settings.account_map_shared)
        if not may_read(actor, contract, shared):
            raise NotFound(f"no contract {contract_id}")
        maps = load_maps(session, [contract.id], day)
    influences, alternatives, actions, flags = maps[contract.id]
    groups = tuple(
        RoleGroup(role, ROLE_WORDS[role], tuple(i for i in influences if i.role == role))
        for role in INFLUENCE_ROLES
    )
    writer = may_write(actor, contract) and contract.archived_at is None
    return AccountMapView(
        contract_id=contract.id, code=contract.code, name=contract.name, buyer=buyer_name,
        vendor=vendor_name, status=contract.status, archived=contract.archived_at is not None,
        start_date=contract.start_date, end_date=contract.end_date, influences=influences,
        groups=groups, alternatives=alternatives, actions=actions, red_flags=flags,
        shared=shared, share_version=settings.version if settings else 0,
        permissions=AccountMapPermissions(edit=writer, share=writer), today=day,
    )  # fmt: skip


MapParts = tuple[
    tuple[InfluenceView, ...],
    tuple[AlternativeView, ...],
    tuple[PlanActionView, ...],
    tuple[RedFlag, ...],
]


def load_maps(session: Session, contract_ids: Sequence[int], today: date) -> dict[int, MapParts]:
    """The maps of several contracts and their red flags on ``today``, in four queries,
    inside the caller's transaction; the caller has checked who may see them."""
    ids = list(contract_ids)
    influences: dict[int, list[InfluenceView]] = {cid: [] for cid in ids}
    for i in session.scalars(
        select(Influence).where(Influence.contract_id.in_(ids)).order_by(Influence.id)
    ):
        influences[i.contract_id].append(_influence_view(i))
    alternatives: dict[int, list[AlternativeView]] = {cid: [] for cid in ids}
    for a in session.scalars(
        select(Alternative).where(Alternative.contract_id.in_(ids)).order_by(Alternative.id)
    ):
        alternatives[a.contract_id].append(_alternative_view(a))
    plan = session.scalars(
        select(PlanAction).where(PlanAction.contract_id.in_(ids)).order_by(PlanAction.id)
    ).all()
    ratings: dict[int, list[RatingView]] = {p.id: [] for p in plan}
    for r in session.scalars(
        select(IndicatorRating)
        .where(IndicatorRating.action_id.in_(list(ratings)))
        .order_by(IndicatorRating.reviewed_on.desc(), IndicatorRating.id.desc())
    ):
        ratings[r.action_id].append(RatingView(r.id, r.reviewed_on, r.rating, r.note, r.at, r.by))
    names = {i.id: i.name for views in influences.values() for i in views}
    actions: dict[int, list[PlanActionView]] = {cid: [] for cid in ids}
    for p in plan:
        actions[p.contract_id].append(_action_view(p, tuple(ratings[p.id]), names))
    return {
        cid: (
            tuple(influences[cid]),
            tuple(alternatives[cid]),
            tuple(actions[cid]),
            tuple(red_flags(influences[cid], alternatives[cid], actions[cid], today)),
        )
        for cid in ids
    }


def red_flags_by_contract(
    session: Session, contract_ids: Sequence[int], today: date
) -> dict[int, tuple[RedFlag, ...]]:
    """The red flags of several contracts' maps on ``today`` (for the health score),
    inside the caller's transaction; the caller decides who may see them."""
    return {cid: parts[3] for cid, parts in load_maps(session, contract_ids, today).items()}


def _influence_view(i: Influence) -> InfluenceView:
    return InfluenceView(
        i.id, i.name, i.job_title, i.role, i.degree, i.mode, i.rating, i.evidence,
        i.win_result, i.covered_by, i.last_met_on, i.added_on, i.version, i.updated_at,
        i.updated_by,
    )  # fmt: skip


def _alternative_view(a: Alternative) -> AlternativeView:
    return AlternativeView(
        a.id, a.kind, a.name, a.position, a.note, a.version, a.updated_at, a.updated_by
    )


def _action_view(
    p: PlanAction, history: tuple[RatingView, ...], names: Mapping[int, str]
) -> PlanActionView:
    return PlanActionView(
        p.id, p.title, p.indicator, p.influence_id, names.get(p.influence_id or 0), p.owner,
        p.due_on, p.status, history, indicator_trend([r.rating for r in history]), p.version,
        p.updated_at, p.updated_by,
    )  # fmt: skip
