"""The demo delivery years (seed_data/delivery.json) that `tracker seed` gives the signed
demo contracts: actuals, KPIs, initiatives, fund postings and a closed year."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.delivery_models import (
    INITIATIVE_STATUSES,
    DeliveryPlan,
    DeliveryYear,
    FundEntry,
    Initiative,
    Kpi,
    KpiYear,
)
from tracker.db.models import Contract
from tracker.domain.kpis import KpiStatus
from tracker.domain.ledger import ties_out
from tracker.services.access import SYSTEM
from tracker.services.delivery import DeliveryView, canonical, delivery_view, year_figures_document
from tracker.services.kpis import create_kpi
from tracker.services.reconciliation import contract_flags
from tracker.services.seed import SEED_DATA, seed_demo

#: The day the demo data describes (late 2026); pinned so that which years have ended
#: does not move as time passes.
DEMO_DAY = date(2026, 11, 23)
DELIVERY_TEXT = (SEED_DATA / "delivery.json").read_text("utf-8")
SIGNED = (
    "SD-FR-2024", "IFM-UK-2022", "CRE-GLOBAL-2025", "F2B-2024", "CLOUD-OPS-2025",
    "GUARD-FR-2026",
)  # fmt: skip
DELIVERY_TABLES = (DeliveryPlan, DeliveryYear, Kpi, KpiYear, Initiative, FundEntry, AuditEvent)


def views(session: Session, today: date) -> dict[str, DeliveryView]:
    """Every stored contract's delivery years as the system sees them on ``today``."""
    with session.begin():
        ids = dict(session.execute(select(Contract.code, Contract.id)).all())
    return {code: delivery_view(session, SYSTEM, ids[code], today=today) for code in ids}


def counts(session: Session) -> dict[str, int]:
    """Rows in the delivery tables and the audit trail."""
    with session.begin():
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in DELIVERY_TABLES
        }


@pytest.fixture
def demo(app: Flask, session: Session) -> dict[str, DeliveryView]:
    """The demo data seeded on the demo day, as it reads on that day."""
    result = seed_demo(session, today=DEMO_DAY)
    assert result.delivery == SIGNED
    return views(session, DEMO_DAY)


def test_the_file_keys_everything_by_contract_code_and_year_with_amounts_as_decimal_text() -> None:
    def no_float(text: str) -> Decimal:
        raise AssertionError(f"{text} is written as a JSON number; write it as a string")

    document = json.loads(DELIVERY_TEXT, parse_float=no_float)

    assert tuple(document["contracts"]) == SIGNED
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", DELIVERY_TEXT)  # no calendar dates
    amounts = re.findall(r'"(?:cost|amount|budget|expected_saving|realised_saving)": ("?)([^",}]*)',
                         DELIVERY_TEXT)  # fmt: skip
    assert len(amounts) > 40
    for quote, amount in amounts:
        assert quote == '"', amount
        assert re.fullmatch(r"-?\d+\.\d\d", amount), amount


def test_every_signed_demo_contract_gets_actuals_for_its_ended_years_kpis_and_initiatives(
    demo: dict[str, DeliveryView],
) -> None:
    ended = {code: [y.year for y in demo[code].years if y.ended] for code in SIGNED}

    assert ended == {
        "SD-FR-2024": [1, 2], "IFM-UK-2022": [1, 2, 3, 4], "CRE-GLOBAL-2025": [1],
        "F2B-2024": [1, 2], "CLOUD-OPS-2025": [1], "GUARD-FR-2026": [],
    }  # fmt: skip
    for code in SIGNED:
        view = demo[code]
        assert 2 <= len(view.kpis) <= 4, code
        assert view.initiatives, code
        for year in view.years:
            if year.ended:
                assert year.actual is not None, (code, year.year)
                assert year.planned_volume is None or year.actual_volume is not None
                assert all(kpi.year(year.year).actual is not None for kpi in view.kpis)
            else:
                # the current year is still running: no full-year figure yet
                assert year.actual is None, (code, year.year)
                assert all(kpi.year(year.year).actual is None for kpi in view.kpis)
            if not year.started:
                assert not [e for e in view.entries if e.year == year.year], (code, year.year)
            assert all(kpi.year(year.year).target is not None for kpi in view.kpis)
    draft = demo["WPS-US-2027"]
    assert (draft.kpis, draft.initiatives, draft.entries) == ((), (), ())
    assert all(year.actual is None for year in draft.years)


