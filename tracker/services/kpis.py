"""Service levels: KPI definitions with a target per year, and the results recorded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db.delivery_models import Kpi, KpiYear
from tracker.db.models import Contract
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery_rules import (
    locked_contract,
    locked_record,
    now_utc,
    require_delivery,
    require_open_year,
    require_staff,
    require_started,
    require_version,
    require_year,
    snapshot_of,
    validated,
)
from tracker.services.errors import DuplicateName, StaleEdit

#: Results and targets lie within this range (percentages, counts, hours, amounts).
KPI_LIMIT = Decimal("1000000000000")
QUARTERS = ("q1", "q2", "q3", "q4")
_KPI_FIELDS = ("name", "unit", "higher_is_better", "tolerance")
_YEAR_FIELDS = ("target", "actual", *QUARTERS)


class KpiDefinition:
    """A KPI's definition as read from a form or a file."""

    def __init__(
        self,
        name: str,
        unit: str,
        higher_is_better: bool,
        tolerance: Decimal,
        targets: dict[int, Decimal | None],
    ) -> None:
        self.name = name
        self.unit = unit
        self.higher_is_better = higher_is_better
        self.tolerance = tolerance
        self.targets = targets


def read_definition(
    reader: FieldReader,
    contract: Contract,
    *,
    name: object,
    unit: object,
    higher_is_better: object,
    tolerance: object,
    targets: Mapping[int, object],
) -> KpiDefinition | None:
    """A KPI definition, with an error per bad field (targets as target_<year>)."""
    checked_name = reader.required_field({"n": name}, "n", "name", reader.text, max_length=200)
    checked_unit = reader.required_field({"u": unit}, "u", "unit", reader.text, max_length=40)
    direction = _direction(reader, higher_is_better)
    blank_tolerance = tolerance is None or (isinstance(tolerance, str) and not tolerance.strip())
    checked_tolerance = (
        Decimal(0)
        if blank_tolerance
        else reader.quantity(tolerance, "tolerance", low=Decimal(0), high=KPI_LIMIT)
    )
    checked_targets = {
        year: _optional_value(reader, targets.get(year), f"target_{year}")
        for year in range(1, contract.term_years + 1)
    }
    if None in (checked_name, checked_unit, direction, checked_tolerance):
        return None
    assert checked_name is not None
    assert checked_unit is not None
    assert direction is not None
    assert checked_tolerance is not None
    return KpiDefinition(checked_name, checked_unit, direction, checked_tolerance, checked_targets)


