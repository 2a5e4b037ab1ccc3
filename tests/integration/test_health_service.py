"""Contract health as the portfolio keeps and shows it: computed after the signature,
forgotten when the contract's data changes, the vendor's own view, sorting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from delivery_factory import TODAY, Delivery, contract_in_delivery
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.cli import cli
from tracker.db.account_map_models import Influence
from tracker.db.followup_models import Concern, PulseCheck
from tracker.db.health_models import ContractHealth
from tracker.services.access import Actor
from tracker.services.portfolio import PortfolioQuery, PortfolioRow, portfolio_page

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)


def rows(session: Session, actor: Actor, **query: object) -> dict[str, PortfolioRow]:
    page = portfolio_page(session, actor, PortfolioQuery(**query), today=TODAY)  # type: ignore[arg-type]
    return {row.code: row for row in page.rows}


def add(session: Session, *items: object) -> None:
    with session.begin():
        session.add_all(items)


def concern(delivery: Delivery, severity: str, due_on: date = TODAY) -> Concern:
    return Concern(
        contract_id=delivery.contract_id, title=f"A {severity} concern", category="other",
        severity=severity, raised_by_side="buyer", raised_by="b", raised_on=TODAY,
        owner_side="vendor", due_on=due_on, status="open",
        updated_at=NOW, updated_by="b", version=1,
    )  # fmt: skip


def kept(session: Session, delivery: Delivery) -> int:
    with session.begin():
        return (
            session.scalar(
                select(func.count())
                .select_from(ContractHealth)
                .where(ContractHealth.contract_id == delivery.contract_id)
            )
            or 0
        )


#: What the factory contract scores on TODAY: three years' commitments lie unspent in
#: its fund (nothing was spent on initiatives yet), and nothing else is wrong.
UNSPENT = 5
BASE = 100 - UNSPENT


def test_a_signed_contract_scores_its_fund_lying_unspent_and_a_draft_has_no_health(
    session: Session,
) -> None:
    healthy = contract_in_delivery(session, code="H-1")
    contract_in_delivery(session, code="H-DRAFT", status="draft", accounts_too=False)

    shown = rows(session, healthy.vendor_staff)

    assert shown["H-1"].health == BASE
    assert shown["H-1"].health_band == "healthy"
    assert shown["H-1"].health_alerts == (
        "the fund holds more than half of what was committed so far",
    )
    assert shown["H-DRAFT"].health is None


def test_open_concerns_lower_the_score_and_explain_it(session: Session) -> None:
    delivery = contract_in_delivery(session, code="H-2")
    add(
        session, concern(delivery, "critical"), concern(delivery, "high", TODAY - timedelta(days=3))
    )

    row = rows(session, delivery.buyer_staff)["H-2"]

    # 20 + 10 for the open concerns, 5 for the overdue one
    assert row.health == BASE - 35
    assert row.health_band == "watch"
    assert row.health_alerts[:2] == ("open concerns: 1 critical, 1 high", "1 concern overdue")


def test_a_change_to_the_contract_forgets_its_kept_health(session: Session) -> None:
    delivery = contract_in_delivery(session, code="H-3")
    rows(session, delivery.vendor_staff)
    assert kept(session, delivery) == 1

    add(session, concern(delivery, "low"))

    assert kept(session, delivery) == 0
    assert rows(session, delivery.vendor_staff)["H-3"].health == BASE - 2


def test_red_flags_count_only_for_the_vendor_who_keeps_the_account_map(session: Session) -> None:
    delivery = contract_in_delivery(session, code="H-4")
    add(
        session,
        Influence(
            contract_id=delivery.contract_id, name="Pat", job_title="CFO", role="economic_buyer",
            degree="high", mode="even_keel", rating=-5, evidence=None, win_result=None,
            covered_by=None, last_met_on=None, added_on=TODAY - timedelta(days=400),
            updated_at=NOW, updated_by="v", version=1,
        ),
    )  # fmt: skip

    vendor = rows(session, delivery.vendor_staff)["H-4"]
    buyer = rows(session, delivery.buyer_staff)["H-4"]

    assert buyer.health == BASE
    assert not any("red flag" in text for text in buyer.health_alerts)
    assert vendor.health is not None
    assert vendor.health < BASE
    assert any("red flag" in text for text in vendor.health_alerts)


def test_the_two_sides_two_points_apart_show_as_a_divergence(session: Session) -> None:
    delivery = contract_in_delivery(session, code="H-5")
    quarter = date(2025, 4, 1)
    add(
        session,
        *(
            PulseCheck(contract_id=delivery.contract_id, side=side, period=quarter, rating=rating,
                       comment=None, at=NOW, by=side)
            for side, rating in (("buyer", 2), ("vendor", 4))
        ),
    )  # fmt: skip

    row = rows(session, delivery.vendor_staff)["H-5"]

    assert row.health == BASE - 10 - 10
    assert any("differently" in text for text in row.health_alerts)


def test_sorting_by_health_puts_the_weakest_first_and_contracts_without_one_last(
    session: Session,
) -> None:
    strong = contract_in_delivery(session, code="H-STRONG")
    weak = contract_in_delivery(session, code="H-WEAK", accounts_too=False)
    contract_in_delivery(session, code="H-DRAFT", status="draft", accounts_too=False)
    add(session, concern(weak, "critical"))
    assert strong.vendor_staff.organisation_ids == weak.vendor_staff.organisation_ids

    ascending = list(rows(session, strong.vendor_staff, sort="health"))
    descending = list(rows(session, strong.vendor_staff, sort="health", descending=True))

    assert ascending == ["H-WEAK", "H-STRONG", "H-DRAFT"]
    assert descending == ["H-STRONG", "H-WEAK", "H-DRAFT"]


def test_kept_health_is_computed_again_on_a_new_day(session: Session) -> None:
    delivery = contract_in_delivery(session, code="H-6")
    add(session, concern(delivery, "low", due_on=TODAY + timedelta(days=1)))
    assert rows(session, delivery.vendor_staff)["H-6"].health == BASE - 2

    later = portfolio_page(
        session, delivery.vendor_staff, PortfolioQuery(), today=TODAY + timedelta(days=5)
    )

    assert [row.health for row in later.rows] == [BASE - 2 - 5]  # now overdue as well


def test_the_nightly_refresh_computes_every_signed_contracts_health_once_a_day(
    app: Flask, session: Session
) -> None:
    contract_in_delivery(session, code="H-7")
    contract_in_delivery(session, code="H-8", accounts_too=False)
    contract_in_delivery(session, code="H-9", status="draft", accounts_too=False)
    runner = app.test_cli_runner()

    first = runner.invoke(cli, ["health", "refresh"], catch_exceptions=False)
    again = runner.invoke(cli, ["health", "refresh"], catch_exceptions=False)

    assert first.output == "Computed the health of 2 contracts.\n"
    assert again.output == "Computed the health of 0 contracts.\n"
    with session.begin():
        assert session.scalar(select(func.count()).select_from(ContractHealth)) == 2
