"""Recording a contract's delivery: its volume driver and initiative commitment, and each
year's actual delivery cost and volume."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db.delivery_models import DeliveryPlan, DeliveryYear
from tracker.db.models import Contract
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.money import minor_units
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    contract_currency,
    locked_contract,
    long_text,
    now_utc,
    optional_text,
    require_delivery,
    require_open_year,
    require_started,
    require_vendor_staff,
    require_version,
    require_year,
    snapshot_of,
    validated,
)
from tracker.services.errors import StaleEdit

#: The largest volume a driver may count.
MAX_VOLUME = Decimal("1000000000000")
_YEAR_FIELDS = ("planned_volume", "actual_volume", "actual_cost", "note")
_PLAN_FIELDS = ("volume_name", "volume_unit", "initiatives_per_year")


def set_delivery_plan(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    volume_name: object,
    volume_unit: object,
    planned_volumes: Mapping[int, object],
    initiatives_per_year: object,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Name the volume driver with its planned volume per year (blank: none) and the number
    of initiatives delivered per year the vendor commits to (blank: no commitment).

    Planned volumes of closed years stay as they were; changing one is refused."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_vendor_staff(actor, contract, "set the volume driver and commitments")
        require_delivery(contract)

        def read(
            reader: FieldReader,
        ) -> tuple[str | None, str | None, dict[int, Decimal | None], int | None]:
            name = optional_text(reader, volume_name, "volume_name", 100)
            unit = optional_text(reader, volume_unit, "volume_unit", 40)
            volumes: dict[int, Decimal | None] = {}
            for year in range(1, contract.term_years + 1):
                value = planned_volumes.get(year)
                blank = value is None or (isinstance(value, str) and not value.strip())
                volumes[year] = (
                    None
                    if blank
                    else reader.quantity(
                        value,
                        f"planned_volume_{year}",
                        low=Decimal("0.001"),
                        high=MAX_VOLUME,
                        places=3,
                    )
                )
            named = not (volume_name is None or str(volume_name).strip() == "")
            if not named and any(v is not None for v in volumes.values()):
                reader.error("volume_name", "name the volume driver the planned volumes count")
            if name is not None and all(v is None for v in volumes.values()):
                reader.error("planned_volume_1", "give the planned volume of at least one year")
            blank = initiatives_per_year is None or (
                isinstance(initiatives_per_year, str) and not initiatives_per_year.strip()
            )
            commitment = (
                None
                if blank
                else reader.whole_number(initiatives_per_year, "initiatives_per_year", 1, 100)
            )
            return name, unit, volumes, commitment

        name, unit, volumes, commitment = validated(read)
        plan = session.get(DeliveryPlan, contract.id)
        require_version("The delivery plan", plan, expected_version)
        before = snapshot_of(plan, _PLAN_FIELDS) if plan else None
        if plan is None:
            plan = DeliveryPlan(contract_id=contract.id, version=1)
            session.add(plan)
        plan.volume_name, plan.volume_unit = name, unit if name else None
        plan.initiatives_per_year = commitment
        plan.updated_at, plan.updated_by = stamp, actor.label
        for year, volume in volumes.items():
            _set_planned_volume(session, actor, contract, year, volume, stamp)
        _flush(session, "The delivery plan")
        record(session, actor, "update", "delivery_plan", contract.id, contract_id=contract.id,
               before=before, after={**snapshot_of(plan, _PLAN_FIELDS),
                                     "planned_volumes": {str(y): _text(v)
                                                         for y, v in volumes.items()}},
               request=request)  # fmt: skip


def record_actuals(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    *,
    actual_cost: object,
    actual_volume: object = None,
    note: object = None,
    expected_version: int,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Record (or correct, while the year is open) a year's actual delivery cost and volume.

    Returns the year record's new version."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_vendor_staff(actor, contract, "record the actual delivery cost")
        require_delivery(contract)
        require_year(contract, year)
        row = session.get(DeliveryYear, (contract.id, year))
        require_open_year(session, contract.id, year)
        require_version(f"Year {year}'s actuals", row, expected_version)
        require_started(contract, year, today)
        money = contract_currency(contract)

        def read(reader: FieldReader) -> tuple[int | None, Decimal | None, str | None]:
            cost = reader.required_field(
                {"c": actual_cost}, "c", "actual_cost", reader.money, money, positive=False
            )
            blank = actual_volume is None or (
                isinstance(actual_volume, str) and not actual_volume.strip()
            )
            volume = (
                None
                if blank
                else reader.quantity(
                    actual_volume, "actual_volume", low=Decimal(0), high=MAX_VOLUME, places=3
                )
            )
            if volume is not None and (row is None or row.planned_volume is None):
                reader.error("actual_volume", "this year has no planned volume to compare with")
            text = long_text(reader, note, "note", required=False)
            return None if cost is None else minor_units(cost, money), volume, text

        cost, volume, text = validated(read)
        before = _snapshot(row, contract) if row else None
        if row is None:
            row = DeliveryYear(contract_id=contract.id, year=year, version=1)
            session.add(row)
        row.actual_cost = cost
        row.actual_volume = _text(volume)
        row.note = text
        row.updated_at, row.updated_by = stamp, actor.label
        _flush(session, f"Year {year}'s actuals")
        record(session, actor, "record_actuals", "delivery_year", year, contract_id=contract.id,
               before=before, after=_snapshot(row, contract), request=request)  # fmt: skip
        return row.version


def _set_planned_volume(
    session: Session,
    actor: Actor,
    contract: Contract,
    year: int,
    volume: Decimal | None,
    stamp: datetime,
) -> None:
    row = session.get(DeliveryYear, (contract.id, year))
    text = _text(volume)
    current = row.planned_volume if row else None
    if text == current:
        return
    require_open_year(session, contract.id, year)
    if row is None:
        row = DeliveryYear(contract_id=contract.id, year=year, version=1)
        session.add(row)
    if text is None and row.actual_volume is not None:
        raise InvalidTerms(
            [FieldError(f"planned_volume_{year}", "year has an actual volume; keep a plan for it")]
        )
    row.planned_volume = text
    row.updated_at, row.updated_by = stamp, actor.label


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # Another person created the same record at the same moment.
        raise StaleEdit(what, datetime.now(UTC), None) from exc


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _snapshot(row: DeliveryYear, contract: Contract) -> Mapping[str, Any]:
    """What the audit trail records of the row, amounts in the contract's currency."""
    return snapshot_of(row, _YEAR_FIELDS, contract_currency(contract))
