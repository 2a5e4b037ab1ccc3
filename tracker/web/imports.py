"""Importing delivery figures from CSV and XLSX, and exporting them."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.reporting.delivery_exports import delivery_download, template_download
from tracker.reporting.import_files import (
    COLUMNS,
    DECIMAL_SEPARATORS,
    DELIMITERS,
    ENCODINGS,
    KINDS,
    MAX_ROWS,
    ReadOptions,
    RowError,
)
from tracker.services.delivery import delivery_view
from tracker.services.imports import ImportRejected, import_file
from tracker.web.auth import current_actor, request_info
from tracker.web.downloads import download

blueprint = Blueprint("imports", __name__, url_prefix="/contracts")

KIND_TITLES = {
    "actuals": "Actual delivery costs and volumes",
    "kpi_results": "KPI results",
    "spending": "Spending from the reinvestment fund",
}
ENCODING_TITLES = {"utf-8": "UTF-8", "windows-1252": "Windows-1252 (Excel CSV)",
                   "iso-8859-1": "ISO-8859-1 (Latin-1)"}  # fmt: skip
DELIMITER_TITLES = {"auto": "Find it from the header line", ",": "Comma ,", ";": "Semicolon ;"}
DECIMAL_TITLES = {".": "Point: 1234.56", ",": "Comma: 1234,56"}
#: The most problems listed on the page; the count says how many there were in all.
SHOWN_ERRORS = 500


@blueprint.route("/<id:contract_id>/import", methods=["GET", "POST"])
def upload(contract_id: int) -> str | BaseResponse | tuple[str, int]:
    """The import form; a file without problems is written whole, else every problem is
    listed by row and column."""
    if request.method == "GET":
        return _page(contract_id, _defaults(), {}, (), 200)
    values = {name: request.form.get(name, default) for name, default in _defaults().items()}
    choices = {"kind": KINDS, "encoding": ENCODINGS, "delimiter": DELIMITERS,
               "decimal": DECIMAL_SEPARATORS}  # fmt: skip
    for name, allowed in choices.items():
        if values[name] not in allowed:
            abort(400, f"The form's {name} is not one of its choices; reload the page.")
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _page(contract_id, values, {"file": "choose the file to import"}, (), 422)
    options = ReadOptions(values["encoding"], values["delimiter"], values["decimal"])
    try:
        result = import_file(
            request_session(),
            current_actor(),
            contract_id,
            values["kind"],
            upload_file.filename,
            upload_file.read(),
            options=options,
            request=request_info(),
        )
    except ImportRejected as exc:
        return _page(contract_id, values, {}, exc.errors, 422)
    rows = "1 row" if result.rows == 1 else f"{result.rows:,} rows"
    flash(f"Imported {rows} from {result.filename}", "success")
    return redirect(url_for("delivery.overview", contract_id=contract_id), 303)


@blueprint.get("/<id:contract_id>/import/template/<any(actuals, kpi_results, spending):kind>"
               ".<any(csv, xlsx):fmt>")  # fmt: skip
def template(contract_id: int, kind: str, fmt: str) -> Response:
    """An import file to fill in: its header, and a row per year (and KPI) to complete."""
    view = delivery_view(request_session(), current_actor(), contract_id)
    body, filename, mimetype = template_download(view, kind, fmt)
    return download(body, filename, mimetype)


@blueprint.get("/<id:contract_id>/actuals.<any(csv, xlsx):fmt>")
def actuals_export(contract_id: int, fmt: str) -> Response:
    """Each year's plan, actual and variance of every compared figure, as CSV or XLSX."""
    return _export(contract_id, "actuals", fmt)


@blueprint.get("/<id:contract_id>/ledger.<any(csv, xlsx):fmt>")
def ledger_export(contract_id: int, fmt: str) -> Response:
    """The reinvestment fund year by year, then every entry, as CSV or XLSX."""
    return _export(contract_id, "ledger", fmt)


@blueprint.get("/<id:contract_id>/kpis.<any(csv, xlsx):fmt>")
def kpis_export(contract_id: int, fmt: str) -> Response:
    """Every KPI's target, result, quarters and status per year, as CSV or XLSX."""
    return _export(contract_id, "kpis", fmt)


def _export(contract_id: int, table: str, fmt: str) -> Response:
    view = delivery_view(request_session(), current_actor(), contract_id)
    body, filename, mimetype = delivery_download(view, table, fmt)
    return download(body, filename, mimetype)


def _defaults() -> dict[str, str]:
    return {"kind": KINDS[0], "encoding": ENCODINGS[0], "delimiter": DELIMITERS[0],
            "decimal": DECIMAL_SEPARATORS[0]}  # fmt: skip


def _page(
    contract_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    problems: tuple[RowError, ...],
    status: int,
) -> tuple[str, int]:
    view = delivery_view(request_session(), current_actor(), contract_id)
    page = render_template(
        "import.html",
        view=view,
        values=values,
        errors=errors,
        problems=problems[:SHOWN_ERRORS],
        problem_count=len(problems),
        columns=COLUMNS,
        kinds=[(kind, KIND_TITLES[kind]) for kind in KINDS],
        encodings=list(ENCODING_TITLES.items()),
        delimiters=list(DELIMITER_TITLES.items()),
        decimals=list(DECIMAL_TITLES.items()),
        max_rows=MAX_ROWS,
    )
    return page, status
