"""Contracts: create from a terms document, edit terms, archive, delete, read for display.

Whenever terms are stored, the yearly schedule is recomputed and stored in the same
transaction, so lists and totals can be plain SQL over the stored figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.db.models import Contract, ContractYear, Organisation, Scenario
from tracker.domain.calendar import contract_year_bounds
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.schedule import IndexStep, Schedule, compute_schedule, index_trace
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.errors import Conflict, DuplicateName, Forbidden, NotFound, StaleEdit
from tracker.services.schedule_rows import store_totals, stored_schedule, year_rows

#: Statuses in which either party may still change the terms.
EDITABLE_STATUSES = frozenset({"draft", "negotiation"})
_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,39}")
#: References the application gives (C-00042); people may not choose one of these.
_AUTOMATIC_CODE = re.compile(r"C-[0-9]+")


@dataclass(frozen=True)
class ScenarioSummary:
    """A scenario as listed on its contract's page."""

    id: int
    name: str
    updated_at: datetime


@dataclass(frozen=True)
class ContractView:
    """Everything a contract page shows, as plain data."""

    id: int
    code: str
    status: str
    archived_at: datetime | None
    buyer_id: int
    vendor_id: int
    terms: ContractTerms
    schedule: Schedule
    trace: tuple[IndexStep, ...]
    scenarios: tuple[ScenarioSummary, ...]
    version: int
    created_at: datetime
    updated_at: datetime
    #: Whether the viewer may change it (staff of a party); finance and admins read.
    may_change: bool = False

    @property
    def terms_editable(self) -> bool:
        """Whether the terms may still be changed."""
        return self.may_change and self.status in EDITABLE_STATUSES and self.archived_at is None

    @property
    def document(self) -> dict[str, Any]:
        """The canonical terms document."""
        return self.terms.document()


def validated_terms(document: object) -> ContractTerms:
    """Parse a terms document for storing: parties are required here."""
    terms = parse_terms(document)
    missing = [
        FieldError(party, "required to store a contract")
        for party in ("buyer", "vendor")
        if getattr(terms, party) is None
    ]
    if missing:
        raise InvalidTerms(missing)
    return terms


def normalised_code(code: str) -> str:
    """A contract code as stored: trimmed, upper case; InvalidTerms (path ``code``) if it is
    not letters, digits, . _ - or looks like an automatic reference."""
    text = code.strip().upper()
    if not _CODE.fullmatch(text):
        raise InvalidTerms(
            [
                FieldError(
                    "code",
                    "use 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit",
                )
            ]
        )
    if _AUTOMATIC_CODE.fullmatch(text):
        raise InvalidTerms(
            [FieldError("code", "C- followed by digits is kept for automatic references")]
        )
    return text


