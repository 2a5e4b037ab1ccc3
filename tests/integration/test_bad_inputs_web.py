"""Bad input and hostile use through the web and the JSON API: rows 3 to 9 and 15 of
shared/spec/bad-inputs.md. Every refusal also stores nothing and shows no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_PARTIES, TEST_PASSWORD, TESTER, add_user
from flask import Flask
from flask.testing import FlaskClient
from html_tree import html
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tracker.app import create_app
from tracker.db.models import Contract, Organisation, Scenario
from tracker.db.session import engine_of
from tracker.services.access import SYSTEM
from tracker.services.contracts import contract_view, create_contract
from tracker.services.scenarios import create_scenario

DATA = Path(__file__).resolve().parents[1] / "data"
FIXED_JSON = (DATA / "fixed-5y.json").read_text(encoding="utf-8")
EXAMPLE: dict[str, Any] = json.loads(FIXED_JSON)
#: The fixed-5y example as the new-contract form sends it.
FORM = {
    "name": EXAMPLE["name"],
    "code": "",
    "buyer": EXAMPLE["buyer"],
    "vendor": EXAMPLE["vendor"],
    "currency": "EUR",
    "start_date": "2025-01-01",
    "term_years": "5",
    "price_base": "1200000.00",
    "escalation_method": "fixed",
    "fixed_rate": "0.03",
    "baseline": "1000000.00",
    "inflation": "0.025",
    "efficiency": "0.04",
    "reinvest": "0.50",
    "buyer_share": "0.10",
    "discount_rate": "0.08",
}
SCENARIO_FORM = {k: v for k, v in FORM.items() if k not in ("name", "code", "buyer", "vendor")}
THREE_MB = b"x" * (3 * 1024 * 1024)


# -- a small HTML tree: elements by id, and the element after one -------------------------


def message_next_to(response: TestResponse, field: str) -> str:
    """The error shown right after the field's control (Bootstrap's invalid-feedback)."""
    control = html(response).by_id(field)
    assert "is-invalid" in control.classes, f"{field} is not marked invalid"
    feedback = control.next_element()
    assert feedback is not None, f"nothing after {field}"
    assert "invalid-feedback" in feedback.classes, f"no message next to {field}"
    return feedback.text


# -- what is stored ---------------------------------------------------------------------


def stored(session: Session) -> dict[str, int]:
    """How many contracts, organisations and scenarios the database holds now."""
    with session.begin():
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Contract, Organisation, Scenario)
        }


def assert_refused(response: TestResponse, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[-1500:]
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.fixture
def contract_id(session: Session) -> int:
    return create_contract(session, SYSTEM, EXAMPLE, code="MWS-2025")


@pytest.fixture
def scenario_id(session: Session, contract_id: int) -> int:
    return create_scenario(session, SYSTEM, contract_id, "Four per cent", json.loads(FIXED_JSON))


# -- row 3: form posts without a CSRF token ------------------------------------------------


@pytest.fixture
def csrf_client(app: Flask, database_url: str) -> Iterator[FlaskClient]:
    """A client of the application with CSRF checks on (``app`` empties the tables after),
    signed in as staff of every test party through the login page, which needs the
    page's CSRF token too: the refusals below are CSRF refusals, not missing sign-ins."""
    protected = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": True,
        }
    )
    add_user(app, TESTER, TEST_PARTIES)
    client = protected.test_client()
    token = html(client.get("/login")).by_id("csrf_token").attrs["value"]
    assert token
    signed_in = client.post(
        "/login", data={"email": TESTER, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)[-1500:]
    yield client
    engine_of(protected).dispose()


def test_row_3_signing_in_without_a_csrf_token_is_refused_with_400(
    app: Flask, database_url: str
) -> None:
    # The login form is protected as well: csrf_client above has to use the page's token.
    protected = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": True}
    )
    add_user(app, TESTER, ())
    try:
        client = protected.test_client()
        response = client.post("/login", data={"email": TESTER, "password": TEST_PASSWORD})
        assert_refused(response, 400)
        assert "did not come from this site" in html(response).by_id("error-message").text
        assert client.get("/").status_code == 302
    finally:
        engine_of(protected).dispose()


