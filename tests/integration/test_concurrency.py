"""Two people at the same moment, on PostgreSQL: exactly one change wins, the other is told.

Each thread has a session of its own and both start together (a barrier); the
services lock the contract row, so the second one sees the first one's change and
refuses its own stale or repeated one. Every race is run several times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import POSTGRES_URL
from delivery_factory import TODAY, Delivery, contract_in_delivery, initiative_fields, person
from flask import Flask
from report_factory import draft, renderer, reportable_contract
from report_factory import view as report_view_of
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.health_models import ContractHealth
from tracker.db.session import new_session
from tracker.domain.errors import InvalidTerms
from tracker.services.access import SYSTEM, Actor
from tracker.services.actuals import record_actuals
from tracker.services.annual_reports import sign_report
from tracker.services.delivery import DeliveryView, delivery_view
from tracker.services.errors import Conflict, StaleEdit
from tracker.services.fund import record_spending
from tracker.services.initiatives import approve_initiative, propose_initiative
from tracker.services.kpis import create_kpi, update_kpi
from tracker.services.portfolio import PortfolioQuery, portfolio_page
from tracker.services.year_close import close_year, reopen_year

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="row locks between sessions are tested on PostgreSQL: set TRACKER_TEST_DATABASE_URL",
    ),
]
ROUNDS = 5

Outcome = object | Exception


def race(app: Flask, *calls: Callable[[Session], object]) -> list[Outcome]:
    """Run each call in a thread with its own session, all released at once; what each
    returned or raised, in the order given."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome] = [None] * len(calls)

    def run(index: int, call: Callable[[Session], object]) -> None:
        session = new_session(app)
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call(session)
        except Exception as exc:  # handed to the test, which checks the kind
            outcomes[index] = exc
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is still waiting: a lock was never released"
    return outcomes


def winner(outcomes: list[Outcome], *refusals: type[Exception]) -> int:
    """The index of the one call that succeeded; every other one raised one of ``refusals``."""
    succeeded = [i for i, outcome in enumerate(outcomes) if not isinstance(outcome, Exception)]
    assert len(succeeded) == 1, outcomes
    for i, outcome in enumerate(outcomes):
        if i != succeeded[0]:
            assert isinstance(outcome, refusals), outcome
    return succeeded[0]


def view(session: Session, delivery: Delivery) -> DeliveryView:
    return delivery_view(session, SYSTEM, delivery.contract_id, today=TODAY)


def events(session: Session, action: str) -> int:
    with session.begin():
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


@pytest.fixture
def delivery(session: Session) -> Delivery:
    return contract_in_delivery(session)


@pytest.fixture
def colleague(session: Session, delivery: Delivery) -> Actor:
    """A second member of the vendor's staff."""
    return person(session, "colleague@dlv-1.test", delivery.vendor_id, "staff")


def test_two_saves_of_the_same_years_actuals_at_once_one_wins_the_other_is_stale(
    app: Flask, session: Session, delivery: Delivery, colleague: Actor
) -> None:
    people = (delivery.vendor_staff, colleague)
    for round_number in range(ROUNDS):
        version = view(session, delivery).year(1).version
        costs = [f"{950000 + 100 * round_number + index}.00" for index in range(2)]

        def save(actor: Actor, cost: str, version: int = version) -> Callable[[Session], object]:
            return lambda own: record_actuals(
                own, actor, delivery.contract_id, 1, actual_cost=cost,
                expected_version=version, today=TODAY,
            )  # fmt: skip

        outcomes = race(
            app, *(save(actor, cost) for actor, cost in zip(people, costs, strict=True))
        )
        won = winner(outcomes, StaleEdit)
        loser = outcomes[1 - won]
        assert isinstance(loser, StaleEdit)
        assert loser.by == people[won].label
        year = view(session, delivery).year(1)
        assert year.version == version + 1
        assert year.actual is not None
        assert year.actual.actual_cost == int(costs[won].replace(".", ""))
        assert year.updated_by == people[won].label
    assert events(session, "record_actuals") == ROUNDS


