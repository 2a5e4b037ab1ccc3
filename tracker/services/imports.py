"""Importing delivery figures from a CSV or XLSX file: actual costs, KPI results, spending.

A file is all or nothing. Every row is read (tracker.reporting.import_files) and
checked (tracker.reporting.import_checks) against the same rules the forms apply,
and every problem is collected with its row number and column; only a file without
any problem is written, in one transaction with the contract locked, together
with an ``ImportBatch`` (the file's SHA-256, so that the same file is never
imported twice into a contract) and one audit event. A blank cell in an optional
column leaves the stored value as it is; a row whose value cells are all blank
(a template row left empty) is skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db.delivery_models import (
    DeliveryYear,
    FundEntry,
    ImportBatch,
    Initiative,
    Kpi,
    KpiYear,
)
from tracker.db.models import Contract
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.ledger import LedgerYear
from tracker.reporting.import_checks import (
    ActualsLine,
    ContractState,
    KpiLine,
    Line,
    SpendingLine,
    checked_lines,
    filled_rows,
)
from tracker.reporting.import_files import KINDS, FileRejected, ReadOptions, RowError, read_upload
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery import build_view
from tracker.services.delivery_rules import (
    contract_currency,
    locked_contract,
    now_utc,
    require_delivery,
    require_staff,
    require_vendor_staff,
)
from tracker.services.errors import ClosedYear, Conflict

_MAX_NAME = 255


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    batch_id: int
    kind: str
    rows: int
    filename: str


class ImportRejected(ValueError):
    """A file that was not imported, with every problem found (row, column, reason)."""

    def __init__(self, errors: Iterable[RowError]) -> None:
        self.errors: tuple[RowError, ...] = tuple(sorted(errors))
        super().__init__("; ".join(str(error) for error in self.errors))


def import_file(
    session: Session,
    actor: Actor,
    contract_id: int,
    kind: str,
    filename: str,
    data: bytes,
    *,
    options: ReadOptions,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> ImportResult:
    """Import a file of ``kind`` (actuals, kpi_results, spending) into a contract.

    ImportRejected with every problem when any row is wrong (nothing is written);
    Conflict when the same file was already imported into the contract."""
    if kind not in KINDS:
        raise InvalidTerms([FieldError("kind", f"expected one of {', '.join(KINDS)}")])
    stamp = now_utc(now)
    name = display_name(filename)
    digest = hashlib.sha256(data).hexdigest()
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        if kind == "kpi_results":
            require_staff(actor, contract)
        else:
            what = "import actual costs" if kind == "actuals" else "import spending from the fund"
            require_vendor_staff(actor, contract, what)
        require_delivery(contract)
        _require_new_file(session, contract, digest)
        try:
            table = read_upload(kind, name, data, options)
        except FileRejected as exc:
            raise ImportRejected(exc.errors) from None
        state = _state(session, actor, contract, kind, today or datetime.now(UTC).date())
        lines, problems = checked_lines(kind, filled_rows(kind, table), state)
        errors = _once_per_cell(table.errors, problems)
        if errors:
            raise ImportRejected(errors)
        if not lines:
            raise ImportRejected([RowError(0, "", "the file has no filled-in rows to import")])
        batch = ImportBatch(
            contract_id=contract.id,
            sha256=digest,
            filename=name,
            rows=len(lines),
            created_at=stamp,
            created_by=actor.label,
        )
        session.add(batch)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("this file was imported at the same moment by someone else") from None
        _write(session, actor, contract, batch.id, lines, stamp)
        session.flush()
        record(session, actor, "import", "import_batch", batch.id, contract_id=contract.id,
               after={"kind": kind, "rows": len(lines), "filename": name, "sha256": digest},
               request=request)  # fmt: skip
        return ImportResult(batch.id, kind, len(lines), name)


def display_name(filename: str | None) -> str:
    """The file's name to show and keep: its last path part, printable, at most 255
    characters (it is never used as a path)."""
    last = re.split(r"[\\/]", filename or "")[-1]
    printable = "".join(char for char in last if char.isprintable()).strip()
    return printable[:_MAX_NAME] or "upload"


def _require_new_file(session: Session, contract: Contract, digest: str) -> None:
    earlier = session.scalars(
        select(ImportBatch).where(
            ImportBatch.contract_id == contract.id, ImportBatch.sha256 == digest
        )
    ).one_or_none()
    if earlier is not None:
        raise Conflict(
            f"this file was already imported into {contract.code} on "
            f"{earlier.created_at:%Y-%m-%d at %H:%M} UTC by {earlier.created_by} "
            f"(as “{earlier.filename}”, {_rows(earlier.rows)}); it was not imported again"
        )


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count:,} rows"


def _once_per_cell(read: Iterable[RowError], checked: Iterable[RowError]) -> list[RowError]:
    """Every problem, once per cell: a cell whose written form is wrong is not also
    reported as missing."""
    errors = list(read)
    bad_cells = {(error.row, error.column) for error in errors}
    return errors + [error for error in checked if (error.row, error.column) not in bad_cells]


def _state(
    session: Session, actor: Actor, contract: Contract, kind: str, today: date
) -> ContractState:
    """The contract's state the rows are checked against, read under the lock."""
    years = _stored_years(session, contract)
    kpis: dict[str, int] = {}
    statuses: dict[int, str] = {}
    ledger: tuple[LedgerYear, ...] = ()
    if kind == "kpi_results":
        kpis = dict(
            session.execute(select(Kpi.name, Kpi.id).where(Kpi.contract_id == contract.id)).all()
        )
    if kind == "spending":
        statuses = dict(
            session.execute(
                select(Initiative.id, Initiative.status).where(
                    Initiative.contract_id == contract.id
                )
            ).all()
        )
        ledger = build_view(session, actor, contract, today).ledger
    return ContractState(
        term_years=contract.term_years,
        start_date=contract.start_date,
        currency=contract_currency(contract),
        today=today,
        closed_years={
            year: str(ClosedYear(year, row.closed_at, row.closed_by))
            for year, row in years.items()
            if row.closed_at is not None
        },
        planned_volume_years=frozenset(
            year for year, row in years.items() if row.planned_volume is not None
        ),
        kpis=kpis,
        initiatives=statuses,
        ledger=ledger,
    )


