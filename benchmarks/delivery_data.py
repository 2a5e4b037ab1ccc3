"""Delivery years of the benchmark portfolio, recorded through the delivery services.

Every contract of the benchmark portfolio that is in delivery (signed, onboarding,
active or renewal, not archived) gets, as of the fixed day ``TODAY``:

- a volume driver with a planned volume per year on about half of them;
- the actual delivery cost (and volume) of every year that has begun, a few ended
  years excepted, so that reconciliation has something to warn about;
- two KPIs with a target per year, and results for the years that have begun on a
  share of the contracts (quarterly results for the running year on some);
- one to four initiatives, proposed, approved, started, paid for from the fund and
  delivered or dropped as far as their planned year allows; a few are over budget
  and a few payments are explicit pre-funding;
- an adjustment of the fund on about one contract in ten;
- on about half of the contracts, their ended years closed in order;
- last, the delivery plan confirmed (with, on about a third of the contracts, the
  vendor's commitment of one delivered initiative a year) at ``COMPLETED_AT``: a
  contract whose plan carries that stamp is complete, so that a build cut short
  resumes where it stopped.

Everything is written as the system actor with ``today=TODAY`` and ``now=NOW``, and
follows from a fixed seed and the contract's code, so the stored figures do not move
with the calendar or the order of loading.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.db.delivery_models import DeliveryPlan, DeliveryYear, FundEntry, Initiative, Kpi
from tracker.db.models import Contract
from tracker.services.access import SYSTEM
from tracker.services.actuals import record_actuals, set_delivery_plan
from tracker.services.delivery import DeliveryView, delivery_view
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.errors import Conflict
from tracker.services.fund import record_adjustment, record_spending
from tracker.services.initiatives import approve_initiative, move_initiative, propose_initiative
from tracker.services.kpis import create_kpi, record_kpi_result
from tracker.services.year_close import close_year

#: The day the delivery data is recorded as of: years that have begun by then have actuals.
TODAY = date(2026, 11, 1)
#: The time every delivery record is stamped with.
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
#: The stamp of the last step, the delivery plan's confirmation.
COMPLETED_AT = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
DELIVERY_SEED = 3000
VOLUME_SHARE = 0.5
#: Ended years of a contract that lack their actual cost (the last ended one).
MISSING_ACTUALS_SHARE = 0.05
#: Contracts with KPI results for every year that has begun (the others: some years).
KPI_RESULTS_SHARE = 0.6
CLOSING_SHARE = 0.5
ADJUSTMENT_SHARE = 0.1
COMMITMENT_SHARE = 0.35
OVER_BUDGET_SHARE = 0.05
PREFUNDING_SHARE = 0.03

_INITIATIVES = (
    ("Self-service password reset", "A portal for password resets and account unlocks."),
    ("Knowledge base rewrite", "Rewrite the most used answers so the first line closes more."),
    ("Virtual agent", "A chat assistant that fulfils the most frequent requests end to end."),
    ("Monitoring consolidation", "One monitoring platform instead of three, with alert rules."),
    ("Automated patching", "Monthly patching of the server estate without manual steps."),
    ("Walk-up desk", "A staffed desk at head office for hardware swaps and hands-on help."),
)


@dataclass
class _Load:
    """What loading one contract did (service calls, close refusals)."""

    calls: int = 0
    refused_closes: int = 0


@dataclass(frozen=True)
class DeliveryReport:
    """How many contracts received delivery data in this run, in how long."""

    loaded: int
    calls: int
    refused_closes: int
    seconds: float


@dataclass
class _Fund:
    """The fund's closing balance per year as the loader's postings move it."""

    committed: list[int]
    postings: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.postings = [0] * len(self.committed)

    def closing(self, year: int) -> int:
        """The closing balance of ``year``; later years only add (commitments are >= 0)."""
        return sum(self.committed[:year]) + sum(self.postings[:year])

    def room(self, year: int) -> int:
        """The most a posting in ``year`` may take out without overdrawing any year."""
        return min(self.closing(y) for y in range(year, len(self.committed) + 1))


def delivery_contract_ids(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """The benchmark contracts (of ``codes``) that are in delivery and not archived."""
    with session.begin():
        rows = session.execute(
            select(Contract.code, Contract.id).where(
                Contract.code.in_(list(codes)),
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
                Contract.archived_at.is_(None),
            )
        )
        return {row[0]: row[1] for row in rows}


def completed(session: Session, contract_ids: Sequence[int]) -> set[int]:
    """Contracts whose delivery data is complete (the plan is confirmed last)."""
    with session.begin():
        return set(
            session.scalars(
                select(DeliveryPlan.contract_id).where(
                    DeliveryPlan.contract_id.in_(list(contract_ids)),
                    DeliveryPlan.updated_at == COMPLETED_AT,
                )
            )
        )


def load_delivery(
    session: Session,
    contracts: dict[str, int],
    progress: Callable[[int, int, float], None] | None = None,
) -> DeliveryReport:
    """Record the delivery data of every contract (code -> id) not complete yet."""
    done_ids = completed(session, list(contracts.values()))
    todo = sorted((code, cid) for code, cid in contracts.items() if cid not in done_ids)
    _remove_partial(session, [cid for _code, cid in todo])
    started = time.perf_counter_ns()
    calls = refused = 0
    for done, (code, contract_id) in enumerate(todo, start=1):
        load = load_contract(session, code, contract_id)
        calls += load.calls
        refused += load.refused_closes
        if progress and (done % 250 == 0 or done == len(todo)):
            progress(done, len(todo), (time.perf_counter_ns() - started) / 1e9)
    seconds = (time.perf_counter_ns() - started) / 1e9 if todo else 0.0
    return DeliveryReport(len(todo), calls, refused, seconds)


def _remove_partial(session: Session, contract_ids: list[int]) -> None:
    """Delete what a build cut short left of these (incomplete) contracts' delivery data."""
    tables = (FundEntry, Initiative, Kpi, DeliveryYear, DeliveryPlan)
    with session.begin():
        for start in range(0, len(contract_ids), 500):
            chunk = contract_ids[start : start + 500]
            # Children first: fund entries point at initiatives, initiatives at KPIs.
            for table in tables:
                session.execute(delete(table).where(table.contract_id.in_(chunk)))