def test_two_saves_of_the_same_kpi_at_once_one_wins_the_other_is_stale(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    kpi = create_kpi(
        session, delivery.buyer_staff, delivery.contract_id, name="Availability", unit="%",
        higher_is_better="higher", tolerance="0.5", targets={1: "99.5"},
    )  # fmt: skip
    people = (delivery.buyer_staff, delivery.vendor_staff)
    for round_number in range(ROUNDS):
        version = view(session, delivery).kpis[0].version
        names = [f"Availability {side} {round_number}" for side in ("buyer", "vendor")]

        def save(actor: Actor, name: str, version: int = version) -> Callable[[Session], object]:
            return lambda own: update_kpi(
                own, actor, kpi, name=name, unit="%", higher_is_better="higher",
                tolerance="0.5", targets={1: "99.5"}, expected_version=version,
            )  # fmt: skip

        outcomes = race(
            app, *(save(actor, name) for actor, name in zip(people, names, strict=True))
        )
        won = winner(outcomes, StaleEdit)
        shown = view(session, delivery).kpis[0]
        assert (shown.name, shown.version, shown.updated_by) == (
            names[won], version + 1, people[won].label,
        )  # fmt: skip


def test_two_finance_users_closing_the_same_year_at_once_close_it_once(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="950000.00",
        expected_version=0, today=TODAY,
    )  # fmt: skip
    people = (delivery.buyer_finance, delivery.vendor_finance)
    for round_number in range(ROUNDS):

        def close(actor: Actor) -> Callable[[Session], object]:
            return lambda own: close_year(own, actor, delivery.contract_id, 1, today=TODAY)

        won = winner(race(app, *(close(actor) for actor in people)), Conflict)
        year = view(session, delivery).year(1)
        assert year.closed
        assert year.closed_by == people[won].label
        assert events(session, "close_year") == round_number + 1
        reopen_year(session, delivery.buyer_admin, delivery.contract_id, 1, "Close it again")


def test_two_approvals_by_the_same_side_at_once_count_once(
    app: Flask, session: Session, delivery: Delivery, colleague: Actor
) -> None:
    people = (delivery.vendor_staff, colleague)
    for round_number in range(ROUNDS):
        initiative = propose_initiative(
            session, delivery.buyer_staff, delivery.contract_id,
            initiative_fields(title=f"Initiative {round_number}"),
        )  # fmt: skip

        def approve(actor: Actor, initiative: int = initiative) -> Callable[[Session], object]:
            return lambda own: approve_initiative(own, actor, initiative, expected_version=1)

        won = winner(race(app, *(approve(actor) for actor in people)), StaleEdit, Conflict)
        shown = next(i for i in view(session, delivery).initiatives if i.id == initiative)
        assert (shown.status, shown.version) == ("proposed", 2)
        assert shown.vendor_approved_by == people[won].label
        assert not shown.approved_by("buyer")
        assert events(session, "approve_vendor") == round_number + 1


def test_two_spendings_that_fit_the_fund_only_one_at_a_time_never_overdraw_it(
    app: Flask, session: Session, delivery: Delivery, colleague: Actor
) -> None:
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="950000.00",
        expected_version=0, today=TODAY,
    )  # fmt: skip
    initiative = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id,
        initiative_fields(budget="100000.00"),
    )  # fmt: skip
    approve_initiative(session, delivery.vendor_staff, initiative, expected_version=1)
    approve_initiative(session, delivery.buyer_staff, initiative, expected_version=2)
    people = (delivery.vendor_staff, colleague)
    for _ in range(ROUNDS):
        # Whatever is left in year 1, each spends more than half of it.
        balance = view(session, delivery).year(1).ledger.closing
        amount = f"{(balance // 2 + 1) // 100 + 1}.00"

        def spend(actor: Actor, amount: str = amount) -> Callable[[Session], object]:
            return lambda own: record_spending(
                own, actor, initiative, 1, amount, "Tooling", today=TODAY
            )

        winner(race(app, *(spend(actor) for actor in people)), InvalidTerms)
        assert view(session, delivery).year(1).ledger.closing >= 0


def signer(
    app: Flask, delivery: Delivery, side: str, fingerprint: str
) -> Callable[[Session], object]:
    """Sign the year-1 report for ``side`` as its staff, in the session given."""
    actor = delivery.buyer_staff if side == "buyer" else delivery.vendor_staff
    return lambda own: sign_report(
        own, actor, delivery.contract_id, 1, side, fingerprint,
        render_pdf=renderer(app), reports_dir=Path(app.config["REPORTS_DIR"]), today=TODAY,
    )  # fmt: skip


def test_a_double_clicked_signature_is_stored_once(app: Flask, session: Session) -> None:
    for round_number in range(ROUNDS):
        delivery = reportable_contract(session, code=f"SIGN-{round_number}")
        fingerprint = draft(session, delivery).content["fingerprint"]
        click = signer(app, delivery, "buyer", fingerprint)

        winner(race(app, click, click), Conflict)
        assert report_view_of(session, delivery).state == "signed"
    assert events(session, "sign_report") == ROUNDS


def test_both_sides_signing_at_the_same_moment_freeze_the_report_exactly_once(
    app: Flask, session: Session
) -> None:
    for round_number in range(ROUNDS):
        delivery = reportable_contract(session, code=f"BOTH-{round_number}")
        fingerprint = draft(session, delivery).content["fingerprint"]

        outcomes = race(
            app,
            signer(app, delivery, "buyer", fingerprint),
            signer(app, delivery, "vendor", fingerprint),
        )
        assert sorted(outcomes, key=str) == [False, True]  # one signs, the other freezes
        assert report_view_of(session, delivery).state == "frozen"
    assert events(session, "freeze_report") == ROUNDS
    assert events(session, "sign_report") == 2 * ROUNDS


def test_two_readers_computing_the_same_health_at_once_both_get_their_page(
    app: Flask, session: Session
) -> None:
    for round_number in range(ROUNDS):
        delivery = contract_in_delivery(session, code=f"HEALTH-{round_number}")

        def read_portfolio(own: Session, actor: Actor = delivery.vendor_staff) -> object:
            page = portfolio_page(own, actor, PortfolioQuery(), today=TODAY)
            return [row.health for row in page.rows]

        outcomes = race(app, read_portfolio, read_portfolio)
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        assert outcomes[0] == outcomes[1]
        with session.begin():
            kept = session.scalar(
                select(func.count())
                .select_from(ContractHealth)
                .where(ContractHealth.contract_id == delivery.contract_id)
            )
        assert kept == 1
