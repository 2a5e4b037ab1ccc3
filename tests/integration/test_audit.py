"""The audit trail: one event per change, written in the change's transaction, with who,
when, what, before, after and the request; none for a refused change; the history page;
and rows that neither the mapper nor the database let anyone change or remove."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import add_user, sign_in
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.db.account_models import User
from tracker.db.audit_models import AuditEvent, AuditIsAppendOnly
from tracker.db.models import Contract, Organisation
from tracker.db.session import engine_of, new_session
from tracker.domain.errors import InvalidTerms
from tracker.services import accounts, audit, contracts, scenarios
from tracker.services.access import SYSTEM, Actor
from tracker.services.audit import RequestInfo, changed_fields
from tracker.services.errors import Forbidden, StaleEdit

DATA = Path(__file__).resolve().parents[1] / "data"
BASE: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text("utf-8"))
A_TERMS = {**BASE, "name": "Audited contract", "buyer": "Org A Buyer", "vendor": "Org A Vendor"}
REQUEST = RequestInfo(request_id="req-0123456789", address="192.0.2.10")
STAFF_EMAIL = "staff@org-a.test"


def with_price(document: dict[str, Any], base: str) -> dict[str, Any]:
    return {**document, "price": {**document["price"], "base": base}}


@pytest.fixture
def contract_id(session: Session) -> int:
    """A draft contract of organisation A, created by the command line."""
    return contracts.create_contract(session, SYSTEM, A_TERMS)


@pytest.fixture
def staff(app: Flask, session: Session, contract_id: int) -> Actor:
    """Staff of organisation A (the contract's buyer), with an account."""
    add_user(app, STAFF_EMAIL, ("Org A Buyer",), "staff")
    with session.begin():
        user_id = session.scalars(select(User.id).where(User.email == STAFF_EMAIL)).one()
        org = session.scalars(select(Organisation.id).where(Organisation.name == "Org A Buyer"))
        return Actor(user_id=user_id, label=STAFF_EMAIL, memberships={org.one(): "staff"})


def events(session: Session) -> list[AuditEvent]:
    with session.begin():
        found = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all())
        session.expunge_all()
        return found


def new_events(session: Session, before: list[AuditEvent]) -> list[AuditEvent]:
    known = {event.id for event in before}
    return [event for event in events(session) if event.id not in known]