def test_row_3_a_new_contract_without_a_csrf_token_is_refused_with_400(
    csrf_client: FlaskClient, session: Session
) -> None:
    before = stored(session)
    response = csrf_client.post("/contracts/new", data=FORM)
    assert_refused(response, 400)
    assert "did not come from this site" in html(response).by_id("error-message").text
    assert stored(session) == before


def test_row_3_a_new_contract_with_a_forged_csrf_token_is_refused_with_400(
    csrf_client: FlaskClient, session: Session
) -> None:
    before = stored(session)
    response = csrf_client.post("/contracts/new", data={**FORM, "csrf_token": "forged"})
    assert_refused(response, 400)
    assert stored(session) == before


def test_row_3_the_same_form_with_the_pages_csrf_token_is_accepted(
    csrf_client: FlaskClient, session: Session
) -> None:
    token = html(csrf_client.get("/contracts/new")).by_id("csrf_token").attrs["value"]
    assert token
    response = csrf_client.post("/contracts/new", data={**FORM, "csrf_token": token})
    assert response.status_code == 303
    assert stored(session)["contracts"] == 1


def test_row_3_archiving_without_a_csrf_token_is_refused_with_400(
    csrf_client: FlaskClient, session: Session, contract_id: int
) -> None:
    version = contract_view(session, SYSTEM, contract_id).version
    response = csrf_client.post(f"/contracts/{contract_id}/archive", data={"version": version})
    assert_refused(response, 400)
    session.expire_all()
    assert contract_view(session, SYSTEM, contract_id).archived_at is None


def test_row_3_deleting_without_a_csrf_token_is_refused_with_400(
    csrf_client: FlaskClient, session: Session, contract_id: int
) -> None:
    before = stored(session)
    version = contract_view(session, SYSTEM, contract_id).version
    response = csrf_client.post(f"/contracts/{contract_id}/delete", data={"version": version})
    assert_refused(response, 400)
    assert stored(session) == before


def test_row_3_promoting_without_a_csrf_token_is_refused_with_400(
    csrf_client: FlaskClient, session: Session, contract_id: int
) -> None:
    changed = {
        **EXAMPLE,
        "price": {"base": "1000.00", "escalation": {"method": "fixed", "rate": "0"}},
    }
    scenario = create_scenario(session, SYSTEM, contract_id, "Much cheaper", changed)
    before = contract_view(session, SYSTEM, contract_id)
    response = csrf_client.post(
        f"/scenarios/{scenario}/promote", data={"contract_version": before.version}
    )
    assert_refused(response, 400)
    session.expire_all()
    after = contract_view(session, SYSTEM, contract_id)
    assert after.document == before.document
    assert after.version == before.version


def test_row_3_the_json_api_takes_no_csrf_token_but_needs_json(
    csrf_client: FlaskClient, session: Session
) -> None:
    form_encoded = csrf_client.post("/api/contracts", data={"document": FIXED_JSON})
    assert_refused(form_encoded, 415)
    assert stored(session)["contracts"] == 0
    response = csrf_client.post("/api/contracts", data=FIXED_JSON, content_type="application/json")
    assert response.status_code == 201


# -- row 4: state changes through GET -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/contracts/{contract}/archive",
        "/contracts/{contract}/restore",
        "/scenarios/{scenario}/promote",
        "/scenarios/{scenario}/delete",
    ],
)
def test_row_4_a_state_change_through_get_is_refused_with_405(
    client: FlaskClient, session: Session, contract_id: int, scenario_id: int, url: str
) -> None:
    before = contract_view(session, SYSTEM, contract_id)
    response = client.get(url.format(contract=contract_id, scenario=scenario_id))
    assert_refused(response, 405)
    session.expire_all()
    after = contract_view(session, SYSTEM, contract_id)
    assert after.archived_at is None
    assert after.version == before.version
    assert [s.id for s in after.scenarios] == [scenario_id]


# -- row 5: amounts and rates that are not plain decimals in range ----------------------------


@pytest.mark.parametrize(
    "price",
    ["NaN", "Infinity", "-Infinity", "1e999999", "12.345", "-0", "1" * 40, "1,234.56", "0"],
)
def test_row_5_a_price_that_is_not_a_plain_amount_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, price: str
) -> None:
    response = client.post("/contracts/new", data={**FORM, "price_base": price})
    assert_refused(response, 422)
    message = message_next_to(response, "price_base")
    assert (
        "expected an amount in EUR greater than 0, below 1,000,000,000,000,000, "
        "with at most 2 decimal places" in message
    )
    assert stored(session)["contracts"] == 0