def create_kpi(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    name: object,
    unit: object,
    higher_is_better: object,
    tolerance: object,
    targets: Mapping[int, object],
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Define a KPI of a contract with its targets; returns its id."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_staff(actor, contract)
        require_delivery(contract)
        definition = validated(
            lambda reader: read_definition(
                reader, contract, name=name, unit=unit, higher_is_better=higher_is_better,
                tolerance=tolerance, targets=targets,
            )
        )  # fmt: skip
        assert definition is not None
        kpi = Kpi(contract_id=contract.id, created_at=stamp, version=1)
        _apply(kpi, definition, actor, stamp)
        session.add(kpi)
        _flush_name(session, definition.name)
        _set_targets(session, actor, kpi, definition.targets, stamp)
        record(session, actor, "create", "kpi", kpi.id, contract_id=contract.id,
               after=_snapshot(kpi, definition), request=request)  # fmt: skip
        return kpi.id


def update_kpi(
    session: Session,
    actor: Actor,
    kpi_id: int,
    *,
    name: object,
    unit: object,
    higher_is_better: object,
    tolerance: object,
    targets: Mapping[int, object],
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Change a KPI's definition and the targets of its open years."""
    stamp = now_utc(now)
    with session.begin():
        kpi, contract = locked_record(session, actor, Kpi, kpi_id, "KPI")
        require_staff(actor, contract)
        require_delivery(contract)
        require_version(f"KPI {kpi.name}", kpi, expected_version)
        definition = validated(
            lambda reader: read_definition(
                reader, contract, name=name, unit=unit, higher_is_better=higher_is_better,
                tolerance=tolerance, targets=targets,
            )
        )  # fmt: skip
        assert definition is not None
        before = snapshot_of(kpi, _KPI_FIELDS)
        _apply(kpi, definition, actor, stamp)
        _flush_name(session, definition.name)
        _set_targets(session, actor, kpi, definition.targets, stamp)
        record(session, actor, "update", "kpi", kpi.id, contract_id=contract.id,
               before=before, after=_snapshot(kpi, definition), request=request)  # fmt: skip


def record_kpi_result(
    session: Session,
    actor: Actor,
    kpi_id: int,
    year: int,
    *,
    actual: object,
    quarters: Mapping[str, object] | None = None,
    expected_version: int,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Record a KPI's result for a year (and, optionally, per quarter); returns the new version."""
    stamp = now_utc(now)
    with session.begin():
        kpi, contract = locked_record(session, actor, Kpi, kpi_id, "KPI")
        require_staff(actor, contract)
        require_delivery(contract)
        require_year(contract, year)
        require_started(contract, year, today)
        row = session.get(KpiYear, (kpi.id, year))
        require_open_year(session, contract.id, year)
        require_version(f"KPI {kpi.name} in year {year}", row, expected_version)
        given = quarters or {}
        values = validated(
            lambda reader: {
                "actual": _optional_value(reader, actual, "actual"),
                **{q: _optional_value(reader, given.get(q), q) for q in QUARTERS},
            }
        )
        before = snapshot_of(row, _YEAR_FIELDS) if row else None
        row = _year_row(session, kpi, year, row, actor, stamp)
        for field, value in values.items():
            setattr(row, field, _text(value))
        _flush(session, f"KPI {kpi.name} in year {year}")
        record(session, actor, "record_result", "kpi", kpi.id, contract_id=contract.id,
               before=before, after={"year": year, **snapshot_of(row, _YEAR_FIELDS)},
               request=request)  # fmt: skip
        return row.version


def _apply(kpi: Kpi, definition: KpiDefinition, actor: Actor, stamp: datetime) -> None:
    kpi.name = definition.name
    kpi.unit = definition.unit
    kpi.higher_is_better = definition.higher_is_better
    kpi.tolerance = _text(definition.tolerance) or "0"
    kpi.updated_at, kpi.updated_by = stamp, actor.label


def _set_targets(
    session: Session,
    actor: Actor,
    kpi: Kpi,
    targets: dict[int, Decimal | None],
    stamp: datetime,
) -> None:
    rows = {
        row.year: row for row in session.scalars(select(KpiYear).where(KpiYear.kpi_id == kpi.id))
    }
    for year, target in targets.items():
        row = rows.get(year)
        text = _text(target)
        if (row.target if row else None) == text:
            continue
        require_open_year(session, kpi.contract_id, year)
        row = _year_row(session, kpi, year, row, actor, stamp)
        row.target = text


def _year_row(
    session: Session, kpi: Kpi, year: int, row: KpiYear | None, actor: Actor, stamp: datetime
) -> KpiYear:
    if row is None:
        row = KpiYear(kpi_id=kpi.id, year=year, version=1)
        session.add(row)
    row.updated_at, row.updated_by = stamp, actor.label
    return row


def _snapshot(kpi: Kpi, definition: KpiDefinition) -> dict[str, object]:
    return {
        **snapshot_of(kpi, _KPI_FIELDS),
        "targets": {str(year): _text(value) for year, value in definition.targets.items()},
    }


def _direction(reader: FieldReader, value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in {"higher", "higher_is_better", "true", "1", "yes"}:
        return True
    if text in {"lower", "lower_is_better", "false", "0", "no"}:
        return False
    reader.error("higher_is_better", 'expected "higher" (higher is better) or "lower"')
    return None


def _optional_value(reader: FieldReader, value: object, path: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return reader.quantity(value, path, low=-KPI_LIMIT, high=KPI_LIMIT)


def _flush_name(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateName("name", f"this contract already has a KPI named {name}") from exc


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise StaleEdit(what, now_utc(), None) from exc


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"
