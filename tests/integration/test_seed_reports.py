"""The demo annual reports `tracker seed` prepares: one final, one awaiting the buyer's
signature, one ready for both sides, one not prepared yet."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.services.access import SYSTEM
from tracker.services.report_files import verify_reports
from tracker.services.report_views import report_view


def _report(session: Session, code: str, year: int) -> dict[str, object]:
    with session.begin():
        contract_id = session.scalars(select(Contract.id).where(Contract.code == code)).one()
    return report_view(session, SYSTEM, contract_id, year).content


def test_the_demo_has_a_report_in_every_state(seeded: Flask, session: Session) -> None:
    final = _report(session, "IFM-UK-2022", 1)
    awaiting = _report(session, "IFM-UK-2022", 2)
    ready = _report(session, "SD-FR-2024", 1)
    preview = _report(session, "F2B-2024", 1)

    assert final["state"] == "frozen"
    assert {side: bool(final["signatures"][side]) for side in ("buyer", "vendor")} == {
        "buyer": True,
        "vendor": True,
    }
    assert awaiting["state"] == "signed"
    assert awaiting["signatures"]["vendor"]["signed_by"].startswith("staff@")
    assert awaiting["signatures"]["buyer"] is None
    assert ready["state"] == "draft"
    assert ready["commentary"]["vendor"]["text"].startswith("First year")
    assert preview["state"] == "preview"


def test_the_frozen_demo_report_verifies(seeded: Flask, session: Session) -> None:
    checks = verify_reports(session, Path(seeded.config["REPORTS_DIR"]))

    assert [(check.code, check.year, check.problems) for check in checks] == [
        ("IFM-UK-2022", 1, ())
    ]
    pdf = Path(seeded.config["REPORTS_DIR"]) / "IFM-UK-2022" / "IFM-UK-2022-year-1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