def load_contract(session: Session, code: str, contract_id: int) -> _Load:
    """Record one contract's delivery data through the services."""
    rng = random.Random(f"{DELIVERY_SEED}:{code}")
    load = _Load()
    view = delivery_view(session, SYSTEM, contract_id, today=TODAY)
    load.calls += 1
    begun = [y.year for y in view.years if y.plan.start <= TODAY]
    ended = [y.year for y in view.years if y.plan.end < TODAY]
    term = len(view.years)

    volumes: dict[int, object] = {}
    if rng.random() < VOLUME_SHARE:
        base = rng.randint(2_000, 200_000)
        volumes = {y: str(round(base * 1.03 ** (y - 1))) for y in range(1, term + 1)}
        _plan(session, contract_id, volumes, None, expected_version=0, now=NOW)
        load.calls += 1

    missing = ended[-1] if ended and rng.random() < MISSING_ACTUALS_SHARE else None
    for year in begun:
        if year == missing:
            continue
        planned = view.year(year).plan.planned_cost
        cost = round(planned * rng.uniform(0.92, 1.06))
        volume = None
        if volumes:
            volume = str(round(int(str(volumes[year])) * rng.uniform(0.95, 1.08)))
        note = None if rng.random() < 0.8 else "Figures from the vendor's monthly service report."
        record_actuals(
            session, SYSTEM, contract_id, year, actual_cost=view.money(cost),
            actual_volume=volume, note=note, expected_version=1 if volumes else 0,
            now=NOW, today=TODAY,
        )  # fmt: skip
        load.calls += 1

    closing = bool(ended) and missing is None and rng.random() < CLOSING_SHARE
    complete_results = closing or rng.random() < KPI_RESULTS_SHARE
    kpi_ids = _kpis(session, rng, contract_id, term, begun, complete_results, load)

    # The fund as the actuals left it: what each year commits.
    view = delivery_view(session, SYSTEM, contract_id, today=TODAY)
    load.calls += 1
    fund = _Fund([line.committed for line in view.ledger])
    count = rng.randint(1, min(4, 1 + term // 4))
    for n in range(count):
        _initiative(session, rng, view, fund, kpi_ids, begun, ended, n, load)

    open_years = [y for y in begun if not (closing and y in ended)]
    if open_years and rng.random() < ADJUSTMENT_SHARE:
        year = rng.choice(open_years)
        amount = max(round(view.year(year).ledger.committed * rng.uniform(0.01, 0.05)), 1)
        record_adjustment(
            session, SYSTEM, contract_id, year, view.money(amount),
            f"Year {year}'s reinvestment corrected after the vendor's audit.",
            now=NOW, today=TODAY,
        )  # fmt: skip
        fund.postings[year - 1] += amount
        load.calls += 1

    if closing:
        for year in ended:
            try:
                close_year(session, SYSTEM, contract_id, year, now=NOW, today=TODAY)
            except Conflict:
                load.refused_closes += 1
                break
            finally:
                load.calls += 1

    # Last: the plan confirmed at COMPLETED_AT marks the contract's delivery data complete.
    commitment = "1" if rng.random() < COMMITMENT_SHARE else None
    _plan(session, contract_id, volumes, commitment, 1 if volumes else 0, now=COMPLETED_AT)
    load.calls += 1
    return load


def _plan(
    session: Session,
    contract_id: int,
    volumes: dict[int, object],
    commitment: str | None,
    expected_version: int,
    *,
    now: datetime,
) -> None:
    set_delivery_plan(
        session, SYSTEM, contract_id,
        volume_name="service requests" if volumes else None,
        volume_unit="requests" if volumes else None,
        planned_volumes=volumes, initiatives_per_year=commitment,
        expected_version=expected_version, now=now,
    )  # fmt: skip


def _kpis(
    session: Session,
    rng: random.Random,
    contract_id: int,
    term: int,
    begun: list[int],
    complete: bool,
    load: _Load,
) -> list[int]:
    """Availability (higher is better) and resolution time (lower is better), with results."""
    availability = Decimal(rng.choice(("99.0", "99.5", "99.9")))
    hours = Decimal(rng.randint(6, 12))
    definitions = (
        ("Availability", "%", True, "0.2", dict.fromkeys(range(1, term + 1), availability)),
        ("Mean time to resolve", "hours", False, "0.5",
         {y: max(hours - Decimal("0.5") * (y - 1), Decimal(4)) for y in range(1, term + 1)}),
    )  # fmt: skip
    ids = []
    for name, unit, higher, tolerance, targets in definitions:
        kpi_id = create_kpi(
            session, SYSTEM, contract_id, name=name, unit=unit, higher_is_better=higher,
            tolerance=tolerance, targets={y: str(t) for y, t in targets.items()}, now=NOW,
        )  # fmt: skip
        load.calls += 1
        ids.append(kpi_id)
        for year in begun:
            if not complete and rng.random() < 0.4:
                continue
            target = targets[year]
            spread = Decimal("0.6") if higher else Decimal(2)
            actual = target + spread * Decimal(rng.randint(-10, 6 if higher else 10)) / 10
            if higher:
                actual = min(actual, Decimal(100))
            quarters = {}
            if year == begun[-1] and rng.random() < 0.3:
                quarters = {f"q{q}": str(actual) for q in range(1, 4)}
            record_kpi_result(
                session, SYSTEM, kpi_id, year, actual=str(actual), quarters=quarters,
                expected_version=1, now=NOW, today=TODAY,
            )  # fmt: skip
            load.calls += 1
    return ids


def _initiative(
    session: Session,
    rng: random.Random,
    view: DeliveryView,
    fund: _Fund,
    kpi_ids: list[int],
    begun: list[int],
    ended: list[int],
    n: int,
    load: _Load,
) -> None:
    """Propose one initiative and take it as far as its planned year allows."""
    term = len(view.years)
    planned_year = rng.choice(begun) if begun and rng.random() < 0.7 else rng.randint(1, term)
    reinvest = max(view.year(planned_year).plan.reinvest, 100)
    budget = round(reinvest * rng.uniform(0.15, 0.45))
    title, description = _INITIATIVES[(n + rng.randrange(len(_INITIATIVES))) % len(_INITIATIVES)]
    side = rng.choice(("buyer", "vendor"))
    initiative_id = propose_initiative(
        session, SYSTEM, view.contract_id,
        {"title": f"{title} ({n + 1})", "description": description,
         "expected_saving": view.money(round(budget * rng.uniform(0.5, 1.5))),
         "budget": view.money(budget), "planned_year": str(planned_year),
         "kpi_id": str(rng.choice(kpi_ids)) if rng.random() < 0.6 else None,
         "expected_kpi_effect": "+1 point" if rng.random() < 0.5 else None},
        side=side, now=NOW,
    )  # fmt: skip
    load.calls += 1
    version = 1
    if rng.random() < 0.1:
        move_initiative(
            session, SYSTEM, initiative_id, "dropped", expected_version=version,
            note="Superseded by a change of platform.", now=NOW,
        )  # fmt: skip
        load.calls += 1
        return
    if planned_year not in begun and rng.random() < 0.5:
        return  # still a proposal
    for approver in (side, "vendor" if side == "buyer" else "buyer"):
        approve_initiative(
            session, SYSTEM, initiative_id, expected_version=version, side=approver, now=NOW
        )
        version += 1
        load.calls += 1
    if planned_year not in begun:
        return  # approved, waiting for its year
    move_initiative(session, SYSTEM, initiative_id, "in_progress", expected_version=version,
                    now=NOW)  # fmt: skip
    version += 1
    load.calls += 1
    share = rng.uniform(1.05, 1.25) if rng.random() < OVER_BUDGET_SHARE else rng.uniform(0.5, 0.95)
    amount = round(budget * share)
    prefunding = rng.random() < PREFUNDING_SHARE
    if not prefunding:
        amount = min(amount, fund.room(planned_year))
    if amount > 0:
        record_spending(
            session, SYSTEM, initiative_id, planned_year, view.money(amount),
            "Design, build and roll-out", expected_version=version, now=NOW, today=TODAY,
            prefunding=prefunding and amount > fund.room(planned_year),
        )  # fmt: skip
        fund.postings[planned_year - 1] -= amount
        load.calls += 1
        # A payment moves the version on only when it changes the stamp (NOW is fixed).
        with session.begin():
            version = (
                session.scalar(select(Initiative.version).where(Initiative.id == initiative_id))
                or 0
            )
    if planned_year in ended:
        move_initiative(
            session, SYSTEM, initiative_id, "delivered", expected_version=version,
            delivered_year=str(planned_year),
            realised_saving=view.money(round(budget * rng.uniform(0.6, 1.2))),
            note="Delivered as planned.", now=NOW,
        )  # fmt: skip
        load.calls += 1
