"""The joint annual report's signing rules on a real database: preparing it, each side's
commentary, the two signatures in either order, every refusal (nothing stored), withdrawing,
and the freeze: snapshot and PDF kept with their SHA-256 in the database, on disk and in the
audit trail, and nothing that changes a frozen report or reopens its year.

The contract is the fixed-5y example from 2022 with year 1's actual cost (950,000.00)
recorded and the year closed by the vendor's finance (tests/report_factory.py); with
``today=TODAY`` (30 June 2025) years 1-3 have ended, year 4 runs and year 5 has not begun.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from delivery_factory import TODAY, Delivery, fixed_terms, person
from flask import Flask
from report_factory import ACTUAL_COST, renderer, reportable_contract, view
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.report_models import AnnualReport, ReportSignature
from tracker.domain.errors import InvalidTerms
from tracker.domain.money import units_text
from tracker.domain.schedule import compute_schedule
from tracker.domain.terms_parser import parse_terms
from tracker.services import annual_reports, report_files
from tracker.services.access import SYSTEM, Actor
from tracker.services.actuals import record_actuals
from tracker.services.delivery import delivery_view
from tracker.services.errors import ClosedYear, Conflict, Forbidden, NotFound, StaleEdit
from tracker.services.fund import record_adjustment
from tracker.services.report_document import report_document
from tracker.services.report_files import StorageFailed, verify_reports
from tracker.services.report_views import ReportPermissions, report_view, signing_fingerprint
from tracker.services.year_close import close_year, reopen_year

DRAFTED_AT = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
COMMENTED_AT = datetime(2025, 6, 3, 14, 20, tzinfo=UTC)
SIGNED_AT = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)
LATER = datetime(2025, 6, 11, 16, 45, tzinfo=UTC)


@pytest.fixture
def delivery(session: Session) -> Delivery:
    """The fixed-5y contract with year 1 closed and its report not yet prepared."""
    return reportable_contract(session)


@pytest.fixture
def reports_dir(app: Flask) -> Path:
    """Where frozen reports are written."""
    return Path(app.config["REPORTS_DIR"])


# -- helpers ---------------------------------------------------------------------------------


def prepare(session: Session, delivery: Delivery, year: int = 1, **kwargs: Any) -> None:
    """Prepare the report as the vendor's staff at the version the page shows."""
    annual_reports.draft_report(
        session, delivery.vendor_staff, delivery.contract_id, year,
        expected_version=view(session, delivery, year).version, today=TODAY, **kwargs,
    )  # fmt: skip


def comment(
    session: Session,
    delivery: Delivery,
    side: str,
    text: object,
    *,
    actor: Actor | None = None,
    version: int | None = None,
    **kwargs: Any,
) -> None:
    """Save ``side``'s commentary as its staff (or ``actor``) at the version the page shows."""
    annual_reports.save_commentary(
        session, actor or staff(delivery, side), delivery.contract_id, 1, side, text,
        expected_version=view(session, delivery).version if version is None else version,
        **kwargs,
    )  # fmt: skip


def sign(
    app: Flask,
    session: Session,
    delivery: Delivery,
    side: str,
    *,
    actor: Actor | None = None,
    fingerprint: object = None,
    year: int = 1,
    render_pdf: Callable[[dict[str, Any]], bytes] | None = None,
    reports_dir: Path | None = None,
    **kwargs: Any,
) -> bool:
    """Sign for ``side`` as its staff (or ``actor``) what the report shows (or ``fingerprint``)."""
    shown = view(session, delivery, year).content["fingerprint"]
    return annual_reports.sign_report(
        session, actor or staff(delivery, side), delivery.contract_id, year, side,
        shown if fingerprint is None else fingerprint,
        render_pdf=render_pdf or renderer(app),
        reports_dir=reports_dir or Path(app.config["REPORTS_DIR"]), today=TODAY, **kwargs,
    )  # fmt: skip


def withdraw(session: Session, delivery: Delivery, side: str, actor: Actor | None = None) -> None:
    annual_reports.withdraw_signature(
        session, actor or staff(delivery, side), delivery.contract_id, 1, side
    )


def staff(delivery: Delivery, side: str) -> Actor:
    return delivery.vendor_staff if side == "vendor" else delivery.buyer_staff


