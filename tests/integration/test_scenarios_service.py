"""The scenarios service on a real database: what-if terms, comparison and promotion."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import Contract, ContractYear, Organisation, Scenario
from tracker.db.session import new_session
from tracker.domain.errors import InvalidTerms
from tracker.domain.schedule import compute_schedule
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import SYSTEM
from tracker.services.contracts import ContractView, contract_view, create_contract, update_terms
from tracker.services.errors import Conflict, DuplicateName, NotFound, StaleEdit
from tracker.services.scenarios import (
    comparison,
    create_scenario,
    delete_scenario,
    promote_scenario,
    scenario_view,
    update_scenario,
)


def terms_document(**changes: Any) -> dict[str, Any]:
    """A small valid contract (EUR, three years) with ``changes`` laid over it."""
    document: dict[str, Any] = {
        "name": "Cleaning services",
        "buyer": "Stadt Demo",
        "vendor": "Sauber GmbH",
        "currency": "EUR",
        "start_date": "2026-01-01",
        "term_years": 3,
        "price": {"base": "100000.00", "escalation": {"method": "fixed", "rate": "0.02"}},
        "cost": {"baseline": "80000.00", "inflation": "0.02", "efficiency": "0.05"},
        "gain_split": {"reinvest": "0.5", "buyer": "0.2"},
        "discount_rate": "0.05",
    }
    document.update(changes)
    return document


def cheaper(**changes: Any) -> dict[str, Any]:
    """The same terms at a lower entry price."""
    return terms_document(
        price={"base": "90000.00", "escalation": {"method": "fixed", "rate": "0.02"}}, **changes
    )


def count(session: Session, model: type[Any], *where: Any) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def fresh_view(app: Flask, contract_id: int) -> ContractView:
    """The contract as a new session reads it from the database."""
    with new_session(app) as other:
        return contract_view(other, SYSTEM, contract_id)


def max_id(session: Session, model: type[Contract] | type[Scenario]) -> int:
    with session.begin():
        return session.scalar(select(func.max(model.id))) or 0


@pytest.fixture
def contract_id(session: Session) -> int:
    """A draft contract to make scenarios of."""
    return create_contract(session, SYSTEM, terms_document(), code="BASE-1")


# -- create and update --------------------------------------------------------------


def test_a_new_scenario_stores_its_own_terms(session: Session, contract_id: int) -> None:
    scenario_id = create_scenario(session, SYSTEM, contract_id, "  Lower entry price ", cheaper())

    view = scenario_view(session, SYSTEM, scenario_id)
    assert view.name == "Lower entry price"
    assert view.contract_id == contract_id
    assert view.contract_code == "BASE-1"
    assert view.contract_status == "draft"
    assert view.version == 1
    assert view.terms == parse_terms(cheaper())
    assert view.schedule == compute_schedule(parse_terms(cheaper()))
    assert view.schedule.years[0].price == 9000000
    # The contract's own terms are unchanged.
    contract = contract_view(session, SYSTEM, contract_id)
    assert contract.terms == parse_terms(terms_document())
    assert [s.name for s in contract.scenarios] == ["Lower entry price"]


def test_the_contract_read_again_in_the_same_session_lists_its_current_scenarios(
    session: Session, contract_id: int
) -> None:
    with session.begin():
        # As in a request: the session's objects stay alive while it is in use.
        held = session.get(Contract, contract_id)
    assert contract_view(session, SYSTEM, contract_id).scenarios == ()

    first = create_scenario(session, SYSTEM, contract_id, "First", cheaper())
    second = create_scenario(session, SYSTEM, contract_id, "Second", cheaper())
    listed = contract_view(session, SYSTEM, contract_id).scenarios
    delete_scenario(session, SYSTEM, first, expected_version=1)
    remaining = contract_view(session, SYSTEM, contract_id).scenarios

    assert held is not None
    assert [(s.id, s.name) for s in listed] == [(first, "First"), (second, "Second")]
    assert [(s.id, s.name) for s in remaining] == [(second, "Second")]


def test_an_invalid_scenario_document_stores_nothing(session: Session, contract_id: int) -> None:
    with pytest.raises(InvalidTerms) as caught:
        create_scenario(session, SYSTEM, contract_id, "Broken", terms_document(term_years=0))

    assert [error.path for error in caught.value.errors] == ["term_years"]
    assert count(session, Scenario) == 0


def test_a_scenario_of_an_unknown_contract_is_not_found(session: Session, contract_id: int) -> None:
    with pytest.raises(NotFound):
        create_scenario(session, SYSTEM, contract_id + 1000, "Orphan", cheaper())

    assert count(session, Scenario) == 0


def test_updating_a_scenario_changes_its_name_and_terms(session: Session, contract_id: int) -> None:
    scenario_id = create_scenario(session, SYSTEM, contract_id, "Draft idea", cheaper())

    new_version = update_scenario(
        session, SYSTEM, scenario_id, "Four years", cheaper(term_years=4), expected_version=1
    )

    view = scenario_view(session, SYSTEM, scenario_id)
    assert new_version == view.version == 2
    assert view.name == "Four years"
    assert view.terms.term_years == 4
    assert len(view.schedule.years) == 4


def test_a_stale_scenario_edit_is_refused_and_the_other_change_stays(
    session: Session, contract_id: int
) -> None:
    scenario_id = create_scenario(session, SYSTEM, contract_id, "Draft idea", cheaper())
    update_scenario(
        session, SYSTEM, scenario_id, "First edit", cheaper(term_years=4), expected_version=1
    )

    with pytest.raises(StaleEdit) as caught:
        update_scenario(
            session, SYSTEM, scenario_id, "Second edit", cheaper(term_years=2), expected_version=1
        )

    assert caught.value.what == "Scenario First edit"
    view = scenario_view(session, SYSTEM, scenario_id)
    assert (view.name, view.terms.term_years, view.version) == ("First edit", 4, 2)


def test_a_duplicate_scenario_name_on_the_same_contract_is_refused(
    session: Session, contract_id: int
) -> None:
    create_scenario(session, SYSTEM, contract_id, "Cheaper", cheaper())

    with pytest.raises(DuplicateName) as caught:
        create_scenario(session, SYSTEM, contract_id, "Cheaper", cheaper(term_years=4))

    assert caught.value.field == "name"
    assert count(session, Scenario) == 1


def test_renaming_a_scenario_to_a_taken_name_is_refused(session: Session, contract_id: int) -> None:
    create_scenario(session, SYSTEM, contract_id, "Cheaper", cheaper())
    other = create_scenario(session, SYSTEM, contract_id, "Longer", cheaper(term_years=5))

    with pytest.raises(DuplicateName) as caught:
        update_scenario(
            session, SYSTEM, other, "Cheaper", cheaper(term_years=5), expected_version=1
        )

    assert caught.value.field == "name"
    view = scenario_view(session, SYSTEM, other)
    assert (view.name, view.version) == ("Longer", 1)


def test_the_same_scenario_name_on_another_contract_is_fine(
    session: Session, contract_id: int
) -> None:
    other_contract = create_contract(session, SYSTEM, terms_document(), code="OTHER-1")
    first = create_scenario(session, SYSTEM, contract_id, "Cheaper", cheaper())

    second = create_scenario(session, SYSTEM, other_contract, "Cheaper", cheaper())

    assert second != first
    assert scenario_view(session, SYSTEM, second).contract_id == other_contract
    assert count(session, Scenario, Scenario.name == "Cheaper") == 2


def test_a_scenario_keeps_the_contracts_name_and_parties(
    session: Session, contract_id: int
) -> None:
    organisations = count(session, Organisation)
    document = cheaper(name="Something else", buyer="Another buyer", vendor="Another vendor")

    scenario_id = create_scenario(session, SYSTEM, contract_id, "Renamed", document)
    update_scenario(session, SYSTEM, scenario_id, "Renamed", document, expected_version=1)

    terms = scenario_view(session, SYSTEM, scenario_id).terms
    assert (terms.name, terms.buyer, terms.vendor) == (
        "Cleaning services",
        "Stadt Demo",
        "Sauber GmbH",
    )
    assert terms.base_price == parse_terms(cheaper()).base_price
    assert count(session, Organisation) == organisations == 2


def test_a_scenario_keeps_the_contracts_currency(session: Session, contract_id: int) -> None:
    scenario_id = create_scenario(
        session, SYSTEM, contract_id, "In dollars", cheaper(currency="USD")
    )
    update_scenario(
        session, SYSTEM, scenario_id, "In yen", cheaper(currency="JPY"), expected_version=1
    )

    view = scenario_view(session, SYSTEM, scenario_id)
    assert view.terms.currency.code == "EUR"
    assert view.schedule.currency.code == "EUR"
    assert [
        v.terms.currency.code for v in comparison(session, SYSTEM, contract_id, [scenario_id])
    ] == [
        "EUR",
        "EUR",
    ]


# -- comparison ---------------------------------------------------------------------


def test_a_comparison_lists_the_contract_then_the_scenarios_in_id_order(
    session: Session, contract_id: int
) -> None:
    ids = [
        create_scenario(session, SYSTEM, contract_id, f"Variant {n}", cheaper(term_years=n))
        for n in (2, 4, 5)
    ]

    variants = comparison(session, SYSTEM, contract_id, [ids[2], ids[0], ids[1]])

    assert [(v.label, v.scenario_id) for v in variants] == [
        ("Contract BASE-1", None),
        ("Variant 2", ids[0]),
        ("Variant 4", ids[1]),
        ("Variant 5", ids[2]),
    ]
    assert [len(v.schedule.years) for v in variants] == [3, 2, 4, 5]
    assert variants[0].terms == parse_terms(terms_document())
    for variant in variants:
        assert variant.schedule == compute_schedule(variant.terms)


def test_a_comparison_of_the_contract_alone_has_one_column(
    session: Session, contract_id: int
) -> None:
    variants = comparison(session, SYSTEM, contract_id, [])

    assert len(variants) == 1
    assert variants[0].scenario_id is None
    assert variants[0].schedule == compute_schedule(parse_terms(terms_document()))


def test_a_comparison_of_four_scenarios_is_allowed_but_not_five(
    session: Session, contract_id: int
) -> None:
    ids = [create_scenario(session, SYSTEM, contract_id, f"V{n}", cheaper()) for n in range(5)]

    assert len(comparison(session, SYSTEM, contract_id, ids[:4])) == 5
    with pytest.raises(Conflict, match="at most 4"):
        comparison(session, SYSTEM, contract_id, ids)


def test_a_comparison_refuses_a_scenario_of_another_contract(
    session: Session, contract_id: int
) -> None:
    mine = create_scenario(session, SYSTEM, contract_id, "Mine", cheaper())
    other_contract = create_contract(session, SYSTEM, terms_document(), code="OTHER-1")
    theirs = create_scenario(session, SYSTEM, other_contract, "Theirs", cheaper())

    with pytest.raises(NotFound):
        comparison(session, SYSTEM, contract_id, [mine, theirs])
    with pytest.raises(NotFound):
        comparison(session, SYSTEM, contract_id, [max_id(session, Scenario) + 100])
    with pytest.raises(NotFound):
        comparison(session, SYSTEM, max_id(session, Contract) + 100, [])


# -- promote ------------------------------------------------------------------------


def test_promoting_copies_the_scenario_terms_and_recomputes_the_stored_schedule(
    session: Session, app: Flask, contract_id: int
) -> None:
    scenario_terms = cheaper(term_years=5, name="Ignored name")
    scenario_id = create_scenario(
        session, SYSTEM, contract_id, "Five cheaper years", scenario_terms
    )
    before = contract_view(session, SYSTEM, contract_id)

    promoted = promote_scenario(
        session, SYSTEM, scenario_id, expected_contract_version=before.version
    )

    assert promoted == contract_id
    after = fresh_view(app, contract_id)
    expected_terms = parse_terms(cheaper(term_years=5))
    assert after.terms == expected_terms
    assert after.terms.name == "Cleaning services"
    assert after.version == before.version + 1
    assert after.status == "draft"
    assert schedule_document(after.schedule) == schedule_document(compute_schedule(expected_terms))
    assert count(session, ContractYear, ContractYear.contract_id == contract_id) == 5
    with session.begin():
        row = session.get(Contract, contract_id, populate_existing=True)
        assert row is not None
        assert row.total_price == compute_schedule(expected_terms).totals.price
        assert row.term_years == 5
    # The scenario itself stays.
    assert scenario_view(session, SYSTEM, scenario_id).name == "Five cheaper years"


def test_a_scenario_of_a_contract_past_draft_cannot_be_promoted(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), status="negotiation")
    scenario_id = create_scenario(session, SYSTEM, contract_id, "Cheaper", cheaper())
    version = contract_view(session, SYSTEM, contract_id).version

    with pytest.raises(Conflict, match="negotiation"):
        promote_scenario(session, SYSTEM, scenario_id, expected_contract_version=version)

    view = contract_view(session, SYSTEM, contract_id)
    assert (view.terms, view.version) == (parse_terms(terms_document()), version)


def test_promoting_with_a_stale_contract_version_is_refused(
    session: Session, app: Flask, contract_id: int
) -> None:
    scenario_id = create_scenario(session, SYSTEM, contract_id, "Cheaper", cheaper())
    version = contract_view(session, SYSTEM, contract_id).version
    update_terms(
        session, SYSTEM, contract_id, terms_document(term_years=4), expected_version=version
    )

    with pytest.raises(StaleEdit):
        promote_scenario(session, SYSTEM, scenario_id, expected_contract_version=version)

    view = fresh_view(app, contract_id)
    assert view.terms == parse_terms(terms_document(term_years=4))
    assert view.version == version + 1
    assert count(session, ContractYear, ContractYear.contract_id == contract_id) == 4


def test_promoting_an_unknown_scenario_is_not_found(session: Session, contract_id: int) -> None:
    with pytest.raises(NotFound):
        promote_scenario(session, SYSTEM, 10**9, expected_contract_version=1)


# -- delete -------------------------------------------------------------------------


def test_deleting_a_scenario_returns_its_contract(session: Session, contract_id: int) -> None:
    kept = create_scenario(session, SYSTEM, contract_id, "Kept", cheaper())
    scenario_id = create_scenario(session, SYSTEM, contract_id, "Gone", cheaper())

    assert delete_scenario(session, SYSTEM, scenario_id, expected_version=1) == contract_id

    with pytest.raises(NotFound):
        scenario_view(session, SYSTEM, scenario_id)
    assert count(session, Scenario) == 1
    assert scenario_view(session, SYSTEM, kept).name == "Kept"
    assert count(session, Contract, Contract.id == contract_id) == 1


def test_deleting_a_scenario_with_a_stale_version_is_refused(
    session: Session, contract_id: int
) -> None:
    scenario_id = create_scenario(session, SYSTEM, contract_id, "Edited", cheaper())
    update_scenario(session, SYSTEM, scenario_id, "Edited again", cheaper(), expected_version=1)

    with pytest.raises(StaleEdit):
        delete_scenario(session, SYSTEM, scenario_id, expected_version=1)

    assert scenario_view(session, SYSTEM, scenario_id).name == "Edited again"
    with pytest.raises(NotFound):
        delete_scenario(session, SYSTEM, scenario_id + 1000, expected_version=1)
