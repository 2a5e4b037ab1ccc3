"""The follow-up overview of one contract: its health as the reader sees it, and where
it stands in the first 100 days after the signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.followup_models import ContractFollowUp
from tracker.db.models import Contract, Organisation
from tracker.domain.health import VALLEY_DAYS, Alert, band
from tracker.domain.onboarding import day_zero
from tracker.services.access import Actor
from tracker.services.errors import NotFound
from tracker.services.health import HEALTH_STATUSES, ensure_health, kept_health


@dataclass(frozen=True)
class FollowUpView:
    """A contract's health and its first 100 days, for one reader."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    #: Whether the reader is of the vendor side (sees the account map and its flags).
    vendor_reader: bool
    #: Whether the vendor shares its account map with the buyer.
    map_shared: bool
    score: int | None
    alerts: tuple[Alert, ...]
    in_valley: bool
    signed_on: date
    day: int

    @property
    def band(self) -> str | None:
        """healthy, watch or at risk (None before the signature)."""
        return None if self.score is None else band(self.score)

    @property
    def in_first_days(self) -> bool:
        """Whether the contract is in its first 100 days after the signature."""
        return 0 <= self.day < VALLEY_DAYS


def follow_up_view(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> FollowUpView:
    """The follow-up overview; NotFound when the actor may not see the contract."""
    day = today or datetime.now(UTC).date()
    with session.begin():
        contract = session.get(Contract, contract_id, populate_existing=True)
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        names = dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_((contract.buyer_id, contract.vendor_id))
                )
            ).all()
        )
        settings = session.get(ContractFollowUp, contract.id)
        signed_on = day_zero(settings.signed_on if settings else None, contract.start_date)
        vendor = actor.system or contract.vendor_id in actor.organisation_ids
        kept = None
        if contract.status in HEALTH_STATUSES:
            ensure_health(session, [contract.id], day)
            kept = kept_health(session, [contract.id]).get(contract.id)
        found = kept.as_health() if kept is not None else None
        return FollowUpView(
            contract_id=contract.id,
            code=contract.code,
            name=contract.name,
            buyer=names[contract.buyer_id],
            vendor=names[contract.vendor_id],
            status=contract.status,
            archived=contract.archived_at is not None,
            vendor_reader=vendor,
            map_shared=settings is not None and settings.account_map_shared,
            score=None if found is None else found.score_for(vendor),
            alerts=() if found is None else found.alerts_for(vendor),
            in_valley=found is not None and found.in_valley(vendor),
            signed_on=signed_on,
            day=(day - signed_on).days,
        )
