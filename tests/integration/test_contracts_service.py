"""The contracts service on a real database: stored terms, stored schedule, codes, lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import Contract, ContractYear, Organisation, Scenario
from tracker.db.session import new_session
from tracker.domain.errors import InvalidTerms
from tracker.domain.json_document import load_json_document
from tracker.domain.money import currency, units_text
from tracker.domain.schedule import compute_schedule
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms_parser import parse_terms
from tracker.services.access import SYSTEM
from tracker.services.contracts import (
    ContractView,
    contract_view,
    create_contract,
    delete_contract,
    normalised_code,
    set_archived,
    update_terms,
)
from tracker.services.errors import Conflict, DuplicateName, NotFound, StaleEdit
from tracker.services.scenarios import create_scenario

EXAMPLES = ("fixed-5y", "index-capped-4y")


def example(data_dir: Path, name: str) -> Any:
    """A spec example's terms document, read as the API reads it (exact Decimals)."""
    return load_json_document((data_dir / f"{name}.json").read_bytes())


def expected_schedule(data_dir: Path, name: str) -> Any:
    return json.loads((data_dir / f"{name}.expected.json").read_text("utf-8"))


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


def count(session: Session, model: type[Any], *where: Any) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def stored_contract(session: Session, contract_id: int) -> Contract:
    with session.begin():
        contract = session.get(Contract, contract_id, populate_existing=True)
        assert contract is not None
        return contract


def year_numbers(session: Session, contract_id: int) -> list[int]:
    with session.begin():
        return list(
            session.scalars(
                select(ContractYear.year)
                .where(ContractYear.contract_id == contract_id)
                .order_by(ContractYear.year)
            )
        )


def fresh_view(app: Flask, contract_id: int) -> ContractView:
    """The contract as a new session reads it from the database."""
    with new_session(app) as other:
        return contract_view(other, SYSTEM, contract_id)


def refused_fields(refusal: BaseException) -> list[str]:
    """The fields a refusal names: DuplicateName names one, InvalidTerms one per error."""
    if isinstance(refusal, DuplicateName):
        return [refusal.field]
    assert isinstance(refusal, InvalidTerms)
    return [error.path for error in refusal.errors]


def unknown_id(session: Session) -> int:
    with session.begin():
        return (session.scalar(select(func.max(Contract.id))) or 0) + 1000


