"""Scenario pages: create from a contract, edit, compare up to four, promote, delete."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField

from tracker.db.session import request_session
from tracker.domain.comparison import COMPARED_FIELDS, comparison_figures
from tracker.reporting.charts import overlay_chart_etag, overlay_chart_svg
from tracker.reporting.schedule_formats import schedule_csv
from tracker.services import contracts as contract_service
from tracker.services import scenarios as service
from tracker.services.errors import Forbidden
from tracker.services.portfolio import MAX_ID
from tracker.web.auth import current_actor, request_info
from tracker.web.downloads import download, svg_response
from tracker.web.terms_form import FIELD_OF_PATH, TermsForm, form_data, saved

blueprint = Blueprint("scenarios", __name__)


class ScenarioForm(TermsForm):
    """The terms form without name and parties (they stay the contract's), plus a label."""

    name = None
    code = None
    buyer = None
    vendor = None
    currency = None
    scenario_name = StringField(
        "Scenario name", description="A short name, e.g. 'CPI 1 point higher'."
    )
    field_of_path: Mapping[str, str] = {**FIELD_OF_PATH, "name": "scenario_name"}


@blueprint.route("/contracts/<id:contract_id>/scenarios/new", methods=["GET", "POST"])
def new(contract_id: int) -> str | BaseResponse | tuple[str, int]:
    """A new scenario, starting from the contract's terms."""
    contract = contract_service.contract_view(request_session(), current_actor(), contract_id)
    if not contract.may_change:
        raise Forbidden("only staff of the buyer or the vendor may make scenarios")
    if request.method == "GET":
        form = ScenarioForm(data={**form_data(contract.document), "scenario_name": ""})
        return render_template("scenario_form.html", form=form, contract=contract, scenario=None)
    form = ScenarioForm()
    if form.validate_on_submit():
        scenario_id = saved(
            form,
            lambda: service.create_scenario(
                request_session(),
                current_actor(),
                contract_id,
                form.scenario_name.data or "",
                form.document(),
                request_info(),
            ),
        )
        if scenario_id is not None:
            flash("Scenario saved.", "success")
            return redirect(url_for(".show", scenario_id=scenario_id), 303)
    page = render_template("scenario_form.html", form=form, contract=contract, scenario=None)
    return page, 422


@blueprint.get("/scenarios/<id:scenario_id>")
def show(scenario_id: int) -> BaseResponse:
    """A scenario is shown as its comparison with the contract."""
    scenario = service.scenario_view(request_session(), current_actor(), scenario_id)
    return redirect(url_for(".compare", contract_id=scenario.contract_id, s=[scenario_id]), 303)


@blueprint.route("/scenarios/<id:scenario_id>/edit", methods=["GET", "POST"])
def edit(scenario_id: int) -> str | BaseResponse | tuple[str, int]:
    """Change a scenario's name or terms."""
    session = request_session()
    scenario = service.scenario_view(session, current_actor(), scenario_id)
    contract = contract_service.contract_view(session, current_actor(), scenario.contract_id)
    if not contract.may_change:
        raise Forbidden("only staff of the buyer or the vendor may change scenarios")
    if request.method == "GET":
        data = {
            **form_data(scenario.terms.document()),
            "scenario_name": scenario.name,
            "version": str(scenario.version),
        }
        form = ScenarioForm(data=data)
        return render_template(
            "scenario_form.html", form=form, contract=contract, scenario=scenario
        )
    form = ScenarioForm()
    if form.validate_on_submit():
        new_version = saved(
            form,
            lambda: service.update_scenario(
                session,
                current_actor(),
                scenario_id,
                form.scenario_name.data or "",
                form.document(),
                expected_version=_version(form.version.data),
                request=request_info(),
            ),
        )
        if new_version is not None:
            flash("Scenario saved.", "success")
            return redirect(url_for(".show", scenario_id=scenario_id), 303)
    page = render_template("scenario_form.html", form=form, contract=contract, scenario=scenario)
    return page, 422


@blueprint.post("/scenarios/<id:scenario_id>/delete")
def delete(scenario_id: int) -> BaseResponse:
    """Delete a scenario (the form on the contract page asks for confirmation)."""
    contract_id = service.delete_scenario(
        request_session(),
        current_actor(),
        scenario_id,
        expected_version=_version(request.form.get("version")),
        request=request_info(),
    )
    flash("Scenario deleted.", "success")
    return redirect(url_for("contracts.show", contract_id=contract_id), 303)


@blueprint.post("/scenarios/<id:scenario_id>/promote")
def promote(scenario_id: int) -> BaseResponse:
    """Make the scenario's terms the contract's terms (draft contracts only)."""
    contract_id = service.promote_scenario(
        request_session(),
        current_actor(),
        scenario_id,
        expected_contract_version=_version(request.form.get("contract_version")),
        request=request_info(),
    )
    flash("The scenario's terms are now the contract's terms.", "success")
    return redirect(url_for("contracts.show", contract_id=contract_id), 303)


@blueprint.get("/contracts/<id:contract_id>/compare")
def compare(contract_id: int) -> str:
    """The contract beside up to four scenarios: totals, NPV, deltas by year, overlay."""
    ids = _scenario_ids()
    variants = service.comparison(request_session(), current_actor(), contract_id, ids)
    contract = contract_service.contract_view(request_session(), current_actor(), contract_id)
    field = _field()
    return render_template(
        "compare.html",
        contract=contract,
        figures=comparison_figures(
            [(v.label, v.scenario_id, v.terms, v.schedule) for v in variants], field
        ),
        selected=ids,
        field=field,
        fields=list(COMPARED_FIELDS),
    )


@blueprint.get("/contracts/<id:contract_id>/compare.svg")
def compare_chart(contract_id: int) -> Response:
    """One figure of every compared variant, year by year, as lines over each other."""
    variants = service.comparison(request_session(), current_actor(), contract_id, _scenario_ids())
    series = [(variant.label, variant.schedule) for variant in variants]
    field = _field()
    title = dict(COMPARED_FIELDS)[field]
    return svg_response(
        lambda: overlay_chart_svg(series, field, title),
        overlay_chart_etag(series, field, title),
    )


@blueprint.get("/scenarios/<id:scenario_id>/schedule.csv")
def schedule_as_csv(scenario_id: int) -> Response:
    """A scenario's schedule under the spec's column names."""
    scenario = service.scenario_view(request_session(), current_actor(), scenario_id)
    name = f"{scenario.contract_code}-scenario-{scenario.id}-schedule.csv"
    return download(schedule_csv(scenario.schedule), name, "text/csv")


def _scenario_ids() -> list[int]:
    raw = request.args.getlist("s")
    try:
        ids = [int(value) for value in raw]
    except ValueError:
        abort(404)
    if any(not 1 <= value <= MAX_ID for value in ids):
        abort(404)
    unique = list(dict.fromkeys(ids))
    if len(unique) > service.MAX_COMPARED:
        abort(422, f"Compare at most {service.MAX_COMPARED} scenarios at a time.")
    return unique


def _field() -> str:
    field = request.args.get("field", "price")
    return field if field in dict(COMPARED_FIELDS) else "price"


def _version(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        abort(400, "The form lacks the version of the record it changes; reload the page.")