def test_the_demo_volumes_differ_from_plan_so_that_the_normalised_baseline_shows(
    demo: dict[str, DeliveryView],
) -> None:
    drivers = {code: view.volume_name for code, view in demo.items() if view.volume_name}
    commitments = [code for code, view in demo.items() if view.initiatives_per_year]

    assert drivers == {
        "SD-FR-2024": "users supported", "IFM-UK-2022": "floor area maintained",
        "F2B-2024": "invoices processed", "CLOUD-OPS-2025": "virtual machines run",
    }  # fmt: skip
    assert {y.planned_volume for y in demo["SD-FR-2024"].years} == {Decimal(8000)}
    assert len(commitments) >= 2
    normalised = [
        (code, y.year) for code, view in demo.items() for y in view.years
        if y.actual is not None and y.actual.normalised
    ]  # fmt: skip
    assert ("SD-FR-2024", 2) in normalised
    assert len(normalised) >= 3
    for code, number in normalised:
        year = demo[code].year(number)
        assert year.actual_volume != year.planned_volume
        assert year.actual is not None
        assert year.actual.baseline_used != year.plan.baseline_cost


def test_the_demo_actuals_beat_the_plan_in_some_years_and_miss_it_clearly_in_one(
    demo: dict[str, DeliveryView],
) -> None:
    variances = {
        (code, y.year): y.variance("cost") for code, view in demo.items() for y in view.years
    }
    pct = {key: v.pct for key, v in variances.items() if v is not None and v.pct is not None}

    assert len(pct) == 10  # every ended year of the six contracts
    assert len([p for p in pct.values() if p < 0]) >= 4  # cheaper than planned
    clearly_worse = [key for key, p in pct.items() if p > 500]  # more than 5 % over plan
    assert clearly_worse == [("IFM-UK-2022", 2)]


def test_the_demo_kpis_are_met_near_and_missed_with_quarterly_results_for_some(
    demo: dict[str, DeliveryView],
) -> None:
    results = [(kpi, entry) for view in demo.values() for kpi in view.kpis for entry in kpi.years]

    statuses = {entry.status for _, entry in results if entry.status is not None}
    assert statuses == set(KpiStatus)
    quarterly = {kpi.name for kpi, entry in results if any(q is not None for q in entry.quarters)}
    assert len(quarterly) >= 3
    assert {kpi.higher_is_better for kpi, _ in results} == {True, False}
    names = {kpi.name for kpi, _ in results}
    assert {"First-contact resolution", "Energy use per m²", "Availability",
            "Attendance compliance", "Cost per invoice"} <= names  # fmt: skip


def test_the_demo_initiatives_go_through_every_status_proposed_by_both_sides(
    demo: dict[str, DeliveryView],
) -> None:
    initiatives = [(code, i) for code, view in demo.items() for i in view.initiatives]
    entries = [(code, e) for code, view in demo.items() for e in view.entries]

    assert {i.status for _, i in initiatives} == set(INITIATIVE_STATUSES)
    assert {i.proposed_by_side for _, i in initiatives} == {"buyer", "vendor"}
    proposed = [i for _, i in initiatives if i.status == "proposed"]
    approvals = sorted(i.approved_by("buyer") + i.approved_by("vendor") for i in proposed)
    assert 0 in approvals  # proposed, approved by neither side yet
    assert 1 in approvals  # proposed, approved by one side
    for _, initiative in initiatives:
        if initiative.status == "delivered":
            assert initiative.delivered_year is not None
            assert (initiative.realised_saving or 0) > 0
        if initiative.status == "dropped":
            assert initiative.realised_note  # the reason
        if initiative.status in {"approved", "in_progress", "delivered"}:
            assert initiative.approved_by("buyer"), initiative.title
            assert initiative.approved_by("vendor"), initiative.title
        assert not initiative.over_budget, initiative.title
    spending = [e for _, e in entries if e.kind == "spending"]
    adjustments = [e for _, e in entries if e.kind == "adjustment"]
    assert len(spending) >= 10
    assert len(adjustments) == 1
    assert adjustments[0].text.strip()
    assert [code for code, e in entries if e.prefunding] == ["GUARD-FR-2026"]


def test_demo_years_are_closed_with_the_figures_they_had(
    demo: dict[str, DeliveryView],
) -> None:
    closed = {code: [y.year for y in view.years if y.closed] for code, view in demo.items()}

    # Facilities years 1-2, and year 1 of the service desk and the finance back office,
    # whose annual reports the demo prepares.
    assert {code: years for code, years in closed.items() if years} == {
        "IFM-UK-2022": [1, 2],
        "SD-FR-2024": [1],
        "F2B-2024": [1],
    }
    view = demo["IFM-UK-2022"]
    for number in (1, 2):
        year = view.year(number)
        assert year.closed_by == "finance@northbridge-borough-council.demo"
        assert year.closed_figures == canonical(year_figures_document(view, number))


