"""Contract pages: new, view, edit, archive, delete, and the schedule as CSV, XLSX and SVG."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.domain.terms_words import terms_in_words
from tracker.reporting.charts import schedule_chart_etag, schedule_chart_svg
from tracker.reporting.schedule_formats import schedule_csv
from tracker.reporting.schedule_xlsx import schedule_xlsx
from tracker.services import contracts as service
from tracker.services.audit import contract_history
from tracker.services.errors import Conflict, Forbidden
from tracker.web.auth import current_actor, request_info
from tracker.web.downloads import download, svg_response
from tracker.web.terms_form import TermsForm, form_data, saved

blueprint = Blueprint("contracts", __name__, url_prefix="/contracts")


@blueprint.route("/new", methods=["GET", "POST"])
def new() -> str | BaseResponse | tuple[str, int]:
    """The new-contract form; a valid one is stored as a draft."""
    if "staff" not in current_actor().memberships.values():
        raise Forbidden("only staff may create contracts")
    form = TermsForm()
    if form.validate_on_submit():
        contract_id = saved(
            form,
            lambda: service.create_contract(
                request_session(),
                current_actor(),
                form.document(),
                code=form.code.data or None,
                request=request_info(),
            ),
        )
        if contract_id is not None:
            flash("Contract stored as a draft; its schedule is below.", "success")
            return redirect(url_for(".show", contract_id=contract_id), 303)
    return _form_page(form, None)


@blueprint.get("/<id:contract_id>")
def show(contract_id: int) -> str:
    """The contract: terms in words, schedule, chart, index trace, scenarios."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    return render_template("contract.html", contract=view, terms_words=terms_in_words(view.terms))


@blueprint.route("/<id:contract_id>/edit", methods=["GET", "POST"])
def edit(contract_id: int) -> str | BaseResponse | tuple[str, int]:
    """Change the terms of a draft or negotiation contract."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    if view.archived_at is not None:
        raise Conflict("this contract is archived: restore it before changing its terms")
    if not view.may_change:
        raise Forbidden("only staff of the buyer or the vendor may change this contract")
    if not view.terms_editable:
        raise Conflict(service.fixed_terms_message(view.status))
    if request.method == "GET":
        form = TermsForm(
            data={**form_data(view.document, code=view.code), "version": str(view.version)}
        )
        return _form_page(form, view, status=200)
    form = TermsForm()
    if form.validate_on_submit():
        new_version = saved(
            form,
            lambda: service.update_terms(
                request_session(),
                current_actor(),
                contract_id,
                form.document(),
                expected_version=_version(form.version.data),
                code=form.code.data or None,
                request=request_info(),
            ),
        )
        if new_version is not None:
            flash("Terms saved; the schedule was recomputed.", "success")
            return redirect(url_for(".show", contract_id=contract_id), 303)
    return _form_page(form, view)


@blueprint.post("/<id:contract_id>/archive")
def archive(contract_id: int) -> BaseResponse:
    """Archive a contract: kept with its figures, out of the default portfolio."""
    service.set_archived(
        request_session(),
        current_actor(),
        contract_id,
        True,
        expected_version=_version(request.form.get("version")),
        request=request_info(),
    )
    flash("Contract archived. It is listed under Archived in the portfolio.", "success")
    return redirect(url_for(".show", contract_id=contract_id), 303)


@blueprint.post("/<id:contract_id>/restore")
def restore(contract_id: int) -> BaseResponse:
    """Bring an archived contract back into the portfolio."""
    service.set_archived(
        request_session(),
        current_actor(),
        contract_id,
        False,
        expected_version=_version(request.form.get("version")),
        request=request_info(),
    )
    flash("Contract restored.", "success")
    return redirect(url_for(".show", contract_id=contract_id), 303)


@blueprint.route("/<id:contract_id>/delete", methods=["GET", "POST"])
def delete(contract_id: int) -> str | BaseResponse:
    """Ask for confirmation (GET), then delete a draft contract (POST)."""
    if request.method == "GET":
        view = service.contract_view(request_session(), current_actor(), contract_id)
        if not view.may_change:
            raise Forbidden("only staff of the buyer or the vendor may archive or delete it")
        return render_template("confirm_delete.html", contract=view)
    service.delete_contract(
        request_session(),
        current_actor(),
        contract_id,
        expected_version=_version(request.form.get("version")),
        request=request_info(),
    )
    flash("Contract deleted.", "success")
    return redirect(url_for("portfolio.index"), 303)


@blueprint.get("/<id:contract_id>/schedule.csv")
def schedule_as_csv(contract_id: int) -> Response:
    """The stored schedule, one row per year, under the spec's column names."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    return download(schedule_csv(view.schedule), f"{view.code}-schedule.csv", "text/csv")


@blueprint.get("/<id:contract_id>/schedule.xlsx")
def schedule_as_xlsx(contract_id: int) -> Response:
    """The stored schedule as a spreadsheet with exact amounts."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    return download(
        schedule_xlsx(view.schedule, view.terms.name),
        f"{view.code}-schedule.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@blueprint.get("/<id:contract_id>/terms.json")
def terms_document(contract_id: int) -> Response:
    """The canonical terms document, as `tracker model` and the JSON API read it."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    text = json.dumps(view.document, indent=2, ensure_ascii=False) + "\n"
    return download(text, f"{view.code}-terms.json", "application/json")


@blueprint.get("/<id:contract_id>/chart.svg")
def chart(contract_id: int) -> Response:
    """Price, baseline cost, planned cost and net margin over the term."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    title = view.terms.name
    return svg_response(
        lambda: schedule_chart_svg(view.schedule, title),
        schedule_chart_etag(view.schedule, title),
    )


def _form_page(
    form: TermsForm, view: service.ContractView | None, status: int | None = None
) -> tuple[str, int]:
    if status is None:
        status = 422 if request.method == "POST" else 200
    return render_template("contract_form.html", form=form, contract=view), status


def _version(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400, "The form lacks the version of the record it changes; reload the page.")


@blueprint.get("/<id:contract_id>/history")
def history(contract_id: int) -> str:
    """Every change of the contract and its scenarios: who, when, before and after."""
    view = service.contract_view(request_session(), current_actor(), contract_id)
    entries = contract_history(request_session(), view.id, view.created_at)
    return render_template("history.html", contract=view, entries=entries)