# -- the stored schedule ------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_created_contract_stores_the_spec_schedule_to_the_cent(
    session: Session, data_dir: Path, name: str
) -> None:
    contract_id = create_contract(session, SYSTEM, example(data_dir, name))

    view = contract_view(session, SYSTEM, contract_id)

    assert schedule_document(view.schedule) == expected_schedule(data_dir, name)
    assert view.schedule == compute_schedule(parse_terms(example(data_dir, name)))
    assert year_numbers(session, contract_id) == list(range(1, view.terms.term_years + 1))


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_totals_on_the_contract_row_equal_the_schedule_totals(
    session: Session, data_dir: Path, name: str
) -> None:
    contract_id = create_contract(session, SYSTEM, example(data_dir, name))

    row = stored_contract(session, contract_id)
    totals = compute_schedule(parse_terms(example(data_dir, name))).totals

    assert (
        row.total_price,
        row.total_efficiency_gain,
        row.total_reinvest,
        row.total_net_margin,
        row.npv_net_margin,
    ) == (
        totals.price,
        totals.efficiency_gain,
        totals.reinvest,
        totals.net_margin,
        totals.npv_net_margin,
    )
    expected = expected_schedule(data_dir, name)["totals"]
    assert units_text(row.total_price, currency("EUR")) == expected["price"]
    assert units_text(row.npv_net_margin, currency("EUR")) == expected["npv_net_margin"]
    assert row.currency == "EUR"
    assert row.term_years == len(expected_schedule(data_dir, name)["years"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_canonical_terms_document_round_trips(
    session: Session, data_dir: Path, name: str
) -> None:
    contract_id = create_contract(session, SYSTEM, example(data_dir, name))

    view = contract_view(session, SYSTEM, contract_id)

    canonical = parse_terms(example(data_dir, name)).document()
    assert view.document == canonical
    assert json.loads(stored_contract(session, contract_id).terms) == canonical
    assert parse_terms(view.document) == view.terms


def test_updating_the_terms_recomputes_the_stored_schedule(
    session: Session, app: Flask, data_dir: Path
) -> None:
    document = example(data_dir, "fixed-5y")
    contract_id = create_contract(session, SYSTEM, document, code="UPD-1")
    before = contract_view(session, SYSTEM, contract_id)
    shorter = {**document, "term_years": 3}

    new_version = update_terms(
        session, SYSTEM, contract_id, shorter, expected_version=before.version
    )

    after = fresh_view(app, contract_id)
    assert new_version == after.version == before.version + 1
    assert year_numbers(session, contract_id) == [1, 2, 3]
    assert after.schedule == compute_schedule(parse_terms(shorter))
    assert after.schedule.totals.price != before.schedule.totals.price
    # The first three years are those of the 5-year schedule; only the tail went.
    assert after.schedule.years == before.schedule.years[:3]
    row = stored_contract(session, contract_id)
    assert row.term_years == 3
    assert row.end_date.isoformat() == "2027-12-31"
    assert row.total_price == after.schedule.totals.price == 370908000
    assert row.npv_net_margin == after.schedule.totals.npv_net_margin


def test_the_view_read_after_an_update_in_the_same_session_shows_the_new_schedule(
    session: Session, data_dir: Path
) -> None:
    document = example(data_dir, "fixed-5y")
    contract_id = create_contract(session, SYSTEM, document)
    with session.begin():
        # As in a request: the session's objects stay alive while it is in use.
        held = session.get(Contract, contract_id)
    before = contract_view(session, SYSTEM, contract_id)
    shorter = {**document, "term_years": 3}

    update_terms(session, SYSTEM, contract_id, shorter, expected_version=before.version)

    after = contract_view(session, SYSTEM, contract_id)
    assert held is not None
    assert len(after.schedule.years) == 3
    assert after.schedule == compute_schedule(parse_terms(shorter))


def test_a_stale_edit_is_refused_and_the_stored_terms_stay(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), code="STALE-1")
    first = contract_view(session, SYSTEM, contract_id)
    update_terms(
        session, SYSTEM, contract_id, terms_document(term_years=4), expected_version=first.version
    )

    with pytest.raises(StaleEdit) as caught:
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=2),
            expected_version=first.version,
        )

    assert caught.value.what == "Contract STALE-1"
    view = contract_view(session, SYSTEM, contract_id)
    assert view.terms.term_years == 4
    assert view.version == first.version + 1
    assert year_numbers(session, contract_id) == [1, 2, 3, 4]


# -- invalid terms ------------------------------------------------------------------


def test_an_invalid_document_stores_nothing(session: Session) -> None:
    create_contract(session, SYSTEM, terms_document(), code="KEEP-1")
    contracts, organisations = count(session, Contract), count(session, Organisation)
    bad = terms_document(
        buyer="A buyer never seen", price={"base": "-5", "escalation": {"method": "fixed"}}
    )

    with pytest.raises(InvalidTerms) as caught:
        create_contract(session, SYSTEM, bad, code="BAD-1")

    assert {error.path for error in caught.value.errors} == {
        "price.base",
        "price.escalation.rate",
    }
    assert count(session, Contract) == contracts == 1
    assert count(session, Organisation) == organisations == 2
    assert count(session, Contract, Contract.code == "BAD-1") == 0


def test_a_contract_without_a_buyer_is_refused_on_the_buyer_field(session: Session) -> None:
    document = terms_document()
    del document["buyer"]

    with pytest.raises(InvalidTerms) as caught:
        create_contract(session, SYSTEM, document)

    assert [error.path for error in caught.value.errors] == ["buyer"]
    assert count(session, Contract) == 0
    assert count(session, Organisation) == 0


