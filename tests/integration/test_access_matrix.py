"""The authorisation matrix: every URL rule of the application x every method x every role
of organisation A, aimed at the objects of organisation B.

Rules with a contract or scenario in the path must answer 404 (exactly like a missing
object); rules without one have an expectation per role written below. A rule the matrix
does not know (a new route, or a path argument other than contract_id / scenario_id) is
reported as a problem, so every new route has to be added here consciously.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_PASSWORD, add_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tracker.db.account_map_models import Alternative, Influence, PlanAction
from tracker.db.account_models import ROLES, User
from tracker.db.audit_models import AuditEvent
from tracker.db.delivery_models import DeliveryYear, FundEntry, ImportBatch, Initiative, Kpi
from tracker.db.followup_models import (
    Concern,
    ContractAmendment,
    Meeting,
    MeetingAction,
    Milestone,
)
from tracker.db.models import Contract, Organisation, Scenario
from tracker.db.session import new_session, request_session
from tracker.services import accounts
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals
from tracker.services.contracts import create_contract
from tracker.services.initiatives import propose_initiative
from tracker.services.kpis import create_kpi
from tracker.services.scenarios import create_scenario

DATA = Path(__file__).resolve().parents[1] / "data"
BASE_TERMS: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text("utf-8"))

A_BUYER, A_VENDOR = "Org A Buyer", "Org A Vendor"
B_BUYER, B_VENDOR = "Org B Buyer", "Org B Vendor"
A_NAME = "Org A shared contract"
B_NAME = "Org B confidential contract"
B_SCENARIO = "Org B confidential scenario"
B_KPI = "Org B confidential KPI"
B_INITIATIVE = "Org B confidential initiative"
B_EMAIL = "staff@org-b.test"
INTRUDER_EMAIL = "intruder@org-b.test"
#: Never shown to a member of organisation A, whatever the URL.
B_SECRETS = (B_NAME, B_SCENARIO, B_KPI, B_INITIATIVE, "Secret influence", "Secret concern")
#: Rules that serve files of the application itself, to anyone.
UNGUARDED = frozenset({"static", "bootstrap.static"})
#: Path arguments naming organisation B's follow-up records (World.b_follow_up).
FOLLOW_UP_ARGUMENTS = (
    "milestone_id", "concern_id", "meeting_id", "action_id", "influence_id",
    "alternative_id", "plan_action_id", "number",
)  # fmt: skip
OBJECT_ARGUMENTS = frozenset(
    {"contract_id", "scenario_id", "kpi_id", "initiative_id", "year", "fmt", "kind", "name",
     *FOLLOW_UP_ARGUMENTS}
)  # fmt: skip
MATRIX_METHODS = ("GET", "POST")


def terms(name: str, buyer: str, vendor: str) -> dict[str, Any]:
    """The fixed-5y example under another name and between other parties."""
    return {**BASE_TERMS, "name": name, "buyer": buyer, "vendor": vendor}


def contract_form(name: str, buyer: str, vendor: str) -> dict[str, str]:
    """The new-contract / edit form for ``terms(...)``."""
    return {
        "name": name,
        "code": "",
        "buyer": buyer,
        "vendor": vendor,
        "currency": "EUR",
        "start_date": "2025-01-01",
        "term_years": "5",
        "price_base": "1300000.00",
        "escalation_method": "fixed",
        "fixed_rate": "0.03",
        "baseline": "1000000.00",
        "inflation": "0.025",
        "efficiency": "0.04",
        "reinvest": "0.50",
        "buyer_share": "0.10",
        "discount_rate": "0.08",
    }


#: What every POST of the matrix sends: a complete, valid form with current versions,
#: so that a refusal cannot come from a missing field instead of the access rule.
POST_BODY = {
    **contract_form("Intruder's change", B_BUYER, B_VENDOR),
    "version": "1",
    "contract_version": "1",
    "scenario_name": "Intruder's scenario",
    "email": B_EMAIL,
}


@dataclass
class World:
    """Organisation A's and organisation B's contracts, scenarios and users."""

    a_contract: int
    a_scenario: int
    b_contract: int
    b_scenario: int
    b_kpi: int
    b_initiative: int
    organisation_ids: dict[str, int]
    #: role -> e-mail address of organisation A's member with that role
    a_users: dict[str, str] = field(default_factory=dict)
    #: path argument -> the id (or number) of organisation B's follow-up record
    b_follow_up: dict[str, int] = field(default_factory=dict)


def build_world(app: Flask) -> World:
    with new_session(app) as session:
        a_contract = create_contract(session, SYSTEM, terms(A_NAME, A_BUYER, A_VENDOR))
        a_scenario = create_scenario(
            session, SYSTEM, a_contract, "Org A scenario", terms(A_NAME, A_BUYER, A_VENDOR)
        )
        # Organisation B's contract is in delivery, with a KPI, an initiative and actuals.
        b_contract = create_contract(
            session, SYSTEM, terms(B_NAME, B_BUYER, B_VENDOR), status="active"
        )
        b_scenario = create_scenario(
            session, SYSTEM, b_contract, B_SCENARIO, terms(B_NAME, B_BUYER, B_VENDOR)
        )
        b_kpi = create_kpi(
            session,
            SYSTEM,
            b_contract,
            name=B_KPI,
            unit="%",
            higher_is_better="higher",
            tolerance="1",
            targets={1: "95"},
        )
        b_initiative = propose_initiative(
            session,
            SYSTEM,
            b_contract,
            {
                "title": B_INITIATIVE,
                "description": "Secret plan",
                "expected_saving": "1.00",
                "budget": "1.00",
                "planned_year": 1,
            },
            side="vendor",
        )
        record_actuals(session, SYSTEM, b_contract, 1, actual_cost="1.00", expected_version=0)
        with session.begin():
            organisation_ids = {
                name: id_
                for id_, name in session.execute(select(Organisation.id, Organisation.name))
            }
    world = World(
        a_contract, a_scenario, b_contract, b_scenario, b_kpi, b_initiative, organisation_ids,
        b_follow_up=b_follow_up(app, b_contract),
    )  # fmt: skip
    for role in ROLES:
        email = f"{role}@org-a.test"
        add_user(app, email, (A_BUYER,), role)
        world.a_users[role] = email
    add_user(app, B_EMAIL, (B_BUYER,), "staff")
    return world


def b_follow_up(app: Flask, contract_id: int) -> dict[str, int]:
    """One record of every follow-up kind on organisation B's contract, stored directly."""
    now = datetime.now(UTC)
    day = date(2022, 3, 1)
    edited = {"updated_at": now, "updated_by": "b", "version": 1}
    with new_session(app) as session, session.begin():
        milestone = Milestone(
            contract_id=contract_id,
            title="Kick-off",
            owner_side="vendor",
            due_on=day,
            status="planned",
            **edited,
        )
        concern = Concern(
            contract_id=contract_id,
            title="Secret concern",
            category="other",
            severity="low",
            raised_by_side="buyer",
            raised_by="b",
            raised_on=day,
            owner_side="vendor",
            due_on=day,
            status="open",
            **edited,
        )
        meeting = Meeting(
            contract_id=contract_id, kind="operational", held_on=day, title="Weekly", **edited
        )
        influence = Influence(
            contract_id=contract_id,
            name="Secret influence",
            role="coach",
            degree="low",
            mode="growth",
            rating=1,
            added_on=day,
            **edited,
        )
        alternative = Alternative(
            contract_id=contract_id, kind="in_house", name="Own team", position="ahead", **edited
        )
        plan_action = PlanAction(
            contract_id=contract_id, title="Lunch", indicator="Met", status="open", **edited
        )
        amendment = ContractAmendment(
            contract_id=contract_id,
            number=1,
            effective_year=2,
            terms_before="{}",
            terms_after="{}",
            reason="Secret",
            at=now,
            by="b",
        )
        session.add_all(
            [milestone, concern, meeting, influence, alternative, plan_action, amendment]
        )
        session.flush()
        action = MeetingAction(
            meeting_id=meeting.id,
            contract_id=contract_id,
            title="Call",
            owner_side="vendor",
            due_on=day,
            status="open",
            **edited,
        )
        session.add(action)
        session.flush()
        return {
            "milestone_id": milestone.id, "concern_id": concern.id, "meeting_id": meeting.id,
            "action_id": action.id, "influence_id": influence.id,
            "alternative_id": alternative.id, "plan_action_id": plan_action.id, "number": 1,
        }  # fmt: skip


