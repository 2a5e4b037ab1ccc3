"""Service levels: KPI definitions with yearly targets, results, and trend charts.

GET/POST /contracts/<id>/kpis/new       define a KPI with a target per contract year
GET      /kpis/<id>                     definition, targets and results, trend chart
GET      /kpis/<id>/chart.svg           the trend chart (its data: the table on the page)
GET/POST /kpis/<id>/edit                change the definition and the open years' targets
POST     /kpis/<id>/years/<year>        record a year's result and its quarters
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.reporting.kpi_charts import KpiTrend, TrendYear, kpi_chart_etag, kpi_chart_svg
from tracker.services import kpis as service
from tracker.services.delivery import DeliveryView, KpiView, delivery_view, kpi_view
from tracker.services.errors import Conflict, Forbidden
from tracker.web.auth import current_actor, request_info
from tracker.web.downloads import svg_response
from tracker.web.form_errors import attempt, form_version

blueprint = Blueprint("kpis", __name__)

Page = str | tuple[str, int]
QUARTERS = service.QUARTERS


@blueprint.route("/contracts/<id:contract_id>/kpis/new", methods=["GET", "POST"])
def new(contract_id: int) -> Page | BaseResponse:
    """The form defining a KPI; a valid one is stored and its page shown."""
    view = delivery_view(request_session(), current_actor(), contract_id)
    require_writable(view)
    if not view.permissions.edit_kpis:
        raise Forbidden("only staff of the buyer or the vendor may define KPIs")
    if request.method == "GET":
        values = {"higher_is_better": "higher", "tolerance": "0"}
        return render_template("kpi_form.html", view=view, kpi=None, values=values, errors={})
    outcome = attempt(
        lambda: service.create_kpi(
            request_session(),
            current_actor(),
            contract_id,
            **_definition(view),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("KPI defined. Record its results here as the years go by.", "success")
        return redirect(url_for(".show", kpi_id=outcome.result), 303)
    page = render_template(
        "kpi_form.html", view=view, kpi=None, values=request.form, errors=outcome.errors
    )
    return page, 422


@blueprint.get("/kpis/<id:kpi_id>")
def show(kpi_id: int) -> str:
    """The KPI: definition, targets and results by year with their status, the trend chart."""
    view, kpi = _kpi(kpi_id)
    return _page(view, kpi)[0]


@blueprint.get("/kpis/<id:kpi_id>/chart.svg")
def chart(kpi_id: int) -> Response:
    """The KPI's targets, results and quarterly results by contract year."""
    _view, kpi = _kpi(kpi_id)
    trend = KpiTrend(
        kpi.name,
        kpi.unit,
        kpi.higher_is_better,
        kpi.tolerance,
        tuple(TrendYear(y.year, y.target, y.actual, y.quarters) for y in kpi.years),
    )
    return svg_response(lambda: kpi_chart_svg(trend), kpi_chart_etag(trend))


@blueprint.route("/kpis/<id:kpi_id>/edit", methods=["GET", "POST"])
def edit(kpi_id: int) -> Page | BaseResponse:
    """Change a KPI's definition and the targets of its open years."""
    view, kpi = _kpi(kpi_id)
    require_writable(view)
    if not view.permissions.edit_kpis:
        raise Forbidden("only staff of the buyer or the vendor may change KPIs")
    if request.method == "GET":
        values: Mapping[str, Any] = {
            "name": kpi.name,
            "unit": kpi.unit,
            "higher_is_better": "higher" if kpi.higher_is_better else "lower",
            "tolerance": _text(kpi.tolerance),
            **{f"target_{y.year}": _text(y.target) for y in kpi.years},
        }
        return render_template("kpi_form.html", view=view, kpi=kpi, values=values, errors={})
    version = form_version()
    outcome = attempt(
        lambda: service.update_kpi(
            request_session(),
            current_actor(),
            kpi_id,
            **_definition(view),
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("KPI saved.", "success")
        return redirect(url_for(".show", kpi_id=kpi_id), 303)
    page = render_template(
        "kpi_form.html", view=view, kpi=kpi, values=request.form, errors=outcome.errors
    )
    return page, 422


@blueprint.post("/kpis/<id:kpi_id>/years/<int:year>")
def record_result(kpi_id: int, year: int) -> Page | BaseResponse:
    """Record (or correct) a year's result of the KPI and its quarterly results."""
    view, kpi = _kpi(kpi_id)
    if not 1 <= year <= len(view.years):
        abort(404, f"This contract has no year {year}; its term is {len(view.years)} years.")
    version = form_version()
    outcome = attempt(
        lambda: service.record_kpi_result(
            request_session(),
            current_actor(),
            kpi_id,
            year,
            actual=request.form.get("actual"),
            quarters={quarter: request.form.get(quarter) for quarter in QUARTERS},
            expected_version=version,
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"Result of year {year} recorded.", "success")
        return redirect(url_for(".show", kpi_id=kpi_id, _anchor=f"year-{year}"), 303)
    # Nothing was written: the page read before the attempt is still current.
    return _page(view, kpi, failed_year=year, errors=outcome.errors)


def _page(
    view: DeliveryView,
    kpi: KpiView,
    *,
    failed_year: int | None = None,
    errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    """The KPI page; after a refused result, that year's form shows the errors and values."""
    page = render_template(
        "kpi.html",
        view=view,
        kpi=kpi,
        quarters=QUARTERS,
        failed_year=failed_year,
        failed_values=request.form if failed_year else {},
        errors=errors or {},
    )
    return page, 422 if errors else 200


def _definition(view: DeliveryView) -> dict[str, Any]:
    """The KPI definition fields of the posted form, one target per contract year."""
    form = request.form
    return {
        "name": form.get("name"),
        "unit": form.get("unit"),
        "higher_is_better": form.get("higher_is_better"),
        "tolerance": form.get("tolerance"),
        "targets": {y.year: form.get(f"target_{y.year}") for y in view.years},
    }


def _kpi(kpi_id: int) -> tuple[DeliveryView, KpiView]:
    """The read model of the KPI's contract and the KPI in it; 404 when not visible."""
    return kpi_view(request_session(), current_actor(), kpi_id)


def require_writable(view: DeliveryView) -> None:
    """Conflict unless the contract's delivery years may be changed (signed, not archived)."""
    if view.archived:
        raise Conflict("this contract is archived: restore it before recording delivery")
    if view.status == "closed":
        raise Conflict("this contract is closed: its delivery years are read-only")
    if not view.permissions.writable:
        raise Conflict(f"delivery is recorded once a contract is signed; this one is {view.status}")


def _text(value: Any) -> str:
    """A decimal as written (no exponent), or nothing."""
    return "" if value is None else f"{value:f}"
