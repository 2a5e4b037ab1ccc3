"""Rules every delivery-year change applies: who may change what, when, and in which year.

Delivery data is recorded once a contract is signed (signed, onboarding, active,
renewal); a closed or archived contract, and a closed year, are read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.delivery_models import DeliveryYear, Initiative, Kpi
from tracker.db.models import Contract
from tracker.domain.calendar import contract_year_bounds
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.money import Currency, currency, units_text
from tracker.services.access import Actor
from tracker.services.errors import ClosedYear, Conflict, Forbidden, NotFound, StaleEdit

T = TypeVar("T")

#: Statuses in which delivery years are recorded.
DELIVERY_STATUSES = frozenset({"signed", "onboarding", "active", "renewal"})
#: The longest free text kept (descriptions, notes, reasons).
MAX_TEXT = 4000


def now_utc(now: datetime | None = None) -> datetime:
    """The time a change is stamped with."""
    return now or datetime.now(UTC)


def today_utc(today: date | None = None) -> date:
    """The day rules are applied on: ``today`` when given (tests pin it), else the UTC date."""
    return today or datetime.now(UTC).date()


def locked_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """The contract, locked for the caller's transaction (so that ledger checks and year
    closes of one contract happen one at a time); NotFound when the actor may not see it."""
    contract = session.scalars(
        select(Contract).where(Contract.id == contract_id).with_for_update()
    ).one_or_none()
    if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
        raise NotFound(f"no contract {contract_id}")
    return contract


R = TypeVar("R", Kpi, Initiative)


def locked_record(
    session: Session, actor: Actor, model: type[R], record_id: int, what: str
) -> tuple[R, Contract]:
    """A KPI or initiative with its contract locked (see ``locked_contract``), read afresh
    after the lock; NotFound, named ``what``, when the actor may not see it."""
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"no {what} {record_id}")
    try:
        contract = locked_contract(session, actor, record.contract_id)
    except NotFound:
        raise NotFound(f"no {what} {record_id}") from None
    session.refresh(record)
    return record, contract


def require_delivery(contract: Contract) -> None:
    """Conflict unless the contract's delivery years may be changed."""
    if contract.archived_at is not None:
        raise Conflict("this contract is archived: restore it before recording delivery")
    if contract.status not in DELIVERY_STATUSES:
        raise Conflict(
            f"delivery is recorded once a contract is signed; this one is {contract.status}"
        )


def require_vendor_staff(actor: Actor, contract: Contract, what: str) -> None:
    """Forbidden unless the actor is staff of the vendor (the delivery cost is theirs)."""
    if not actor.system and actor.memberships.get(contract.vendor_id) != "staff":
        raise Forbidden(f"only staff of the vendor may {what}")


def require_staff(actor: Actor, contract: Contract) -> None:
    """Forbidden unless the actor is staff of the buyer or the vendor."""
    actor.require_staff_of(contract.buyer_id, contract.vendor_id)


def require_finance(actor: Actor, contract: Contract, what: str) -> None:
    """Forbidden unless the actor is finance of the buyer or the vendor."""
    if not actor.has_role("finance", contract.buyer_id, contract.vendor_id):
        raise Forbidden(f"only finance of the buyer or the vendor may {what}")


def require_year(contract: Contract, year: int, path: str = "year") -> None:
    """InvalidTerms unless ``year`` is a year of the contract's term."""
    if not 1 <= year <= contract.term_years:
        raise InvalidTerms(
            [FieldError(path, f"expected a contract year from 1 to {contract.term_years}")]
        )


def require_started(contract: Contract, year: int, today: date | None) -> None:
    """InvalidTerms (path ``year``) when the year has not begun by ``today``."""
    start = contract_year_bounds(contract.start_date, year)[0]
    if start > (today or datetime.now(UTC).date()):
        raise InvalidTerms(
            [FieldError("year", f"year {year} starts on {start}; record it once it has begun")]
        )


def require_open_year(session: Session, contract_id: int, year: int) -> None:
    """ClosedYear when the year has been closed."""
    row = session.get(DeliveryYear, (contract_id, year))
    if row is not None and row.closed_at is not None:
        raise ClosedYear(year, row.closed_at, row.closed_by)


def require_version(what: str, record: Any, expected: int) -> None:
    """StaleEdit naming who changed the record and when, unless it is at ``expected``."""
    if record is None:
        if expected != 0:
            raise Conflict(f"{what} no longer exists; reload the page")
        return
    if record.version != expected:
        raise StaleEdit(what, record.updated_at, record.updated_by)


def contract_currency(contract: Contract) -> Currency:
    """The contract's currency."""
    return currency(contract.currency)


def validated(read: Callable[[FieldReader], T]) -> T:
    """Run ``read`` with a fresh FieldReader; InvalidTerms with every error it met."""
    reader = FieldReader()
    value = read(reader)
    if reader.errors:
        raise InvalidTerms(reader.errors)
    return value


def optional_text(reader: FieldReader, value: object, path: str, max_length: int) -> str | None:
    """Text or nothing: blank means none."""
    # Only spaces and line breaks are trimmed: other controls at either end are refused
    # below like anywhere else, never silently dropped.
    if value is None or (isinstance(value, str) and not value.strip(_BLANK)):
        return None
    return reader.text(value, path, max_length=max_length)


_BLANK = " \r\n"


def long_text(reader: FieldReader, value: object, path: str, *, required: bool) -> str | None:
    """Multi-line text (descriptions, reasons): line breaks kept, other controls refused."""
    # Only spaces and line breaks are trimmed: other controls at either end are refused
    # below like anywhere else, never silently dropped.
    if value is None or (isinstance(value, str) and not value.strip(_BLANK)):
        if required:
            reader.error(path, "required")
        return None
    if not isinstance(value, str):
        reader.error(path, f"expected text, got {type(value).__name__}")
        return None
    lines = value.replace("\r\n", "\n").strip(_BLANK).split("\n")
    if len(value) > MAX_TEXT:
        reader.error(path, f"expected at most {MAX_TEXT} characters, got {len(value)}")
        return None
    kept = []
    for number, line in enumerate(lines, start=1):
        if not line.strip(" "):
            kept.append("")
            continue
        checked = reader.text(line, path, max_length=MAX_TEXT)
        if checked is None:
            reader.errors[-1] = FieldError(path, f"line {number}: {reader.errors[-1].message}")
            return None
        kept.append(checked)
    return "\n".join(kept)


#: Fields of delivery records that hold money (integer minor units).
MONEY_FIELDS = frozenset({"actual_cost", "expected_saving", "budget", "realised_saving", "amount"})


def snapshot_of(
    record: Any, fields: tuple[str, ...], money: Currency | None = None
) -> Mapping[str, Any]:
    """The audit trail's view of a record: the named fields, as plain values; with the
    contract's currency, amounts as a person reads them (1234.56, not 123456)."""
    snapshot = {name: _plain(getattr(record, name)) for name in fields}
    if money is not None:
        for name in MONEY_FIELDS.intersection(fields):
            if snapshot[name] is not None:
                snapshot[name] = units_text(snapshot[name], money)
    return snapshot


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
