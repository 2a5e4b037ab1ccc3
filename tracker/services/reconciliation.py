"""Finance controls: does each contract's fund tie out, what is missing, what may be closed.

A flag is an *error* when the figures do not tie out (a closed year whose figures
changed, a balance below zero that no pre-funding entry covers, a broken chain) and
a *warning* when something needs attention (missing actuals or KPI results, an
initiative over budget, an unmet initiative commitment, money left unspent at the
end of the term). Years that have ended and are still open are listed to close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.domain.ledger import ties_out
from tracker.services.access import Actor
from tracker.services.delivery import (
    DeliveryView,
    DeliveryYearView,
    build_views,
    canonical,
    year_figures_document,
)
from tracker.services.delivery_rules import DELIVERY_STATUSES

#: Contracts listed per page of the portfolio reconciliation.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Flag:
    """Something a finance user should see: its severity, the year it concerns, what it is."""

    kind: str
    severity: str  # "error", "warning" or "info"
    year: int | None
    message: str


@dataclass(frozen=True)
class ContractReconciliation:
    """A contract's fund in figures and its flags."""

    view: DeliveryView
    flags: tuple[Flag, ...]

    @property
    def ties_out(self) -> bool:
        """Whether no flag says the figures do not tie out."""
        return not any(flag.severity == "error" for flag in self.flags)

    @property
    def committed(self) -> int:
        """Committed to the fund in the years that have begun."""
        return sum(y.ledger.committed for y in self.view.years if y.started)

    @property
    def adjusted(self) -> int:
        """Adjustments posted so far."""
        return sum(y.ledger.adjusted for y in self.view.years)

    @property
    def spent(self) -> int:
        """Spent from the fund so far."""
        return sum(y.ledger.spent for y in self.view.years)

    @property
    def balance(self) -> int:
        """The fund's balance today: committed so far + adjustments - spending."""
        return self.committed + self.adjusted - self.spent

    @property
    def planned_cost(self) -> int:
        """The planned delivery cost of the years with actuals."""
        return sum(y.plan.planned_cost for y in self.view.years if y.actual is not None)

    @property
    def actual_cost(self) -> int:
        """The actual delivery cost recorded."""
        return sum(y.actual.actual_cost for y in self.view.years if y.actual is not None)

    @property
    def closed_years(self) -> int:
        """How many years are closed."""
        return sum(1 for y in self.view.years if y.closed)


def contract_flags(view: DeliveryView) -> tuple[Flag, ...]:
    """Every flag of a contract's delivery years, in year order."""
    flags: list[Flag] = []
    if not ties_out(view.ledger):
        flags.append(Flag("chain", "error", None, "the ledger's years do not follow each other"))
    prefunded = False
    for entry in view.years:
        year = entry.year
        prefunded = prefunded or any(e.prefunding for e in view.entries if e.year == year)
        flags += _missing(view, entry)
        if entry.closed and entry.closed_figures != canonical(year_figures_document(view, year)):
            flags.append(
                Flag("closed_changed", "error", year,
                     f"year {year}'s figures differ from those it was closed with")
            )  # fmt: skip
        if entry.started and entry.ledger.closing < 0 and not prefunded:
            flags.append(
                Flag("overdrawn", "error", year,
                     f"the fund closes year {year} at {view.amount(entry.ledger.closing)} "
                     "with no pre-funding entry")
            )  # fmt: skip
        commitment = view.initiatives_per_year
        if commitment and entry.ended and entry.delivered_initiatives < commitment:
            flags.append(
                Flag("commitment", "warning", year,
                     f"{entry.delivered_initiatives} of the {commitment} initiatives committed "
                     f"for year {year} were delivered")
            )  # fmt: skip
        if entry.ended and not entry.closed:
            flags.append(Flag("to_close", "info", year, f"year {year} has ended and is open"))
    for initiative in view.initiatives:
        if initiative.over_budget:
            flags.append(
                Flag("over_budget", "warning", None,
                     f"“{initiative.title}” has spent {view.amount(initiative.spent)} "
                     f"of a {view.amount(initiative.budget)} budget")
            )  # fmt: skip
    flags += _unspent(view)
    return tuple(flags)


