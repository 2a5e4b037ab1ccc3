"""Contract health: the inputs of the score counted from the stored records, the score
kept per contract and day, and computed again when it is missing or old.

Health applies to contracts after the signature (signed, onboarding, active, renewal,
closed). The inputs of many contracts are read with a fixed number of queries; the
kept rows let the portfolio sort thousands of contracts by health. A row is deleted
when the contract's data changes (tracker.db.health_invalidation) and is computed again
on the next read, and every row is computed again on a new day, since lateness moves
with the calendar.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db.followup_models import (
    Concern,
    ContractFollowUp,
    MeetingAction,
    Milestone,
    PulseCheck,
)
from tracker.db.health_models import ContractHealth
from tracker.db.models import Contract
from tracker.domain.health import Alert, Health, HealthInputs, health
from tracker.domain.kpis import KpiStatus
from tracker.domain.ledger import unspent_at_end
from tracker.domain.onboarding import day_zero
from tracker.domain.pulse import divergence, trend
from tracker.services.access import SYSTEM
from tracker.services.account_map_views import red_flags_by_contract
from tracker.services.delivery import DeliveryView, build_views
from tracker.services.delivery_rules import DELIVERY_STATUSES

#: Statuses whose contracts have a health.
HEALTH_STATUSES = frozenset({*DELIVERY_STATUSES, "closed"})
#: Contracts whose inputs are read at once (bounds the size of each IN list).
BATCH = 500


@dataclass(frozen=True)
class KeptHealth:
    """A contract's kept health, as the portfolio and the follow-up page read it."""

    contract_id: int
    computed_on: date
    score: int
    vendor_score: int
    in_first_days: bool
    alerts: tuple[Alert, ...]

    def as_health(self) -> Health:
        """The domain value back."""
        return Health(self.score, self.vendor_score, self.alerts, self.in_first_days)


def ensure_health(session: Session, contract_ids: Iterable[int], today: date) -> None:
    """Compute and keep the health of those of the contracts that have none for ``today``;
    runs in the caller's transaction."""
    wanted = set(contract_ids)
    if not wanted:
        return
    fresh = set(
        session.scalars(
            select(ContractHealth.contract_id).where(
                ContractHealth.contract_id.in_(wanted), ContractHealth.computed_on == today
            )
        )
    )
    missing = sorted(wanted - fresh)
    for start in range(0, len(missing), BATCH):
        _compute(session, missing[start : start + BATCH], today)


def kept_health(session: Session, contract_ids: Iterable[int]) -> dict[int, KeptHealth]:
    """The kept health of the contracts, by contract id (those that have one)."""
    rows = session.scalars(
        select(ContractHealth).where(ContractHealth.contract_id.in_(set(contract_ids)))
    )
    return {row.contract_id: _kept(row) for row in rows}


def _kept(row: ContractHealth) -> KeptHealth:
    alerts = tuple(
        Alert(kind, text, points, vendor_only)
        for kind, text, points, vendor_only in json.loads(row.alerts)
    )
    return KeptHealth(
        row.contract_id, row.computed_on, row.score, row.vendor_score, row.in_first_days, alerts
    )


def _compute(session: Session, ids: Sequence[int], today: date) -> None:
    contracts = list(
        session.scalars(
            select(Contract)
            .where(Contract.id.in_(ids), Contract.status.in_(sorted(HEALTH_STATUSES)))
            .order_by(Contract.id)
        )
    )
    if not contracts:
        return
    known = [contract.id for contract in contracts]
    views = build_views(session, SYSTEM, contracts, today)
    follow_up = _FollowUp(session, known, today)
    flags = {
        contract_id: len(found)
        for contract_id, found in red_flags_by_contract(session, known, today).items()
    }
    rows = []
    for contract, view in zip(contracts, views, strict=True):
        signed_on = day_zero(follow_up.signed_on.get(contract.id), contract.start_date)
        inputs = replace(
            follow_up.inputs(contract.id, _delivery_inputs(view, today)),
            red_flags=flags.get(contract.id, 0),
            days_since_signature=(today - signed_on).days,
        )
        result = health(inputs)
        alerts = [[a.kind, a.text, a.points, a.vendor_only] for a in result.alerts]
        rows.append(
            ContractHealth(
                contract_id=contract.id,
                computed_on=today,
                score=result.score,
                vendor_score=result.vendor_score,
                in_first_days=result.in_first_days,
                alerts=json.dumps(alerts, ensure_ascii=False, separators=(",", ":")),
            )
        )
    try:
        # A savepoint: when another request kept the same scores at the same moment,
        # its rows stand (they are the same) and this one's are dropped.
        with session.begin_nested():
            session.execute(delete(ContractHealth).where(ContractHealth.contract_id.in_(known)))
            session.add_all(rows)
    except IntegrityError:
        for row in rows:
            if row in session:
                session.expunge(row)