def _stored_years(session: Session, contract: Contract) -> dict[int, DeliveryYear]:
    rows = session.scalars(
        select(DeliveryYear)
        .where(DeliveryYear.contract_id == contract.id)
        .execution_options(populate_existing=True)
    )
    return {row.year: row for row in rows}


def _write(
    session: Session,
    actor: Actor,
    contract: Contract,
    batch_id: int,
    lines: list[Line],
    stamp: datetime,
) -> None:
    """Every line, stamped as the forms stamp them (versions move on with each update)."""
    years = _stored_years(session, contract)
    results = {
        (row.kpi_id, row.year): row
        for row in session.scalars(
            select(KpiYear)
            .join(Kpi, Kpi.id == KpiYear.kpi_id)
            .where(Kpi.contract_id == contract.id)
            .execution_options(populate_existing=True)
        )
    }
    for line in lines:
        if isinstance(line, ActualsLine):
            year = years.get(line.year)
            if year is None:
                year = years[line.year] = DeliveryYear(
                    contract_id=contract.id, year=line.year, version=1
                )
                session.add(year)
            year.actual_cost = line.cost
            if line.volume is not None:
                year.actual_volume = f"{line.volume:f}"
            if line.note is not None:
                year.note = line.note
            year.updated_at, year.updated_by = stamp, actor.label
        elif isinstance(line, KpiLine):
            result = results.get((line.kpi_id, line.year))
            if result is None:
                result = results[(line.kpi_id, line.year)] = KpiYear(
                    kpi_id=line.kpi_id, year=line.year, version=1
                )
                session.add(result)
            for name, value in line.values.items():
                setattr(result, name, value)
            result.updated_at, result.updated_by = stamp, actor.label
        elif isinstance(line, SpendingLine):
            session.add(
                FundEntry(
                    contract_id=contract.id,
                    year=line.year,
                    kind="spending",
                    initiative_id=line.initiative_id,
                    amount=line.amount,
                    prefunding=line.prefunding,
                    text=line.text,
                    import_id=batch_id,
                    created_at=stamp,
                    created_by=actor.label,
                )
            )


__all__ = ["ImportRejected", "ImportResult", "ReadOptions", "RowError", "import_file"]
