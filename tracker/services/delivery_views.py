"""What the delivery pages, exports and reconciliation read: plain, immutable views of a
contract's delivery years, its KPIs, initiatives and fund entries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tracker.db.models import Contract
from tracker.domain.actuals import ActualFigures, Variance, variance
from tracker.domain.kpis import KpiStatus
from tracker.domain.ledger import LedgerYear
from tracker.domain.money import Currency, money_text, units_text
from tracker.domain.schedule import Schedule, YearFigures
from tracker.services.access import Actor
from tracker.services.delivery_rules import DELIVERY_STATUSES

#: Plan and actual figures compared year by year: (field, label).
COMPARED = (
    ("baseline_cost", "Baseline cost"),
    ("cost", "Delivery cost"),
    ("efficiency_gain", "Efficiency gain"),
    ("reinvest", "Reinvested"),
    ("buyer_credit", "Credited to the buyer"),
    ("vendor_gain", "Kept by the vendor"),
    ("net_margin", "Net margin"),
)


@dataclass(frozen=True)
class KpiYearView:
    """A KPI's target and results in one contract year (version 0: nothing stored yet)."""

    year: int
    target: Decimal | None
    actual: Decimal | None
    quarters: tuple[Decimal | None, ...]
    status: KpiStatus | None
    quarter_status: tuple[KpiStatus | None, ...]
    version: int
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class KpiView:
    """A service level with one entry per contract year."""

    id: int
    name: str
    unit: str
    higher_is_better: bool
    tolerance: Decimal
    years: tuple[KpiYearView, ...]
    version: int
    updated_at: datetime
    updated_by: str

    def year(self, year: int) -> KpiYearView:
        """The entry of contract year ``year``."""
        return self.years[year - 1]


@dataclass(frozen=True)
class InitiativeView:
    """An improvement initiative with what the fund has spent on it."""

    id: int
    title: str
    description: str
    proposed_by_side: str
    proposed_by: str
    expected_saving: int
    kpi_id: int | None
    kpi_name: str | None
    expected_kpi_effect: str | None
    budget: int
    planned_year: int
    status: str
    buyer_approved_at: datetime | None
    buyer_approved_by: str | None
    vendor_approved_at: datetime | None
    vendor_approved_by: str | None
    delivered_year: int | None
    realised_saving: int | None
    realised_note: str | None
    spent: int
    created_at: datetime
    updated_at: datetime
    updated_by: str
    version: int

    @property
    def over_budget(self) -> bool:
        """Whether the fund has spent more on it than its budget."""
        return self.spent > self.budget

    def approved_by(self, side: str) -> bool:
        """Whether ``side`` ("buyer" or "vendor") has approved it."""
        return getattr(self, f"{side}_approved_at") is not None


@dataclass(frozen=True)
class FundEntryView:
    """A posting to the fund: spending on an initiative or an adjustment."""

    id: int
    year: int
    kind: str
    initiative_id: int | None
    initiative_title: str | None
    amount: int
    prefunding: bool
    text: str
    created_at: datetime
    created_by: str

    @property
    def effect(self) -> int:
        """What the entry does to the balance: spending takes out, adjustments add."""
        return -self.amount if self.kind == "spending" else self.amount


@dataclass(frozen=True)
class DeliveryYearView:
    """One contract year: the plan, the actuals once recorded, the fund, the close."""

    plan: YearFigures
    actual: ActualFigures | None
    planned_volume: Decimal | None
    actual_volume: Decimal | None
    note: str | None
    version: int
    updated_at: datetime | None
    updated_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    closed_figures: str | None
    ledger: LedgerYear
    started: bool
    ended: bool
    delivered_initiatives: int

    @property
    def year(self) -> int:
        """The contract year."""
        return self.plan.year

    @property
    def closed(self) -> bool:
        """Whether the year is closed (read-only)."""
        return self.closed_at is not None

    def planned(self, field: str) -> int:
        """A planned figure; ``cost`` is the planned delivery cost K_y."""
        return self.plan.planned_cost if field == "cost" else int(getattr(self.plan, field))

    def actual_value(self, field: str) -> int | None:
        """An actual figure, None until the actual cost is recorded."""
        if self.actual is None:
            return None
        if field == "cost":
            return self.actual.actual_cost
        if field == "baseline_cost":
            return self.actual.baseline_used
        return int(getattr(self.actual, field))

    def variance(self, field: str) -> Variance | None:
        """Actual minus plan for ``field``, None until actuals are recorded."""
        actual = self.actual_value(field)
        return None if actual is None else variance(self.planned(field), actual)


