"""Delivery years of a contract: plan against actuals, the fund, the year view and its close."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.db.session import request_session
from tracker.services import actuals, fund, year_close
from tracker.services.delivery import COMPARED, DeliveryView, delivery_view
from tracker.services.reconciliation import close_blockers, contract_reconciliation
from tracker.web.auth import current_actor, request_info
from tracker.web.form_errors import attempt, checkbox, form_version

blueprint = Blueprint("delivery", __name__, url_prefix="/contracts")

Page = str | tuple[str, int]


@blueprint.get("/<id:contract_id>/delivery")
def overview(contract_id: int) -> str:
    """Every year's plan against actuals, the fund, service levels and initiatives."""
    view = _view(contract_id)
    return render_template(
        "delivery.html",
        view=view,
        compared=COMPARED,
        reconciliation=contract_reconciliation(view),
    )


@blueprint.route("/<id:contract_id>/delivery/plan", methods=["GET", "POST"])
def plan(contract_id: int) -> Page | BaseResponse:
    """The volume driver with its planned volume per year, and the initiative commitment."""
    view = _view(contract_id)
    if request.method == "GET":
        values = {
            "volume_name": view.volume_name,
            "volume_unit": view.volume_unit,
            "initiatives_per_year": view.initiatives_per_year,
            **{
                f"planned_volume_{y.year}": None if y.planned_volume is None else y.planned_volume
                for y in view.years
            },
        }
        return render_template("delivery_plan.html", view=view, values=values, errors={})
    outcome = attempt(
        lambda: actuals.set_delivery_plan(
            request_session(),
            current_actor(),
            contract_id,
            volume_name=request.form.get("volume_name"),
            volume_unit=request.form.get("volume_unit"),
            planned_volumes={
                y.year: request.form.get(f"planned_volume_{y.year}") for y in view.years
            },
            initiatives_per_year=request.form.get("initiatives_per_year"),
            expected_version=form_version(),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash("Delivery settings saved.", "success")
        return redirect(url_for(".overview", contract_id=contract_id), 303)
    page = render_template(
        "delivery_plan.html", view=view, values=request.form, errors=outcome.errors
    )
    return page, 422


@blueprint.get("/<id:contract_id>/years/<int:year>")
def year(contract_id: int, year: int) -> str:
    """One contract year: plan against actual, its actuals, its fund entries, its close."""
    return _year_page(_view(contract_id), year)[0]


@blueprint.post("/<id:contract_id>/years/<int:year>/actuals")
def record_actuals(contract_id: int, year: int) -> Page | BaseResponse:
    """Record or correct the year's actual delivery cost and volume."""
    _require_year(_view(contract_id), year)
    outcome = attempt(
        lambda: actuals.record_actuals(
            request_session(),
            current_actor(),
            contract_id,
            year,
            actual_cost=request.form.get("actual_cost"),
            actual_volume=request.form.get("actual_volume"),
            note=request.form.get("note"),
            expected_version=form_version(),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"Actuals of year {year} saved; the fund and the figures follow.", "success")
        return redirect(url_for(".year", contract_id=contract_id, year=year), 303)
    return _year_page(_view(contract_id), year, actuals_errors=outcome.errors)


@blueprint.post("/<id:contract_id>/years/<int:year>/adjustments")
def adjust(contract_id: int, year: int) -> Page | BaseResponse:
    """Post an adjustment to the fund in this year, with its reason (finance)."""
    _require_year(_view(contract_id), year)
    outcome = attempt(
        lambda: fund.record_adjustment(
            request_session(),
            current_actor(),
            contract_id,
            year,
            request.form.get("amount"),
            request.form.get("reason"),
            prefunding=checkbox("prefunding"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"Adjustment posted to year {year}.", "success")
        return redirect(url_for(".year", contract_id=contract_id, year=year), 303)
    return _year_page(_view(contract_id), year, adjustment_errors=outcome.errors)


@blueprint.post("/<id:contract_id>/years/<int:year>/close")
def close(contract_id: int, year: int) -> BaseResponse:
    """Close the year (finance): its figures become read-only."""
    year_close.close_year(
        request_session(), current_actor(), contract_id, year, request=request_info()
    )
    flash(f"Year {year} is closed; its figures are kept as they are now.", "success")
    return redirect(url_for(".year", contract_id=contract_id, year=year), 303)


@blueprint.post("/<id:contract_id>/years/<int:year>/reopen")
def reopen(contract_id: int, year: int) -> Page | BaseResponse:
    """Reopen the latest closed year (an administrator, with a reason)."""
    outcome = attempt(
        lambda: year_close.reopen_year(
            request_session(),
            current_actor(),
            contract_id,
            year,
            request.form.get("reason"),
            request=request_info(),
        )
    )
    if outcome.ok:
        flash(f"Year {year} is open again.", "warning")
        return redirect(url_for(".year", contract_id=contract_id, year=year), 303)
    return _year_page(_view(contract_id), year, reopen_errors=outcome.errors)


def _view(contract_id: int) -> DeliveryView:
    return delivery_view(request_session(), current_actor(), contract_id)


def _require_year(view: DeliveryView, year: int) -> None:
    if not 1 <= year <= len(view.years):
        abort(404, f"This contract has no year {year}; its term is {len(view.years)} years.")


def _year_page(
    view: DeliveryView,
    year: int,
    *,
    actuals_errors: dict[str, str] | None = None,
    adjustment_errors: dict[str, str] | None = None,
    reopen_errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    _require_year(view, year)
    failed = actuals_errors or adjustment_errors or reopen_errors
    entry = view.year(year)
    values = request.form if failed else {}
    actual_values = (
        values
        if actuals_errors
        else {
            "actual_cost": "" if entry.actual is None else view.money(entry.actual.actual_cost),
            "actual_volume": "" if entry.actual_volume is None else f"{entry.actual_volume:f}",
            "note": entry.note or "",
        }
    )
    page = render_template(
        "delivery_year.html",
        view=view,
        entry=entry,
        compared=COMPARED,
        blockers=close_blockers(view, year) if not entry.closed else (),
        actual_values=actual_values,
        actuals_errors=actuals_errors or {},
        adjustment_values=values if adjustment_errors else {},
        adjustment_errors=adjustment_errors or {},
        reopen_values=values if reopen_errors else {},
        reopen_errors=reopen_errors or {},
    )
    return page, 422 if failed else 200