@pytest.mark.parametrize("price", ["1,234.56", "NaN", "1e3"])
def test_row_5_a_price_in_another_notation_is_told_to_be_written_as_plain_decimals(
    client: FlaskClient, price: str
) -> None:
    response = client.post("/contracts/new", data={**FORM, "price_base": price})
    assert "written as plain decimals such as 1234.56" in message_next_to(response, "price_base")


@pytest.mark.parametrize(
    "field", ["fixed_rate", "inflation", "efficiency", "reinvest", "buyer_share", "discount_rate"]
)
def test_row_5_a_rate_with_seven_decimal_places_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, field: str
) -> None:
    response = client.post("/contracts/new", data={**FORM, field: "0.0000001"})
    assert_refused(response, 422)
    assert "with at most 6 decimal places" in message_next_to(response, field)
    assert stored(session)["contracts"] == 0


def test_row_5_a_baseline_with_too_many_places_is_refused_next_to_the_field(
    client: FlaskClient, session: Session
) -> None:
    response = client.post("/contracts/new", data={**FORM, "baseline": "1000.001"})
    assert_refused(response, 422)
    assert "at most 2 decimal places" in message_next_to(response, "baseline")
    assert stored(session)["contracts"] == 0


# -- row 6: JSON documents the API refuses -----------------------------------------------------


def post_json(
    client: FlaskClient, body: str | bytes, mimetype: str = "application/json"
) -> TestResponse:
    return client.post("/api/contracts", data=body, content_type=mimetype)


def replaced(old: str, new: str) -> str:
    body = FIXED_JSON.replace(old, new)
    assert body != FIXED_JSON, f"{old} is not in the example"
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (replaced('"base": "1200000.00"', '"base": NaN'), "document"),
        (replaced('"base": "1200000.00"', '"base": Infinity'), "document"),
        (replaced('"base": "1200000.00"', '"base": 1e400'), "price.base"),
        (replaced('"discount_rate": "0.08"', '"discount_rate": NaN'), "document"),
        (replaced('"currency": "EUR",', '"currency": "EUR", "currency": "USD",'), "document"),
        (replaced('"rate": "0.03"', '"rate": "0.03", "rate": "0.04"'), "document"),
        ("[]", "document"),
    ],
    ids=[
        "NaN price",
        "Infinity price",
        "1e400 price",
        "NaN rate",
        "duplicate key",
        "nested duplicate key",
        "not an object",
    ],
)
def test_row_6_json_with_numbers_or_keys_the_model_cannot_take_is_refused_with_422(
    client: FlaskClient, session: Session, body: str, field: str
) -> None:
    before = stored(session)
    response = post_json(client, body)
    assert_refused(response, 422)
    errors = response.get_json()["errors"]
    assert errors
    assert field in [error["field"] for error in errors]
    assert all(error["message"] for error in errors)
    assert stored(session) == before


@pytest.mark.parametrize(
    "body",
    [FIXED_JSON[:-10], "{'name': 'single quotes'}", "", b"\xff\xfe{}", "{} {}"],
    ids=["truncated", "single quotes", "empty", "not UTF-8", "two documents"],
)
def test_row_6_malformed_json_is_refused_with_400(
    client: FlaskClient, session: Session, body: str | bytes
) -> None:
    before = stored(session)
    response = post_json(client, body)
    assert_refused(response, 400)
    assert response.get_json()["errors"][0]["field"] == "document"
    assert stored(session) == before