def test_an_invalid_update_leaves_the_contract_as_it_was(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document())
    before = contract_view(session, SYSTEM, contract_id)

    with pytest.raises(InvalidTerms) as caught:
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=31),
            expected_version=before.version,
        )

    assert [error.path for error in caught.value.errors] == ["term_years"]
    after = contract_view(session, SYSTEM, contract_id)
    assert (after.document, after.version, after.schedule) == (
        before.document,
        before.version,
        before.schedule,
    )


def test_the_terms_of_an_active_contract_cannot_be_edited(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), status="active")
    before = contract_view(session, SYSTEM, contract_id)
    assert before.status == "active"
    assert not before.terms_editable

    with pytest.raises(Conflict, match="active contract are fixed"):
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=5),
            expected_version=before.version,
        )

    after = contract_view(session, SYSTEM, contract_id)
    assert (after.terms.term_years, after.version) == (3, before.version)


def test_the_terms_of_an_archived_draft_cannot_be_edited(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document())
    set_archived(
        session,
        SYSTEM,
        contract_id,
        True,
        expected_version=contract_view(session, SYSTEM, contract_id).version,
    )
    archived = contract_view(session, SYSTEM, contract_id)

    with pytest.raises(Conflict, match="archived"):
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=5),
            expected_version=archived.version,
        )

    assert contract_view(session, SYSTEM, contract_id).terms.term_years == 3


# -- codes --------------------------------------------------------------------------


def test_a_contract_without_a_code_gets_one_from_its_id(session: Session) -> None:
    first = create_contract(session, SYSTEM, terms_document())
    second = create_contract(session, SYSTEM, terms_document())

    assert contract_view(session, SYSTEM, first).code == f"C-{first:05d}"
    assert contract_view(session, SYSTEM, second).code == f"C-{second:05d}"
    assert second != first


def test_a_given_code_is_trimmed_and_upper_cased(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), code="  wps-us.2027_b ")

    assert contract_view(session, SYSTEM, contract_id).code == "WPS-US.2027_B"


def test_a_code_of_forty_characters_is_accepted(session: Session) -> None:
    code = "A" * 40

    contract_id = create_contract(session, SYSTEM, terms_document(), code=code.lower())

    assert contract_view(session, SYSTEM, contract_id).code == code


def test_a_duplicate_code_is_refused_on_the_code_field_and_nothing_is_stored(
    session: Session,
) -> None:
    create_contract(session, SYSTEM, terms_document(), code="DUP-1")
    contracts, organisations = count(session, Contract), count(session, Organisation)

    with pytest.raises(DuplicateName) as caught:
        create_contract(
            session, SYSTEM, terms_document(buyer="New buyer", vendor="New vendor"), code="dup-1"
        )

    assert caught.value.field == "code"
    assert count(session, Contract) == contracts == 1
    assert count(session, Organisation) == organisations == 2


@pytest.mark.parametrize("code", ["a b", "   ", "A" * 41, "-LEADING-DASH", "É-1", "X/1"])
def test_an_invalid_code_is_refused_on_the_code_field(session: Session, code: str) -> None:
    with pytest.raises((DuplicateName, InvalidTerms)) as caught:
        create_contract(session, SYSTEM, terms_document(), code=code)

    assert refused_fields(caught.value) == ["code"]
    assert count(session, Contract) == 0
    assert count(session, Organisation) == 0


@pytest.mark.parametrize("code", ["a b", "", "A" * 41])
def test_an_invalid_code_is_refused_when_editing(session: Session, code: str) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), code="EDIT-1")
    version = contract_view(session, SYSTEM, contract_id).version

    with pytest.raises((DuplicateName, InvalidTerms)) as caught:
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=2),
            expected_version=version,
            code=code,
        )

    assert refused_fields(caught.value) == ["code"]
    view = contract_view(session, SYSTEM, contract_id)
    assert (view.code, view.terms.term_years, view.version) == ("EDIT-1", 3, version)


def test_an_empty_code_is_not_a_valid_code() -> None:
    with pytest.raises((DuplicateName, InvalidTerms)) as caught:
        normalised_code("")

    assert refused_fields(caught.value) == ["code"]


