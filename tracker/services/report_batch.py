"""What a batch of annual reports reads, as the command line (the SYSTEM actor): which
contracts have a report for a year, and each report's content and stored files.

A contract has a report for year Y once Y has begun and while it is in delivery or
closed (not archived): before that it has no delivery figures to report on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.domain.calendar import contract_year_bounds
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.services.access import SYSTEM
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.delivery_views import canonical
from tracker.services.errors import Conflict, NotFound
from tracker.services.report_views import frozen_files, report_view

#: The statuses whose contracts have annual reports: in delivery, or closed after it.
REPORTED_STATUSES = DELIVERY_STATUSES | {"closed"}


@dataclass(frozen=True)
class BatchOutput:
    """One report as a batch writes it: its content, and for a frozen one its stored files."""

    code: str
    state: str
    content: dict[str, Any]
    #: The PDF stored when the report was frozen (None while it is not).
    stored_pdf: bytes | None
    #: The stored snapshot text of a frozen report, else the canonical content.
    snapshot: str


def batch_targets(
    session: Session, year: int, *, code: str | None = None, today: date
) -> list[tuple[int, str]]:
    """(id, code) of each contract with a report for year ``year`` by ``today``, by code.

    NotFound for an unknown ``code``; InvalidTerms for a year no term (or not the
    contract's) has; Conflict when the contract named has no report for that year."""
    with session.begin():
        if code is not None:
            contract = session.scalars(select(Contract).where(Contract.code == code)).one_or_none()
            if contract is None:
                raise NotFound(f"no contract {code}")
            _require_reported(contract, year, today)
            return [(contract.id, contract.code)]
        longest = session.scalar(select(func.max(Contract.term_years)))
        if year < 1 or (longest is not None and year > longest):
            upper = "" if longest is None else f" to {longest}"
            raise InvalidTerms([FieldError("year", f"expected a contract year from 1{upper}")])
        contracts = session.scalars(
            select(Contract)
            .where(
                Contract.term_years >= year,
                Contract.status.in_(sorted(REPORTED_STATUSES)),
                Contract.archived_at.is_(None),
            )
            .order_by(Contract.code)
        )
        return [
            (contract.id, contract.code)
            for contract in contracts
            if contract_year_bounds(contract.start_date, year)[0] <= today
        ]


def _require_reported(contract: Contract, year: int, today: date) -> None:
    """InvalidTerms or Conflict unless ``contract`` has a report for ``year`` by ``today``."""
    if not 1 <= year <= contract.term_years:
        raise InvalidTerms(
            [
                FieldError(
                    "year",
                    f"{contract.code} has contract years 1 to {contract.term_years}, not {year}",
                )
            ]
        )
    if contract.archived_at is not None:
        raise Conflict(f"{contract.code} is archived: its reports are not built")
    if contract.status not in REPORTED_STATUSES:
        raise Conflict(
            f"{contract.code} is {contract.status}, not in delivery: it has no annual reports"
        )
    start = contract_year_bounds(contract.start_date, year)[0]
    if start > today:
        raise Conflict(
            f"year {year} of {contract.code} begins on {start:%Y-%m-%d}: it has no report yet"
        )


def batch_output(
    session: Session, contract_id: int, year: int, *, today: date | None = None
) -> BatchOutput:
    """The report of contract year ``year`` as a batch writes it; Conflict when a frozen
    report's stored PDF is missing."""
    view = report_view(session, SYSTEM, contract_id, year, today=today)
    code = str(view.report["contract"]["code"])
    if view.state != "frozen":
        return BatchOutput(code, view.state, view.content, None, canonical(view.content))
    stored = frozen_files(session, SYSTEM, contract_id, year)
    if stored is None:
        raise Conflict(f"the report of {code} year {year} is frozen but its stored PDF is missing")
    pdf, snapshot = stored
    return BatchOutput(code, view.state, view.content, pdf, snapshot)