@pytest.mark.parametrize("mimetype", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_row_6_a_document_of_another_content_type_is_refused_with_415(
    client: FlaskClient, session: Session, mimetype: str
) -> None:
    response = post_json(client, FIXED_JSON, mimetype)
    assert_refused(response, 415)
    assert response.get_json()["error"]
    assert stored(session)["contracts"] == 0


def test_row_6_a_valid_document_is_stored_with_201_and_its_location(
    client: FlaskClient, session: Session
) -> None:
    response = post_json(client, FIXED_JSON)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/contracts/{body['id']}"
    assert client.get(response.headers["Location"]).get_json()["id"] == body["id"]
    assert stored(session)["contracts"] == 1


def test_row_6_a_malformed_code_in_the_api_is_refused_with_422(
    client: FlaskClient, session: Session
) -> None:
    response = client.post(
        "/api/contracts?code=bad code!", data=FIXED_JSON, content_type="application/json"
    )
    assert stored(session)["contracts"] == 0
    assert_refused(response, 422)


# -- row 7: bodies that are too large ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "mimetype"),
    [
        ("/contracts/new", "application/x-www-form-urlencoded"),
        ("/contracts/new", "multipart/form-data; boundary=x"),
        ("/api/contracts", "application/json"),
    ],
)
def test_row_7_a_body_over_2_mb_is_refused_with_413(
    client: FlaskClient, session: Session, url: str, mimetype: str
) -> None:
    response = client.post(url, data=THREE_MB, content_type=mimetype)
    assert_refused(response, 413)
    assert stored(session)["contracts"] == 0


def test_row_7_a_terms_document_over_1_mb_is_refused_with_413(
    client: FlaskClient, session: Session
) -> None:
    body = json.dumps({**EXAMPLE, "name": "x" * 1_100_000})
    response = post_json(client, body)
    assert_refused(response, 413)
    assert stored(session)["contracts"] == 0


def test_row_7_the_application_keeps_serving_after_a_refused_body(
    client: FlaskClient, session: Session
) -> None:
    assert_refused(
        client.post("/api/contracts", data=THREE_MB, content_type="application/json"), 413
    )
    assert post_json(client, FIXED_JSON).status_code == 201
    assert stored(session)["contracts"] == 1


# -- row 8: control characters and overlong text -----------------------------------------------


NAMES = [
    ("a\x00b", "contains the control character U+0000"),
    ("alarm \x07 bell", "contains the control character U+0007"),
    ("right\u202eto left", "contains the control character U+202E"),
    ("x" * 10_000, "expected at most 200 characters, got 10000"),
]
NAME_IDS = ["NUL", "U+0007", "U+202E", "10,000 characters"]


@pytest.mark.parametrize(("name", "message"), NAMES, ids=NAME_IDS)
def test_row_8_a_name_with_control_characters_or_too_long_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, name: str, message: str
) -> None:
    response = client.post("/contracts/new", data={**FORM, "name": name})
    assert_refused(response, 422)
    assert message in message_next_to(response, "name")
    assert stored(session)["contracts"] == 0


@pytest.mark.parametrize(("name", "message"), NAMES, ids=NAME_IDS)
def test_row_8_a_buyer_with_control_characters_or_too_long_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, name: str, message: str
) -> None:
    # The signed-in client's organisations exist already: no new one may be added.
    before = stored(session)
    response = client.post("/contracts/new", data={**FORM, "buyer": name})
    assert_refused(response, 422)
    assert message in message_next_to(response, "buyer")
    assert stored(session) == {**before, "contracts": 0, "scenarios": 0}


@pytest.mark.parametrize(("name", "message"), NAMES, ids=NAME_IDS)
def test_row_8_the_api_refuses_the_same_names_on_their_field(
    client: FlaskClient, session: Session, name: str, message: str
) -> None:
    response = post_json(client, json.dumps({**EXAMPLE, "name": name}))
    assert_refused(response, 422)
    assert {"field": "name", "message": message} in response.get_json()["errors"]
    assert stored(session)["contracts"] == 0


@pytest.mark.parametrize(("name", "message"), NAMES, ids=NAME_IDS)
def test_row_8_a_scenario_name_with_control_characters_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, contract_id: int, name: str, message: str
) -> None:
    response = client.post(
        f"/contracts/{contract_id}/scenarios/new", data={**SCENARIO_FORM, "scenario_name": name}
    )
    assert_refused(response, 422)
    assert message in message_next_to(response, "scenario_name")
    assert stored(session)["scenarios"] == 0


# -- row 9: markup in text fields -------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="x'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_ATTRIBUTE = ("&#34; onmouseover=&#34;x", "&quot; onmouseover=&quot;x")