def _delivery_inputs(view: DeliveryView, today: date) -> HealthInputs:
    """KPIs of the latest year with results, and what the fund holds."""
    latest = max(
        (y.year for y in view.years for kpi in view.kpis if kpi.year(y.year).status is not None),
        default=None,
    )
    statuses = [] if latest is None else [kpi.year(latest).status for kpi in view.kpis]
    measured = [status for status in statuses if status is not None]
    ended = [entry for entry in view.years if entry.ended]
    committed = sum(entry.ledger.committed + entry.ledger.adjusted for entry in ended)
    holding = ended[-1].ledger.closing if ended else 0
    term_over = bool(view.years) and view.years[-1].plan.end < today
    return HealthInputs(
        kpis_missed=sum(status is KpiStatus.MISSED for status in measured),
        kpis_near=sum(status is KpiStatus.NEAR for status in measured),
        kpis_measured=len(measured),
        unspent_over_half=committed > 0 and 2 * holding > committed and not term_over,
        unspent_at_end=term_over and unspent_at_end(view.ledger) > 0,
    )


class _FollowUp:
    """The follow-up rows of some contracts that the score counts, read at once."""

    def __init__(self, session: Session, ids: list[int], today: date) -> None:
        self.open: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.overdue: dict[int, int] = defaultdict(int)
        for contract_id, severity, due_on in session.execute(
            select(Concern.contract_id, Concern.severity, Concern.due_on).where(
                Concern.contract_id.in_(ids), Concern.status != "resolved"
            )
        ):
            self.open[contract_id][severity] += 1
            if due_on < today:
                self.overdue[contract_id] += 1
        self.actions_late: dict[int, int] = defaultdict(int)
        for contract_id, _ in session.execute(
            select(MeetingAction.contract_id, MeetingAction.id).where(
                MeetingAction.contract_id.in_(ids),
                MeetingAction.status == "open",
                MeetingAction.due_on < today,
            )
        ):
            self.actions_late[contract_id] += 1
        self.milestones_late: dict[int, int] = defaultdict(int)
        for contract_id, _ in session.execute(
            select(Milestone.contract_id, Milestone.id).where(
                Milestone.contract_id.in_(ids),
                Milestone.status.in_(("planned", "in_progress")),
                Milestone.due_on < today,
            )
        ):
            self.milestones_late[contract_id] += 1
        self.pulse: dict[tuple[int, str], dict[date, int]] = defaultdict(dict)
        for contract_id, side, period, rating in session.execute(
            select(
                PulseCheck.contract_id, PulseCheck.side, PulseCheck.period, PulseCheck.rating
            ).where(PulseCheck.contract_id.in_(ids), PulseCheck.period <= today)
        ):
            self.pulse[contract_id, side][period] = rating
        self.signed_on: dict[int, date | None] = dict(
            session.execute(
                select(ContractFollowUp.contract_id, ContractFollowUp.signed_on).where(
                    ContractFollowUp.contract_id.in_(ids)
                )
            ).all()
        )

    def inputs(self, contract_id: int, inputs: HealthInputs) -> HealthInputs:
        """``inputs`` with the follow-up part of one contract's health."""
        ratings = {side: self.pulse.get((contract_id, side), {}) for side in ("buyer", "vendor")}
        trends = {side: trend(side, ratings[side]) for side in ratings}
        gap = divergence(ratings["buyer"], ratings["vendor"])
        return replace(
            inputs,
            concerns_open=dict(self.open.get(contract_id, {})),
            concerns_overdue=self.overdue.get(contract_id, 0),
            actions_overdue=self.actions_late.get(contract_id, 0),
            milestones_late=self.milestones_late.get(contract_id, 0),
            pulse_buyer=trends["buyer"].latest,
            pulse_vendor=trends["vendor"].latest,
            pulse_worsening=tuple(
                side for side, found in trends.items() if found.direction == "worsening"
            ),
            pulse_gap=None if gap is None else (gap.buyer, gap.vendor),
        )


def refresh_all_health(session: Session, today: date) -> int:
    """Compute the health of every contract that has one and none kept for ``today``
    (a nightly job spares the first reader of the day the wait); how many were computed."""
    with session.begin():
        ids = set(
            session.scalars(select(Contract.id).where(Contract.status.in_(sorted(HEALTH_STATUSES))))
        )
        fresh = set(
            session.scalars(
                select(ContractHealth.contract_id).where(ContractHealth.computed_on == today)
            )
        )
        ensure_health(session, ids - fresh, today)
        return len(ids - fresh)
