"""The vendor's account map as its readers see it: the frozen read models (influences,
alternatives, plan actions with their ratings, red flags) and the loaders that assemble
them, for the map's page and for the health score.

Who may read the map is decided in ``account_map``; the loaders that take no actor
leave it to their caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

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
from tracker.services.account_map import may_read, may_write
from tracker.services.delivery_rules import today_utc
from tracker.services.errors import NotFound

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


# -- reading ----------------------------------------------------------------------------


def account_map_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> AccountMapView:
    """The contract's account map as ``actor`` may see it on ``today``; NotFound when the
    actor may not (a buyer while the map is not shared, an outsider)."""
    day = today_utc(today)
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
    inside the caller's transaction; the caller decides who may see them. A contract
    whose vendor keeps no map at all has none: its score is not lowered for a map never
    started (the map page still lists what is missing)."""
    return {
        cid: parts[3]
        for cid, parts in load_maps(session, contract_ids, today).items()
        if any(parts[:3])
    }


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