def test_every_demo_delivery_record_was_written_through_the_audited_services_by_people(
    demo: dict[str, DeliveryView], session: Session
) -> None:
    with session.begin():
        events = session.execute(
            select(AuditEvent.entity, AuditEvent.action, AuditEvent.actor, func.count())
            .where(AuditEvent.entity.in_(("kpi", "initiative", "fund_entry", "delivery_year")))
            .group_by(AuditEvent.entity, AuditEvent.action, AuditEvent.actor)
        ).all()
    by_action: dict[tuple[str, str], int] = {}
    for entity, action, _, n in events:
        by_action[entity, action] = by_action.get((entity, action), 0) + n

    # Each change is made by the demo account of the side and role the rules ask for.
    actors = {(entity, action): actor for entity, action, actor, _ in events}
    assert actors[("delivery_year", "record_actuals")].startswith("staff@")
    assert actors[("delivery_year", "close_year")].startswith("finance@")
    assert actors[("fund_entry", "adjust")].startswith("finance@")
    assert "system" not in {actor for _, _, actor, _ in events}
    assert by_action[("kpi", "create")] == sum(len(v.kpis) for v in demo.values())
    assert by_action[("initiative", "propose")] == sum(len(v.initiatives) for v in demo.values())
    assert by_action[("fund_entry", "spend")] + by_action[("fund_entry", "adjust")] == sum(
        len(v.entries) for v in demo.values()
    )
    assert by_action[("delivery_year", "close_year")] == 4


def test_every_seeded_contract_ties_out_with_no_error_flag(seeded: Flask, session: Session) -> None:
    today = datetime.now(UTC).date()

    for code, view in views(session, today).items():
        flags = contract_flags(view)
        assert ties_out(view.ledger), code
        assert [f for f in flags if f.severity == "error"] == [], code
    assert {code for code, view in views(session, today).items() if view.kpis} == set(SIGNED)


def test_seeding_twice_adds_nothing(demo: dict[str, DeliveryView], session: Session) -> None:
    before = counts(session)

    again = seed_demo(session, today=DEMO_DAY)

    assert again.added == again.users == again.delivery == ()
    assert counts(session) == before
    assert before["fund_entries"] > 0
    assert before["kpi_years"] > 0


def test_a_contract_with_delivery_data_of_its_own_is_left_alone(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    contracts_only = tmp_path / "seed_data"
    shutil.copytree(SEED_DATA, contracts_only)
    (contracts_only / "delivery.json").unlink()
    first = seed_demo(session, contracts_only, today=DEMO_DAY)
    with session.begin():
        desk = session.scalar(select(Contract.id).where(Contract.code == "SD-FR-2024"))
    assert desk is not None
    create_kpi(
        session, SYSTEM, desk, name="Calls answered in 60 seconds", unit="%",
        higher_is_better="higher", tolerance="1", targets={1: "90"},
    )  # fmt: skip

    result = seed_demo(session, today=DEMO_DAY)

    assert first.delivery == ()
    assert result.delivery == tuple(code for code in SIGNED if code != "SD-FR-2024")
    desk_view = delivery_view(session, SYSTEM, desk, today=DEMO_DAY)
    assert [kpi.name for kpi in desk_view.kpis] == ["Calls answered in 60 seconds"]
    assert (desk_view.initiatives, desk_view.entries, desk_view.volume_name) == ((), (), None)
    assert all(year.actual is None for year in desk_view.years)


def test_a_seed_on_an_earlier_day_skips_the_years_not_begun_and_a_close_it_may_not_make(
    app: Flask, session: Session
) -> None:
    day = date(2024, 3, 1)

    result = seed_demo(session, today=day)

    assert result.delivery == SIGNED
    seen = views(session, day)
    for code in SIGNED:
        view = seen[code]
        for year in view.years:
            if not year.started:
                assert year.actual is None, (code, year.year)
                assert not [e for e in view.entries if e.year == year.year], (code, year.year)
                assert all(kpi.year(year.year).actual is None for kpi in view.kpis)
                assert year.delivered_initiatives == 0
        assert [f for f in contract_flags(view) if f.severity == "error"] == [], code
    facilities = seen["IFM-UK-2022"]
    # year 2 runs until 2024-08-31: its close is refused, and skipped without an error
    assert [y.year for y in facilities.years if y.closed] == [1]
    assert facilities.year(2).actual is not None
    assert [e.kind for e in facilities.entries] == ["spending"] * 3
    assert seen["F2B-2024"].entries == ()
    assert seen["GUARD-FR-2026"].entries == ()
    in_progress = {
        i.title: i.status for i in seen["F2B-2024"].initiatives if i.status == "in_progress"
    }
    assert "OCR capture and three-way matching" in in_progress  # delivered in a later year