def close_blockers(view: DeliveryView, year: int) -> tuple[str, ...]:
    """Why a year cannot be closed now (empty when it can)."""
    entry = view.year(year)
    reasons: list[str] = []
    if not entry.ended:
        reasons.append(f"year {year} runs until {entry.plan.end}")
    if year > 1 and not view.year(year - 1).closed:
        reasons.append(f"year {year - 1} is still open: years close in order")
    reasons += [flag.message for flag in _missing(view, entry, ended_only=False)]
    reasons += [
        flag.message
        for flag in contract_flags(view)
        if flag.severity == "error" and (flag.year is None or flag.year <= year)
    ]
    return tuple(reasons)


def portfolio_reconciliation(
    session: Session,
    actor: Actor,
    *,
    today: date | None = None,
    only_flagged: bool = False,
    page: int = 1,
) -> tuple[tuple[ContractReconciliation, ...], int, dict[str, int]]:
    """The reconciliation of every contract in delivery the actor sees, a page at a time.

    Returns the page's contracts, how many match, and counts of contracts that do not tie
    out, have warnings and have years to close, over all of them."""
    day = today or datetime.now(UTC).date()
    with session.begin():
        query = select(Contract).where(
            Contract.status.in_(sorted(DELIVERY_STATUSES | {"closed"})),
            Contract.archived_at.is_(None),
        )
        if not actor.system:
            parties = sorted(actor.organisation_ids)
            query = query.where(Contract.buyer_id.in_(parties) | Contract.vendor_id.in_(parties))
        contracts = session.scalars(query.order_by(Contract.code)).all()
        views = build_views(session, actor, contracts, day)
    results = [ContractReconciliation(view, contract_flags(view)) for view in views]
    counts = {
        "contracts": len(results),
        "not_tied": sum(1 for r in results if not r.ties_out),
        "warnings": sum(1 for r in results if any(f.severity == "warning" for f in r.flags)),
        "to_close": sum(1 for r in results if any(f.kind == "to_close" for f in r.flags)),
    }
    if only_flagged:
        results = [r for r in results if any(f.severity != "info" for f in r.flags)]
    start = (max(page, 1) - 1) * PAGE_SIZE
    return tuple(results[start : start + PAGE_SIZE]), len(results), counts


def contract_reconciliation(view: DeliveryView) -> ContractReconciliation:
    """One contract's reconciliation from its read model."""
    return ContractReconciliation(view, contract_flags(view))


def _missing(view: DeliveryView, entry: DeliveryYearView, *, ended_only: bool = True) -> list[Flag]:
    if ended_only and not entry.ended:
        return []
    year = entry.year
    flags = []
    if entry.actual is None:
        flags.append(
            Flag("missing_actuals", "warning", year, f"year {year} has no actual delivery cost")
        )
    if entry.planned_volume is not None and entry.actual_volume is None:
        flags.append(
            Flag("missing_volume", "warning", year,
                 f"year {year} has a planned {view.volume_name or 'volume'} but no actual one")
        )  # fmt: skip
    for kpi in view.kpis:
        result = kpi.year(year)
        if result.target is not None and result.actual is None:
            flags.append(
                Flag("missing_kpi", "warning", year,
                     f"KPI {kpi.name} has a target for year {year} but no result")
            )  # fmt: skip
    return flags


def _unspent(view: DeliveryView) -> Sequence[Flag]:
    if not view.years:
        return ()
    last = view.years[-1]
    closing = last.ledger.closing
    if closing <= 0:
        return ()
    if last.ended:
        return (
            Flag("unspent", "warning", last.year,
                 f"{view.amount(closing)} was left unspent in the fund at the end of the term"),
        )  # fmt: skip
    return (
        Flag("unspent", "info", last.year,
             f"at the current plan {view.amount(closing)} would be left unspent at the end "
             "of the term"),
    )  # fmt: skip