def role_clients(app: Flask, world: World) -> dict[str, FlaskClient]:
    return {role: sign_in(app.test_client(), email) for role, email in world.a_users.items()}


# -- expectations for the rules without an object in the path --------------------------------

Check = Callable[["Matrix", str, FlaskClient], list[str]]


def _status(response: TestResponse, expected: int, what: str) -> list[str]:
    if response.status_code != expected:
        return [f"{what}: expected {expected}, got {response.status_code}"]
    return []


def _by_role(response: TestResponse, role: str, what: str, expected: dict[str, int]) -> list[str]:
    return _status(response, expected[role], f"{what} as {role}")


def check_portfolio(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    problems = []
    response = matrix.request(client, "GET", "/")
    problems += _status(response, 200, f"GET / as {role}")
    if A_NAME not in response.text:
        problems.append(f"GET / as {role}: organisation A's own contract is not listed")
    # The party filter with organisation B's id shows nothing of organisation B.
    party = matrix.world.organisation_ids[B_BUYER]
    filtered = matrix.request(client, "GET", f"/?party={party}")
    problems += _status(filtered, 200, f"GET /?party=<B> as {role}")
    for response_ in (response, filtered):
        if B_BUYER in response_.text or B_VENDOR in response_.text:
            problems.append(f"GET / as {role}: names organisation B")
    return problems


def check_new_contract_page(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    response = matrix.request(client, "GET", "/contracts/new")
    return _by_role(
        response, role, "GET /contracts/new", {"staff": 200, "finance": 403, "admin": 403}
    )


def check_new_contract_for_b(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    """A contract between organisation B's parties cannot be made by anyone of A."""
    before = matrix.count(Contract)
    form = contract_form("Intruder's contract", B_BUYER, B_VENDOR)
    response = matrix.request(client, "POST", "/contracts/new", data=form)
    problems = _by_role(
        response,
        role,
        "POST /contracts/new (B's parties)",
        {"staff": 422, "finance": 403, "admin": 403},
    )
    if matrix.count(Contract) != before:
        problems.append(f"POST /contracts/new as {role} stored a contract")
    return problems


def check_login_page(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    return _status(matrix.request(client, "GET", "/login"), 200, f"GET /login as {role}")


def check_login_as_b(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    """Organisation B's account cannot be entered without its password."""
    response = matrix.request(
        client, "POST", "/login", data={"email": B_EMAIL, "password": "not " + TEST_PASSWORD}
    )
    problems = _status(response, 401, f"POST /login (B's account, wrong password) as {role}")
    if "Unknown e-mail address or wrong password." not in response.text:
        problems.append(f"POST /login as {role}: the generic message is missing")
    return problems


def check_logout(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    response = matrix.request(client, "POST", "/logout")
    problems = _status(response, 303, f"POST /logout as {role}")
    if response.headers.get("Location") != "/login":
        problems.append(f"POST /logout as {role}: not sent to /login")
    after = matrix.request(client, "GET", "/")
    if after.status_code != 302 or not after.headers["Location"].startswith("/login"):
        problems.append(f"POST /logout as {role}: still signed in afterwards")
    sign_in(client, matrix.world.a_users[role])
    return problems


def check_users_page(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    response = matrix.request(client, "GET", "/admin/users")
    problems = _by_role(
        response, role, "GET /admin/users", {"staff": 403, "finance": 403, "admin": 200}
    )
    if role == "admin" and response.status_code == 200:
        listed = set(re.findall(r"<td>([^<@\s]+@[^<\s]+)</td>", response.text))
        if listed != set(matrix.world.a_users.values()):
            problems.append(f"GET /admin/users as admin lists {sorted(listed)}")
    if B_EMAIL in response.text:
        problems.append(f"GET /admin/users as {role} shows organisation B's user")
    return problems


def check_add_user_to_b(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    form = {"email": INTRUDER_EMAIL, "name": "Intruder", "organisation": B_BUYER, "role": "admin"}
    response = matrix.request(client, "POST", "/admin/users", data=form)
    problems = _by_role(
        response, role, "POST /admin/users (in B)", {"staff": 403, "finance": 403, "admin": 400}
    )
    with new_session(matrix.app) as session, session.begin():
        if session.scalar(select(User.id).where(User.email == INTRUDER_EMAIL)) is not None:
            problems.append(f"POST /admin/users as {role} created a user in organisation B")
    return problems


def _check_account_action(path: str) -> Check:
    def check(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
        response = matrix.request(client, "POST", path, data={"email": B_EMAIL})
        return _by_role(
            response, role, f"POST {path} (B's user)", {"staff": 403, "finance": 403, "admin": 404}
        )

    return check


def check_api_create_for_b(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    before = matrix.count(Contract)
    response = matrix.request(
        client, "POST", "/api/contracts", json=terms("Intruder's contract", B_BUYER, B_VENDOR)
    )
    problems = _by_role(
        response,
        role,
        "POST /api/contracts (B's parties)",
        {"staff": 422, "finance": 403, "admin": 403},
    )
    if response.mimetype != "application/json":
        problems.append(f"POST /api/contracts as {role}: answered {response.mimetype}")
    if matrix.count(Contract) != before:
        problems.append(f"POST /api/contracts as {role} stored a contract")
    return problems


def check_reconciliation(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    """Everyone may open the reconciliation; it lists only their own contracts."""
    response = matrix.request(client, "GET", "/reconciliation")
    return _status(response, 200, f"GET /reconciliation as {role}")


def check_onboarding(matrix: Matrix, role: str, client: FlaskClient) -> list[str]:
    """Everyone may open the contracts in onboarding; it lists only their own."""
    response = matrix.request(client, "GET", "/onboarding")
    return _status(response, 200, f"GET /onboarding as {role}")


#: (endpoint, method) -> what each role of organisation A must get.
EXPECTATIONS: dict[tuple[str, str], Check] = {
    ("portfolio.index", "GET"): check_portfolio,
    ("contracts.new", "GET"): check_new_contract_page,
    ("contracts.new", "POST"): check_new_contract_for_b,
    ("auth.login", "GET"): check_login_page,
    ("auth.login", "POST"): check_login_as_b,
    ("auth.logout", "POST"): check_logout,
    ("admin.users", "GET"): check_users_page,
    ("admin.users", "POST"): check_add_user_to_b,
    ("admin.disable", "POST"): _check_account_action("/admin/users/disable"),
    ("admin.enable", "POST"): _check_account_action("/admin/users/enable"),
    ("admin.reset_password", "POST"): _check_account_action("/admin/users/reset-password"),
    ("api.create", "POST"): check_api_create_for_b,
    ("reconciliation.portfolio", "GET"): check_reconciliation,
    ("onboarding.portfolio", "GET"): check_onboarding,
}


@dataclass
class Matrix:
    """Walks the URL map; ``problems()`` lists every answer that breaks the rules, each
    starting with the endpoint in brackets."""

    app: Flask
    world: World
    clients: dict[str, FlaskClient]
    visited: list[tuple[str, str, str]] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    endpoint: str = ""

    def request(self, client: FlaskClient, method: str, url: str, **kwargs: Any) -> TestResponse:
        response = client.open(url, method=method, **kwargs)
        body = response.get_data()
        self.leaks += [
            f"[{self.endpoint}] {method} {url}: shows {secret!r}"
            for secret in B_SECRETS
            if secret.encode() in body
        ]
        return response

    def count(self, model: type[Any]) -> int:
        with new_session(self.app) as session, session.begin():
            return session.scalar(select(func.count()).select_from(model)) or 0

    def object_url(self, endpoint: str, arguments: set[str], method: str) -> str:
        values = {
            "contract_id": self.world.b_contract,
            "scenario_id": self.world.b_scenario,
            "kpi_id": self.world.b_kpi,
            "initiative_id": self.world.b_initiative,
            "year": 1,
            "fmt": "csv",
            "kind": "actuals",
            "name": "curves",
            **self.world.b_follow_up,
        }
        adapter = self.app.url_map.bind("localhost")
        return adapter.build(endpoint, {name: values[name] for name in arguments}, method=method)

    def problems(self) -> list[str]:
        problems: list[str] = []
        rules = sorted(self.app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
        for rule in rules:
            if rule.endpoint in UNGUARDED:
                continue
            self.endpoint = rule.endpoint
            tag = f"[{rule.endpoint}]"
            unknown = set(rule.arguments) - OBJECT_ARGUMENTS
            if unknown:
                problems.append(
                    f"{tag} {rule.rule}: path argument(s) {sorted(unknown)} unknown to the "
                    "access matrix; add the route to tests/integration/test_access_matrix.py"
                )
                continue
            for method in MATRIX_METHODS:
                if method not in (rule.methods or ()):
                    continue
                check = EXPECTATIONS.get((rule.endpoint, method))
                if not rule.arguments and check is None:
                    problems.append(
                        f"{tag} {method} {rule.rule}: no expectation in the access matrix; "
                        "add one to tests/integration/test_access_matrix.py"
                    )
                    continue
                for role, client in self.clients.items():
                    self.visited.append((rule.endpoint, method, role))
                    if check is not None:
                        problems += [f"{tag} {problem}" for problem in check(self, role, client)]
                        continue
                    url = self.object_url(rule.endpoint, set(rule.arguments), method)
                    data = POST_BODY if method == "POST" else None
                    response = self.request(client, method, url, data=data)
                    if response.status_code != 404:
                        problems.append(
                            f"{tag} {method} {url} as {role} of organisation A: expected 404 "
                            f"for organisation B's object, got {response.status_code}"
                        )
        return problems + self.leaks


def b_state(app: Flask, world: World) -> tuple[Any, ...]:
    """Everything of organisation B that an intruder might have changed."""
    with new_session(app) as session, session.begin():
        contract = session.get(Contract, world.b_contract)
        scenario = session.get(Scenario, world.b_scenario)
        kpi = session.get(Kpi, world.b_kpi)
        initiative = session.get(Initiative, world.b_initiative)
        year = session.get(DeliveryYear, (world.b_contract, 1))
        assert kpi is not None
        assert initiative is not None
        assert year is not None
        delivery = (
            kpi.version, kpi.name, initiative.version, initiative.status, year.version,
            year.actual_cost, year.closed_at,
            session.scalar(select(func.count()).select_from(FundEntry)),
            session.scalar(select(func.count()).select_from(ImportBatch)),
        )  # fmt: skip
        user = session.scalars(select(User).where(User.email == B_EMAIL)).one()
        assert contract is not None
        assert scenario is not None
        return (
            contract.version, contract.status, contract.archived_at, contract.terms,
            scenario.version, scenario.name, scenario.terms,
            user.version, user.disabled_at, user.password_hash, delivery,
        )  # fmt: skip


# -- the matrix ---------------------------------------------------------------------------------


def test_no_member_of_organisation_a_reaches_anything_of_organisation_b(app: Flask) -> None:
    world = build_world(app)
    before = b_state(app, world)
    matrix = Matrix(app, world, role_clients(app, world))

    problems = matrix.problems()

    assert problems == []
    assert b_state(app, world) == before
    with new_session(app) as session:
        assert accounts.authenticate(session, B_EMAIL, TEST_PASSWORD) is not None
    # Every rule but the static files was walked, for every role and method it takes.
    walked = {endpoint for endpoint, _method, _role in matrix.visited}
    expected = {rule.endpoint for rule in app.url_map.iter_rules()} - UNGUARDED
    assert walked == expected
    assert {role for _e, _m, role in matrix.visited} == set(ROLES)
    assert ("contracts.archive", "POST", "finance") in matrix.visited


def test_the_matrix_flags_a_new_unguarded_route(app: Flask) -> None:
    def leak(contract_id: int) -> str:
        contract = request_session().get(Contract, contract_id)
        return contract.name if contract is not None else ""

    app.add_url_rule("/contracts/<id:contract_id>/leak", "leak", leak)
    app.add_url_rule("/status", "status", lambda: "ok")
    app.add_url_rule(
        "/contracts/<id:contract_id>/notes/<int:note_id>",
        "note",
        lambda contract_id, note_id: "note",
    )
    world = build_world(app)
    matrix = Matrix(app, world, role_clients(app, world))

    problems = matrix.problems()

    flagged = {re.match(r"\[([\w.]+)\]", problem).group(1) for problem in problems}  # type: ignore[union-attr]
    assert flagged == {"leak", "status", "note"}
    leak = [p for p in problems if p.startswith("[leak]") and "got 200" in p]
    assert len(leak) == len(ROLES)  # once per role
    shown = [p for p in problems if p.startswith("[leak]") and f"shows {B_NAME!r}" in p]
    assert len(shown) == len(ROLES)
    assert [p for p in problems if p.startswith("[status]")] == [
        "[status] GET /status: no expectation in the access matrix; "
        "add one to tests/integration/test_access_matrix.py"
    ]
    (note,) = [p for p in problems if p.startswith("[note]")]
    assert "note_id" in note


# -- sequential ids -----------------------------------------------------------------------------

_REQUEST_ID = re.compile(r"[0-9a-f]{16}")
_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def _normalised(response: TestResponse, id_: int) -> tuple[int, str, str]:
    """Status, content type and the body with the request id, the CSRF token and the
    walked id itself blanked: what tells one 404 from another."""
    body = _CSRF.sub("csrf", _REQUEST_ID.sub("RID", response.get_data(as_text=True)))
    body = re.sub(rf"\b(contract|scenario) {id_}\b", r"\1 ID", body)
    return response.status_code, response.mimetype, body


def _title(response: TestResponse) -> str:
    if response.mimetype == "application/json":
        return str(sorted(response.get_json()))
    found = re.search(r"<title>(.*?)</title>", response.text, re.S)
    return found.group(1).strip() if found else ""


def test_walking_sequential_ids_finds_only_ones_own_objects(app: Flask) -> None:
    own_contracts, own_scenarios = [], []
    with new_session(app) as session:
        for number in range(3):
            a = create_contract(session, SYSTEM, terms(f"A {number}", A_BUYER, A_VENDOR))
            b = create_contract(session, SYSTEM, terms(f"{B_NAME} {number}", B_BUYER, B_VENDOR))
            own_contracts.append(a)
            for contract, buyer, vendor in ((b, B_BUYER, B_VENDOR), (a, A_BUYER, A_VENDOR)):
                scenario = create_scenario(
                    session, SYSTEM, contract, f"S {number}", terms("x", buyer, vendor)
                )
                if contract == a:
                    own_scenarios.append(scenario)
    add_user(app, "staff@org-a.test", (A_BUYER,), "staff")
    client = sign_in(app.test_client(), "staff@org-a.test")
    missing = 999_999
    templates = {
        "/contracts/{}": own_contracts,
        "/contracts/{}/schedule.csv": own_contracts,
        "/contracts/{}/history": own_contracts,
        "/api/contracts/{}": own_contracts,
        "/scenarios/{}/schedule.csv": own_scenarios,
        "/scenarios/{}/edit": own_scenarios,
    }
    highest = max(own_contracts + own_scenarios) + 3
    foreign_seen = 0
    for template, own in templates.items():
        absent = client.get(template.format(missing))
        assert absent.status_code == 404
        for id_ in range(1, highest + 1):
            response = client.get(template.format(id_))
            if id_ in own:
                assert response.status_code == 200, template.format(id_)
                continue
            foreign_seen += 1
            url = template.format(id_)
            assert response.status_code == 404, url
            assert _title(response) == _title(absent), url
            assert _normalised(response, id_) == _normalised(absent, missing), url
            assert B_NAME not in response.text
    assert foreign_seen > 6 * 3  # organisation B's ids were among those walked


# -- finance and admin of organisation A read, and change nothing ---------------------------------


def _a_state(app: Flask, world: World) -> tuple[Any, ...]:
    with new_session(app) as session, session.begin():
        contract = session.get(Contract, world.a_contract)
        scenario = session.get(Scenario, world.a_scenario)
        assert contract is not None
        assert scenario is not None
        return (
            contract.version, contract.status, contract.archived_at, contract.terms,
            scenario.version, scenario.name, scenario.terms,
            session.scalar(select(func.count()).select_from(Scenario)),
            session.scalar(select(func.count()).select_from(Contract)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
        )  # fmt: skip


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_admin_read_their_organisations_contract_but_change_nothing(
    app: Flask, role: str
) -> None:
    world = build_world(app)
    client = sign_in(app.test_client(), world.a_users[role])
    contract, scenario = world.a_contract, world.a_scenario

    readable = [
        f"/contracts/{contract}",
        f"/contracts/{contract}/schedule.csv",
        f"/contracts/{contract}/schedule.xlsx",
        f"/contracts/{contract}/terms.json",
        f"/contracts/{contract}/chart.svg",
        f"/contracts/{contract}/history",
        f"/contracts/{contract}/compare?s={scenario}",
        f"/contracts/{contract}/compare.svg?s={scenario}",
        f"/api/contracts/{contract}",
        f"/scenarios/{scenario}/schedule.csv",
    ]
    for url in readable:
        assert client.get(url).status_code == 200, url
    assert client.get(f"/scenarios/{scenario}").status_code == 303
    page = client.get(f"/contracts/{contract}").text
    assert f"/contracts/{contract}/edit" not in page  # no button leading to a 403

    before = _a_state(app, world)
    refused_gets = [
        f"/contracts/{contract}/edit",
        f"/contracts/{contract}/delete",
        f"/contracts/{contract}/scenarios/new",
        f"/scenarios/{scenario}/edit",
    ]
    for url in refused_gets:
        assert client.get(url).status_code == 403, url
    own_form = {
        **contract_form(A_NAME, A_BUYER, A_VENDOR),
        "version": "1",
        "contract_version": "1",
        "scenario_name": "Finance's scenario",
    }
    refused_posts = [
        f"/contracts/{contract}/edit",
        f"/contracts/{contract}/archive",
        f"/contracts/{contract}/restore",
        f"/contracts/{contract}/delete",
        f"/contracts/{contract}/scenarios/new",
        f"/scenarios/{scenario}/edit",
        f"/scenarios/{scenario}/delete",
        f"/scenarios/{scenario}/promote",
    ]
    for url in refused_posts:
        response = client.post(url, data=own_form)
        assert response.status_code == 403, url
        assert "Not allowed for your role" in response.text
    api = client.post("/api/contracts", json=terms("Finance's contract", A_BUYER, A_VENDOR))
    assert api.status_code == 403
    assert _a_state(app, world) == before
