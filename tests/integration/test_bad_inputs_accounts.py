"""Bad input and hostile use around accounts: rows 1-4, 7 and 20-23 of
shared/spec/bad-inputs.md, security headers on every response and the session cookie."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_PASSWORD, add_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug import formparser
from werkzeug.test import TestResponse

from tracker.app import UnsafeConfiguration, create_app
from tracker.db.account_models import LoginSession
from tracker.db.models import Contract, Organisation, Scenario
from tracker.db.session import engine_of, new_session
from tracker.domain.errors import InvalidTerms
from tracker.services import accounts
from tracker.services.access import SYSTEM
from tracker.services.contracts import create_contract
from tracker.services.scenarios import create_scenario

DATA = Path(__file__).resolve().parents[1] / "data"
BASE: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text("utf-8"))
A_TERMS = {**BASE, "name": "Org A contract", "buyer": "Org A Buyer", "vendor": "Org A Vendor"}
B_TERMS = {**BASE, "name": "Org B contract", "buyer": "Org B Buyer", "vendor": "Org B Vendor"}
A_STAFF, B_STAFF = "staff@org-a.test", "staff@org-b.test"
A_FORM = {
    "name": "Org A contract",
    "code": "A-1",
    "buyer": "Org A Buyer",
    "vendor": "Org A Vendor",
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
LOGIN_FAILED = "Unknown e-mail address or wrong password."
THREE_MB = b"x" * (3 * 1024 * 1024)
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_REQUEST_ID = re.compile(r"[0-9a-f]{16}")


def contract_row(app: Flask, contract_id: int) -> Contract:
    with new_session(app) as session, session.begin():
        contract = session.get(Contract, contract_id)
        assert contract is not None
        session.expunge(contract)
        return contract


def count(app: Flask, model: type[Any]) -> int:
    with new_session(app) as session, session.begin():
        return session.scalar(select(func.count()).select_from(model)) or 0


def org_id(app: Flask, name: str) -> int:
    with new_session(app) as session, session.begin():
        return session.scalars(select(Organisation.id).where(Organisation.name == name)).one()


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    """A contract with a scenario for each of organisations A and B, and a staff member each."""
    with new_session(app) as session:
        a = create_contract(session, SYSTEM, A_TERMS, code="A-1")
        b = create_contract(session, SYSTEM, B_TERMS, code="B-1")
        a_scenario = create_scenario(session, SYSTEM, a, "A what-if", A_TERMS)
    add_user(app, A_STAFF, ("Org A Buyer",), "staff")
    add_user(app, B_STAFF, ("Org B Buyer",), "staff")
    return {"a": a, "b": b, "a_scenario": a_scenario}


@pytest.fixture
def a_client(app: Flask, world: dict[str, int]) -> FlaskClient:
    return sign_in(app.test_client(), A_STAFF)


def normalised(response: TestResponse) -> str:
    """The body without what differs on every response: CSRF token and request id."""
    return _REQUEST_ID.sub("RID", _TOKEN.sub("csrf", response.get_data(as_text=True)))


# -- row 1: another organisation's objects, through the API too -----------------------------------


def test_row1_the_api_answers_404_for_another_organisations_contract_like_a_missing_one(
    a_client: FlaskClient, world: dict[str, int]
) -> None:
    foreign = a_client.get(f"/api/contracts/{world['b']}")
    missing = a_client.get("/api/contracts/999999")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.mimetype == missing.mimetype == "application/json"
    foreign_body, missing_body = foreign.get_json(), missing.get_json()
    assert sorted(foreign_body) == sorted(missing_body) == ["error", "request_id", "status"]
    assert foreign_body["error"] == f"no contract {world['b']}"
    assert missing_body["error"] == "no contract 999999"
    assert "Org B" not in foreign.text
    assert a_client.get(f"/api/contracts/{world['a']}").status_code == 200


# -- row 2: fields the role may not set -----------------------------------------------------------


def test_row2_extra_form_fields_change_neither_status_nor_parties(
    app: Flask, a_client: FlaskClient, world: dict[str, int]
) -> None:
    before = contract_row(app, world["a"])
    form = {
        **A_FORM,
        "price_base": "1300000.00",
        "version": str(before.version),
        "status": "active",
        "buyer_id": str(org_id(app, "Org B Buyer")),
        "vendor_id": str(org_id(app, "Org B Vendor")),
        "archived_at": "2025-01-01",
        "organisation": "Org B Buyer",
    }

    response = a_client.post(f"/contracts/{world['a']}/edit", data=form)

    assert response.status_code == 303  # the permitted change is made ...
    after = contract_row(app, world["a"])
    assert json.loads(after.terms)["price"]["base"] == "1300000.00"
    # ... the others are not
    assert (after.status, after.buyer_id, after.vendor_id, after.archived_at) == (
        "draft",
        before.buyer_id,
        before.vendor_id,
        None,
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"status": "active"}, "status"),
        ({"organisation": "Org B Buyer"}, "organisation"),
        ({"buyer_id": 1}, "buyer_id"),
    ],
)
def test_row2_the_api_refuses_fields_outside_the_terms(
    app: Flask, a_client: FlaskClient, world: dict[str, int], extra: dict[str, Any], field: str
) -> None:
    before = count(app, Contract)

    response = a_client.post("/api/contracts", json={**A_TERMS, "name": "New", **extra})

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [error["field"] for error in errors] == [field]
    assert "unknown field" in errors[0]["message"]
    assert count(app, Contract) == before


def test_row2_a_status_in_the_query_string_is_ignored(
    app: Flask, a_client: FlaskClient, world: dict[str, int]
) -> None:
    response = a_client.post("/api/contracts?status=active", json={**A_TERMS, "name": "New"})
    assert response.status_code == 201
    assert response.get_json()["status"] == "draft"


# -- row 3: CSRF ----------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application as in production: CSRF checks on (same database as ``app``)."""
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test secret key",
            "WTF_CSRF_ENABLED": True,
            "REPORTS_DIR": str(tmp_path / "reports"),
            "RATELIMIT_ENABLED": True,
        }
    )
    yield application
    engine_of(application).dispose()


