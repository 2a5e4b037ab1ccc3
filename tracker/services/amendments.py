"""Amendments: new terms for a signed contract, effective from one contract year.

The stored schedule keeps the years before the effective year exactly as they were and
takes the later years from the new terms (tracker.domain.lifecycle.spliced_schedule);
the totals are the sums of the stored years. The figures of every year before the
effective year, closed years above all, stay as they were: an amendment that would
change them (a new gain split while earlier years have actuals) is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.followup_models import ContractAmendment
from tracker.db.models import Contract, ContractYear, Organisation
from tracker.domain.calendar import contract_year_bounds
from tracker.domain.comparison import COMPARED_FIELDS, ComparisonFigures, comparison_figures
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.lifecycle import Change, document_changes, spliced_schedule
from tracker.domain.schedule import Schedule, YearFigures, compute_schedule
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.contracts import contract_end, validated_terms
from tracker.services.delivery import build_view, canonical, year_figures_document
from tracker.services.delivery_rules import (
    DELIVERY_STATUSES,
    locked_contract,
    long_text,
    now_utc,
    require_staff,
)
from tracker.services.errors import Conflict, NotFound
from tracker.services.lifecycle import (
    last_closed_year,
    require_contract_version,
    require_not_archived,
)
from tracker.services.schedule_rows import store_totals, stored_schedule, year_rows

#: What an amendment may not change, with how the message names it.
_FIXED = (("buyer", "the buyer"), ("vendor", "the vendor"), ("currency", "the currency"),
          ("start_date", "the start date"))  # fmt: skip

#: The columns of a stored year an amendment replaces (all but its key).
_COPIED = ("start", "end", "escalation", *YearFigures._fields[4:])


@dataclass(frozen=True)
class AmendmentView:
    """One amendment: its terms before and after and the schedule's difference by year."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    number: int
    effective_year: int
    reason: str
    at: datetime
    by: str
    terms_before: dict[str, Any]
    terms_after: dict[str, Any]
    changes: tuple[Change, ...]
    #: The stored schedule before and after, compared for ``field`` year by year.
    comparison: ComparisonFigures
    before: Schedule
    after: Schedule


def amend_terms(
    session: Session,
    actor: Actor,
    contract_id: int,
    terms_document: object,
    *,
    effective_year: object,
    reason: object,
    expected_version: int,
    today: date | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Store new terms for a signed, onboarding, active or renewal contract from
    ``effective_year`` on; returns the amendment's number (1, 2...)."""
    day = today or datetime.now(UTC).date()
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_staff(actor, contract)
        require_not_archived(contract)
        if contract.status not in DELIVERY_STATUSES:
            raise Conflict(
                "terms are amended once a contract is signed and until it closes; "
                f"this one is {contract.status}"
            )
        require_contract_version(contract, expected_version)
        current = parse_terms(json.loads(contract.terms))
        closed = last_closed_year(session, contract.id)
        new_terms, year, text = _read_amendment(
            contract, current, terms_document, effective_year, reason, closed, day
        )
        rows = list(
            session.scalars(
                select(ContractYear)
                .where(ContractYear.contract_id == contract.id)
                .order_by(ContractYear.year)
            )
        )
        stored = stored_schedule(current.currency, rows, contract.npv_net_margin)
        schedule = spliced_schedule(
            stored, compute_schedule(new_terms), year, new_terms.discount_rate
        )
        figures_before = _earlier_figures(session, actor, contract, year, day)
        before_text = contract.terms
        _store(session, contract, rows, schedule, year, new_terms, stamp)
        session.flush()
        changed = [
            earlier
            for earlier, document in _earlier_figures(session, actor, contract, year, day).items()
            if figures_before[earlier] != document
        ]
        if changed:
            years = ", ".join(str(earlier) for earlier in changed)
            raise InvalidTerms(
                [FieldError("gain_split", f"this would change the recorded figures of year "
                            f"{years}, before the amendment takes effect; keep the gain split "
                            "or make the amendment effective from an earlier year")]
            )  # fmt: skip
        number = 1 + int(
            session.scalar(
                select(func.max(ContractAmendment.number)).where(
                    ContractAmendment.contract_id == contract.id
                )
            )
            or 0
        )
        session.add(
            ContractAmendment(
                contract_id=contract.id, number=number, effective_year=year,
                terms_before=before_text, terms_after=contract.terms, reason=text,
                at=stamp, by=actor.label,
            )
        )  # fmt: skip
        record(session, actor, "amend", "contract", contract.id, contract_id=contract.id,
               before={"terms": current.document()},
               after={"amendment": number, "effective_year": year, "reason": text,
                      "terms": new_terms.document()},
               request=request)  # fmt: skip
        return number


def amendment_view(
    session: Session, actor: Actor, contract_id: int, number: int, *, field: str = "price"
) -> AmendmentView:
    """An amendment with the stored schedule before and after it (three queries)."""
    if field not in dict(COMPARED_FIELDS):
        field = "price"
    with session.begin():
        contract = session.scalars(
            select(Contract)
            .where(Contract.id == contract_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        amendments = list(
            session.scalars(
                select(ContractAmendment)
                .where(
                    ContractAmendment.contract_id == contract.id,
                    ContractAmendment.number <= number,
                )
                .order_by(ContractAmendment.number)
            )
        )
        if not amendments or amendments[-1].number != number:
            raise NotFound(f"no amendment {number} of contract {contract.code}")
        names = dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_((contract.buyer_id, contract.vendor_id))
                )
            ).all()
        )
    # The stored schedule is the original terms' schedule with each amendment laid over
    # it in turn: replaying them gives the schedule before and after this one.
    before_terms = parse_terms(json.loads(amendments[0].terms_before))
    after = compute_schedule(before_terms)
    before = after
    for amendment in amendments:
        terms = parse_terms(json.loads(amendment.terms_after))
        before = after
        after = spliced_schedule(
            before, compute_schedule(terms), amendment.effective_year, terms.discount_rate
        )
    this = amendments[-1]
    old, new = json.loads(this.terms_before), json.loads(this.terms_after)
    previous_terms = parse_terms(old)
    comparison = comparison_figures(
        [
            ("Before", None, previous_terms, before),
            ("After", None, parse_terms(new), after),
        ],
        field,
    )
    return AmendmentView(
        contract_id=contract.id,
        code=contract.code,
        name=contract.name,
        buyer=names.get(contract.buyer_id, ""),
        vendor=names.get(contract.vendor_id, ""),
        status=contract.status,
        archived=contract.archived_at is not None,
        number=this.number,
        effective_year=this.effective_year,
        reason=this.reason,
        at=this.at,
        by=this.by,
        terms_before=old,
        terms_after=new,
        changes=document_changes(old, new),
        comparison=comparison,
        before=before,
        after=after,
    )


