"""The reinvestment fund's postings: spending on initiatives and adjustments with a reason.

Postings are never edited or deleted; a mistake is corrected by an adjustment in an
open year. A posting that would take a closing balance below zero, or further
below it, is accepted only as an explicit pre-funding entry (the vendor pays ahead
of the fund), so that an overspend is never silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tracker.db.delivery_models import FundEntry, Initiative
from tracker.db.models import Contract
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.ledger import FundPostings, fund_ledger, newly_overdrawn
from tracker.domain.money import minor_units
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery import DeliveryView, build_view
from tracker.services.delivery_rules import (
    contract_currency,
    locked_contract,
    locked_record,
    long_text,
    now_utc,
    require_delivery,
    require_finance,
    require_open_year,
    require_started,
    require_vendor_staff,
    require_version,
    require_year,
    snapshot_of,
    validated,
)
from tracker.services.errors import Conflict
from tracker.services.initiatives import FUNDABLE

_FIELDS = ("year", "kind", "initiative_id", "amount", "prefunding", "text")


def record_spending(
    session: Session,
    actor: Actor,
    initiative_id: int,
    year: object,
    amount: object,
    text: object,
    *,
    prefunding: bool = False,
    expected_version: int | None = None,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Pay from the fund for an approved initiative in a contract year; returns the entry id.

    With ``expected_version`` (the initiative's, as the page showed it) a second post of
    the same form is refused as stale instead of paying twice; the initiative's version
    moves on with every payment."""
    stamp = now_utc(now)
    with session.begin():
        initiative, contract = locked_record(
            session, actor, Initiative, initiative_id, "initiative"
        )
        if expected_version is not None:
            require_version(f"Initiative “{initiative.title}”", initiative, expected_version)
        require_vendor_staff(actor, contract, "record spending from the fund")
        require_delivery(contract)
        if initiative.status not in FUNDABLE:
            raise Conflict(
                "the fund pays only for initiatives both sides approved; this one is "
                + initiative.status.replace("_", " ")
            )
        entry = _entry(session, actor, contract, "spending", year, amount, text, prefunding,
                       stamp, today, initiative_id=initiative.id)  # fmt: skip
        initiative.updated_at, initiative.updated_by = stamp, actor.label
        # The version must move on even when the stamp equals the previous one.
        flag_modified(initiative, "updated_by")
        record(session, actor, "spend", "fund_entry", entry.id, contract_id=contract.id,
               after=_snapshot(entry, contract), request=request)  # fmt: skip
        return entry.id


def record_adjustment(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: object,
    amount: object,
    reason: object,
    *,
    prefunding: bool = False,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> int:
    """A correction of the fund by finance, with its reason; returns the entry id.

    ``amount`` adds to the fund (negative takes out)."""
    stamp = now_utc(now)
    with session.begin():
        contract = locked_contract(session, actor, contract_id)
        require_finance(actor, contract, "adjust the reinvestment fund")
        require_delivery(contract)
        entry = _entry(session, actor, contract, "adjustment", year, amount, reason, prefunding,
                       stamp, today)  # fmt: skip
        record(session, actor, "adjust", "fund_entry", entry.id, contract_id=contract.id,
               after=_snapshot(entry, contract), request=request)  # fmt: skip
        return entry.id


def _entry(
    session: Session,
    actor: Actor,
    contract: Contract,
    kind: str,
    year: object,
    amount: object,
    text: object,
    prefunding: bool,
    stamp: datetime,
    today: date | None,
    *,
    initiative_id: int | None = None,
) -> FundEntry:
    money = contract_currency(contract)
    label = "description" if kind == "spending" else "reason"

    def read(reader: FieldReader) -> tuple[int | None, int | None, str | None]:
        number = reader.required_field(
            {"y": year}, "y", "year", reader.whole_number, 1, contract.term_years
        )
        if kind == "spending":
            value = reader.required_field(
                {"a": amount}, "a", "amount", reader.money, money, positive=True
            )
        else:
            value = reader.required_field({"a": amount}, "a", "amount", reader.signed_money, money)
        words = long_text(reader, text, label, required=True)
        return number, None if value is None else minor_units(value, money), words

    number, units, words = validated(read)
    assert number is not None
    assert units is not None
    assert words is not None
    require_year(contract, number)
    require_open_year(session, contract.id, number)
    require_started(contract, number, today)
    view = build_view(session, actor, contract, today or datetime.now(UTC).date())
    _require_cover(view, number, kind, units, prefunding)
    entry = FundEntry(
        contract_id=contract.id, year=number, kind=kind, initiative_id=initiative_id,
        amount=units, prefunding=prefunding, text=words, created_at=stamp,
        created_by=actor.label,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


def _require_cover(view: DeliveryView, year: int, kind: str, amount: int, prefunding: bool) -> None:
    """An entry that overdraws the fund must say it is pre-funding."""
    postings = [
        FundPostings(line.committed, line.from_actuals, line.adjusted, line.spent)
        for line in view.ledger
    ]
    line = postings[year - 1]
    postings[year - 1] = (
        line._replace(spent=line.spent + amount)
        if kind == "spending"
        else line._replace(adjusted=line.adjusted + amount)
    )
    overdrawn = newly_overdrawn(view.ledger, fund_ledger(postings), year)
    if overdrawn and not prefunding:
        years = ", ".join(str(y) for y in overdrawn)
        raise InvalidTerms(
            [
                FieldError(
                    "prefunding",
                    f"this takes the fund below zero in year {years}; "
                    "tick pre-funding if the vendor pays ahead of the fund",
                )
            ]
        )


def _snapshot(entry: FundEntry, contract: Contract) -> Mapping[str, Any]:
    """What the audit trail records of the entry, amounts in the contract's currency."""
    return snapshot_of(entry, _FIELDS, contract_currency(contract))
