"""Demo delivery years: actuals, KPIs, initiatives and fund postings of the demo contracts.

``seed_data/delivery.json`` holds them by contract code and contract year, never by
calendar date. They are written through the delivery services as the demo
accounts of each side (the vendor's staff record costs, each side approves its own
initiatives, finance adjusts and closes; the system where a demo account is missing),
so that every rule applies and every change is in the audit trail under a person. A
contract that already has delivery data of its own is left alone; a year that has not
started on the day the seed runs is skipped (the same file keeps working in later
years), and so is a year close the rules refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.db.account_models import Membership, User
from tracker.db.delivery_models import (
    DeliveryPlan,
    DeliveryYear,
    FundEntry,
    Initiative,
    Kpi,
    KpiYear,
)
from tracker.db.models import Contract
from tracker.domain.calendar import contract_year_bounds
from tracker.domain.json_document import load_json_document
from tracker.services.access import SYSTEM, Actor
from tracker.services.actuals import record_actuals, set_delivery_plan
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.errors import Conflict
from tracker.services.fund import record_adjustment, record_spending
from tracker.services.initiatives import approve_initiative, move_initiative, propose_initiative
from tracker.services.kpis import QUARTERS, create_kpi, record_kpi_result
from tracker.services.seed_reports import ReportSigning, seed_reports
from tracker.services.year_close import close_year

#: The demo delivery data, beside portfolio.json.
DELIVERY_FILE = "delivery.json"


@dataclass(frozen=True)
class _Target:
    """A demo contract that may receive delivery data, and the day the seed runs."""

    contract_id: int
    start_date: date
    today: date
    #: (side, role) -> the demo account acting for that side in that role
    people: Mapping[tuple[str, str], Actor] = field(default_factory=dict)

    def person(self, side: str, role: str = "staff") -> Actor:
        """The demo account of ``side`` with ``role``, or the system when there is none."""
        return self.people.get((side, role), SYSTEM)

    def started(self, year: int) -> bool:
        """Whether contract year ``year`` has begun by the day the seed runs."""
        return contract_year_bounds(self.start_date, year)[0] <= self.today


def seed_delivery(
    session: Session,
    folder: Path,
    *,
    today: date | None = None,
    signing: ReportSigning | None = None,
    before_reports: Callable[[], None] | None = None,
) -> tuple[str, ...]:
    """Load the demo delivery data (and annual reports) of every demo contract that has
    none yet; returns the codes of the contracts loaded (in the file's order).

    ``before_reports`` runs between the delivery data and the reports (the follow-up,
    which the reports' relationship section shows)."""
    path = folder / DELIVERY_FILE
    document = load_json_document(path.read_bytes()) if path.exists() else {"contracts": {}}
    assert isinstance(document, dict)
    contracts: Mapping[str, Any] = document["contracts"]
    day = today or datetime.now(UTC).date()
    targets = _contracts_without_delivery(session, tuple(contracts), day)
    loaded = [code for code in contracts if code in targets]
    for code in loaded:
        _load_contract(session, targets[code], contracts[code])
    if before_reports is not None:
        before_reports()
    for code in loaded:
        target = targets[code]
        seed_reports(
            session, target.person, target.contract_id, contracts[code].get("reports", ()),
            target.today, signing,
        )  # fmt: skip
    return tuple(loaded)


def _contracts_without_delivery(
    session: Session, codes: tuple[str, ...], today: date
) -> dict[str, _Target]:
    """The named contracts in delivery that hold no delivery record of any kind."""
    recorded = [
        exists().where(model.contract_id == Contract.id)
        for model in (DeliveryPlan, DeliveryYear, Kpi, Initiative, FundEntry)
    ]
    with session.begin():
        rows = session.execute(
            select(
                Contract.code,
                Contract.id,
                Contract.start_date,
                Contract.buyer_id,
                Contract.vendor_id,
            ).where(
                Contract.code.in_(codes),
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
                Contract.archived_at.is_(None),
                *(~clause for clause in recorded),
            )
        ).all()
        accounts: dict[tuple[int, str], Actor] = {}
        for user_id, email, organisation_id, role in session.execute(
            select(User.id, User.email, Membership.organisation_id, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(User.email.like("%.demo"), User.disabled_at.is_(None))
            .order_by(User.id)
        ):
            accounts.setdefault(
                (organisation_id, role), Actor(user_id, email, {organisation_id: role})
            )
    return {
        code: _Target(contract_id, start, today, {
            (side, role): accounts[(party, role)]
            for side, party in (("buyer", buyer_id), ("vendor", vendor_id))
            for role in ("staff", "finance", "admin") if (party, role) in accounts
        })
        for code, contract_id, start, buyer_id, vendor_id in rows
    }  # fmt: skip


def _load_contract(session: Session, target: _Target, data: Mapping[str, Any]) -> None:
    """Plan, actuals, KPIs, initiatives with their spending, adjustments, then year closes."""
    contract_id = target.contract_id
    volume = data.get("volume")
    commitment = data.get("initiatives_per_year")
    if volume is not None or commitment is not None:
        set_delivery_plan(
            session, target.person("vendor"), contract_id,
            volume_name=volume["name"] if volume else None,
            volume_unit=volume.get("unit") if volume else None,
            planned_volumes=_by_year(volume["planned"]) if volume else {},
            initiatives_per_year=None if commitment is None else str(commitment),
            expected_version=0,
        )  # fmt: skip
    for year, actual in _by_year(data.get("actuals", {})).items():
        if target.started(year):
            record_actuals(
                session, target.person("vendor"), contract_id, year,
                actual_cost=actual["cost"], actual_volume=actual.get("volume"),
                note=actual.get("note"),
                expected_version=_version(session, DeliveryYear, contract_id=contract_id,
                                          year=year),
                today=target.today,
            )  # fmt: skip
    kpi_ids = {kpi["name"]: _load_kpi(session, target, kpi) for kpi in data.get("kpis", ())}
    for initiative in data.get("initiatives", ()):
        _load_initiative(session, target, initiative, kpi_ids)
    for adjustment in data.get("adjustments", ()):
        year = int(adjustment["year"])
        if target.started(year):
            record_adjustment(
                session, target.person("vendor", "finance"), contract_id, year,
                adjustment["amount"], adjustment["reason"],
                prefunding=bool(adjustment.get("prefunding", False)), today=target.today,
            )  # fmt: skip
    for year in data.get("close", ()):
        try:
            close_year(
                session,
                target.person("buyer", "finance"),
                contract_id,
                int(year),
                today=target.today,
            )
        except Conflict:
            # Not closable on this day (not ended yet, or something missing): left open.
            continue


def _load_kpi(session: Session, target: _Target, kpi: Mapping[str, Any]) -> int:
    """A KPI with its targets, and its results for the years that have begun."""
    kpi_id = create_kpi(
        session, target.person("vendor"), target.contract_id,
        name=kpi["name"], unit=kpi["unit"], higher_is_better=kpi["better"],
        tolerance=kpi.get("tolerance"), targets=_by_year(kpi.get("targets", {})),
    )  # fmt: skip
    for year, result in _by_year(kpi.get("results", {})).items():
        if target.started(year):
            record_kpi_result(
                session, target.person("vendor"), kpi_id, year,
                actual=result.get("actual"),
                quarters=dict(zip(QUARTERS, result.get("quarters", ()), strict=False)),
                expected_version=_version(session, KpiYear, kpi_id=kpi_id, year=year),
                today=target.today,
            )  # fmt: skip
    return kpi_id


def _load_initiative(
    session: Session, target: _Target, item: Mapping[str, Any], kpi_ids: Mapping[str, int]
) -> None:
    """Propose, approve, start, pay for, then deliver or drop an initiative, as far as
    its status in the file and the day the seed runs allow."""
    fields: dict[str, object] = {
        "title": item["title"],
        "description": item["description"],
        "expected_saving": item["expected_saving"],
        "budget": item["budget"],
        "planned_year": str(item["planned_year"]),
        "kpi_id": str(kpi_ids[item["kpi"]]) if item.get("kpi") else None,
        "expected_kpi_effect": item.get("expected_kpi_effect"),
    }
    initiative_id = propose_initiative(
        session,
        target.person(item["proposed_by"]),
        target.contract_id,
        fields,
        side=item["proposed_by"],
    )

    def version() -> int:
        return _version(session, Initiative, id=initiative_id)

    for side in item.get("approved_by", ()):
        approve_initiative(
            session, target.person(side), initiative_id, expected_version=version(), side=side
        )
    status = item["status"]
    if status in {"in_progress", "delivered"}:
        move_initiative(
            session,
            target.person("vendor"),
            initiative_id,
            "in_progress",
            expected_version=version(),
        )
    for spending in item.get("spending", ()):
        year = int(spending["year"])
        if target.started(year):
            record_spending(
                session, target.person("vendor"), initiative_id, year, spending["amount"],
                spending["text"],
                prefunding=bool(spending.get("prefunding", False)), today=target.today,
            )  # fmt: skip
    if status == "delivered":
        delivered = item["delivered"]
        year = int(delivered["year"])
        if target.started(year):
            move_initiative(
                session, target.person("vendor"), initiative_id, "delivered",
                expected_version=version(),
                delivered_year=str(year), realised_saving=delivered["realised_saving"],
                note=delivered.get("note"),
            )  # fmt: skip
    elif status == "dropped":
        move_initiative(session, target.person(item["proposed_by"]), initiative_id, "dropped",
                        expected_version=version(), note=item["reason"])  # fmt: skip


def _by_year(values: Mapping[str, Any]) -> dict[int, Any]:
    """An object keyed by contract year ("1", "2"...) as a dict keyed by int."""
    return {int(year): value for year, value in values.items()}


def _version(session: Session, model: Any, **key: int) -> int:
    """The stored version of a record, 0 when it does not exist yet."""
    with session.begin():
        found = session.scalar(
            select(model.version).where(
                *(getattr(model, name) == value for name, value in key.items())
            )
        )
    return int(found or 0)
