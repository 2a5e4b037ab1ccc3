"""Scenarios: named what-if variants of a contract's terms, compared and promoted.

A scenario keeps a whole terms document; its name and parties always follow the
contract's, so that promoting one only changes the commercial terms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db.models import Contract, Scenario
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.domain.schedule import IndexStep, Schedule, compute_schedule, index_trace
from tracker.domain.terms import ContractTerms
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.contracts import replace_terms, snapshot, visible_contract
from tracker.services.errors import Conflict, DuplicateName, NotFound, StaleEdit

#: How many scenarios a comparison shows beside the contract.
MAX_COMPARED = 4


@dataclass(frozen=True)
class ScenarioView:
    """A scenario with its computed schedule."""

    id: int
    contract_id: int
    contract_code: str
    contract_status: str
    name: str
    terms: ContractTerms
    schedule: Schedule
    trace: tuple[IndexStep, ...]
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class Variant:
    """One column of a comparison: the contract itself or one of its scenarios."""

    label: str
    scenario_id: int | None
    terms: ContractTerms
    schedule: Schedule


def scenario_name(name: str) -> str:
    """A scenario name, checked like any other text field."""
    reader = FieldReader()
    value = reader.required_field({"name": name}, "name", "name", reader.text)
    if reader.errors or value is None:
        raise InvalidTerms(reader.errors or [FieldError("name", "required")])
    return value


def create_scenario(
    session: Session,
    actor: Actor,
    contract_id: int,
    name: str,
    document: object,
    request: RequestInfo | None = None,
) -> int:
    """Store a new scenario of a contract; returns its id (staff of a party only)."""
    checked_name = scenario_name(name)
    with session.begin():
        contract = _writable_contract(session, actor, contract_id)
        terms = _scenario_terms(contract, document)
        now = datetime.now(UTC)
        scenario = Scenario(
            contract_id=contract.id,
            name=checked_name,
            terms=json.dumps(terms.document(), ensure_ascii=False),
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(scenario)
        _flush_unique_name(session, checked_name)
        record(session, actor, "create", "scenario", scenario.id, contract_id=contract.id,
               after=_snapshot(scenario), request=request)  # fmt: skip
        return scenario.id


def update_scenario(
    session: Session,
    actor: Actor,
    scenario_id: int,
    name: str,
    document: object,
    *,
    expected_version: int,
    request: RequestInfo | None = None,
) -> int:
    """Change a scenario's name and terms; returns its new version."""
    checked_name = scenario_name(name)
    with session.begin():
        scenario = _locked_scenario(session, actor, scenario_id, expected_version)
        contract = _writable_contract(session, actor, scenario.contract_id)
        terms = _scenario_terms(contract, document)
        before = _snapshot(scenario)
        scenario.name = checked_name
        scenario.terms = json.dumps(terms.document(), ensure_ascii=False)
        scenario.updated_at = datetime.now(UTC)
        _flush_unique_name(session, checked_name)
        record(session, actor, "update", "scenario", scenario.id, contract_id=contract.id,
               before=before, after=_snapshot(scenario), request=request)  # fmt: skip
        return scenario.version


def delete_scenario(
    session: Session,
    actor: Actor,
    scenario_id: int,
    *,
    expected_version: int,
    request: RequestInfo | None = None,
) -> int:
    """Delete a scenario; returns its contract's id."""
    with session.begin():
        scenario = _locked_scenario(session, actor, scenario_id, expected_version)
        contract_id = scenario.contract_id
        record(session, actor, "delete", "scenario", scenario.id, contract_id=contract_id,
               before=_snapshot(scenario), request=request)  # fmt: skip
        session.execute(delete(Scenario).where(Scenario.id == scenario_id))
        return contract_id