@pytest.fixture
def hostile(client: FlaskClient) -> tuple[int, int]:
    """A contract named with a script tag, whose buyer breaks out of an attribute, and a
    scenario named with the script tag; all stored through the forms."""
    response = client.post("/contracts/new", data={**FORM, "name": SCRIPT, "buyer": ATTRIBUTE})
    assert response.status_code == 303
    contract = int(response.headers["Location"].rsplit("/", 1)[1])
    response = client.post(
        f"/contracts/{contract}/scenarios/new",
        data={**SCENARIO_FORM, "scenario_name": SCRIPT, "fixed_rate": "0.04"},
    )
    assert response.status_code == 303
    return contract, int(response.headers["Location"].rsplit("/", 1)[1])


def assert_markup_is_inert(response: TestResponse) -> None:
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert SCRIPT not in text
    assert ATTRIBUTE not in text
    page = html(response)
    assert not [node for node in page.iter() if node.tag == "script" and "alert" in node.text]
    assert not [node for node in page.iter() if "onmouseover" in node.attrs]


@pytest.mark.parametrize(
    ("url", "shows_buyer"),
    [
        ("/", True),
        ("/contracts/{contract}", True),
        ("/contracts/{contract}/edit", True),
        ("/contracts/{contract}/delete", False),
        ("/contracts/{contract}/compare?s={scenario}", False),
        ("/contracts/{contract}/scenarios/new", False),
        ("/scenarios/{scenario}/edit", False),
    ],
)
def test_row_9_markup_in_names_and_parties_is_shown_escaped(
    client: FlaskClient, hostile: tuple[int, int], url: str, shows_buyer: bool
) -> None:
    contract, scenario = hostile
    response = client.get(url.format(contract=contract, scenario=scenario))
    assert_markup_is_inert(response)
    text = response.get_data(as_text=True)
    assert ESCAPED_SCRIPT in text
    if shows_buyer:
        assert any(escaped in text for escaped in ESCAPED_ATTRIBUTE)


def test_row_9_the_terms_document_keeps_the_exact_text(
    client: FlaskClient, hostile: tuple[int, int]
) -> None:
    contract, _scenario = hostile
    document = json.loads(client.get(f"/contracts/{contract}/terms.json").data)
    assert document["name"] == SCRIPT
    assert document["buyer"] == ATTRIBUTE
    api = client.get(f"/api/contracts/{contract}").get_json()
    assert api["terms"]["name"] == SCRIPT


def test_row_9_the_csv_has_no_text_column_to_carry_markup(
    client: FlaskClient, hostile: tuple[int, int]
) -> None:
    contract, scenario = hostile
    for url in (f"/contracts/{contract}/schedule.csv", f"/scenarios/{scenario}/schedule.csv"):
        response = client.get(url)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "script" not in text
        assert "onmouseover" not in text


def test_row_9_the_error_page_escapes_markup_in_the_address(client: FlaskClient) -> None:
    response = client.get("/contracts/1/compare?s=<script>alert(1)</script>")
    assert_refused(response, 404)
    assert SCRIPT not in response.get_data(as_text=True)


# -- row 15: impossible dates and terms ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2025-02-30", '"2025-02-30" is not a calendar date'),
        ("9999-12-31", "expected a date written YYYY-MM-DD from 1970-01-01 to 2100-12-31"),
        ("1969-12-31", "expected a date written YYYY-MM-DD from 1970-01-01 to 2100-12-31"),
        ("tomorrow", "expected a date written YYYY-MM-DD from 1970-01-01 to 2100-12-31"),
        ("2025-1-1", "expected a date written YYYY-MM-DD from 1970-01-01 to 2100-12-31"),
        ("", "expected a date written YYYY-MM-DD from 1970-01-01 to 2100-12-31"),
    ],
)
def test_row_15_an_impossible_start_date_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, start: str, message: str
) -> None:
    response = client.post("/contracts/new", data={**FORM, "start_date": start})
    assert_refused(response, 422)
    assert message in message_next_to(response, "start_date")
    assert stored(session)["contracts"] == 0


@pytest.mark.parametrize("years", ["0", "31", "abc", "2.5", "-1", ""])
def test_row_15_a_term_that_is_not_1_to_30_whole_years_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, years: str
) -> None:
    response = client.post("/contracts/new", data={**FORM, "term_years": years})
    assert_refused(response, 422)
    assert "expected a whole number from 1 to 30" in message_next_to(response, "term_years")
    assert stored(session)["contracts"] == 0
