"""The joint annual report of each contract year: the page, its PDF and figures, its
charts, and preparing, commenting on and signing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.reporting.report_charts import chart_key, report_chart_names, report_chart_svg
from tracker.reporting.report_pdf import report_pdf
from tracker.services import annual_reports
from tracker.services.delivery_views import canonical
from tracker.services.report_views import ReportView, frozen_files, report_list, report_view
from tracker.web.auth import current_actor, request_info
from tracker.web.downloads import download, svg_response
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("reports", __name__, url_prefix="/contracts")

Page = str | tuple[str, int]


@blueprint.get("/<id:contract_id>/reports")
def index(contract_id: int) -> str:
    """Every contract year with the state of its report."""
    listing = report_list(request_session(), current_actor(), contract_id)
    return render_template("reports.html", listing=listing)


@blueprint.get("/<id:contract_id>/reports/<int:year>")
def show(contract_id: int, year: int) -> Page:
    """The report of one year: figures, charts, commentary and sign-off."""
    return _page(_report(contract_id, year))


@blueprint.get("/<id:contract_id>/reports/<int:year>/report.pdf")
def pdf(contract_id: int, year: int) -> Response:
    """The report as a PDF: the signed one once frozen, else drawn from what it shows now."""
    page = _report(contract_id, year)
    stored = _stored(page)
    body = stored[0] if stored is not None else render_pdf(page.content)
    return download(body, f"{_code(page)}-year-{year}.pdf", "application/pdf")


@blueprint.get("/<id:contract_id>/reports/<int:year>/snapshot.json")
def snapshot(contract_id: int, year: int) -> Response:
    """The frozen snapshot as stored, or the figures the report shows now."""
    page = _report(contract_id, year)
    stored = _stored(page)
    body = stored[1] if stored is not None else canonical(page.content)
    return download(body, f"{_code(page)}-year-{year}.json", "application/json")


@blueprint.get("/<id:contract_id>/reports/<int:year>/charts/<name>.svg")
def chart(contract_id: int, year: int, name: str) -> Response:
    """One of the report's charts, cached by its data (which also gives its ETag)."""
    report = _report(contract_id, year).report
    if name not in report_chart_names(report):
        abort(404, f"The report has no chart {name!r}.")
    return svg_response(lambda: report_chart_svg(name, report), chart_key(name, report)[:16])


@blueprint.post("/<id:contract_id>/reports/<int:year>/draft")
def draft(contract_id: int, year: int) -> BaseResponse:
    """Prepare the report for signature with the current figures (the vendor)."""
    annual_reports.draft_report(
        request_session(),
        current_actor(),
        contract_id,
        year,
        expected_version=form_version(),
        request=request_info(),
    )
    flash(f"The report of year {year} is ready for commentary and signature.", "success")
    return redirect(url_for(".show", contract_id=contract_id, year=year), 303)


@blueprint.post("/<id:contract_id>/reports/<int:year>/commentary")
def commentary(contract_id: int, year: int) -> Page | BaseResponse:
    """Save one side's commentary."""
    side = _side()
    outcome = attempt(
        lambda: annual_reports.save_commentary(
            request_session(),
            current_actor(),
            contract_id,
            year,
            side,
            request.form.get("commentary"),
            expected_version=form_version(),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"The {side}'s commentary is saved.", "success")
        return redirect(url_for(".show", contract_id=contract_id, year=year) + "#commentary", 303)
    return _page(
        _report(contract_id, year),
        commentary_side=side,
        commentary_text=request.form.get("commentary"),
        commentary_errors=outcome.errors,
    )


@blueprint.post("/<id:contract_id>/reports/<int:year>/sign")
def sign(contract_id: int, year: int) -> BaseResponse:
    """Sign the report for one side; the second signature freezes it."""
    side = _side()
    frozen = annual_reports.sign_report(
        request_session(),
        current_actor(),
        contract_id,
        year,
        side,
        request.form.get("fingerprint", ""),
        render_pdf=render_pdf,
        reports_dir=Path(current_app.config["REPORTS_DIR"]),
        request=request_info(),
    )
    message = (
        "Signed by both sides: the report is final and its PDF is stored."
        if frozen
        else f"Signed for the {side}; the report awaits the other side's signature."
    )
    flash(message, "success")
    return redirect(url_for(".show", contract_id=contract_id, year=year) + "#sign-off", 303)


@blueprint.post("/<id:contract_id>/reports/<int:year>/withdraw")
def withdraw(contract_id: int, year: int) -> BaseResponse:
    """Withdraw one side's signature of a report not yet final."""
    side = _side()
    annual_reports.withdraw_signature(
        request_session(), current_actor(), contract_id, year, side, request=request_info()
    )
    flash(f"The {side}'s signature is withdrawn.", "warning")
    return redirect(url_for(".show", contract_id=contract_id, year=year) + "#sign-off", 303)


def render_pdf(content: dict[str, Any]) -> bytes:
    """The PDF of a report's content, drawn with this application's template and assets."""
    return report_pdf(current_app.jinja_env, Path(str(current_app.static_folder)), content)


def _report(contract_id: int, year: int) -> ReportView:
    return report_view(request_session(), current_actor(), contract_id, year)


def _code(page: ReportView) -> str:
    return str(page.report["contract"]["code"])


def _stored(page: ReportView) -> tuple[bytes, str] | None:
    if page.state != "frozen":
        return None
    return frozen_files(request_session(), current_actor(), page.contract_id, page.year)


def _side() -> str:
    # Checked by the service, after it has made sure the contract is the reader's.
    return request.form.get("side", "")


def _page(page: ReportView, **form: Any) -> Page:
    html = render_template(
        "annual_report.html",
        page=page,
        content=page.content,
        pdf=False,
        chart_src=lambda name: url_for(
            ".chart", contract_id=page.contract_id, year=page.year, name=name
        ),
        static_src=lambda filename: url_for("static", filename=filename),
        commentary_side=form.get("commentary_side"),
        commentary_text=form.get("commentary_text"),
        commentary_errors=form.get("commentary_errors") or {},
    )
    return (html, 422) if form.get("commentary_errors") else html