def other(side: str) -> str:
    return "buyer" if side == "vendor" else "vendor"


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` (temporary ones included)."""
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []


def audit_count(session: Session) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def state(session: Session, delivery: Delivery, reports_dir: Path, year: int = 1) -> Any:
    """Everything a refused change must leave as it was: audit trail, report, files."""
    return (
        audit_count(session),
        view(session, delivery, year).content,
        view(session, delivery, year).version,
        files_under(reports_dir),
    )


def stored_report(session: Session, delivery: Delivery, year: int = 1) -> AnnualReport:
    """The report row as stored (detached)."""
    with session.begin():
        row = session.scalars(
            select(AnnualReport).where(
                AnnualReport.contract_id == delivery.contract_id, AnnualReport.year == year
            )
        ).one()
        session.expunge(row)
        return row


def signature_rows(session: Session, delivery: Delivery) -> list[tuple[str, int | None, str]]:
    with session.begin():
        return [
            (row.side, row.user_id, row.signed_by)
            for row in session.scalars(
                select(ReportSignature)
                .join(AnnualReport, AnnualReport.id == ReportSignature.report_id)
                .where(AnnualReport.contract_id == delivery.contract_id)
                .order_by(ReportSignature.side)
            )
        ]


def report_events(session: Session, delivery: Delivery) -> list[tuple[str, dict[str, Any]]]:
    """The annual-report events of the contract's audit trail, oldest first."""
    with session.begin():
        return [
            (event.action, json.loads(event.after or "null") or {})
            for event in session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.contract_id == delivery.contract_id,
                    AuditEvent.entity == "annual_report",
                )
                .order_by(AuditEvent.id)
            )
        ]


def errors_of(excinfo: pytest.ExceptionInfo[InvalidTerms]) -> list[str]:
    return [error.path for error in excinfo.value.errors]


def freeze(app: Flask, session: Session, delivery: Delivery) -> None:
    """Prepare the report and sign it for both sides."""
    prepare(session, delivery)
    assert sign(app, session, delivery, "vendor") is False
    assert sign(app, session, delivery, "buyer") is True


# -- preview and preparing --------------------------------------------------------------------


def test_before_it_is_prepared_the_report_is_a_preview_without_fingerprint_or_sign_off(
    session: Session, delivery: Delivery
) -> None:
    shown = view(session, delivery)
    assert shown.state == "preview"
    assert shown.content["fingerprint"] is None
    assert shown.content["drafted"] is None
    assert shown.content["signatures"] == {"buyer": None, "vendor": None}
    assert shown.version == 0
    assert shown.blockers == ("the vendor has not prepared the report for signature yet",)
    assert shown.permissions.draft
    assert shown.permissions.sign_sides == ()
    assert shown.permissions.comment_sides == ()
    # The preview shows the live figures of the year.
    assert shown.report["summary"]["price"] == "1200000.00"
    assert shown.report["curves"][0]["actual_cost"] == ACTUAL_COST
    not_ended = view(session, delivery, 4)
    assert not_ended.state == "preview"
    assert "the year has not ended: its report is prepared once it has" in not_ended.blockers
    assert not not_ended.permissions.draft


def test_a_preview_can_be_neither_commented_on_nor_signed(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    before = state(session, delivery, reports_dir)
    with pytest.raises(Conflict, match="has not prepared the report"):
        comment(session, delivery, "buyer", "Good year")
    with pytest.raises(Conflict, match="has not prepared the report"):
        sign(app, session, delivery, "vendor", fingerprint="0" * 64)
    with pytest.raises(Conflict, match="the vendor has not signed"):
        withdraw(session, delivery, "vendor")
    assert state(session, delivery, reports_dir) == before


def test_vendor_staff_prepare_the_report_with_every_live_figure(
    session: Session, delivery: Delivery
) -> None:
    prepare(session, delivery, now=DRAFTED_AT)
    shown = view(session, delivery)
    assert shown.state == "draft"
    assert shown.version == 1
    assert shown.content["drafted"] == {
        "at": "2025-06-02T08:00:00+00:00", "by": delivery.vendor_staff.label,
    }  # fmt: skip
    live = report_document(delivery_view(session, SYSTEM, delivery.contract_id, today=TODAY), 1)
    assert shown.report == live
    assert shown.changes == ()
    assert shown.blockers == ()
    assert shown.content["fingerprint"] == signing_fingerprint(live, shown.content["commentary"])
    assert view(session, delivery).permissions.sign_sides == ("vendor",)
    # Nothing changed since: preparing again would store the same figures.
    with pytest.raises(Conflict, match="already has the current figures"):
        prepare(session, delivery)


@pytest.mark.parametrize(
    "who", ["buyer_staff", "buyer_finance", "buyer_admin", "vendor_finance", "vendor_admin"]
)
def test_only_vendor_staff_may_prepare_the_report(
    session: Session, delivery: Delivery, reports_dir: Path, who: str
) -> None:
    before = state(session, delivery, reports_dir)
    with pytest.raises(Forbidden, match="only staff of the vendor may prepare"):
        annual_reports.draft_report(
            session, getattr(delivery, who), delivery.contract_id, 1, expected_version=0,
            today=TODAY,
        )  # fmt: skip
    assert state(session, delivery, reports_dir) == before


def test_an_outsider_gets_not_found_exactly_like_a_missing_contract(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor")
    outsider_org = next(iter(delivery.outsider.memberships))
    before = state(session, delivery, reports_dir)

    def sign_as(actor: Actor, contract_id: int) -> bool:
        return annual_reports.sign_report(
            session, actor, contract_id, 1, "buyer", "0" * 64, render_pdf=renderer(app),
            reports_dir=reports_dir, today=TODAY,
        )  # fmt: skip

    calls: dict[str, Callable[[Actor, int], object]] = {
        "view": lambda a, c: report_view(session, a, c, 1, today=TODAY),
        "draft": lambda a, c: annual_reports.draft_report(
            session, a, c, 1, expected_version=2, today=TODAY
        ),
        "comment": lambda a, c: annual_reports.save_commentary(
            session, a, c, 1, "buyer", "Fine", expected_version=2
        ),
        "sign": sign_as,
        "withdraw": lambda a, c: annual_reports.withdraw_signature(session, a, c, 1, "vendor"),
    }
    for role in ("staff", "finance", "admin"):
        stranger = Actor(None, f"{role}@elsewhere.test", {outsider_org: role})
        for name, call in calls.items():
            with pytest.raises(NotFound) as seen:
                call(stranger, delivery.contract_id)
            with pytest.raises(NotFound) as missing:
                call(SYSTEM, 999_999)
            assert str(seen.value) == str(missing.value).replace(
                "999999", str(delivery.contract_id)
            ), name
    assert state(session, delivery, reports_dir) == before


@pytest.mark.parametrize("year", [4, 5])
def test_a_year_that_has_not_ended_cannot_be_prepared(
    session: Session, delivery: Delivery, reports_dir: Path, year: int
) -> None:
    before = state(session, delivery, reports_dir, year)
    with pytest.raises(Conflict, match=f"year {year} ends on .*prepared once it has ended"):
        prepare(session, delivery, year)
    assert state(session, delivery, reports_dir, year) == before


def test_a_year_that_has_ended_is_prepared_before_it_is_closed(
    session: Session, delivery: Delivery
) -> None:
    prepare(session, delivery, 2)
    shown = view(session, delivery, 2)
    assert shown.state == "draft"
    assert shown.blockers == (
        "finance has not closed the year yet (it closes once the figures tie out)",
    )


# -- commentary -----------------------------------------------------------------------------


def test_each_sides_staff_write_their_own_commentary_and_an_empty_one_clears_it(
    session: Session, delivery: Delivery
) -> None:
    prepare(session, delivery)
    comment(session, delivery, "vendor", "  Licences renegotiated.\r\nTwo sites merged.  ",
            now=COMMENTED_AT)  # fmt: skip
    comment(session, delivery, "buyer", "Service was steady.", now=LATER)
    shown = view(session, delivery)
    assert shown.content["commentary"] == {
        "vendor": {
            "text": "Licences renegotiated.\nTwo sites merged.",
            "at": "2025-06-03T14:20:00+00:00",
            "by": delivery.vendor_staff.label,
        },
        "buyer": {
            "text": "Service was steady.",
            "at": "2025-06-11T16:45:00+00:00",
            "by": delivery.buyer_staff.label,
        },
    }
    # Both commentaries are part of what a signature approves.
    assert shown.content["fingerprint"] == signing_fingerprint(
        shown.report, shown.content["commentary"]
    )
    assert shown.content["fingerprint"] != signing_fingerprint(
        shown.report, {"buyer": None, "vendor": None}
    )
    for empty in ("", "   ", None):
        comment(session, delivery, "buyer", "Changed our mind.")
        comment(session, delivery, "buyer", empty)
        assert view(session, delivery).content["commentary"]["buyer"] is None
    assert view(session, delivery).content["commentary"]["vendor"] is not None
    actions = [action for action, _after in report_events(session, delivery)]
    assert actions.count("comment_report") == 2 + 2 * 3


@pytest.mark.parametrize(
    ("who", "side"),
    [
        ("buyer_staff", "vendor"),
        ("vendor_staff", "buyer"),
        ("buyer_finance", "buyer"),
        ("vendor_finance", "vendor"),
        ("buyer_admin", "buyer"),
        ("vendor_admin", "vendor"),
    ],
)
def test_commentary_is_written_only_by_the_staff_of_its_own_side(
    session: Session, delivery: Delivery, reports_dir: Path, who: str, side: str
) -> None:
    prepare(session, delivery)
    before = state(session, delivery, reports_dir)
    with pytest.raises(Forbidden, match=f"only staff of the {side} may write its commentary"):
        comment(session, delivery, side, "Not mine to write", actor=getattr(delivery, who))
    assert state(session, delivery, reports_dir) == before


def test_a_side_that_is_neither_buyer_nor_vendor_has_no_commentary(
    session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    before = state(session, delivery, reports_dir)
    for side in ("neither", "", "BUYER", "buyer_commentary"):
        with pytest.raises(Forbidden, match="signed by the buyer or the vendor"):
            comment(session, delivery, side, "x", actor=delivery.buyer_staff)
    assert state(session, delivery, reports_dir) == before


@pytest.mark.parametrize(
    "text",
    ["Fine\x00year", "x" * 5000, "Bidi \u202etrick", "Bell\x07", 42, ["a"]],
    ids=["nul", "5000-chars", "bidi", "bell", "number", "list"],
)
def test_bad_commentary_is_refused_naming_the_field_and_nothing_is_stored(
    session: Session, delivery: Delivery, reports_dir: Path, text: object
) -> None:
    prepare(session, delivery)
    comment(session, delivery, "vendor", "Kept as it was")
    before = state(session, delivery, reports_dir)
    with pytest.raises(InvalidTerms) as excinfo:
        comment(session, delivery, "vendor", text)
    assert errors_of(excinfo) == ["commentary"]
    assert state(session, delivery, reports_dir) == before
    assert view(session, delivery).content["commentary"]["vendor"]["text"] == "Kept as it was"


@pytest.mark.parametrize("text", ["Fine year\x1f", "\x1cFine year", "Fine year\x0b"])
def test_a_commentary_that_starts_or_ends_with_a_control_character_is_refused_too(
    session: Session, delivery: Delivery, reports_dir: Path, text: str
) -> None:
    prepare(session, delivery)
    before = state(session, delivery, reports_dir)
    with pytest.raises(InvalidTerms) as excinfo:
        comment(session, delivery, "vendor", text)
    assert errors_of(excinfo) == ["commentary"]
    assert state(session, delivery, reports_dir) == before


def test_a_stale_commentary_save_names_who_changed_the_report_and_keeps_their_change(
    session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    opened = view(session, delivery).version
    comment(session, delivery, "buyer", "Buyer first", now=COMMENTED_AT)
    colleague = person(session, "colleague@rep-1.test", delivery.buyer_id, "staff")
    before = state(session, delivery, reports_dir)
    with pytest.raises(StaleEdit) as excinfo:
        comment(session, delivery, "buyer", "Colleague's text", actor=colleague, version=opened)
    assert excinfo.value.by == delivery.buyer_staff.label
    assert "at 2025-06-03 14:20 UTC" in str(excinfo.value)
    assert state(session, delivery, reports_dir) == before
    assert view(session, delivery).content["commentary"]["buyer"]["text"] == "Buyer first"


# -- signing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["vendor", "buyer"])
def test_either_side_signs_first_and_the_second_signature_freezes_the_report(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path, first: str
) -> None:
    prepare(session, delivery)
    comment(session, delivery, "vendor", "A good first year.")
    fingerprint = view(session, delivery).content["fingerprint"]
    assert sign(app, session, delivery, first, now=SIGNED_AT) is False
    shown = view(session, delivery)
    assert shown.state == "signed"
    assert shown.content["frozen_at"] is None
    assert shown.content["signatures"] == {
        first: {
            "signed_by": staff(delivery, first).label,
            "signed_at": "2025-06-10T09:30:00+00:00",
            "fingerprint": fingerprint,
        },
        other(first): None,
    }
    assert signature_rows(session, delivery) == [
        (first, staff(delivery, first).user_id, staff(delivery, first).label)
    ]
    assert files_under(reports_dir) == []
    assert shown.permissions.sign_sides == ((other(first),) if first == "buyer" else ())
    assert sign(app, session, delivery, other(first), now=LATER) is True
    shown = view(session, delivery)
    assert shown.state == "frozen"
    assert shown.content["frozen_at"] == "2025-06-11T16:45:00+00:00"
    assert shown.content["fingerprint"] == fingerprint
    assert shown.content["signatures"][other(first)] == {
        "signed_by": staff(delivery, other(first)).label,
        "signed_at": "2025-06-11T16:45:00+00:00",
        "fingerprint": fingerprint,
    }
    assert {side for side, _user, _by in signature_rows(session, delivery)} == {"buyer", "vendor"}
    assert stored_report(session, delivery).frozen_at == LATER


def test_a_side_cannot_sign_twice_and_the_refusal_names_the_earlier_signature(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor", now=SIGNED_AT)
    colleague = person(session, "colleague@rep-1.test", delivery.vendor_id, "staff")
    before = state(session, delivery, reports_dir)
    for actor in (delivery.vendor_staff, colleague):
        with pytest.raises(Conflict) as excinfo:
            sign(app, session, delivery, "vendor", actor=actor)
        assert str(excinfo.value) == (
            "the vendor already signed this report on 2025-06-10 09:30 UTC "
            f"({delivery.vendor_staff.label})"
        )
    assert state(session, delivery, reports_dir) == before


@pytest.mark.parametrize(
    "fingerprint", ["0" * 64, "", "stale", 12345], ids=["zeros", "empty", "word", "number"]
)
def test_a_wrong_fingerprint_is_refused_and_nothing_is_stored(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path, fingerprint: object
) -> None:
    prepare(session, delivery)
    before = state(session, delivery, reports_dir)
    with pytest.raises(Conflict, match="the report changed since you opened it"):
        sign(app, session, delivery, "vendor", fingerprint=fingerprint)
    assert state(session, delivery, reports_dir) == before


def test_a_fingerprint_made_stale_by_new_commentary_is_refused_and_names_the_current_one(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    opened = view(session, delivery).content["fingerprint"]
    comment(session, delivery, "buyer", "Written while the vendor was reading")
    current = view(session, delivery).content["fingerprint"]
    assert current != opened
    before = state(session, delivery, reports_dir)
    with pytest.raises(Conflict) as excinfo:
        sign(app, session, delivery, "vendor", fingerprint=opened)
    assert f"its fingerprint is now {current[:16]}" in str(excinfo.value)
    assert state(session, delivery, reports_dir) == before
    # Read again, it is signed.
    assert sign(app, session, delivery, "vendor", fingerprint=current) is False


def test_a_year_that_is_not_closed_cannot_be_signed(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    # Year 2 has ended (2023) but finance has not closed it.
    prepare(session, delivery, 2)
    before = state(session, delivery, reports_dir, 2)
    for side in ("vendor", "buyer"):
        with pytest.raises(Conflict, match="year 2 is not closed"):
            sign(app, session, delivery, side, year=2)
    assert state(session, delivery, reports_dir, 2) == before


def test_a_report_whose_live_figures_changed_since_it_was_prepared_cannot_be_signed(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 2, actual_cost="900000.00",
        expected_version=0, today=TODAY,
    )  # fmt: skip
    prepare(session, delivery, 2, now=DRAFTED_AT)
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 2, actual_cost="910000.00",
        expected_version=1, today=TODAY,
    )  # fmt: skip
    close_year(session, delivery.buyer_finance, delivery.contract_id, 2, today=TODAY)
    shown = view(session, delivery, 2)
    assert "curves[2].actual_cost: 900000.00 → 910000.00" in shown.changes
    assert "the figures changed since the draft: the vendor prepares it again" in shown.blockers
    before = state(session, delivery, reports_dir, 2)
    with pytest.raises(Conflict) as excinfo:
        sign(app, session, delivery, "buyer", year=2)
    message = str(excinfo.value)
    assert message.startswith(
        "the figures changed since the report was prepared on 2025-06-02, so it cannot be signed"
    )
    assert "Changed: " in message
    assert "curves[2].actual_cost: 900000.00 → 910000.00" in message
    assert re.search(r"; and \d+ more$", message)
    assert state(session, delivery, reports_dir, 2) == before
    # Prepared again with the current figures, it is signed.
    prepare(session, delivery, 2)
    assert view(session, delivery, 2).changes == ()
    assert sign(app, session, delivery, "buyer", year=2) is False


def test_commentary_is_final_once_a_side_has_signed(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    comment(session, delivery, "buyer", "Before the signature")
    sign(app, session, delivery, "vendor", now=SIGNED_AT)
    before = state(session, delivery, reports_dir)
    for side in ("buyer", "vendor"):
        with pytest.raises(Conflict, match="the vendor signed the report on 2025-06-10"):
            comment(session, delivery, side, "After the signature")
    assert state(session, delivery, reports_dir) == before
    assert view(session, delivery).permissions.comment_sides == ()


@pytest.mark.parametrize(
    ("who", "side", "message"),
    [
        ("buyer_staff", "vendor", "only staff of the vendor may sign its report"),
        ("vendor_staff", "buyer", "only staff of the buyer may sign its report"),
        ("buyer_finance", "buyer", "only staff of the buyer may sign its report"),
        ("vendor_admin", "vendor", "only staff of the vendor may sign its report"),
        ("buyer_staff", "neither", "signed by the buyer or the vendor, not 'neither'"),
        ("vendor_staff", "", "signed by the buyer or the vendor, not ''"),
    ],
)
def test_staff_sign_only_for_their_own_side(
    app: Flask,
    session: Session,
    delivery: Delivery,
    reports_dir: Path,
    who: str,
    side: str,
    message: str,
) -> None:
    prepare(session, delivery)
    before = state(session, delivery, reports_dir)
    with pytest.raises(Forbidden, match=message):
        sign(app, session, delivery, side, actor=getattr(delivery, who))
    assert state(session, delivery, reports_dir) == before


# -- withdrawing --------------------------------------------------------------------------------


def test_the_signers_side_withdraws_before_the_freeze_and_commentary_can_change_again(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "buyer")
    colleague = person(session, "colleague@rep-1.test", delivery.buyer_id, "staff")
    withdraw(session, delivery, "buyer", actor=colleague)
    shown = view(session, delivery)
    assert shown.state == "draft"
    assert shown.content["signatures"] == {"buyer": None, "vendor": None}
    assert signature_rows(session, delivery) == []
    assert shown.permissions.comment_sides == ("vendor",)
    comment(session, delivery, "buyer", "Added after withdrawing")
    assert view(session, delivery).content["commentary"]["buyer"]["text"] == (
        "Added after withdrawing"
    )
    action, _after = report_events(session, delivery)[-2]
    assert action == "withdraw_signature"
    # Both sign the new version and it freezes.
    assert sign(app, session, delivery, "buyer") is False
    assert sign(app, session, delivery, "vendor") is True


def test_only_the_signers_side_withdraws_and_only_a_signature_that_exists(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor")
    before = state(session, delivery, reports_dir)
    for who in ("buyer_staff", "vendor_finance", "vendor_admin"):
        with pytest.raises(Forbidden, match="only staff of the vendor may withdraw"):
            withdraw(session, delivery, "vendor", actor=getattr(delivery, who))
    with pytest.raises(Conflict, match="the buyer has not signed this report"):
        withdraw(session, delivery, "buyer")
    with pytest.raises(Forbidden, match="not 'both'"):
        withdraw(session, delivery, "both", actor=delivery.vendor_staff)
    assert state(session, delivery, reports_dir) == before


def test_preparing_the_report_again_withdraws_the_signatures_given(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor")
    prepare(session, delivery, now=LATER)
    shown = view(session, delivery)
    assert shown.state == "draft"
    assert shown.content["signatures"] == {"buyer": None, "vendor": None}
    assert shown.content["drafted"]["at"] == "2025-06-11T16:45:00+00:00"
    assert signature_rows(session, delivery) == []
    events = report_events(session, delivery)
    assert [action for action, _after in events[-2:]] == ["withdraw_signature", "draft_report"]
    assert events[-2][1] == {"reason": "the report was prepared again"}


# -- the freeze -------------------------------------------------------------------------------


def test_a_frozen_report_is_kept_with_its_hashes_in_the_database_and_on_disk(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    freeze(app, session, delivery)
    row = stored_report(session, delivery)
    assert row.snapshot is not None
    assert row.pdf is not None
    pdf = bytes(row.pdf)
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(row.snapshot.encode("utf-8")).hexdigest() == row.snapshot_sha256
    assert hashlib.sha256(pdf).hexdigest() == row.pdf_sha256
    folder = reports_dir / "REP-1"
    assert files_under(reports_dir) == [folder / "REP-1-year-1.json", folder / "REP-1-year-1.pdf"]
    assert (folder / "REP-1-year-1.json").read_bytes() == row.snapshot.encode("utf-8")
    assert (folder / "REP-1-year-1.pdf").read_bytes() == pdf
    [check] = verify_reports(session, reports_dir)
    assert (check.code, check.year, check.intact) == ("REP-1", 1, True)
    assert check.snapshot_sha256 == row.snapshot_sha256


def test_the_snapshot_holds_the_models_figures_the_commentary_and_both_signatures(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    prepare(session, delivery)
    comment(session, delivery, "buyer", "Steady service.")
    drafted = view(session, delivery)
    sign(app, session, delivery, "vendor")
    sign(app, session, delivery, "buyer")
    snapshot = json.loads(stored_report(session, delivery).snapshot or "{}")
    terms = parse_terms(fixed_terms())
    plan = compute_schedule(terms).years[0]
    assert snapshot["report"]["summary"]["price"] == units_text(plan.price, terms.currency)
    assert snapshot["report"]["summary"]["price"] == "1200000.00"
    assert snapshot["report"]["summary"]["planned_gain"] == units_text(
        plan.efficiency_gain, terms.currency
    )
    assert snapshot["report"] == drafted.report
    assert snapshot["commentary"]["buyer"]["text"] == "Steady service."
    assert snapshot["year_closed"]["by"] == delivery.vendor_finance.label
    fingerprint = drafted.content["fingerprint"]
    for side in ("vendor", "buyer"):
        signature = snapshot["signatures"][side]
        assert signature["signed_by"] == staff(delivery, side).label
        assert signature["fingerprint"] == fingerprint
    assert view(session, delivery).content == {
        **snapshot, "state": "frozen", "fingerprint": fingerprint,
    }  # fmt: skip


def test_a_frozen_report_is_final_for_commentary_preparing_signing_and_withdrawing(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    freeze(app, session, delivery)
    shown = view(session, delivery)
    assert shown.permissions == ReportPermissions(False, (), (), ())
    before = state(session, delivery, reports_dir)
    row = stored_report(session, delivery)
    attempts: dict[str, Callable[[], object]] = {
        "comment": lambda: comment(session, delivery, "buyer", "Too late"),
        "comment_stale": lambda: comment(session, delivery, "vendor", "Too late", version=1),
        "draft": lambda: prepare(session, delivery),
        "sign_vendor": lambda: sign(app, session, delivery, "vendor"),
        "sign_buyer": lambda: sign(app, session, delivery, "buyer", fingerprint="0" * 64),
        "withdraw_vendor": lambda: withdraw(session, delivery, "vendor"),
        "withdraw_buyer": lambda: withdraw(session, delivery, "buyer"),
    }
    for name, call in attempts.items():
        with pytest.raises(Conflict) as excinfo:
            call()
        assert "frozen on" in str(excinfo.value), name
        assert "it is final" in str(excinfo.value), name
    assert state(session, delivery, reports_dir) == before
    after = stored_report(session, delivery)
    assert (after.snapshot_sha256, after.pdf_sha256, after.version) == (
        row.snapshot_sha256, row.pdf_sha256, row.version,
    )  # fmt: skip


def test_the_year_of_a_frozen_report_cannot_be_reopened_and_stays_closed(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    freeze(app, session, delivery)
    before = state(session, delivery, reports_dir)
    for admin in (delivery.buyer_admin, delivery.vendor_admin):
        with pytest.raises(Conflict, match="annual report of year 1 was signed by both sides"):
            reopen_year(session, admin, delivery.contract_id, 1, "The cost was wrong")
    with pytest.raises(ClosedYear):
        record_actuals(
            session, delivery.vendor_staff, delivery.contract_id, 1, actual_cost="940000.00",
            expected_version=1, today=TODAY,
        )  # fmt: skip
    with pytest.raises(ClosedYear):
        record_adjustment(
            session, delivery.buyer_finance, delivery.contract_id, 1, "-100.00", "Fix",
            today=TODAY,
        )  # fmt: skip
    assert state(session, delivery, reports_dir) == before
    assert delivery_view(session, SYSTEM, delivery.contract_id, today=TODAY).year(1).closed
    # The correction goes into an open year; the frozen report does not move.
    record_adjustment(
        session, delivery.buyer_finance, delivery.contract_id, 2, "-100.00",
        "Correction of year 1", today=TODAY,
    )  # fmt: skip
    assert view(session, delivery).content == before[1]


def test_the_audit_trail_records_the_draft_both_signatures_and_the_freeze_with_its_hashes(
    app: Flask, session: Session, delivery: Delivery
) -> None:
    freeze(app, session, delivery)
    row = stored_report(session, delivery)
    events = report_events(session, delivery)
    assert [action for action, _after in events] == [
        "draft_report", "sign_report", "sign_report", "freeze_report",
    ]  # fmt: skip
    fingerprint = view(session, delivery).content["fingerprint"]
    drafted, first, second, frozen = (after for _action, after in events)
    assert drafted == {"year": 1, "figures": hashlib.sha256(row.draft.encode()).hexdigest()}
    assert first == {"year": 1, "side": "vendor", "fingerprint": fingerprint}
    assert second == {"year": 1, "side": "buyer", "fingerprint": fingerprint}
    assert frozen == {
        "year": 1, "snapshot_sha256": row.snapshot_sha256, "pdf_sha256": row.pdf_sha256,
    }  # fmt: skip


# -- failures during the freeze ---------------------------------------------------------------


def full_disk(monkeypatch: pytest.MonkeyPatch, reports_dir: Path) -> None:
    """The PDF cannot be written (after the snapshot was): the disk is full."""
    write = report_files.write_atomically

    def write_until_full(path: Path, data: bytes) -> None:
        if path.suffix == ".pdf":
            raise OSError(28, "No space left on device")
        write(path, data)

    monkeypatch.setattr(report_files, "write_atomically", write_until_full)


def folder_is_a_file(monkeypatch: pytest.MonkeyPatch, reports_dir: Path) -> None:
    """The reports folder cannot be created: a file has its name."""
    reports_dir.parent.mkdir(parents=True, exist_ok=True)
    reports_dir.write_text("not a folder")


@pytest.mark.parametrize("failure", [full_disk, folder_is_a_file], ids=["full-disk", "file"])
def test_a_storage_failure_during_the_freeze_signs_nothing_and_leaves_no_file(
    app: Flask,
    session: Session,
    delivery: Delivery,
    reports_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: Callable[[pytest.MonkeyPatch, Path], None],
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor")
    failure(monkeypatch, reports_dir)
    before = state(session, delivery, reports_dir)
    with pytest.raises(StorageFailed, match="nothing was signed"):
        sign(app, session, delivery, "buyer")
    assert state(session, delivery, reports_dir) == before
    assert [side for side, _user, _by in signature_rows(session, delivery)] == ["vendor"]
    row = stored_report(session, delivery)
    assert (row.frozen_at, row.snapshot, row.pdf) == (None, None, None)
    assert files_under(reports_dir) == []
    # Once the disk is fixed, the same signature goes through.
    monkeypatch.undo()
    if reports_dir.is_file():
        reports_dir.unlink()
    assert sign(app, session, delivery, "buyer") is True
    assert len(files_under(reports_dir)) == 2


def test_a_failure_after_the_files_are_written_removes_them_again(
    app: Flask,
    session: Session,
    delivery: Delivery,
    reports_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor")
    record = annual_reports.record

    def record_until_the_freeze(*args: Any, **kwargs: Any) -> None:
        if "freeze_report" in args:
            raise RuntimeError("the database went away")
        record(*args, **kwargs)

    monkeypatch.setattr(annual_reports, "record", record_until_the_freeze)
    before = state(session, delivery, reports_dir)
    with pytest.raises(RuntimeError, match="the database went away"):
        sign(app, session, delivery, "buyer")
    assert state(session, delivery, reports_dir) == before
    assert files_under(reports_dir) == []
    assert stored_report(session, delivery).frozen_at is None


def test_a_pdf_renderer_that_fails_changes_nothing(
    app: Flask, session: Session, delivery: Delivery, reports_dir: Path
) -> None:
    prepare(session, delivery)
    sign(app, session, delivery, "vendor")
    before = state(session, delivery, reports_dir)

    def broken(content: dict[str, Any]) -> bytes:
        raise RuntimeError("no fonts")

    with pytest.raises(RuntimeError, match="no fonts"):
        sign(app, session, delivery, "buyer", render_pdf=broken)
    assert state(session, delivery, reports_dir) == before
    assert [side for side, _user, _by in signature_rows(session, delivery)] == ["vendor"]
    assert stored_report(session, delivery).frozen_at is None
