"""Finance reconciliation: the fund of every contract in delivery, and what does not tie out."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from tracker.db.session import request_session
from tracker.services.delivery import delivery_view
from tracker.services.reconciliation import (
    PAGE_SIZE,
    close_blockers,
    contract_reconciliation,
    portfolio_reconciliation,
)
from tracker.web.auth import current_actor

blueprint = Blueprint("reconciliation", __name__)


@blueprint.get("/reconciliation")
def portfolio() -> str:
    """Every contract in delivery: committed, spent, balance, plan against actual, flags."""
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
    only_flagged = request.args.get("flagged") == "1"
    results, total, counts = portfolio_reconciliation(
        request_session(), current_actor(), only_flagged=only_flagged, page=number
    )
    return render_template(
        "reconciliation.html",
        results=results,
        total=total,
        counts=counts,
        page=number,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        only_flagged=only_flagged,
    )


@blueprint.get("/contracts/<id:contract_id>/reconciliation")
def contract(contract_id: int) -> str:
    """One contract's fund year by year, every flag, and which years can be closed."""
    view = delivery_view(request_session(), current_actor(), contract_id)
    return render_template(
        "reconciliation_contract.html",
        view=view,
        reconciliation=contract_reconciliation(view),
        blockers={y.year: close_blockers(view, y.year) for y in view.years if not y.closed},
    )