def promote_scenario(
    session: Session,
    actor: Actor,
    scenario_id: int,
    *,
    expected_contract_version: int,
    request: RequestInfo | None = None,
) -> int:
    """Make a scenario's terms the contract's terms (drafts only); returns the contract id."""
    with session.begin():
        scenario = session.get(Scenario, scenario_id)
        if scenario is None:
            raise NotFound(f"no scenario {scenario_id}")
        contract = session.scalars(
            select(Contract).where(Contract.id == scenario.contract_id).with_for_update()
        ).one()
        if not actor.sees(contract.buyer_id, contract.vendor_id):
            raise NotFound(f"no scenario {scenario_id}")
        actor.require_staff_of(contract.buyer_id, contract.vendor_id)
        if contract.version != expected_contract_version:
            raise StaleEdit(f"Contract {contract.code}", contract.updated_at)
        if contract.status != "draft":
            raise Conflict(
                f"a scenario can be promoted while the contract is a draft; "
                f"this one is {contract.status}"
            )
        terms = _scenario_terms(contract, json.loads(scenario.terms))
        before = snapshot(contract)
        replace_terms(session, contract, terms, datetime.now(UTC))
        after = {**snapshot(contract), "from_scenario": scenario.name}
        record(session, actor, "promote", "contract", contract.id, contract_id=contract.id,
               before=before, after=after, request=request)  # fmt: skip
        return contract.id


def scenario_view(session: Session, actor: Actor, scenario_id: int) -> ScenarioView:
    """A scenario with its schedule and index trace."""
    with session.begin():
        row = session.execute(
            select(Scenario, Contract.code, Contract.status, Contract.buyer_id, Contract.vendor_id)
            .join(Contract, Contract.id == Scenario.contract_id)
            .where(Scenario.id == scenario_id)
        ).one_or_none()
        if row is None or not actor.sees(row[3], row[4]):
            raise NotFound(f"no scenario {scenario_id}")
        scenario, code, status = row[0], row[1], row[2]
        terms = parse_terms(json.loads(scenario.terms))
        return ScenarioView(
            id=scenario.id,
            contract_id=scenario.contract_id,
            contract_code=code,
            contract_status=status,
            name=scenario.name,
            terms=terms,
            schedule=compute_schedule(terms),
            trace=index_trace(terms),
            version=scenario.version,
            updated_at=scenario.updated_at,
        )


def comparison(
    session: Session, actor: Actor, contract_id: int, scenario_ids: list[int]
) -> tuple[Variant, ...]:
    """The contract and up to four of its scenarios, each with its schedule."""
    if len(scenario_ids) > MAX_COMPARED:
        raise Conflict(f"compare at most {MAX_COMPARED} scenarios at a time")
    with session.begin():
        contract = visible_contract(session, actor, contract_id)
        scenarios = session.scalars(
            select(Scenario)
            .where(Scenario.contract_id == contract_id, Scenario.id.in_(scenario_ids))
            .order_by(Scenario.id)
        ).all()
        if len(scenarios) != len(set(scenario_ids)):
            raise NotFound("a scenario to compare is not one of this contract's")
        base_terms = parse_terms(json.loads(contract.terms))
        variants = [
            Variant(f"Contract {contract.code}", None, base_terms, compute_schedule(base_terms))
        ]
        for scenario in scenarios:
            terms = parse_terms(json.loads(scenario.terms))
            variants.append(Variant(scenario.name, scenario.id, terms, compute_schedule(terms)))
    return tuple(variants)


def _scenario_terms(contract: Contract, document: object) -> ContractTerms:
    """Parse a scenario's terms, with name, parties and currency taken from the contract
    (a comparison subtracts amounts, so they must be in the same currency)."""
    if not isinstance(document, dict):
        raise InvalidTerms([FieldError("document", "expected an object")])
    stored: dict[str, Any] = json.loads(contract.terms)
    merged = {
        **document,
        **{key: stored[key] for key in ("name", "buyer", "vendor", "currency")},
    }
    return parse_terms(merged)


def _writable_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    contract = visible_contract(session, actor, contract_id)
    actor.require_staff_of(contract.buyer_id, contract.vendor_id)
    return contract


def _snapshot(scenario: Scenario) -> dict[str, Any]:
    return {"name": scenario.name, "terms": json.loads(scenario.terms)}


def _locked_scenario(
    session: Session, actor: Actor, scenario_id: int, expected_version: int
) -> Scenario:
    scenario = session.scalars(
        select(Scenario).where(Scenario.id == scenario_id).with_for_update()
    ).one_or_none()
    if scenario is None:
        raise NotFound(f"no scenario {scenario_id}")
    _writable_contract(session, actor, scenario.contract_id)
    if scenario.version != expected_version:
        raise StaleEdit(f"Scenario {scenario.name}", scenario.updated_at)
    return scenario


def _flush_unique_name(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateName("name", f"this contract already has a scenario named {name}") from exc
