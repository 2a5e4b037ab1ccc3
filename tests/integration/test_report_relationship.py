"""The annual report's relationship section: the year's concerns, pulse and governance as
they stood at the end of the year."""

from __future__ import annotations

from datetime import UTC, date, datetime

from delivery_factory import Delivery
from flask import Flask
from report_factory import draft, renderer, reportable_contract, view
from sqlalchemy.orm import Session

from tracker.db.followup_models import Concern, Meeting, MeetingAction, PulseCheck

NOW = datetime(2023, 1, 15, tzinfo=UTC)


def concern(
    delivery: Delivery, title: str, raised: date, resolved: date | None, **extra: str
) -> Concern:
    fields = {
        "severity": "high",
        "raised_by_side": "buyer",
        "category": "delivery_problem",
        **extra,
    }
    return Concern(
        contract_id=delivery.contract_id, title=title, raised_by="x", raised_on=raised,
        owner_side="vendor", due_on=date(2022, 10, 1),
        status="resolved" if resolved else "open", resolved_on=resolved,
        updated_at=NOW, updated_by="x", version=1, **fields,
    )  # fmt: skip


def pulse(delivery: Delivery, period: date, side: str, rating: int) -> PulseCheck:
    return PulseCheck(contract_id=delivery.contract_id, side=side, period=period,
                      rating=rating, comment=None, at=NOW, by=side)  # fmt: skip


def test_the_section_counts_only_the_year_and_as_it_stood_at_its_end(
    app: Flask, session: Session
) -> None:
    delivery = reportable_contract(session)
    meeting = Meeting(
        contract_id=delivery.contract_id, kind="quarterly_review", held_on=date(2022, 6, 20),
        title="Q2 review", agenda=None, attendees=None, decisions=None,
        updated_at=NOW, updated_by="x", version=1,
    )  # fmt: skip
    with session.begin():
        session.add_all([
            concern(delivery, "Slow start", date(2022, 3, 1), date(2022, 5, 1)),
            # resolved after the year's end: still open in the year-1 report
            concern(delivery, "Invoices late", date(2022, 11, 2), date(2023, 2, 1),
                    severity="medium", raised_by_side="vendor", category="commercial"),
            concern(delivery, "Next year's", date(2023, 3, 1), None),
            pulse(delivery, date(2022, 4, 1), "buyer", 2),
            pulse(delivery, date(2022, 4, 1), "vendor", 4),
            pulse(delivery, date(2022, 7, 1), "buyer", 3),
            pulse(delivery, date(2023, 1, 1), "buyer", 5),
            meeting,
        ])  # fmt: skip
    with session.begin():
        session.add_all([
            MeetingAction(meeting_id=meeting.id, contract_id=delivery.contract_id, title=title,
                          owner_side="vendor", owner=None, due_on=due, status=status,
                          done_on=done, updated_at=NOW, updated_by="x", version=1)
            for title, due, status, done in (
                ("Done in time", date(2022, 7, 1), "done", date(2022, 6, 30)),
                ("Done after the year", date(2022, 9, 1), "done", date(2023, 1, 10)),
                ("Still open", date(2023, 2, 1), "open", None),
            )
        ])  # fmt: skip

    section = draft(session, delivery).report["relationship"]

    assert section["concerns"]["raised"] == 2
    assert (section["concerns"]["by_buyer"], section["concerns"]["by_vendor"]) == (1, 1)
    assert section["concerns"]["resolved"] == 1
    assert [c["title"] for c in section["concerns"]["open_at_end"]] == ["Invoices late"]
    assert section["concerns"]["open_at_end"][0]["overdue"] is True
    assert section["pulse"]["quarters"] == [
        {"period": "2022-04-01", "buyer": 2, "vendor": 4},
        {"period": "2022-07-01", "buyer": 3},
    ]
    assert (section["pulse"]["average_buyer"], section["pulse"]["average_vendor"]) == ("2.5", "4.0")
    assert section["pulse"]["diverged"] == ["2022-04-01"]
    governance = section["governance"]
    assert [m["title"] for m in governance["meetings"]] == ["Q2 review"]
    assert (governance["actions"], governance["actions_done"]) == (3, 1)
    assert (governance["actions_open_at_end"], governance["actions_overdue_at_end"]) == (2, 1)
    pdf = renderer(app)(view(session, delivery).content)
    assert pdf.startswith(b"%PDF")


def test_a_year_without_follow_up_has_no_section(app: Flask, session: Session) -> None:
    delivery = reportable_contract(session)

    assert draft(session, delivery).report["relationship"] is None
