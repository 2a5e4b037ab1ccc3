"""The delivery-year services on a real database: who may do what, closed years, stale
edits, the fund's pre-funding rule, approvals, year close and reopen, the audit trail,
bad values (nothing written) and the reconciliation flags.

The contract is the fixed-5y example from 2022 (tests/delivery_factory.py); with
``today=TODAY`` (30 June 2025) years 1-3 have ended, year 4 runs and year 5 has not
begun. Year 1's plan: baseline 1,000,000.00, planned cost 960,000.00, R = 20,000.00.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from delivery_factory import (
    TODAY,
    Delivery,
    approved_initiative,
    contract_in_delivery,
    initiative_fields,
    person,
)
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.domain.actuals import Variance
from tracker.domain.errors import InvalidTerms
from tracker.domain.ledger import ties_out
from tracker.services.access import SYSTEM, Actor
from tracker.services.actuals import record_actuals, set_delivery_plan
from tracker.services.delivery import (
    DeliveryView,
    canonical,
    delivery_view,
    year_figures_document,
)
from tracker.services.errors import ClosedYear, Conflict, Forbidden, NotFound, StaleEdit
from tracker.services.fund import record_adjustment, record_spending
from tracker.services.initiatives import (
    approve_initiative,
    move_initiative,
    propose_initiative,
    update_initiative,
)
from tracker.services.kpis import create_kpi, record_kpi_result, update_kpi
from tracker.services.reconciliation import contract_flags
from tracker.services.year_close import close_year, reopen_year

CLOSED_AT = datetime(2025, 3, 3, 10, 15, tzinfo=UTC)
AFTER_THE_TERM = date(2027, 1, 5)


@pytest.fixture
def delivery(session: Session) -> Delivery:
    """The fixed-5y contract in delivery since 2022, and its people."""
    return contract_in_delivery(session)


def view(session: Session, delivery: Delivery, *, today: date = TODAY) -> DeliveryView:
    return delivery_view(session, SYSTEM, delivery.contract_id, today=today)


def audit_count(session: Session) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def latest_event(session: Session) -> AuditEvent:
    with session.begin():
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        session.expunge(event)
        return event


def state(session: Session, delivery: Delivery) -> tuple[int, DeliveryView]:
    """Everything a refused change must leave as it was."""
    return audit_count(session), view(session, delivery)


def actuals(
    session: Session, delivery: Delivery, year: int, cost: str = "950000.00", **kwargs: Any
) -> int:
    """Record a year's actual cost as the vendor's staff, at the version the view shows."""
    version = view(session, delivery).year(year).version
    return record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, year,
        actual_cost=cost, expected_version=version, today=TODAY, **kwargs,
    )  # fmt: skip


def close(session: Session, delivery: Delivery, year: int, **kwargs: Any) -> None:
    close_year(session, delivery.buyer_finance, delivery.contract_id, year, today=TODAY, **kwargs)


def kpi_definition(name: object = "Availability", unit: object = "%", **targets: object) -> Any:
    """create_kpi / update_kpi arguments: higher is better, tolerance 0.5, y1="99.5", ..."""
    return {
        "name": name, "unit": unit, "higher_is_better": "higher", "tolerance": "0.5",
        "targets": {int(key[1:]): value for key, value in targets.items()},
    }  # fmt: skip


def volume_plan(name: object = "Users", **volumes: object) -> Any:
    """set_delivery_plan arguments for a new plan: the volume driver, y1="1000", ..."""
    return {
        "volume_name": name, "volume_unit": None, "initiatives_per_year": None,
        "planned_volumes": {int(key[1:]): value for key, value in volumes.items()},
        "expected_version": 0,
    }  # fmt: skip


def availability(session: Session, delivery: Delivery, **targets: str) -> int:
    """A higher-is-better KPI defined by the buyer, with targets given as y1="99.5", ..."""
    return create_kpi(
        session, delivery.buyer_staff, delivery.contract_id, **kpi_definition(**targets)
    )


def kpi_result(
    session: Session, delivery: Delivery, kpi_id: int, year: int, value: str = "99.7"
) -> int:
    version = next(k for k in view(session, delivery).kpis if k.id == kpi_id).year(year).version
    return record_kpi_result(
        session, delivery.vendor_staff, kpi_id, year, actual=value, expected_version=version,
        today=TODAY,
    )  # fmt: skip


def errors_of(excinfo: pytest.ExceptionInfo[InvalidTerms]) -> list[str]:
    return [error.path for error in excinfo.value.errors]


# -- who may do what -------------------------------------------------------------------------


def test_vendor_staff_records_the_actual_cost_and_the_view_shows_plan_beside_actual(
    session: Session, delivery: Delivery
) -> None:
    version = record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="950000.00",
        note="Licences renegotiated", expected_version=0, today=TODAY,
    )  # fmt: skip
    assert version == 1
    year = view(session, delivery).year(1)
    assert year.actual is not None
    assert year.actual.actual_cost == 95_000_000
    assert year.actual.efficiency_gain == 5_000_000  # 1,000,000.00 - 950,000.00
    assert year.actual.reinvest == 2_500_000
    assert year.variance("cost") == Variance(-1_000_000, -104)  # -10,000.00 of 960,000.00
    assert year.variance("reinvest") == Variance(500_000, 2500)  # +5,000.00 of 20,000.00
    assert year.ledger.committed == 2_500_000
    assert year.ledger.from_actuals
    assert (year.note, year.updated_by, year.version) == (
        "Licences renegotiated", delivery.vendor_staff.label, 1,
    )  # fmt: skip
    # Years without actuals commit the planned R.
    assert view(session, delivery).year(2).ledger.committed == 4_018_000


@pytest.mark.parametrize(
    "who", ["buyer_staff", "buyer_finance", "buyer_admin", "vendor_finance", "vendor_admin"]
)
def test_only_vendor_staff_may_record_the_actual_cost(
    session: Session, delivery: Delivery, who: str
) -> None:
    before = state(session, delivery)
    with pytest.raises(Forbidden, match="only staff of the vendor"):
        record_actuals(
            session, getattr(delivery, who), delivery.contract_id, 1, actual_cost="950000.00",
            expected_version=0, today=TODAY,
        )  # fmt: skip
    assert state(session, delivery) == before


def test_buyer_staff_may_not_spend_from_the_fund(session: Session, delivery: Delivery) -> None:
    initiative = approved_initiative(session, delivery)
    before = state(session, delivery)
    with pytest.raises(Forbidden):
        record_spending(
            session, delivery.buyer_staff, initiative, 1, "100.00", "Licences", today=TODAY
        )
    assert state(session, delivery) == before


@pytest.mark.parametrize("who", ["buyer_finance", "vendor_finance"])
def test_finance_of_either_party_closes_a_year(
    session: Session, delivery: Delivery, who: str
) -> None:
    actuals(session, delivery, 1)
    close_year(session, getattr(delivery, who), delivery.contract_id, 1, now=CLOSED_AT, today=TODAY)
    year = view(session, delivery).year(1)
    assert year.closed
    assert (year.closed_at, year.closed_by) == (CLOSED_AT, getattr(delivery, who).label)


@pytest.mark.parametrize("who", ["buyer_staff", "vendor_staff", "buyer_admin", "vendor_admin"])
def test_only_finance_closes_a_year_and_adjusts_the_fund(
    session: Session, delivery: Delivery, who: str
) -> None:
    actuals(session, delivery, 1)
    before = state(session, delivery)
    actor = getattr(delivery, who)
    with pytest.raises(Forbidden, match="only finance"):
        close_year(session, actor, delivery.contract_id, 1, today=TODAY)
    with pytest.raises(Forbidden, match="only finance"):
        record_adjustment(session, actor, delivery.contract_id, 1, "100.00", "Fix", today=TODAY)
    assert state(session, delivery) == before


@pytest.mark.parametrize("who", ["buyer_admin", "vendor_admin"])
def test_an_administrator_reopens_a_year_only_with_a_reason(
    session: Session, delivery: Delivery, who: str
) -> None:
    actuals(session, delivery, 1)
    close(session, delivery, 1)
    admin = getattr(delivery, who)
    before = state(session, delivery)
    for reason in (None, "", "   ", "\n"):
        with pytest.raises(InvalidTerms) as excinfo:
            reopen_year(session, admin, delivery.contract_id, 1, reason)
        assert errors_of(excinfo) == ["reason"]
    for other in ("buyer_finance", "vendor_finance", "buyer_staff", "vendor_staff"):
        with pytest.raises(Forbidden, match="administrator"):
            reopen_year(session, getattr(delivery, other), delivery.contract_id, 1, "Wrong cost")
    assert state(session, delivery) == before
    reopen_year(session, admin, delivery.contract_id, 1, "The cost was posted twice")
    assert not view(session, delivery).year(1).closed
    event = latest_event(session)
    assert (event.action, event.actor) == ("reopen_year", admin.label)
    assert "The cost was posted twice" in (event.after or "")


def test_another_organisations_user_gets_not_found_exactly_like_a_missing_contract(
    session: Session, delivery: Delivery
) -> None:
    contract = delivery.contract_id
    actuals(session, delivery, 1)
    kpi = availability(session, delivery, y1="99.5")
    initiative = approved_initiative(session, delivery)
    proposal = propose_initiative(session, delivery.buyer_staff, contract, initiative_fields())
    outsider_org = next(iter(delivery.outsider.memberships))
    before = state(session, delivery)
    calls: dict[str, Callable[[Actor, int], object]] = {
        "view": lambda a, c: delivery_view(session, a, c, today=TODAY),
        "actuals": lambda a, c: record_actuals(
            session, a, c, 1, actual_cost="1.00", expected_version=1, today=TODAY
        ),
        "plan": lambda a, c: set_delivery_plan(session, a, c, **volume_plan(y1="10")),
        "kpi": lambda a, c: create_kpi(session, a, c, **kpi_definition("Tickets")),
        "propose": lambda a, c: propose_initiative(session, a, c, initiative_fields()),
        "adjust": lambda a, c: record_adjustment(session, a, c, 1, "1.00", "x", today=TODAY),
        "close": lambda a, c: close_year(session, a, c, 1, today=TODAY),
        "reopen": lambda a, c: reopen_year(session, a, c, 1, "reason"),
    }
    by_object: dict[str, Callable[[Actor, int], object]] = {
        "result": lambda a, k: record_kpi_result(session, a, k, 1, actual="1", expected_version=0),
        "update_kpi": lambda a, k: update_kpi(
            session, a, k, **kpi_definition("X"), expected_version=1
        ),
        "approve": lambda a, i: approve_initiative(session, a, i, expected_version=1),
        "spend": lambda a, i: record_spending(session, a, i, 1, "1.00", "x", today=TODAY),
        "drop": lambda a, i: move_initiative(
            session, a, i, "dropped", expected_version=1, note="no"
        ),
    }
    objects = {"result": kpi, "update_kpi": kpi, "approve": proposal, "spend": initiative,
               "drop": proposal}  # fmt: skip
    for role in ("staff", "finance", "admin"):
        stranger = Actor(None, f"{role}@elsewhere.test", {outsider_org: role})
        for name, call in calls.items():
            with pytest.raises(NotFound) as seen:
                call(stranger, contract)
            with pytest.raises(NotFound) as missing:
                call(SYSTEM, 999_999)
            assert str(seen.value) == str(missing.value).replace("999999", str(contract)), name
        for name, call in by_object.items():
            with pytest.raises(NotFound) as seen:
                call(stranger, objects[name])
            with pytest.raises(NotFound) as missing:
                call(SYSTEM, 999_999)
            assert str(seen.value) == str(missing.value).replace("999999", str(objects[name]))
    assert state(session, delivery) == before


def test_delivery_is_recorded_only_for_signed_contracts(session: Session) -> None:
    draft = contract_in_delivery(session, code="DRAFT-1", status="draft")
    with pytest.raises(Conflict, match="once a contract is signed"):
        record_actuals(
            session, draft.vendor_staff, draft.contract_id, 1, actual_cost="1.00",
            expected_version=0, today=TODAY,
        )  # fmt: skip
    with pytest.raises(Conflict):
        record_adjustment(
            session, draft.buyer_finance, draft.contract_id, 1, "1.00", "x", today=TODAY
        )


# -- closed years ---------------------------------------------------------------------------


def test_a_closed_year_refuses_actuals_kpi_results_spending_and_adjustments(
    session: Session, delivery: Delivery
) -> None:
    kpi = availability(session, delivery, y1="99.5", y2="99.5")
    kpi_result(session, delivery, kpi, 1)
    initiative = approved_initiative(session, delivery)
    actuals(session, delivery, 1)
    close(session, delivery, 1, now=CLOSED_AT)
    result_version = view(session, delivery).kpis[0].year(1).version
    contract, staff = delivery.contract_id, delivery.vendor_staff
    before = state(session, delivery)
    refused: list[Callable[[], object]] = [
        lambda: actuals(session, delivery, 1, "1.00"),
        lambda: record_kpi_result(
            session, staff, kpi, 1, actual="90", expected_version=result_version
        ),
        lambda: update_kpi(
            session, staff, kpi, **kpi_definition(y1="98", y2="99.5"), expected_version=1
        ),
        lambda: record_spending(session, staff, initiative, 1, "100.00", "x", today=TODAY),
        lambda: record_adjustment(
            session, delivery.vendor_finance, contract, 1, "100.00", "Fix", today=TODAY
        ),
        lambda: set_delivery_plan(session, staff, contract, **volume_plan(y1="1000", y2="1000")),
    ]
    for call in refused:
        with pytest.raises(ClosedYear) as excinfo:
            call()
        assert excinfo.value.year == 1
        message = str(excinfo.value)
        assert "year 1 was closed on 2025-03-03" in message
        assert delivery.buyer_finance.label in message
        assert "adjustment in an open year" in message
    assert state(session, delivery) == before
    # The correction the message suggests is accepted.
    record_adjustment(
        session, delivery.vendor_finance, delivery.contract_id, 2, "-100.00",
        "Correction of year 1", today=TODAY,
    )  # fmt: skip
    assert view(session, delivery).year(2).ledger.adjusted == -10_000


# -- stale edits ----------------------------------------------------------------------------


def test_a_stale_save_of_actuals_names_who_changed_them_and_when_and_keeps_their_change(
    session: Session, delivery: Delivery
) -> None:
    colleague = person(session, "colleague@dlv-1.test", delivery.vendor_id, "staff")
    first = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="950000.00",
        expected_version=0, now=first, today=TODAY,
    )  # fmt: skip
    before = state(session, delivery)
    with pytest.raises(StaleEdit) as excinfo:
        record_actuals(
            session, colleague, delivery.contract_id, 1, actual_cost="940000.00",
            expected_version=0, today=TODAY,
        )  # fmt: skip
    assert excinfo.value.by == delivery.vendor_staff.label
    assert excinfo.value.updated_at == first
    assert f"changed by {delivery.vendor_staff.label} at 2025-06-01 09:30 UTC" in str(excinfo.value)
    assert state(session, delivery) == before
    year = view(session, delivery).year(1)
    assert year.actual is not None
    assert year.actual.actual_cost == 95_000_000
    # Reloaded, the colleague's change goes through; now the first person's copy is stale.
    second = datetime(2025, 6, 2, 14, 5, tzinfo=UTC)
    record_actuals(
        session, colleague, delivery.contract_id, 1, actual_cost="940000.00",
        expected_version=1, now=second, today=TODAY,
    )  # fmt: skip
    with pytest.raises(StaleEdit, match=re.escape("colleague@dlv-1.test at 2025-06-02 14:05 UTC")):
        record_actuals(
            session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="1.00",
            expected_version=1, today=TODAY,
        )  # fmt: skip


def test_a_stale_kpi_edit_is_refused_and_the_other_change_stays(
    session: Session, delivery: Delivery
) -> None:
    kpi = availability(session, delivery, y1="99.5")
    edited = datetime(2025, 5, 5, 8, 0, tzinfo=UTC)

    def rename(actor: Actor, name: str, **kwargs: Any) -> None:
        update_kpi(
            session, actor, kpi, name=name, unit="%", higher_is_better="higher",
            tolerance="0.5", targets={1: "99.5"}, expected_version=1, **kwargs,
        )  # fmt: skip

    rename(delivery.buyer_staff, "Service availability", now=edited)
    before = state(session, delivery)
    with pytest.raises(StaleEdit, match=f"{delivery.buyer_staff.label} at 2025-05-05 08:00"):
        rename(delivery.vendor_staff, "Uptime")
    assert state(session, delivery) == before
    assert [k.name for k in view(session, delivery).kpis] == ["Service availability"]


def test_a_stale_kpi_result_is_refused(session: Session, delivery: Delivery) -> None:
    kpi = availability(session, delivery, y1="99.5")  # the target's row is at version 1
    record_kpi_result(session, delivery.vendor_staff, kpi, 1, actual="99.1", expected_version=1)
    before = state(session, delivery)
    with pytest.raises(StaleEdit, match=delivery.vendor_staff.label):
        record_kpi_result(session, delivery.buyer_staff, kpi, 1, actual="99.9", expected_version=1)
    assert state(session, delivery) == before
    assert view(session, delivery).kpis[0].year(1).actual == Decimal("99.1")


# -- the fund -------------------------------------------------------------------------------


def test_spending_beyond_the_balance_is_refused_unless_marked_as_prefunding(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)  # R'_1 = 25,000.00
    initiative = approved_initiative(session, delivery, budget="50000.00")
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_spending(
            session, delivery.vendor_staff, initiative, 1, "30000.00", "Tooling", today=TODAY
        )
    assert errors_of(excinfo) == ["prefunding"]
    assert "below zero in year 1" in str(excinfo.value)
    assert state(session, delivery) == before
    record_spending(
        session, delivery.vendor_staff, initiative, 1, "30000.00", "Tooling",
        prefunding=True, today=TODAY,
    )  # fmt: skip
    after = view(session, delivery)
    line = after.year(1).ledger
    assert (line.opening, line.committed, line.spent, line.closing) == (
        0, 2_500_000, 3_000_000, -500_000,
    )  # fmt: skip
    assert after.year(2).ledger.opening == -500_000
    assert ties_out(after.ledger)
    assert [e.prefunding for e in after.entries] == [True]
    assert "overdrawn" not in {flag.kind for flag in contract_flags(after)}


def test_spending_the_whole_balance_needs_no_prefunding(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)
    initiative = approved_initiative(session, delivery, budget="25000.00")
    record_spending(
        session, delivery.vendor_staff, initiative, 1, "25000.00", "Tooling", today=TODAY
    )
    assert view(session, delivery).year(1).ledger.closing == 0
    with pytest.raises(InvalidTerms) as excinfo:
        record_spending(
            session, delivery.vendor_staff, initiative, 1, "0.01", "One cent more", today=TODAY
        )
    assert errors_of(excinfo) == ["prefunding"]


def test_a_spending_form_posted_twice_pays_once(session: Session, delivery: Delivery) -> None:
    actuals(session, delivery, 1)
    initiative = approved_initiative(session, delivery)
    shown = view(session, delivery).initiatives[0].version

    def post() -> int:
        return record_spending(
            session, delivery.vendor_staff, initiative, 1, "100.00", "Licences",
            expected_version=shown, today=TODAY,
        )  # fmt: skip

    post()
    before = state(session, delivery)
    with pytest.raises(StaleEdit, match=delivery.vendor_staff.label):
        post()
    assert state(session, delivery) == before
    assert view(session, delivery).year(1).ledger.spent == 10_000


def test_a_negative_adjustment_beyond_the_balance_needs_prefunding_as_well(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_adjustment(
            session, delivery.buyer_finance, delivery.contract_id, 1, "-25000.01",
            "Reversal", today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["prefunding"]
    assert state(session, delivery) == before
    record_adjustment(
        session, delivery.buyer_finance, delivery.contract_id, 1, "-25000.01", "Reversal",
        prefunding=True, today=TODAY,
    )  # fmt: skip
    assert view(session, delivery).year(1).ledger.closing == -1


def test_the_fund_pays_only_for_initiatives_both_sides_approved(
    session: Session, delivery: Delivery
) -> None:
    initiative = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )

    def spend() -> int:
        return record_spending(
            session, delivery.vendor_staff, initiative, 1, "100.00", "Licences", today=TODAY
        )

    with pytest.raises(Conflict, match="both sides approved"):
        spend()
    assert approve_initiative(session, delivery.vendor_staff, initiative, expected_version=1) == (
        "proposed"
    )
    with pytest.raises(Conflict, match="both sides approved"):
        spend()
    assert approve_initiative(session, delivery.buyer_staff, initiative, expected_version=2) == (
        "approved"
    )
    spend()
    shown = view(session, delivery).initiatives[0]
    assert (shown.status, shown.spent) == ("approved", 10_000)
    assert shown.approved_by("buyer")
    assert shown.approved_by("vendor")


def test_the_same_side_approving_twice_is_a_conflict(session: Session, delivery: Delivery) -> None:
    colleague = person(session, "colleague@dlv-1.test", delivery.vendor_id, "staff")
    initiative = propose_initiative(
        session, delivery.buyer_staff, delivery.contract_id, initiative_fields()
    )
    approve_initiative(session, delivery.vendor_staff, initiative, expected_version=1)
    before = state(session, delivery)
    for actor in (delivery.vendor_staff, colleague):
        with pytest.raises(Conflict, match="the vendor has already approved"):
            approve_initiative(session, actor, initiative, expected_version=2)
    assert state(session, delivery) == before
    assert view(session, delivery).initiatives[0].status == "proposed"


def test_approving_is_for_each_sides_own_staff(session: Session, delivery: Delivery) -> None:
    initiative = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    before = state(session, delivery)
    for who in ("buyer_finance", "vendor_finance", "buyer_admin", "vendor_admin"):
        with pytest.raises(Forbidden):
            approve_initiative(session, getattr(delivery, who), initiative, expected_version=1)
    both = Actor(None, "both@sides.test", {delivery.buyer_id: "staff", delivery.vendor_id: "staff"})
    with pytest.raises(Forbidden, match="say which side"):
        approve_initiative(session, both, initiative, expected_version=1)
    with pytest.raises(Forbidden, match="not staff of the buyer"):
        approve_initiative(
            session, delivery.vendor_staff, initiative, expected_version=1, side="buyer"
        )
    assert state(session, delivery) == before
    approve_initiative(session, both, initiative, expected_version=1, side="buyer")
    assert view(session, delivery).initiatives[0].buyer_approved_by == "both@sides.test"


def test_changing_a_proposal_withdraws_the_approvals_already_given(
    session: Session, delivery: Delivery
) -> None:
    initiative = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id, initiative_fields()
    )
    approve_initiative(session, delivery.vendor_staff, initiative, expected_version=1)
    update_initiative(
        session, delivery.buyer_staff, initiative, initiative_fields(budget="9000.00"),
        expected_version=2,
    )  # fmt: skip
    shown = view(session, delivery).initiatives[0]
    assert (shown.status, shown.budget) == ("proposed", 900_000)
    assert not shown.approved_by("vendor")
    assert not shown.approved_by("buyer")


# -- closing and reopening ------------------------------------------------------------------


def refused_close(session: Session, delivery: Delivery, year: int) -> str:
    before = state(session, delivery)
    with pytest.raises(Conflict) as excinfo:
        close(session, delivery, year)
    assert state(session, delivery) == before
    return str(excinfo.value)


def test_a_year_cannot_be_closed_while_its_actuals_are_missing(
    session: Session, delivery: Delivery
) -> None:
    assert "year 1 has no actual delivery cost" in refused_close(session, delivery, 1)
    # A year record without a cost (a planned volume only) is not enough either.
    set_delivery_plan(
        session, delivery.vendor_staff, delivery.contract_id, volume_name="Users",
        volume_unit="users", planned_volumes={1: "1000"}, initiatives_per_year=None,
        expected_version=0,
    )  # fmt: skip
    message = refused_close(session, delivery, 1)
    assert "year 1 has no actual delivery cost" in message
    assert "year 1 has a planned Users but no actual one" in message


def test_a_year_cannot_be_closed_while_a_kpi_result_is_missing(
    session: Session, delivery: Delivery
) -> None:
    kpi = availability(session, delivery, y1="99.5")
    actuals(session, delivery, 1)
    assert "KPI Availability has a target for year 1 but no result" in refused_close(
        session, delivery, 1
    )
    kpi_result(session, delivery, kpi, 1)
    close(session, delivery, 1)
    assert view(session, delivery).year(1).closed


def test_a_year_cannot_be_closed_before_it_has_ended(session: Session, delivery: Delivery) -> None:
    for year in (1, 2, 3, 4):
        actuals(session, delivery, year)
    for year in (1, 2, 3):
        close(session, delivery, year)
    assert "year 4 runs until 2025-12-31" in refused_close(session, delivery, 4)
    close_year(session, delivery.buyer_finance, delivery.contract_id, 4, today=date(2026, 1, 1))


def test_a_year_cannot_be_closed_before_the_previous_year_is(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)
    actuals(session, delivery, 2)
    assert "year 1 is still open: years close in order" in refused_close(session, delivery, 2)


def test_a_closed_year_cannot_be_closed_again(session: Session, delivery: Delivery) -> None:
    actuals(session, delivery, 1)
    close(session, delivery, 1, now=CLOSED_AT)
    assert "year 1 was already closed on 2025-03-03" in refused_close(session, delivery, 1)


def test_years_outside_the_term_cannot_be_closed_or_reopened(
    session: Session, delivery: Delivery
) -> None:
    for year in (0, 6, -1):
        with pytest.raises(InvalidTerms) as excinfo:
            close(session, delivery, year)
        assert errors_of(excinfo) == ["year"]
        with pytest.raises(InvalidTerms):
            reopen_year(session, delivery.buyer_admin, delivery.contract_id, year, "reason")


def test_closing_keeps_the_years_figures_as_they_stood(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)
    close(session, delivery, 1)
    shown = view(session, delivery)
    assert shown.year(1).closed_figures == canonical(year_figures_document(shown, 1))
    assert '"actual_cost":"950000.00"' in (shown.year(1).closed_figures or "")
    assert '"reinvest":"25000.00"' in (shown.year(1).closed_figures or "")


def test_only_the_latest_closed_year_can_be_reopened(session: Session, delivery: Delivery) -> None:
    admin = delivery.vendor_admin
    for year in (1, 2):
        actuals(session, delivery, year)
        close(session, delivery, year)
    before = state(session, delivery)
    with pytest.raises(Conflict, match="reopen year 2 first"):
        reopen_year(session, admin, delivery.contract_id, 1, "Wrong cost")
    with pytest.raises(Conflict, match="year 3 is not closed"):
        reopen_year(session, admin, delivery.contract_id, 3, "Wrong cost")
    assert state(session, delivery) == before
    reopen_year(session, admin, delivery.contract_id, 2, "Wrong cost")
    reopen_year(session, admin, delivery.contract_id, 1, "Wrong cost")
    with pytest.raises(Conflict, match="year 1 is not closed"):
        reopen_year(session, admin, delivery.contract_id, 1, "Again")
    # A reopened year takes corrections and closes again with its new figures.
    actuals(session, delivery, 1, "990000.00")
    close(session, delivery, 1)
    shown = view(session, delivery)
    assert shown.year(1).closed
    assert '"actual_cost":"990000.00"' in (shown.year(1).closed_figures or "")
    assert not shown.year(2).closed


# -- the audit trail ------------------------------------------------------------------------


def test_every_write_leaves_one_audit_event_naming_the_actor_and_contract(
    session: Session, delivery: Delivery
) -> None:
    d, c = delivery, delivery.contract_id
    ids: dict[str, int] = {}

    def propose() -> None:
        ids["initiative"] = propose_initiative(session, d.vendor_staff, c, initiative_fields())

    def kpi() -> None:
        ids["kpi"] = availability(session, d, y1="99.5")

    def version() -> int:
        """The initiative's version as a page would show it."""
        return next(i.version for i in view(session, d).initiatives if i.id == ids["initiative"])

    steps: list[tuple[str, Actor, Callable[[], object]]] = [
        ("update", d.vendor_staff, lambda: set_delivery_plan(
            session, d.vendor_staff, c, volume_name=None, volume_unit=None, planned_volumes={},
            initiatives_per_year="2", expected_version=0)),
        ("record_actuals", d.vendor_staff, lambda: actuals(session, d, 1)),
        ("create", d.buyer_staff, kpi),
        ("update", d.buyer_staff, lambda: update_kpi(
            session, d.buyer_staff, ids["kpi"], name="Availability", unit="%",
            higher_is_better="higher", tolerance="0.2", targets={1: "99.5"},
            expected_version=1)),
        ("record_result", d.vendor_staff, lambda: kpi_result(session, d, ids["kpi"], 1)),
        ("propose", d.vendor_staff, propose),
        ("update", d.buyer_staff, lambda: update_initiative(
            session, d.buyer_staff, ids["initiative"], initiative_fields(title="Reset"),
            expected_version=version())),
        ("approve_vendor", d.vendor_staff, lambda: approve_initiative(
            session, d.vendor_staff, ids["initiative"], expected_version=version())),
        ("approve_buyer", d.buyer_staff, lambda: approve_initiative(
            session, d.buyer_staff, ids["initiative"], expected_version=version())),
        ("in_progress", d.vendor_staff, lambda: move_initiative(
            session, d.vendor_staff, ids["initiative"], "in_progress",
            expected_version=version())),
        ("spend", d.vendor_staff, lambda: record_spending(
            session, d.vendor_staff, ids["initiative"], 1, "5000.00", "Tooling",
            expected_version=version(), today=TODAY)),
        ("adjust", d.buyer_finance, lambda: record_adjustment(
            session, d.buyer_finance, c, 1, "-100.00", "Bank charges", today=TODAY)),
        ("delivered", d.vendor_staff, lambda: move_initiative(
            session, d.vendor_staff, ids["initiative"], "delivered",
            expected_version=version(), delivered_year=1, realised_saving="11000.00")),
        ("close_year", d.buyer_finance, lambda: close(session, d, 1)),
        ("reopen_year", d.buyer_admin, lambda: reopen_year(
            session, d.buyer_admin, c, 1, "Late invoice")),
    ]  # fmt: skip
    for action, actor, step in steps:
        count = audit_count(session)
        step()
        assert audit_count(session) == count + 1, action
        event = latest_event(session)
        assert (event.action, event.actor, event.actor_user_id, event.contract_id) == (
            action, actor.label, actor.user_id, c,
        ), action  # fmt: skip
        assert event.after is not None