def current_terms_text(session: Session, actor: Actor, contract_id: int) -> str:
    """The contract's current terms as indented JSON, to start an amendment from."""
    with session.begin():
        contract = session.get(Contract, contract_id)
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        return json.dumps(json.loads(contract.terms), indent=2, ensure_ascii=False)


def _read_amendment(
    contract: Contract,
    current: ContractTerms,
    document: object,
    effective_year: object,
    reason: object,
    closed: int,
    today: date,
) -> tuple[ContractTerms, int, str]:
    """The new terms, effective year and reason; InvalidTerms with every problem."""
    reader = FieldReader()
    terms: ContractTerms | None = None
    try:
        terms = validated_terms(document)
    except InvalidTerms as exc:
        reader.errors.extend(exc.errors)
    year = reader.required_field(
        {"y": effective_year}, "y", "effective_year", reader.whole_number, 1, 30
    )
    text = long_text(reader, reason, "reason", required=True)
    if terms is not None:
        for name, label in _FIXED:
            if getattr(terms, name) != getattr(current, name):
                reader.error(name, f"{label} stays {_shown(getattr(current, name))} in an "
                             "amendment")  # fmt: skip
        if terms.document() == current.document():
            reader.error("terms", "these are the current terms: change something to amend them")
        started = sum(
            1
            for number in range(1, contract.term_years + 1)
            if contract_year_bounds(contract.start_date, number)[0] <= today
        )
        shortest = max(closed, started)
        if terms.term_years < shortest:
            reader.error("term_years", f"the term cannot be shorter than {shortest} years: "
                         f"year {shortest} has begun")  # fmt: skip
    if year is not None:
        latest = contract.term_years + 1
        if terms is not None:
            latest = min(latest, terms.term_years)
        if year <= closed:
            reader.error("effective_year", f"year {closed} is closed: an amendment takes "
                         f"effect from year {closed + 1} or later")  # fmt: skip
        elif year > latest:
            reader.error("effective_year", f"expected a year from {closed + 1} to {latest}")
    if reader.errors:
        raise InvalidTerms(reader.errors)
    assert terms is not None
    assert year is not None
    assert text is not None
    return terms, year, text


def _shown(value: object) -> str:
    code = getattr(value, "code", None)
    return str(code) if code is not None else str(value)


def _earlier_figures(
    session: Session, actor: Actor, contract: Contract, year: int, today: date
) -> dict[int, str]:
    """The recorded figures of every year before ``year``, as closing a year keeps them."""
    view = build_view(session, actor, contract, today)
    return {earlier: canonical(year_figures_document(view, earlier)) for earlier in range(1, year)}


def _store(
    session: Session,
    contract: Contract,
    rows: list[ContractYear],
    schedule: Schedule,
    year: int,
    terms: ContractTerms,
    stamp: datetime,
) -> None:
    """The new terms and the spliced schedule on the contract; earlier rows untouched."""
    by_year = {row.year: row for row in rows}
    fresh = {row.year: row for row in year_rows(schedule)}
    for number, new_row in fresh.items():
        if number < year:
            continue
        row = by_year.get(number)
        if row is None:
            new_row.contract_id = contract.id
            session.add(new_row)
            continue
        for column in _COPIED:
            setattr(row, column, getattr(new_row, column))
    for number, row in by_year.items():
        if number not in fresh:
            session.delete(row)
    contract.name = terms.name
    contract.terms = json.dumps(terms.document(), ensure_ascii=False)
    contract.term_years = terms.term_years
    contract.end_date = contract_end(terms)
    contract.updated_at = stamp
    store_totals(contract, schedule)