def test_taking_another_contracts_code_when_editing_is_refused(session: Session) -> None:
    create_contract(session, SYSTEM, terms_document(), code="TAKEN-1")
    contract_id = create_contract(session, SYSTEM, terms_document(), code="MINE-1")
    version = contract_view(session, SYSTEM, contract_id).version

    with pytest.raises(DuplicateName) as caught:
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=2),
            expected_version=version,
            code="taken-1",
        )

    assert caught.value.field == "code"
    view = contract_view(session, SYSTEM, contract_id)
    assert (view.code, view.terms.term_years, view.version) == ("MINE-1", 3, version)


@pytest.mark.parametrize("code", ["C-00003", "c-7", " C-0 "])
def test_a_code_of_the_automatic_form_cannot_be_chosen(session: Session, code: str) -> None:
    first = create_contract(session, SYSTEM, terms_document())

    with pytest.raises((DuplicateName, InvalidTerms)) as caught:
        create_contract(session, SYSTEM, terms_document(), code=code)

    assert refused_fields(caught.value) == ["code"]
    # So the automatic codes that follow never collide with a chosen one.
    second = create_contract(session, SYSTEM, terms_document())
    third = create_contract(session, SYSTEM, terms_document())
    assert [contract_view(session, SYSTEM, cid).code for cid in (first, second, third)] == [
        f"C-{first:05d}",
        f"C-{second:05d}",
        f"C-{third:05d}",
    ]
    assert count(session, Contract) == 3


def test_codes_that_only_look_automatic_can_be_chosen(session: Session) -> None:
    ids = [
        create_contract(session, SYSTEM, terms_document(), code=code)
        for code in ("C-1A", "C-", "CC-1")
    ]

    assert [contract_view(session, SYSTEM, cid).code for cid in ids] == ["C-1A", "C-", "CC-1"]


def test_editing_keeps_the_contracts_own_automatic_code(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document())
    view = contract_view(session, SYSTEM, contract_id)

    update_terms(
        session,
        SYSTEM,
        contract_id,
        terms_document(term_years=2),
        expected_version=view.version,
        code=view.code.lower(),
    )

    after = contract_view(session, SYSTEM, contract_id)
    assert (after.code, after.terms.term_years) == (f"C-{contract_id:05d}", 2)


def test_editing_cannot_choose_another_automatic_code(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), code="MINE-2")
    version = contract_view(session, SYSTEM, contract_id).version

    with pytest.raises((DuplicateName, InvalidTerms)) as caught:
        update_terms(
            session,
            SYSTEM,
            contract_id,
            terms_document(term_years=2),
            expected_version=version,
            code=f"C-{contract_id + 1:05d}",
        )

    assert refused_fields(caught.value) == ["code"]
    assert contract_view(session, SYSTEM, contract_id).code == "MINE-2"


# -- parties ------------------------------------------------------------------------


def test_contracts_with_the_same_buyer_share_one_organisation(session: Session) -> None:
    first = create_contract(session, SYSTEM, terms_document(vendor="Vendor One"))
    second = create_contract(session, SYSTEM, terms_document(vendor="Vendor Two"))

    assert count(session, Organisation, Organisation.name == "Stadt Demo") == 1
    assert count(session, Organisation) == 3
    one, two = contract_view(session, SYSTEM, first), contract_view(session, SYSTEM, second)
    assert one.buyer_id == two.buyer_id
    assert one.vendor_id != two.vendor_id


def test_an_organisation_may_buy_in_one_contract_and_sell_in_another(session: Session) -> None:
    first = create_contract(session, SYSTEM, terms_document(buyer="Alpha", vendor="Beta"))
    second = create_contract(session, SYSTEM, terms_document(buyer="Beta", vendor="Alpha"))

    one, two = contract_view(session, SYSTEM, first), contract_view(session, SYSTEM, second)
    assert (one.buyer_id, one.vendor_id) == (two.vendor_id, two.buyer_id)
    assert count(session, Organisation) == 2


# -- archive, restore, delete -------------------------------------------------------