@dataclass(frozen=True)
class Permissions:
    """What the reader may do with the contract's delivery years."""

    writable: bool
    record_costs: bool
    edit_kpis: bool
    propose: bool
    approve_sides: tuple[str, ...]
    finance: bool
    admin: bool


@dataclass(frozen=True)
class DeliveryView:
    """Everything about a contract's delivery years, as plain data."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    currency: Currency
    reinvest_share: Decimal
    buyer_share: Decimal
    schedule: Schedule
    volume_name: str | None
    volume_unit: str | None
    initiatives_per_year: int | None
    plan_version: int
    plan_updated_at: datetime | None
    plan_updated_by: str | None
    years: tuple[DeliveryYearView, ...]
    kpis: tuple[KpiView, ...]
    initiatives: tuple[InitiativeView, ...]
    entries: tuple[FundEntryView, ...]
    permissions: Permissions
    today: date

    @property
    def ledger(self) -> tuple[LedgerYear, ...]:
        """The fund, year by year."""
        return tuple(year.ledger for year in self.years)

    @property
    def in_delivery(self) -> bool:
        """Whether the contract is signed, so that delivery years apply."""
        return self.status in DELIVERY_STATUSES or self.status == "closed"

    def year(self, year: int) -> DeliveryYearView:
        """Contract year ``year`` (1-based)."""
        return self.years[year - 1]

    def money(self, units: int) -> str:
        """Minor units as the amount's canonical text."""
        return money_text(Decimal(units).scaleb(-self.currency.places), self.currency)

    def amount(self, units: int) -> str:
        """Minor units as a person reads them in a message: 1,234.56 EUR."""
        return f"{units_text(units, self.currency, grouped=True)} {self.currency.code}"


def year_figures_document(view: DeliveryView, year: int) -> dict[str, Any]:
    """What a closed year keeps of itself: every figure and result, as canonical text."""
    entry = view.year(year)
    actual = entry.actual
    money = view.money
    return {
        "year": year,
        "actual_cost": None if actual is None else money(actual.actual_cost),
        "planned_volume": _text(entry.planned_volume),
        "actual_volume": _text(entry.actual_volume),
        "actual": None
        if actual is None
        else {name: money(getattr(actual, name)) for name in ActualFigures._fields[1:]
              if name != "efficiency_pct"},
        "fund": {name: money(getattr(entry.ledger, name))
                 for name in ("opening", "committed", "adjusted", "spent", "closing")},
        "entries": [[item.id, item.kind, money(item.amount)]
                    for item in view.entries if item.year == year],
        # By id, and only KPIs with a value in the year: renaming a KPI or defining a new
        # one later leaves a closed year's figures as they were.
        "kpis": {str(kpi.id): values for kpi in view.kpis
                 if any(values := [_text(kpi.year(year).target), _text(kpi.year(year).actual),
                                   *(_text(q) for q in kpi.year(year).quarters)])},
    }  # fmt: skip


def canonical(document: dict[str, Any]) -> str:
    """A document as the one text that represents it (sorted keys, no spaces)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def permissions_for(actor: Actor, contract: Contract) -> Permissions:
    """What ``actor`` may do with the contract's delivery years."""
    parties = (contract.buyer_id, contract.vendor_id)
    writable = contract.archived_at is None and contract.status in DELIVERY_STATUSES
    sides = ("buyer", "vendor") if actor.system else actor.staff_sides(*parties)
    return Permissions(
        writable=writable,
        record_costs=writable and (actor.system or "vendor" in sides),
        edit_kpis=writable and bool(sides),
        propose=writable and bool(sides),
        approve_sides=sides if writable else (),
        finance=writable and actor.has_role("finance", *parties),
        admin=actor.has_role("admin", *parties),
    )
