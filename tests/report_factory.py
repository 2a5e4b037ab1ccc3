"""Annual reports for tests: a contract whose year 1 is closed and ready to report on.

    delivery = reportable_contract(session)                  # year 1 closed, not drafted
    draft(session, delivery)                                 # the vendor prepares it
    sign(app, session, delivery, "vendor"); sign(app, session, delivery, "buyer")  # frozen

``renderer(app)`` is the PDF renderer the web layer passes to the signing service.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from delivery_factory import TODAY, Delivery, contract_in_delivery
from flask import Flask
from sqlalchemy.orm import Session

from tracker.reporting.report_pdf import report_pdf
from tracker.services import annual_reports
from tracker.services.actuals import record_actuals
from tracker.services.report_views import ReportView, report_view
from tracker.services.year_close import close_year

#: Year 1's actual delivery cost in reportable contracts (planned: 960,000.00 EUR).
ACTUAL_COST = "950000.00"


def reportable_contract(session: Session, *, code: str = "REP-1", **changes: Any) -> Delivery:
    """A fixed-5y contract in delivery with year 1's actuals recorded and the year closed."""
    delivery = contract_in_delivery(session, code=code, **changes)
    record_actuals(
        session, delivery.vendor_staff, delivery.contract_id, 1,
        actual_cost=ACTUAL_COST, expected_version=0, today=TODAY,
    )  # fmt: skip
    close_year(session, delivery.vendor_finance, delivery.contract_id, 1, today=TODAY)
    return delivery


def renderer(app: Flask) -> Callable[[dict[str, Any]], bytes]:
    """The PDF renderer of ``app`` (its templates and static files)."""
    static = Path(str(app.static_folder))
    return lambda content: report_pdf(app.jinja_env, static, content)


def view(session: Session, delivery: Delivery, year: int = 1) -> ReportView:
    """The report as the vendor's staff see it."""
    return report_view(session, delivery.vendor_staff, delivery.contract_id, year, today=TODAY)


def draft(session: Session, delivery: Delivery, year: int = 1) -> ReportView:
    """Prepare the report for signature as the vendor's staff; the report as it is then."""
    annual_reports.draft_report(
        session, delivery.vendor_staff, delivery.contract_id, year,
        expected_version=view(session, delivery, year).version, today=TODAY,
    )  # fmt: skip
    return view(session, delivery, year)


def sign(app: Flask, session: Session, delivery: Delivery, side: str, year: int = 1) -> bool:
    """Sign for ``side`` as its staff what the report shows now; True when that froze it."""
    actor = delivery.vendor_staff if side == "vendor" else delivery.buyer_staff
    fingerprint = view(session, delivery, year).content["fingerprint"]
    return annual_reports.sign_report(
        session, actor, delivery.contract_id, year, side, fingerprint,
        render_pdf=renderer(app), reports_dir=Path(app.config["REPORTS_DIR"]), today=TODAY,
    )  # fmt: skip


def frozen_contract(app: Flask, session: Session, *, code: str = "REP-1") -> Delivery:
    """A contract whose year-1 report both sides have signed (so it is frozen)."""
    delivery = reportable_contract(session, code=code)
    draft(session, delivery)
    sign(app, session, delivery, "vendor")
    sign(app, session, delivery, "buyer")
    return delivery