# -- bad values: a clear message naming the field, nothing written ----------------------------

BAD_AMOUNTS = [
    "NaN", "nan", "Infinity", "-Infinity", "inf", "1e999999", "1E3", "12.345", "-0", "-0.00",
    "1" * 40, "1,234.56", "1 234.56", "12,34", "0x10", "½", "", "  ",
    float("nan"), float("inf"), 12.5, Decimal("NaN"), Decimal("Infinity"), Decimal("12.345"),
    10**40, True, [], {},
]  # fmt: skip
NEGATIVE = ["-5.00", "-0.01"]


@pytest.mark.parametrize("amount", [*BAD_AMOUNTS, *NEGATIVE], ids=repr)
def test_a_bad_actual_cost_is_refused_naming_the_field(
    session: Session, delivery: Delivery, amount: object
) -> None:
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_actuals(
            session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost=amount,
            expected_version=0, today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["actual_cost"]
    assert state(session, delivery) == before


@pytest.mark.parametrize("amount", [*BAD_AMOUNTS, *NEGATIVE, "0", "0.00"], ids=repr)
def test_a_bad_spending_amount_is_refused_naming_the_field(
    session: Session, delivery: Delivery, amount: object
) -> None:
    initiative = approved_initiative(session, delivery)
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_spending(
            session, delivery.vendor_staff, initiative, 1, amount, "Licences", prefunding=True,
            today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["amount"]
    assert state(session, delivery) == before


@pytest.mark.parametrize("amount", [*BAD_AMOUNTS, "0", "-1" + "0" * 39], ids=repr)
def test_a_bad_adjustment_amount_is_refused_naming_the_field(
    session: Session, delivery: Delivery, amount: object
) -> None:
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_adjustment(
            session, delivery.buyer_finance, delivery.contract_id, 1, amount, "Fix",
            prefunding=True, today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["amount"]
    assert state(session, delivery) == before


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
@pytest.mark.parametrize("field", ["budget", "expected_saving"])
def test_a_bad_initiative_amount_is_refused_naming_the_field(
    session: Session, delivery: Delivery, amount: object, field: str
) -> None:
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        propose_initiative(
            session, delivery.vendor_staff, delivery.contract_id,
            initiative_fields(**{field: amount}),
        )  # fmt: skip
    assert errors_of(excinfo) == [field]
    assert state(session, delivery) == before


BAD_TEXTS = [
    "null\x00byte", "bell\x07", "escape \x1b[31mred", "tab\tinside", "delete\x7f",
    "line\u2028separator", "\u202eevil", "T" * 10_000,
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_TEXTS, ids=lambda value: repr(value[:20]))
def test_bad_text_is_refused_naming_the_field_on_every_delivery_form(
    session: Session, delivery: Delivery, bad: str
) -> None:
    initiative = approved_initiative(session, delivery)
    before = state(session, delivery)
    d, c = delivery, delivery.contract_id
    calls: dict[str, Callable[[], object]] = {
        "title": lambda: propose_initiative(
            session, d.vendor_staff, c, initiative_fields(title=bad)
        ),
        "description": lambda: propose_initiative(
            session, d.vendor_staff, c, initiative_fields(description=bad)
        ),
        "expected_kpi_effect": lambda: propose_initiative(
            session, d.vendor_staff, c, initiative_fields(expected_kpi_effect=bad)
        ),
        "note": lambda: actuals(session, d, 1, "1.00", note=bad),
        "reason": lambda: record_adjustment(
            session, d.buyer_finance, c, 1, "1.00", bad, today=TODAY
        ),
        "name": lambda: create_kpi(session, d.buyer_staff, c, **kpi_definition(bad)),
        "unit": lambda: create_kpi(session, d.buyer_staff, c, **kpi_definition("Tickets", bad)),
        "volume_name": lambda: set_delivery_plan(
            session, d.vendor_staff, c, **volume_plan(bad, y1="10")
        ),
    }

    def spending() -> object:
        return record_spending(session, d.vendor_staff, initiative, 1, "1.00", bad, today=TODAY)

    for field, call in [*calls.items(), ("description", spending)]:
        with pytest.raises(InvalidTerms) as excinfo:
            call()
        assert set(errors_of(excinfo)) == {field}, field
        assert state(session, delivery) == before, field


def test_text_of_the_longest_allowed_length_is_kept(session: Session, delivery: Delivery) -> None:
    title = "T" * 200
    description = "\n".join(["D" * 99] * 40)  # 3,999 characters over 40 lines
    initiative = propose_initiative(
        session, delivery.vendor_staff, delivery.contract_id,
        initiative_fields(title=f"  {title}  ", description=description),
    )  # fmt: skip
    shown = view(session, delivery).initiatives[0]
    assert (shown.id, shown.title, shown.description) == (initiative, title, description)
    with pytest.raises(InvalidTerms):
        propose_initiative(
            session, delivery.vendor_staff, delivery.contract_id,
            initiative_fields(title=title + "T"),
        )  # fmt: skip


@pytest.mark.parametrize("year", [0, -1, 6, 99, 5])
def test_actuals_for_a_year_outside_the_term_or_not_yet_started_are_refused(
    session: Session, delivery: Delivery, year: int
) -> None:
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_actuals(
            session, delivery.vendor_staff, delivery.contract_id, year, actual_cost="1.00",
            expected_version=0, today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["year"]
    if year == 5:
        assert "year 5 starts on 2026-01-01" in str(excinfo.value)
    assert state(session, delivery) == before


@pytest.mark.parametrize(
    "year", [0, -1, 6, "0", "6", 5, "5", "2025", "1.5", "one", "", None, 1.0, "1e0", True]
)
def test_fund_postings_to_a_year_outside_the_term_or_not_yet_started_are_refused(
    session: Session, delivery: Delivery, year: object
) -> None:
    initiative = approved_initiative(session, delivery)
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_spending(
            session, delivery.vendor_staff, initiative, year, "1.00", "x", prefunding=True,
            today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["year"]
    with pytest.raises(InvalidTerms) as excinfo:
        record_adjustment(
            session, delivery.buyer_finance, delivery.contract_id, year, "1.00", "x",
            today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["year"]
    assert state(session, delivery) == before


@pytest.mark.parametrize("year", [0, -1, 6])
def test_kpi_results_for_a_year_outside_the_term_are_refused(
    session: Session, delivery: Delivery, year: int
) -> None:
    kpi = availability(session, delivery, y1="99.5")
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_kpi_result(session, delivery.buyer_staff, kpi, year, actual="1", expected_version=0)
    assert errors_of(excinfo) == ["year"]
    assert state(session, delivery) == before


def test_kpi_results_for_a_year_not_yet_started_are_refused(
    session: Session, delivery: Delivery
) -> None:
    kpi = availability(session, delivery, y4="99.5", y5="99.5")
    before = state(session, delivery)
    with pytest.raises(InvalidTerms) as excinfo:
        record_kpi_result(
            session, delivery.buyer_staff, kpi, 5, actual="99.9", expected_version=1, today=TODAY
        )
    assert errors_of(excinfo) == ["year"]
    assert "year 5 starts on 2026-01-01" in str(excinfo.value)
    assert state(session, delivery) == before
    # The running year takes results (a KPI is measured as the year goes).
    record_kpi_result(
        session, delivery.buyer_staff, kpi, 4, actual="99.9", expected_version=1, today=TODAY
    )


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "1e999999", "1,5", "1" * 40, "99.1234567", "-0x1", ""]
)
def test_bad_kpi_results_and_volumes_are_refused_naming_the_field(
    session: Session, delivery: Delivery, value: str
) -> None:
    kpi = availability(session, delivery, y1="99.5")
    set_delivery_plan(
        session, delivery.vendor_staff, delivery.contract_id, volume_name="Users",
        volume_unit="users", planned_volumes={1: "1000"}, initiatives_per_year=None,
        expected_version=0,
    )  # fmt: skip
    before = state(session, delivery)
    if value:  # a blank result is "no result yet", not an error
        with pytest.raises(InvalidTerms) as excinfo:
            record_kpi_result(
                session, delivery.buyer_staff, kpi, 1, actual=value, expected_version=1
            )
        assert errors_of(excinfo) == ["actual"]
        with pytest.raises(InvalidTerms) as excinfo:
            record_kpi_result(
                session, delivery.buyer_staff, kpi, 1, actual="99", quarters={"q3": value},
                expected_version=1,
            )  # fmt: skip
        assert errors_of(excinfo) == ["q3"]
    with pytest.raises(InvalidTerms) as excinfo:
        record_actuals(
            session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="1.00",
            actual_volume=value or "-1", expected_version=1, today=TODAY,
        )  # fmt: skip
    assert errors_of(excinfo) == ["actual_volume"]
    assert state(session, delivery) == before


def test_every_bad_field_is_reported_at_once(session: Session, delivery: Delivery) -> None:
    with pytest.raises(InvalidTerms) as excinfo:
        propose_initiative(
            session, delivery.vendor_staff, delivery.contract_id,
            {"title": "", "description": "x\x00", "expected_saving": "NaN", "budget": "-0",
             "planned_year": 9},
        )  # fmt: skip
    assert errors_of(excinfo) == [
        "title", "description", "expected_saving", "budget", "planned_year",
    ]  # fmt: skip


# -- reconciliation -------------------------------------------------------------------------


def plain(message: str) -> str:
    """A message with amounts ungrouped (1,234.56 -> 1234.56)."""
    return re.sub(r"(?<=[0-9]),(?=[0-9]{3})", "", message)


def flags(session: Session, delivery: Delivery, *, today: date = TODAY) -> set[tuple[str, Any]]:
    return {(flag.kind, flag.year) for flag in contract_flags(view(session, delivery, today=today))}


def test_reconciliation_reports_a_closed_year_altered_directly_in_the_database(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)
    actuals(session, delivery, 2)
    close(session, delivery, 1)
    assert ("closed_changed", 1) not in flags(session, delivery)
    with session.begin():
        session.execute(
            text(
                "UPDATE delivery_years SET actual_cost = 90000000 "
                "WHERE contract_id = :c AND year = 1"
            ),
            {"c": delivery.contract_id},
        )
    found = contract_flags(view(session, delivery))
    changed = [flag for flag in found if flag.kind == "closed_changed"]
    assert [(flag.severity, flag.year) for flag in changed] == [("error", 1)]
    assert "year 1's figures differ from those it was closed with" in changed[0].message
    # Figures that do not tie out block the next close.
    assert "year 1's figures differ" in refused_close(session, delivery, 2)


def test_reconciliation_reports_a_negative_balance_without_prefunding(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)  # R'_1 = 25,000.00
    initiative = approved_initiative(session, delivery, budget="20000.00")
    record_spending(
        session, delivery.vendor_staff, initiative, 1, "20000.00", "Tooling", today=TODAY
    )
    assert ("overdrawn", 1) not in flags(session, delivery)
    # A corrected cost lowers R'_1 to 5,000.00: the fund closes year 1 at -15,000.00.
    actuals(session, delivery, 1, "990000.00")
    found = [f for f in contract_flags(view(session, delivery)) if f.kind == "overdrawn"]
    assert [(f.severity, f.year) for f in found] == [("error", 1)]
    assert "-15000.00" in plain(found[0].message)
    # The same when a pre-funding mark is removed behind the application's back.
    actuals(session, delivery, 1)
    record_spending(
        session, delivery.vendor_staff, initiative, 1, "10000.00", "More tooling",
        prefunding=True, today=TODAY,
    )  # fmt: skip
    assert ("overdrawn", 1) not in flags(session, delivery)
    with session.begin():
        session.execute(
            text("UPDATE fund_entries SET prefunding = :no WHERE contract_id = :c"),
            {"no": False, "c": delivery.contract_id},
        )
    assert ("overdrawn", 1) in flags(session, delivery)


def test_reconciliation_reports_missing_actuals_of_the_years_that_have_ended(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 2)
    found = flags(session, delivery)
    assert {year for kind, year in found if kind == "missing_actuals"} == {1, 3}
    assert {year for kind, year in found if kind == "to_close"} == {1, 2, 3}
    severities = {f.severity for f in contract_flags(view(session, delivery))
                  if f.kind == "missing_actuals"}  # fmt: skip
    assert severities == {"warning"}


def test_reconciliation_reports_the_balance_left_unspent_at_the_end_of_the_term(
    session: Session, delivery: Delivery
) -> None:
    # Planned R of the five years: 20,000.00 + 40,180.00 + 60,549.62 + 81,118.64 + 101,897.00.
    running = [f for f in contract_flags(view(session, delivery)) if f.kind == "unspent"]
    assert [(f.severity, f.year) for f in running] == [("info", 5)]
    assert "303745.26" in plain(running[0].message)
    ended = [
        f
        for f in contract_flags(view(session, delivery, today=AFTER_THE_TERM))
        if f.kind == "unspent"
    ]
    assert [(f.severity, f.year) for f in ended] == [("warning", 5)]
    assert "303745.26" in plain(ended[0].message)
    assert "left unspent" in ended[0].message
    # Nothing is flagged once the fund is spent to the cent.
    record_adjustment(
        session, delivery.buyer_finance, delivery.contract_id, 5, "-303745.26",
        "Paid out to both parties", today=AFTER_THE_TERM,
    )  # fmt: skip
    assert not [kind for kind, _ in flags(session, delivery, today=AFTER_THE_TERM)
                if kind == "unspent"]  # fmt: skip


def test_a_kpi_defined_after_a_year_closed_leaves_the_closed_year_as_it_was(
    session: Session, delivery: Delivery
) -> None:
    actuals(session, delivery, 1)
    actuals(session, delivery, 2)
    close(session, delivery, 1)
    kpi = availability(session, delivery, y2="99.5")
    kpi_result(session, delivery, kpi, 2)
    assert ("closed_changed", 1) not in flags(session, delivery)
    close(session, delivery, 2)


def test_renaming_a_kpi_leaves_the_closed_years_as_they_were(
    session: Session, delivery: Delivery
) -> None:
    kpi = availability(session, delivery, y1="99.5")
    kpi_result(session, delivery, kpi, 1)
    actuals(session, delivery, 1)
    close(session, delivery, 1)
    update_kpi(
        session, delivery.buyer_staff, kpi, name="Service availability", unit="%",
        higher_is_better="higher", tolerance="0.5", targets={1: "99.5"}, expected_version=1,
    )  # fmt: skip
    assert ("closed_changed", 1) not in flags(session, delivery)