def token_of(client: FlaskClient, url: str = "/login") -> str:
    found = _TOKEN.search(client.get(url).text)
    assert found is not None
    return found.group(1)


def csrf_sign_in(client: FlaskClient, email: str) -> FlaskClient:
    data = {"email": email, "password": TEST_PASSWORD, "csrf_token": token_of(client)}
    response = client.post("/login", data=data)
    assert response.status_code == 303, response.text
    return client


def test_row3_signing_in_without_a_csrf_token_is_400(
    app: Flask, csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_app.test_client()

    response = client.post("/login", data={"email": A_STAFF, "password": TEST_PASSWORD})

    assert response.status_code == 400
    assert "did not come from this site" in response.text
    assert count(app, LoginSession) == 0
    assert client.get("/").status_code == 302
    csrf_sign_in(client, A_STAFF)  # with the token it works
    assert client.get("/").status_code == 200


def test_row3_a_token_from_another_session_is_400(
    app: Flask, csrf_app: Flask, world: dict[str, int]
) -> None:
    attacker, victim = csrf_app.test_client(), csrf_app.test_client()
    attackers_token = token_of(attacker)
    csrf_sign_in(victim, A_STAFF)

    response = victim.post(
        f"/contracts/{world['a']}/archive",
        data={"version": str(contract_row(app, world["a"]).version), "csrf_token": attackers_token},
    )

    assert response.status_code == 400
    assert contract_row(app, world["a"]).archived_at is None


def test_row3_signed_in_forms_without_a_token_are_400_and_change_nothing(
    app: Flask, csrf_app: Flask, world: dict[str, int]
) -> None:
    add_user(app, "admin@org-a.test", ("Org A Buyer",), "admin")
    client = csrf_sign_in(csrf_app.test_client(), "admin@org-a.test")
    staff = csrf_sign_in(csrf_app.test_client(), A_STAFF)
    version = str(contract_row(app, world["a"]).version)

    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/admin/users/disable", data={"email": A_STAFF}).status_code == 400
    assert staff.get("/").status_code == 200  # not disabled
    archive = staff.post(f"/contracts/{world['a']}/archive", data={"version": version})
    assert archive.status_code == 400
    assert contract_row(app, world["a"]).archived_at is None

    token = token_of(client, "/")
    logout = client.post("/logout", data={"csrf_token": token})
    assert logout.status_code == 303
    assert client.get("/").status_code == 302


def test_row3_the_api_takes_json_only_so_a_cross_site_form_cannot_post_to_it(
    app: Flask, csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_sign_in(csrf_app.test_client(), A_STAFF)
    before = count(app, Contract)

    as_form = client.post("/api/contracts", data={"document": json.dumps(A_TERMS)})
    as_text = client.post("/api/contracts", data=json.dumps(A_TERMS), content_type="text/plain")

    assert as_form.status_code == as_text.status_code == 415
    assert count(app, Contract) == before


# -- row 4: state changes through GET -------------------------------------------------------------


def test_row4_state_changes_through_get_are_405(
    app: Flask, a_client: FlaskClient, world: dict[str, int]
) -> None:
    contract, scenario = world["a"], world["a_scenario"]
    before = contract_row(app, contract)
    urls = [
        "/logout",
        f"/contracts/{contract}/archive",
        f"/contracts/{contract}/restore",
        f"/scenarios/{scenario}/delete",
        f"/scenarios/{scenario}/promote",
        "/admin/users/disable",
        "/admin/users/enable",
        "/admin/users/reset-password",
        "/api/contracts",
    ]
    for url in urls:
        response = a_client.get(f"{url}?email={B_STAFF}&version={before.version}")
        assert response.status_code == 405, url

    assert a_client.get("/").status_code == 200  # GET /logout did not sign out
    # GET /contracts/<id>/delete only asks for confirmation
    assert a_client.get(f"/contracts/{contract}/delete").status_code == 200
    after = contract_row(app, contract)
    assert (after.version, after.archived_at) == (before.version, None)
    assert count(app, Scenario) == 1


def test_row4_a_405_names_the_allowed_method(a_client: FlaskClient, world: dict[str, int]) -> None:
    response = a_client.get(f"/contracts/{world['a']}/archive")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


# -- row 7: big bodies and big passwords ----------------------------------------------------------


class CountingHasher:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def hash(self, password: str) -> str:
        self.calls.append("hash")
        return str(self.inner.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self.calls.append("verify")
        return bool(self.inner.verify(stored, password))

    def check_needs_rehash(self, stored: str) -> bool:
        return bool(self.inner.check_needs_rehash(stored))


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(accounts._HASHER)
    monkeypatch.setattr(accounts, "_HASHER", counting)
    return counting


@pytest.mark.parametrize("size", [1024 * 1024, 20 * 1024])
def test_row7_a_huge_password_is_413_and_never_hashed(
    app: Flask, world: dict[str, int], hasher: CountingHasher, size: int
) -> None:
    client = app.test_client()

    response = client.post("/login", data={"email": A_STAFF, "password": "x" * size})

    assert response.status_code == 413
    assert hasher.calls == []
    assert count(app, LoginSession) == 0
    assert "Traceback" not in response.text


def test_row7_a_megabyte_sign_in_form_is_refused_before_it_is_parsed(
    app: Flask, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    real_parse = formparser.FormDataParser.parse

    def counting_parse(self: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real_parse(self, *args, **kwargs)

    monkeypatch.setattr(formparser.FormDataParser, "parse", counting_parse)

    response = app.test_client().post(
        "/login", data={"email": A_STAFF, "password": "x" * 1024 * 1024}
    )

    assert response.status_code == 413
    assert parsed == []


def test_row7_a_body_declared_as_200_mb_is_413_unread(
    app: Flask, a_client: FlaskClient, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    real_parse = formparser.FormDataParser.parse

    def counting_parse(self: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real_parse(self, *args, **kwargs)

    monkeypatch.setattr(formparser.FormDataParser, "parse", counting_parse)
    declared = {"CONTENT_LENGTH": str(200 * 1024 * 1024)}
    for client, url, content_type in [
        (app.test_client(), "/login", "application/x-www-form-urlencoded"),
        (a_client, "/contracts/new", "application/x-www-form-urlencoded"),
        (a_client, f"/contracts/{world['a']}/archive", "application/x-www-form-urlencoded"),
        (a_client, "/api/contracts", "application/json"),
    ]:
        response = client.post(
            url,
            input_stream=io.BytesIO(b"email=a"),
            content_type=content_type,
            environ_overrides=declared,
        )
        assert response.status_code == 413, url
    assert parsed == []
    assert count(app, Contract) == 2
    assert contract_row(app, world["a"]).archived_at is None


#: Path arguments naming follow-up records (any id: the body is refused before reading).
FOLLOW_UP_IDS = (
    "milestone_id", "concern_id", "meeting_id", "action_id", "influence_id",
    "alternative_id", "plan_action_id",
)  # fmt: skip


def test_row7_a_3_mb_body_to_every_post_route_is_413(
    app: Flask, csrf_app: Flask, world: dict[str, int], hasher: CountingHasher
) -> None:
    client = csrf_sign_in(csrf_app.test_client(), A_STAFF)
    hasher.calls.clear()
    # Ids of objects that need not exist: the body is refused before anything is read.
    values = {
        "contract_id": world["a"], "scenario_id": world["a_scenario"], "year": 1,
        "kpi_id": 1, "initiative_id": 1, "name": "curves", "number": 1,
        **dict.fromkeys(FOLLOW_UP_IDS, 1),
    }  # fmt: skip
    adapter = csrf_app.url_map.bind("localhost")
    posted = []
    for rule in csrf_app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        url = adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments}, method="POST")
        content_type = (
            "application/json" if url.startswith("/api/") else ("application/x-www-form-urlencoded")
        )
        response = client.post(url, data=THREE_MB, content_type=content_type)
        assert response.status_code == 413, url
        if url.startswith("/api/"):
            assert response.get_json()["status"] == 413
        else:
            assert "Too large" in response.text
        posted.append(rule.endpoint)
    assert {"auth.login", "auth.logout", "api.create", "contracts.edit"} <= set(posted)
    assert client.get("/").status_code == 200  # the logout was refused too
    assert hasher.calls == []
    assert count(app, Contract) == 2
    assert count(app, Scenario) == 1


# -- row 20: throttled sign-in, one message -------------------------------------------------------


@pytest.fixture
def throttled(app: Flask, world: dict[str, int]) -> Flask:
    app.config["LOGIN_ATTEMPTS"] = "3 per minute"
    return app


def login(
    app: Flask, email: str, password: str, address: str = "192.0.2.1", client: Any = None
) -> TestResponse:
    client = client or app.test_client()
    return client.post(  # type: ignore[no-any-return]
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_row20_failed_sign_ins_from_one_address_are_throttled(throttled: Flask) -> None:
    statuses = [
        login(throttled, f"nobody{n}@example.com", "wrong password").status_code for n in range(3)
    ]
    blocked = login(throttled, A_STAFF, TEST_PASSWORD)  # even the right password

    assert statuses == [401, 401, 401]
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert count(throttled, LoginSession) == 0
    # Another address is not affected.
    assert login(throttled, A_STAFF, TEST_PASSWORD, address="192.0.2.2").status_code == 303


def test_row20_failed_sign_ins_for_one_account_from_many_addresses_are_throttled(
    throttled: Flask,
) -> None:
    statuses = [
        login(throttled, A_STAFF, "wrong password", address=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    blocked = login(throttled, " Staff@Org-A.test ", TEST_PASSWORD, address="198.51.100.99")

    assert statuses == [401, 401, 401]
    assert blocked.status_code == 429
    # Another account from that same fresh address still signs in.
    assert login(throttled, B_STAFF, TEST_PASSWORD, address="198.51.100.99").status_code == 303


def test_row20_successful_sign_ins_do_not_count(throttled: Flask) -> None:
    successes = [login(throttled, A_STAFF, TEST_PASSWORD).status_code for _ in range(5)]
    failures = [login(throttled, A_STAFF, "wrong password").status_code for _ in range(3)]

    assert successes == [303] * 5
    assert failures == [401] * 3
    assert login(throttled, A_STAFF, TEST_PASSWORD).status_code == 429


def test_row20_unknown_account_wrong_password_and_disabled_account_read_the_same(
    throttled: Flask,
) -> None:
    add_user(throttled, "gone@org-a.test", ("Org A Buyer",), "staff")
    with new_session(throttled) as session:
        accounts.set_disabled(session, SYSTEM, "gone@org-a.test", True)
    cases = [
        ("nobody@org-a.test", "wrong password", "192.0.2.10"),
        (A_STAFF, "wrong password", "192.0.2.11"),
        ("gone@org-a.test", TEST_PASSWORD, "192.0.2.12"),
    ]
    responses = [login(throttled, email, password, address) for email, password, address in cases]

    bodies = {
        normalised(response).replace(email, "EMAIL")
        for response, (email, _p, _a) in zip(responses, cases, strict=True)
    }
    assert [response.status_code for response in responses] == [401, 401, 401]
    assert len(bodies) == 1
    assert LOGIN_FAILED in bodies.pop()
    headers = [
        sorted(
            (k, v)
            for k, v in r.headers.items()
            if k not in ("X-Request-ID", "Set-Cookie", "Content-Length")
        )
        for r in responses
    ]
    assert headers[0] == headers[1] == headers[2]


# -- row 21: next= only to paths of this site -----------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://elsewhere.example",
        "//elsewhere.example",
        "/\\elsewhere.example",
        "\\\\elsewhere.example",
        "javascript:alert(1)",
        "https:elsewhere.example",
        " //elsewhere.example",
        "/\t/elsewhere.example",
        "elsewhere.example",
    ],
)
def test_row21_next_to_another_site_lands_on_the_portfolio(
    app: Flask, world: dict[str, int], target: str
) -> None:
    response = app.test_client().post(
        "/login", query_string={"next": target}, data={"email": A_STAFF, "password": TEST_PASSWORD}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_row21_a_path_of_this_site_is_kept(app: Flask, world: dict[str, int]) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": "/contracts/1"},
        data={"email": A_STAFF, "password": TEST_PASSWORD},
    )
    assert response.headers["Location"] == "/contracts/1"


def test_row21_a_protected_page_leads_to_sign_in_and_back(
    app: Flask, world: dict[str, int]
) -> None:
    client = app.test_client()
    page = f"/contracts/{world['a']}/history"

    first = client.get(page)
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?next=")
    signed_in = client.post(login_url, data={"email": A_STAFF, "password": TEST_PASSWORD})
    assert signed_in.headers["Location"] == page
    assert client.get(page).status_code == 200


# -- row 22: replayed session cookies -------------------------------------------------------------


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("tracker_session")
    assert found is not None
    return found.value


def replayed(app: Flask, value: str) -> TestResponse:
    client = app.test_client()
    client.set_cookie("tracker_session", value)
    return client.get("/")


def assert_sent_to_sign_in(response: TestResponse) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_row22_a_cookie_replayed_after_logout_is_refused(app: Flask, a_client: FlaskClient) -> None:
    saved = cookie(a_client)
    assert replayed(app, saved).status_code == 200  # a copy works while signed in

    assert a_client.post("/logout").status_code == 303

    assert_sent_to_sign_in(replayed(app, saved))
    assert_sent_to_sign_in(a_client.get("/"))


def test_row22_a_cookie_is_refused_once_the_account_is_disabled(
    app: Flask, a_client: FlaskClient
) -> None:
    saved = cookie(a_client)
    with new_session(app) as session:
        accounts.set_disabled(session, SYSTEM, A_STAFF, True)

    assert_sent_to_sign_in(a_client.get("/"))
    assert_sent_to_sign_in(replayed(app, saved))
    with new_session(app) as session:
        accounts.set_disabled(session, SYSTEM, A_STAFF, False)
    assert_sent_to_sign_in(replayed(app, saved))  # enabling again does not revive it


def test_row22_a_cookie_is_refused_after_a_new_password(app: Flask, a_client: FlaskClient) -> None:
    with new_session(app) as session:
        accounts.reset_password(session, SYSTEM, A_STAFF, "a brand new password")
    assert_sent_to_sign_in(a_client.get("/"))


def test_row22_an_idle_session_is_refused(app: Flask, a_client: FlaskClient) -> None:
    with new_session(app) as session, session.begin():
        session.execute(
            update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=59))
        )
    assert a_client.get("/").status_code == 200  # 59 of 60 minutes: still live (and refreshed)
    with new_session(app) as session, session.begin():
        session.execute(
            update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=61))
        )

    assert_sent_to_sign_in(a_client.get("/"))
    assert count(app, LoginSession) == 0


def test_row22_the_idle_timeout_is_configurable(app: Flask, a_client: FlaskClient) -> None:
    assert a_client.get("/").status_code == 200
    app.config["IDLE_TIMEOUT_MINUTES"] = 0
    assert_sent_to_sign_in(a_client.get("/"))


def test_row22_a_session_cookie_from_before_sign_in_is_not_signed_in_afterwards(
    app: Flask, csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_app.test_client()
    token = token_of(client)
    before = cookie(client)  # the anonymous session (it holds the CSRF secret)
    client.post("/login", data={"email": A_STAFF, "password": TEST_PASSWORD, "csrf_token": token})

    assert cookie(client) != before
    assert client.get("/").status_code == 200
    assert_sent_to_sign_in(replayed(csrf_app, before))


# -- row 23: file names ---------------------------------------------------------------------------


def test_row23_download_names_are_made_of_the_contract_code_only(
    a_client: FlaskClient, world: dict[str, int]
) -> None:
    contract, scenario = world["a"], world["a_scenario"]
    expected = {
        f"/contracts/{contract}/schedule.csv": "attachment; filename=A-1-schedule.csv",
        f"/contracts/{contract}/schedule.xlsx": "attachment; filename=A-1-schedule.xlsx",
        f"/contracts/{contract}/terms.json": "attachment; filename=A-1-terms.json",
        f"/scenarios/{scenario}/schedule.csv": (
            f"attachment; filename=A-1-scenario-{scenario}-schedule.csv"
        ),
    }
    for url, disposition in expected.items():
        plain = a_client.get(url)
        hostile = a_client.get(
            url, query_string={"file": "../../app.py", "filename": "/etc/passwd"}
        )
        assert plain.status_code == hostile.status_code == 200, url
        assert plain.headers["Content-Disposition"] == disposition
        assert hostile.headers["Content-Disposition"] == disposition
        if not url.endswith(".xlsx"):  # a spreadsheet carries its creation time
            assert hostile.data == plain.data
        assert b"import" not in hostile.data


@pytest.mark.parametrize("code", ["../../APP", "..\\..\\APP", "A/B", "/ETC/PASSWD", ".."])
def test_row23_a_code_that_is_a_path_is_refused_everywhere(
    app: Flask, a_client: FlaskClient, world: dict[str, int], code: str
) -> None:
    before = count(app, Contract)
    with new_session(app) as session, pytest.raises(InvalidTerms) as caught:
        create_contract(session, SYSTEM, {**A_TERMS, "name": "Path"}, code=code)
    assert [error.path for error in caught.value.errors] == ["code"]

    api = a_client.post("/api/contracts", query_string={"code": code}, json=A_TERMS)
    assert api.status_code == 422
    assert [error["field"] for error in api.get_json()["errors"]] == ["code"]
    form = a_client.post("/contracts/new", data={**A_FORM, "code": code})
    assert form.status_code == 422
    assert count(app, Contract) == before


@pytest.mark.parametrize(
    "url",
    [
        "/static/../tracker/app.py",
        "/static/%2e%2e/tracker/app.py",
        "/static/..%2ftracker%2fapp.py",
        "/static/....//tracker/app.py",
        "/bootstrap/static/../../../tracker/app.py",
    ],
)
def test_row23_paths_in_static_urls_stay_inside_the_static_folder(
    a_client: FlaskClient, url: str
) -> None:
    response = a_client.get(url)
    assert response.status_code == 404
    assert b"create_app" not in response.data


# -- security headers on every response -----------------------------------------------------------


def assert_security_headers(response: TestResponse, what: str) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert "Strict-Transport-Security" not in headers, what  # plain HTTP
    if response.mimetype == "text/html":
        policy = headers.get("Content-Security-Policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert directives.get("frame-ancestors") == ["'none'"], what
        scripts = directives.get("script-src", directives.get("default-src"))
        assert scripts, what
        assert "'unsafe-inline'" not in scripts, what
        assert "'unsafe-eval'" not in scripts, what
        assert "*" not in scripts, what
        assert directives.get("object-src") == ["'none'"], what
        body = response.get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert "src=" in tag, f"{what}: inline script {tag}"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", body), f"{what}: inline event handler"


def test_every_kind_of_response_carries_the_security_headers(
    app: Flask, world: dict[str, int]
) -> None:
    def explode() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/explode", "explode", explode)
    app.config["LOGIN_ATTEMPTS"] = "1 per minute"
    anonymous = app.test_client()
    client = sign_in(app.test_client(), A_STAFF)
    contract = world["a"]

    responses = {
        "login page": (anonymous.get("/login"), 200),
        "redirect to sign in": (anonymous.get("/"), 302),
        "api not signed in": (anonymous.get(f"/api/contracts/{contract}"), 401),
        "portfolio": (client.get("/"), 200),
        "contract": (client.get(f"/contracts/{contract}"), 200),
        "form": (client.get(f"/contracts/{contract}/edit"), 200),
        "history": (client.get(f"/contracts/{contract}/history"), 200),
        "csv": (client.get(f"/contracts/{contract}/schedule.csv"), 200),
        "svg": (client.get(f"/contracts/{contract}/chart.svg"), 200),
        "static": (client.get("/static/css/tracker.css"), 200),
        "403": (client.get("/admin/users"), 403),
        "404": (client.get(f"/contracts/{world['b']}"), 404),
        "404 api": (client.get(f"/api/contracts/{world['b']}"), 404),
        "404 unknown url": (client.get("/no/such/page"), 404),
        "405": (client.get("/logout"), 405),
        "413": (client.post("/contracts/new", data=THREE_MB), 413),
        "500": (client.get("/explode"), 500),
        "401 login": (anonymous.post("/login", data={"email": "x@y.z", "password": "p"}), 401),
        "429": (anonymous.post("/login", data={"email": "x@y.z", "password": "p"}), 429),
    }

    for what, (response, status) in responses.items():
        response.close()
        assert response.status_code == status, what
        assert_security_headers(response, what)
    assert "boom" not in responses["500"][0].text
    assert responses["404"][0].mimetype == "text/html"


def test_hsts_is_sent_over_https_only(app: Flask, world: dict[str, int]) -> None:
    secure = app.test_client().get("/login", base_url="https://localhost")
    plain = app.test_client().get("/login")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in plain.headers


# -- the session cookie ---------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_and_same_site_lax(
    app: Flask, world: dict[str, int]
) -> None:
    response = app.test_client().post("/login", data={"email": A_STAFF, "password": TEST_PASSWORD})

    assert response.status_code == 303
    (set_cookie,) = [c for c in response.headers.getlist("Set-Cookie") if "tracker_session=" in c]
    attributes = [part.strip().lower() for part in set_cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert not any(attribute.startswith("expires=") for attribute in attributes)


def test_in_production_the_cookie_is_secure_and_the_key_must_be_real(
    app: Flask, database_url: str, tmp_path: Path, world: dict[str, int]
) -> None:
    config = {
        "DATABASE_URL": database_url,
        "REPORTS_DIR": str(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "PRODUCTION": True,
    }
    with pytest.raises(UnsafeConfiguration):
        create_app({**config, "SECRET_KEY": "dev"})
    production = create_app({**config, "SECRET_KEY": "k" * 40})
    try:
        response = production.test_client().post(
            "/login",
            data={"email": A_STAFF, "password": TEST_PASSWORD},
            base_url="https://localhost",
        )
        assert response.status_code == 303
        (set_cookie,) = response.headers.getlist("Set-Cookie")
        attributes = [part.strip().lower() for part in set_cookie.split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
    finally:
        engine_of(production).dispose()