def test_archiving_and_restoring_toggle_archived_at(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), status="signed")
    version = contract_view(session, SYSTEM, contract_id).version

    set_archived(session, SYSTEM, contract_id, True, expected_version=version)
    archived = contract_view(session, SYSTEM, contract_id)
    assert archived.archived_at is not None
    assert archived.archived_at.utcoffset() is not None
    assert archived.version == version + 1
    assert not archived.terms_editable

    set_archived(session, SYSTEM, contract_id, False, expected_version=archived.version)
    restored = contract_view(session, SYSTEM, contract_id)
    assert restored.archived_at is None
    assert restored.version == version + 2
    assert restored.status == "signed"


def test_archiving_with_a_stale_version_is_refused(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document())
    version = contract_view(session, SYSTEM, contract_id).version
    set_archived(session, SYSTEM, contract_id, True, expected_version=version)

    with pytest.raises(StaleEdit):
        set_archived(session, SYSTEM, contract_id, False, expected_version=version)

    assert contract_view(session, SYSTEM, contract_id).archived_at is not None


def test_deleting_a_draft_removes_it_with_its_years_and_scenarios(session: Session) -> None:
    kept = create_contract(session, SYSTEM, terms_document(), code="KEPT-1")
    create_scenario(session, SYSTEM, kept, "Kept scenario", terms_document())
    contract_id = create_contract(session, SYSTEM, terms_document(), code="GONE-1")
    create_scenario(session, SYSTEM, contract_id, "Cheaper", terms_document(term_years=2))
    create_scenario(session, SYSTEM, contract_id, "Longer", terms_document(term_years=5))
    assert count(session, Scenario, Scenario.contract_id == contract_id) == 2
    assert count(session, ContractYear, ContractYear.contract_id == contract_id) == 3

    delete_contract(
        session,
        SYSTEM,
        contract_id,
        expected_version=contract_view(session, SYSTEM, contract_id).version,
    )

    assert count(session, Contract, Contract.id == contract_id) == 0
    assert count(session, ContractYear, ContractYear.contract_id == contract_id) == 0
    assert count(session, Scenario, Scenario.contract_id == contract_id) == 0
    with pytest.raises(NotFound):
        contract_view(session, SYSTEM, contract_id)
    # The other contract is untouched.
    assert count(session, ContractYear, ContractYear.contract_id == kept) == 3
    assert count(session, Scenario, Scenario.contract_id == kept) == 1


@pytest.mark.parametrize("status", ["negotiation", "signed", "active", "closed"])
def test_a_contract_past_draft_cannot_be_deleted(session: Session, status: str) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document(), status=status)

    with pytest.raises(Conflict, match=f"this one is {status}"):
        delete_contract(
            session,
            SYSTEM,
            contract_id,
            expected_version=contract_view(session, SYSTEM, contract_id).version,
        )

    assert count(session, Contract, Contract.id == contract_id) == 1
    assert count(session, ContractYear, ContractYear.contract_id == contract_id) == 3


def test_deleting_with_a_stale_version_is_refused(session: Session) -> None:
    contract_id = create_contract(session, SYSTEM, terms_document())
    version = contract_view(session, SYSTEM, contract_id).version
    update_terms(
        session, SYSTEM, contract_id, terms_document(term_years=2), expected_version=version
    )

    with pytest.raises(StaleEdit):
        delete_contract(session, SYSTEM, contract_id, expected_version=version)

    assert count(session, Contract, Contract.id == contract_id) == 1


def test_an_unknown_contract_is_not_found_by_any_operation(session: Session) -> None:
    create_contract(session, SYSTEM, terms_document())
    missing = unknown_id(session)

    with pytest.raises(NotFound):
        contract_view(session, SYSTEM, missing)
    with pytest.raises(NotFound):
        update_terms(session, SYSTEM, missing, terms_document(), expected_version=1)
    with pytest.raises(NotFound):
        set_archived(session, SYSTEM, missing, True, expected_version=1)
    with pytest.raises(NotFound):
        delete_contract(session, SYSTEM, missing, expected_version=1)
    assert count(session, Contract) == 1