def create_contract(
    session: Session,
    actor: Actor,
    document: object,
    *,
    code: str | None = None,
    status: str = "draft",
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Store a new contract from its terms document; returns its id.

    The actor must be staff of the buyer or the vendor it names."""
    if not actor.system and "staff" not in actor.memberships.values():
        raise Forbidden("only staff may create contracts")
    terms = validated_terms(document)
    stamp = now or datetime.now(UTC)
    with session.begin():
        contract = Contract(
            code=normalised_code(code) if code else _provisional_code(),
            status=status,
            created_at=stamp,
            version=1,
        )
        _apply_terms(session, contract, terms, stamp)
        _require_party(actor, contract)
        session.add(contract)
        _flush_unique(session, code)
        if not code:
            contract.code = f"C-{contract.id:05d}"
        record(session, actor, "create", "contract", contract.id, contract_id=contract.id,
               after=snapshot(contract), request=request)  # fmt: skip
        return contract.id


def update_terms(
    session: Session,
    actor: Actor,
    contract_id: int,
    document: object,
    *,
    expected_version: int,
    code: str | None = None,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> int:
    """Replace a draft or negotiation contract's terms; the schedule follows.

    Returns the contract's new version."""
    terms = validated_terms(document)
    with session.begin():
        contract = _locked_contract(session, actor, contract_id, expected_version)
        _require_editable(contract)
        before = snapshot(contract)
        _apply_terms(session, contract, terms, now or datetime.now(UTC))
        _require_party(actor, contract)
        if code is not None and code.strip().upper() != contract.code:
            contract.code = normalised_code(code)
        _flush_unique(session, code)
        record(session, actor, "update", "contract", contract.id, contract_id=contract.id,
               before=before, after=snapshot(contract), request=request)  # fmt: skip
        return contract.version


def replace_terms(
    session: Session, contract: Contract, terms: ContractTerms, now: datetime
) -> None:
    """Within the caller's transaction: store ``terms`` on an editable contract."""
    _require_editable(contract)
    _apply_terms(session, contract, terms, now)


def set_archived(
    session: Session,
    actor: Actor,
    contract_id: int,
    archived: bool,
    *,
    expected_version: int,
    request: RequestInfo | None = None,
) -> None:
    """Archive a contract (kept, out of the default portfolio) or bring it back."""
    with session.begin():
        contract = _locked_contract(session, actor, contract_id, expected_version)
        before = snapshot(contract)
        contract.archived_at = datetime.now(UTC) if archived else None
        contract.updated_at = datetime.now(UTC)
        action = "archive" if archived else "restore"
        record(session, actor, action, "contract", contract.id, contract_id=contract.id,
               before=before, after=snapshot(contract), request=request)  # fmt: skip


def delete_contract(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    expected_version: int,
    request: RequestInfo | None = None,
) -> None:
    """Delete a draft contract with its schedule and scenarios; others are archived instead."""
    with session.begin():
        contract = _locked_contract(session, actor, contract_id, expected_version)
        if contract.status != "draft":
            raise Conflict(
                f"only draft contracts can be deleted; this one is {contract.status}: "
                "archive it instead"
            )
        record(session, actor, "delete", "contract", contract.id, contract_id=contract.id,
               before=snapshot(contract), request=request)  # fmt: skip
        session.execute(delete(Scenario).where(Scenario.contract_id == contract_id))
        session.execute(delete(ContractYear).where(ContractYear.contract_id == contract_id))
        session.execute(delete(Contract).where(Contract.id == contract_id))


def contract_view(session: Session, actor: Actor, contract_id: int) -> ContractView:
    """A contract with its stored schedule, index trace and scenarios (three queries)."""
    with session.begin():
        contract = session.scalars(
            select(Contract)
            .where(Contract.id == contract_id)
            .options(
                selectinload(Contract.years),
                selectinload(Contract.scenarios),
            )
            # A session that already holds this contract must still read it afresh.
            .execution_options(populate_existing=True)
        ).one_or_none()
        if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no contract {contract_id}")
        terms = parse_terms(json.loads(contract.terms))
        schedule = stored_schedule(terms.currency, contract.years, contract.npv_net_margin)
        return ContractView(
            id=contract.id,
            code=contract.code,
            status=contract.status,
            archived_at=contract.archived_at,
            buyer_id=contract.buyer_id,
            vendor_id=contract.vendor_id,
            terms=terms,
            schedule=schedule,
            trace=index_trace(terms),
            scenarios=tuple(
                ScenarioSummary(s.id, s.name, s.updated_at) for s in contract.scenarios
            ),
            version=contract.version,
            created_at=contract.created_at,
            updated_at=contract.updated_at,
            may_change=actor.works_for(contract.buyer_id, contract.vendor_id),
        )


def snapshot(contract: Contract) -> dict[str, Any]:
    """What the audit trail records of a contract: reference, status, archive, terms."""
    return {
        "code": contract.code,
        "status": contract.status,
        "archived": contract.archived_at is not None,
        "terms": json.loads(contract.terms),
    }


def visible_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """A contract the actor may see, for the caller's transaction; NotFound otherwise."""
    contract = session.get(Contract, contract_id)
    if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
        raise NotFound(f"no contract {contract_id}")
    return contract


def contract_end(terms: ContractTerms) -> date:
    """The last day of the contract's last year."""
    return contract_year_bounds(terms.start_date, terms.term_years)[1]


def _apply_terms(session: Session, contract: Contract, terms: ContractTerms, now: datetime) -> None:
    schedule = compute_schedule(terms)
    assert terms.buyer is not None
    assert terms.vendor is not None
    contract.name = terms.name
    contract.buyer = _organisation(session, terms.buyer, now)
    contract.vendor = _organisation(session, terms.vendor, now)
    contract.currency = terms.currency.code
    contract.start_date = terms.start_date
    contract.end_date = contract_end(terms)
    contract.term_years = terms.term_years
    contract.terms = json.dumps(terms.document(), ensure_ascii=False)
    contract.updated_at = now
    store_totals(contract, schedule)
    if contract.id is not None:
        session.execute(delete(ContractYear).where(ContractYear.contract_id == contract.id))
        session.flush()
        for row in year_rows(schedule):
            row.contract_id = contract.id
            session.add(row)
    else:
        contract.years = year_rows(schedule)


def _organisation(session: Session, name: str, now: datetime) -> Organisation:
    with session.no_autoflush:
        found = session.scalars(select(Organisation).where(Organisation.name == name)).one_or_none()
    if found is not None:
        return found
    organisation = Organisation(name=name, created_at=now)
    session.add(organisation)
    return organisation


def _locked_contract(
    session: Session, actor: Actor, contract_id: int, expected_version: int
) -> Contract:
    contract = session.scalars(
        select(Contract).where(Contract.id == contract_id).with_for_update()
    ).one_or_none()
    if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
        raise NotFound(f"no contract {contract_id}")
    actor.require_staff_of(contract.buyer_id, contract.vendor_id)
    if contract.version != expected_version:
        raise StaleEdit(f"Contract {contract.code}", contract.updated_at)
    return contract


def _require_party(actor: Actor, contract: Contract) -> None:
    """The actor stays staff of a party after the terms (and so the parties) change."""
    if actor.system:
        return
    if not actor.works_for(contract.buyer.id, contract.vendor.id):
        message = "your organisation must be the buyer or the vendor"
        raise InvalidTerms([FieldError("buyer", message), FieldError("vendor", message)])


def _require_editable(contract: Contract) -> None:
    if contract.archived_at is not None:
        raise Conflict("this contract is archived: restore it before changing its terms")
    if contract.status not in EDITABLE_STATUSES:
        raise Conflict(fixed_terms_message(contract.status))


def fixed_terms_message(status: str) -> str:
    """Why the terms of a contract in ``status`` cannot be changed."""
    article = "an" if status[0] in "aeiou" else "a"
    return (
        f"the terms of {article} {status} contract are fixed; "
        "they can be changed while it is a draft or under negotiation"
    )


def _provisional_code() -> str:
    # Replaced by C-<id> once the row has an id; unique meanwhile.
    return f"new-{uuid4().hex}"


def _flush_unique(session: Session, code: str | None) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if code and "code" in str(exc.orig).lower():
            raise DuplicateName("code", f"another contract already has the code {code}") from exc
        raise