def loaded(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def version_of(session: Session, contract_id: int) -> int:
    with session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        return contract.version


def assert_event(
    event: AuditEvent,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    contract_id: int | None,
) -> None:
    assert (event.actor_user_id, event.actor) == (actor.user_id, actor.label)
    assert (event.action, event.entity, event.entity_id) == (action, entity, entity_id)
    assert event.contract_id == contract_id
    assert (event.request_id, event.address) == (REQUEST.request_id, REQUEST.address)
    assert event.at.tzinfo is not None
    assert abs(datetime.now(UTC) - event.at) < timedelta(minutes=1)


# -- one event for every change -----------------------------------------------------------------


def test_creating_a_contract_records_its_whole_state_after(session: Session, staff: Actor) -> None:
    before = events(session)
    contract = contracts.create_contract(
        session, staff, {**A_TERMS, "name": "Second"}, code="AUD-2", request=REQUEST
    )

    (event,) = new_events(session, before)
    assert_event(event, staff, "create", "contract", contract, contract)
    assert event.before is None
    after = loaded(event.after)
    assert (after["code"], after["status"], after["archived"]) == ("AUD-2", "draft", False)
    assert after["terms"]["name"] == "Second"
    assert after["terms"]["price"]["base"] == "1200000.00"


def test_editing_terms_records_the_changed_field_before_and_after(
    session: Session, staff: Actor, contract_id: int
) -> None:
    v0 = version_of(session, contract_id)
    before = events(session)
    contracts.update_terms(
        session,
        staff,
        contract_id,
        with_price(A_TERMS, "1300000.00"),
        expected_version=v0,
        request=REQUEST,
    )

    (event,) = new_events(session, before)
    assert_event(event, staff, "update", "contract", contract_id, contract_id)
    assert changed_fields(loaded(event.before), loaded(event.after)) == (
        ("terms.price.base", "1200000.00", "1300000.00"),
    )


def test_archiving_and_restoring_are_recorded(
    session: Session, staff: Actor, contract_id: int
) -> None:
    v0 = version_of(session, contract_id)
    before = events(session)
    contracts.set_archived(session, staff, contract_id, True, expected_version=v0, request=REQUEST)
    version = version_of(session, contract_id)
    contracts.set_archived(
        session, staff, contract_id, False, expected_version=version, request=REQUEST
    )

    archive, restore = new_events(session, before)
    assert_event(archive, staff, "archive", "contract", contract_id, contract_id)
    assert_event(restore, staff, "restore", "contract", contract_id, contract_id)
    assert changed_fields(loaded(archive.before), loaded(archive.after)) == (
        ("archived", "False", "True"),
    )
    assert changed_fields(loaded(restore.before), loaded(restore.after)) == (
        ("archived", "True", "False"),
    )


def test_deleting_a_contract_records_it_and_the_event_outlives_the_contract(
    session: Session, staff: Actor, contract_id: int
) -> None:
    v0 = version_of(session, contract_id)
    before = events(session)
    contracts.delete_contract(session, staff, contract_id, expected_version=v0, request=REQUEST)

    (event,) = new_events(session, before)
    assert_event(event, staff, "delete", "contract", contract_id, contract_id)
    assert loaded(event.before)["terms"]["name"] == "Audited contract"
    assert event.after is None
    with session.begin():
        assert session.get(Contract, contract_id) is None
    kept = [e.action for e in events(session) if e.contract_id == contract_id]
    assert kept == ["create", "delete"]
    assert [e.action for e in audit.contract_history(session, contract_id)] == ["delete", "create"]


def test_scenario_changes_and_promotion_are_recorded_on_the_contract(
    session: Session, staff: Actor, contract_id: int
) -> None:
    v0 = version_of(session, contract_id)
    before = events(session)
    scenario = scenarios.create_scenario(
        session, staff, contract_id, "Cheaper", with_price(A_TERMS, "1100000.00"), REQUEST
    )
    scenarios.update_scenario(
        session,
        staff,
        scenario,
        "Much cheaper",
        with_price(A_TERMS, "1000000.00"),
        expected_version=1,
        request=REQUEST,
    )
    scenarios.promote_scenario(
        session, staff, scenario, expected_contract_version=v0, request=REQUEST
    )
    scenarios.delete_scenario(session, staff, scenario, expected_version=2, request=REQUEST)

    create, update, promote, delete = new_events(session, before)
    assert_event(create, staff, "create", "scenario", scenario, contract_id)
    assert_event(update, staff, "update", "scenario", scenario, contract_id)
    assert_event(promote, staff, "promote", "contract", contract_id, contract_id)
    assert_event(delete, staff, "delete", "scenario", scenario, contract_id)
    assert loaded(create.after)["name"] == "Cheaper"
    assert changed_fields(loaded(update.before), loaded(update.after)) == (
        ("name", "Cheaper", "Much cheaper"),
        ("terms.price.base", "1100000.00", "1000000.00"),
    )
    assert changed_fields(loaded(promote.before), loaded(promote.after)) == (
        ("from_scenario", None, "Much cheaper"),
        ("terms.price.base", "1200000.00", "1000000.00"),
    )
    assert loaded(delete.before)["name"] == "Much cheaper"
    assert delete.after is None


# -- refused changes leave no event -------------------------------------------------------------


def test_refused_changes_write_no_event(session: Session, staff: Actor, contract_id: int) -> None:
    v0 = version_of(session, contract_id)
    contracts.update_terms(
        session, staff, contract_id, with_price(A_TERMS, "1250000.00"), expected_version=v0
    )
    scenario = scenarios.create_scenario(session, staff, contract_id, "S", A_TERMS)
    before = events(session)
    finance = replace(staff, memberships=dict.fromkeys(staff.memberships, "finance"))

    with pytest.raises(InvalidTerms):
        contracts.update_terms(
            session, staff, contract_id, with_price(A_TERMS, "-1"), expected_version=v0 + 1
        )
    with pytest.raises(InvalidTerms):
        contracts.create_contract(session, staff, {**A_TERMS, "term_years": 0})
    with pytest.raises(StaleEdit):
        contracts.update_terms(
            session, staff, contract_id, with_price(A_TERMS, "1.00"), expected_version=v0
        )
    with pytest.raises(StaleEdit):
        contracts.set_archived(session, staff, contract_id, True, expected_version=v0)
    with pytest.raises(StaleEdit):
        scenarios.update_scenario(session, staff, scenario, "T", A_TERMS, expected_version=7)
    with pytest.raises(StaleEdit):
        scenarios.promote_scenario(session, staff, scenario, expected_contract_version=v0)
    with pytest.raises(Forbidden):
        contracts.set_archived(session, finance, contract_id, True, expected_version=v0 + 1)
    with pytest.raises(InvalidTerms):
        scenarios.create_scenario(session, staff, contract_id, "", A_TERMS)

    assert new_events(session, before) == []
    assert version_of(session, contract_id) == v0 + 1


def test_the_event_is_part_of_the_changes_transaction(
    session: Session, staff: Actor, contract_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    v0 = version_of(session, contract_id)
    real_record = audit.record

    def broken_record(session: Session, actor: Actor, *args: Any, **kwargs: Any) -> None:
        # An event the database refuses (actor is NOT NULL) when the transaction commits.
        real_record(session, replace(actor, label=None), *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(contracts, "record", broken_record)
    before = events(session)

    with pytest.raises(DBAPIError):
        contracts.update_terms(
            session, staff, contract_id, with_price(A_TERMS, "1300000.00"), expected_version=v0
        )
    session.rollback()

    assert new_events(session, before) == []
    with session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        assert (contract.version, json.loads(contract.terms)["price"]["base"]) == (
            v0,
            "1200000.00",
        )


# -- through the web: the request id and address ---------------------------------------------------


def test_a_change_made_on_a_page_records_the_request_id_and_address(
    app: Flask, session: Session, staff: Actor, contract_id: int
) -> None:
    v0 = version_of(session, contract_id)
    client = sign_in(app.test_client(), STAFF_EMAIL)
    before = events(session)

    response = client.post(
        f"/contracts/{contract_id}/archive",
        data={"version": str(v0)},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )

    assert response.status_code == 303
    (event,) = new_events(session, before)
    assert (event.action, event.actor, event.actor_user_id) == (
        "archive",
        STAFF_EMAIL,
        staff.user_id,
    )
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.address == "198.51.100.23"


# -- the history page ---------------------------------------------------------------------------


class _History(HTMLParser):
    """Each .history-entry section: its action (the <strong>) and its table's rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[dict[str, Any]] = []
        self._in: str | None = None
        self._cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "section" and "history-entry" in classes:
            self.entries.append({"action": "", "rows": []})
        elif self.entries and tag in ("strong", "td"):
            self._in = tag
            if tag == "td":
                self._cells.append("")
        elif tag == "tr":
            self._cells = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.entries and self._cells:
            self.entries[-1]["rows"].append(tuple(self._cells))
            self._cells = []
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "strong":
            self.entries[-1]["action"] += data.strip()
        elif self._in == "td":
            self._cells[-1] += data.strip()


def history_entries(body: str) -> list[dict[str, Any]]:
    parser = _History()
    parser.feed(body)
    return parser.entries


@pytest.fixture
def staff_client(app: Flask, staff: Actor) -> Any:
    return sign_in(app.test_client(), STAFF_EMAIL)


def test_the_history_page_lists_changes_newest_first_with_before_and_after(
    session: Session, staff: Actor, contract_id: int, staff_client: Any
) -> None:
    v0 = version_of(session, contract_id)
    contracts.update_terms(
        session, staff, contract_id, with_price(A_TERMS, "1300000.00"), expected_version=v0
    )
    contracts.set_archived(session, staff, contract_id, True, expected_version=v0 + 1)

    response = staff_client.get(f"/contracts/{contract_id}/history")

    assert response.status_code == 200
    entries = history_entries(response.text)
    assert [entry["action"] for entry in entries] == ["archive", "update", "create"]
    assert entries[0]["rows"] == [("archived", "False", "True")]
    assert entries[1]["rows"] == [("terms.price.base", "1200000.00", "1300000.00")]
    assert ("status", "—", "draft") in entries[2]["rows"]
    assert f"by {STAFF_EMAIL}" in response.text
    assert "by system" in response.text


def test_the_history_of_a_contract_is_404_for_another_organisation(
    app: Flask, contract_id: int, staff: Actor
) -> None:
    add_user(app, "staff@org-b.test", ("Org B Buyer",), "staff")
    foreign = sign_in(app.test_client(), "staff@org-b.test")

    response = foreign.get(f"/contracts/{contract_id}/history")

    assert response.status_code == 404
    assert "Audited contract" not in response.text


# -- append-only --------------------------------------------------------------------------------


def test_the_mapper_refuses_to_change_or_remove_an_audit_event(
    app: Flask, contract_id: int
) -> None:
    with new_session(app) as session:
        session.begin()
        event = session.scalars(select(AuditEvent)).one()
        event.actor = "someone else"
        with pytest.raises(AuditIsAppendOnly):
            session.flush()
        session.rollback()
        session.begin()
        event = session.scalars(select(AuditEvent)).one()
        session.delete(event)
        with pytest.raises(AuditIsAppendOnly):
            session.flush()
        session.rollback()
    with new_session(app) as session:
        (event,) = events(session)
    assert (event.actor, event.action) == ("system", "create")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone else'",
        "UPDATE audit_events SET after = NULL WHERE id = (SELECT MIN(id) FROM audit_events)",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_remove_audit_rows(
    app: Flask, contract_id: int, statement: str
) -> None:
    engine = engine_of(app)
    with new_session(app) as session:
        before = [(e.id, e.actor, e.after) for e in events(session)]

    with pytest.raises(DBAPIError) as caught, engine.begin() as connection:
        connection.execute(text(statement))

    assert "append-only" in str(caught.value)
    with new_session(app) as session:
        assert [(e.id, e.actor, e.after) for e in events(session)] == before
    assert len(before) == 1


# -- account changes ----------------------------------------------------------------------------


def test_account_changes_are_audited_without_any_password(app: Flask, session: Session) -> None:
    org = accounts.create_organisation(session, SYSTEM, "Org C", REQUEST)
    admin = Actor(user_id=None, label="admin of Org C", memberships={org: "admin"})
    before = events(session)
    password, new_password = "first password here", "second password here"

    user_id = accounts.create_user(
        session,
        admin,
        email="Cleo@Example.com",
        name="Cleo",
        password=password,
        organisation="Org C",
        role="finance",
        request=REQUEST,
    )
    accounts.set_disabled(session, admin, "cleo@example.com", True, REQUEST)
    accounts.set_disabled(session, admin, "cleo@example.com", False, REQUEST)
    accounts.reset_password(session, admin, "cleo@example.com", new_password, REQUEST)

    create, disable, enable, reset = new_events(session, before)
    for event, action in ((create, "create"), (disable, "disable"), (enable, "enable"),
                          (reset, "reset-password")):  # fmt: skip
        assert_event(event, admin, action, "user", user_id, None)
    assert loaded(create.after) == {
        "email": "cleo@example.com",
        "name": "Cleo",
        "organisation": "Org C",
        "role": "finance",
    }
    assert (loaded(disable.before), loaded(disable.after)) == (
        {"disabled": False},
        {"disabled": True},
    )
    assert (loaded(enable.before), loaded(enable.after)) == (
        {"disabled": True},
        {"disabled": False},
    )
    with session.begin():
        hashes = session.scalars(select(User.password_hash)).all()
    for event in events(session):
        recorded = f"{event.before} {event.after}"
        assert password not in recorded
        assert new_password not in recorded
        assert not any(stored in recorded for stored in hashes)
        assert "$argon2" not in recorded
    with session.begin():
        organisation_events = session.scalars(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "organisation")
        ).one()
    assert organisation_events == 1


def test_an_account_change_on_the_admin_page_is_audited_with_the_request(
    app: Flask, session: Session
) -> None:
    add_user(app, "admin@org-a.test", ("Org A Buyer",), "admin")
    add_user(app, "finance@org-a.test", ("Org A Buyer",), "finance")
    client = sign_in(app.test_client(), "admin@org-a.test")
    before = events(session)

    response = client.post("/admin/users/disable", data={"email": "finance@org-a.test"})

    assert response.status_code == 303
    (event,) = new_events(session, before)
    assert (event.action, event.entity, event.actor) == ("disable", "user", "admin@org-a.test")
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.address == "127.0.0.1"


ON_SQLITE = not os.environ.get("TRACKER_TEST_DATABASE_URL")


def test_the_history_of_a_new_contract_never_shows_a_deleted_contracts_events(
    app: Flask, session: Session, staff: Actor, staff_client: Any
) -> None:
    b_terms = {**A_TERMS, "name": "Org B secret deal", "buyer": "Org B Buyer",
               "vendor": "Org B Vendor"}  # fmt: skip
    deleted = contracts.create_contract(session, SYSTEM, b_terms)
    contracts.delete_contract(
        session, SYSTEM, deleted, expected_version=version_of(session, deleted)
    )

    mine = contracts.create_contract(session, staff, {**A_TERMS, "name": "Mine"})
    response = staff_client.get(f"/contracts/{mine}/history")

    assert response.status_code == 200
    assert [entry["action"] for entry in history_entries(response.text)] == ["create"]
    assert "Org B secret deal" not in response.text
