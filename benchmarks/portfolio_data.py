"""A large, varied portfolio stored through the application's own services (benchmark data).

The contracts are derived from the seven demo terms documents in seed_data/contracts:
each gets its own name ("… #1234"), buyer and vendor drawn from about 200
organisations, currency (EUR, GBP or USD), base price, start date and term of 1 to
30 years, a lifecycle status; about one in twenty is archived and one in ten has
two scenarios. Everything follows from a fixed seed, so the same codes always
describe the same contracts and an interrupted build can be resumed.

Contracts are created one by one with ``create_contract()``: it validates the
terms, computes the schedule and stores it with the totals, which is the honest
cost of filling the database. The contracts in delivery then receive their delivery
years (actuals, KPIs, initiatives, fund postings, closed years) through the delivery
services: see delivery_data.py.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from delivery_data import COMPLETED_AT, DeliveryReport, delivery_contract_ids, load_delivery
from sqlalchemy import Engine, create_engine, func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from tracker.db.delivery_models import (
    DeliveryPlan,
    DeliveryYear,
    FundEntry,
    Initiative,
    Kpi,
    KpiYear,
)
from tracker.db.migrate import current_revision, head_revision, upgrade
from tracker.db.models import STATUSES, Contract, ContractYear, Scenario
from tracker.db.session import make_engine
from tracker.services.access import SYSTEM
from tracker.services.contracts import create_contract, set_archived
from tracker.services.scenarios import create_scenario

SEED_CONTRACTS = Path(__file__).resolve().parent.parent / "seed_data" / "contracts"
#: Bump when the generated contracts or their delivery data change, so that stored
#: databases are not reused. (A database stored before delivery data existed is completed:
#: each contract's delivery data is loaded until its last step is stored.)
CODE_PREFIX = "BW1-"
SEED = 5000
CURRENCIES = ("EUR", "GBP", "USD")
ARCHIVED_SHARE = 0.05
SCENARIO_SHARE = 0.10

_STEMS = (
    "Northbridge", "Albion", "Meridian", "Harbor", "Keystone", "Nordlys", "Ledgerline",
    "Vigilis", "Atlantique", "Cobalt", "Evergreen", "Granite", "Halcyon", "Ironwood",
    "Juniper", "Kestrel", "Lumen", "Marlow", "Oakridge", "Pinnacle",
)  # fmt: skip
_KINDS = (
    "Group", "Holdings", "Services", "Partners", "Logistics", "Facilities", "Bank",
    "Council", "Industries", "Systems",
)  # fmt: skip


def organisations() -> tuple[str, ...]:
    """The 200 organisation names buyers and vendors are drawn from."""
    return tuple(f"{stem} {kind}" for stem in _STEMS for kind in _KINDS)


@dataclass(frozen=True)
class PlannedContract:
    """One contract of the benchmark portfolio, before it is stored."""

    code: str
    status: str
    archived: bool
    scenarios: tuple[tuple[str, dict[str, Any]], ...]
    document: dict[str, Any]


def demo_documents() -> list[dict[str, Any]]:
    """The seven demo terms documents, in file order."""
    documents: list[dict[str, Any]] = [
        json.loads(path.read_text()) for path in sorted(SEED_CONTRACTS.glob("*.json"))
    ]
    return documents


def planned_contracts(count: int, seed: int = SEED) -> list[PlannedContract]:
    """``count`` contracts, the same for a given seed whatever ``count`` (a prefix)."""
    rng = random.Random(seed)
    demos = demo_documents()
    names = organisations()
    planned = []
    for n in range(1, count + 1):
        demo = demos[(n - 1) % len(demos)]
        buyer, vendor = rng.sample(names, 2)
        years = rng.randint(1, 30)
        document = _varied(demo, rng, n, buyer, vendor, years)
        status = rng.choice(STATUSES)
        scenarios: tuple[tuple[str, dict[str, Any]], ...] = ()
        if rng.random() < SCENARIO_SHARE:
            scenarios = (
                ("Faster automation", _with_cost(document, efficiency="0.06")),
                ("Half the gain to the buyer", _with_split(document, "0.40", "0.50")),
            )
        planned.append(
            PlannedContract(
                code=f"{CODE_PREFIX}{n:05d}",
                status=status,
                archived=rng.random() < ARCHIVED_SHARE,
                scenarios=scenarios,
                document=document,
            )
        )
    return planned


def _varied(
    demo: dict[str, Any], rng: random.Random, n: int, buyer: str, vendor: str, years: int
) -> dict[str, Any]:
    document = copy.deepcopy(demo)
    factor = Decimal(rng.randint(20, 400)) / 100
    document["name"] = f"{demo['name']} #{n:04d}"
    document["buyer"] = buyer
    document["vendor"] = vendor
    document["currency"] = rng.choice(CURRENCIES)
    document["start_date"] = date(rng.randint(2018, 2030), rng.randint(1, 12), 1).isoformat()
    document["term_years"] = years
    price = document["price"]
    price["base"] = _scaled(price["base"], factor)
    escalation = price["escalation"]
    for key in ("rate", "index"):
        if key in escalation:
            escalation[key] = _resized(escalation[key], years - 1)
    if "prices" in escalation:
        prices = [_scaled(value, factor) for value in escalation["prices"]]
        escalation["prices"] = [prices[i % len(prices)] for i in range(years)]
    cost = document["cost"]
    cost["baseline"] = _scaled(cost["baseline"], factor)
    if "inflation" in cost:
        cost["inflation"] = _resized(cost["inflation"], years - 1)
    if "efficiency" in cost:
        cost["efficiency"] = _resized(cost["efficiency"], years)
    return document


def _scaled(amount: str, factor: Decimal) -> str:
    return str((Decimal(amount) * factor).quantize(Decimal("0.01")))


def _resized(rates: str | list[str], count: int) -> str | list[str]:
    """A per-year list repeated or cut to ``count`` values; one value stays one value."""
    if not isinstance(rates, list):
        return rates
    if count < 2:
        return rates[0]
    return [rates[i % len(rates)] for i in range(count)]


def _with_cost(document: dict[str, Any], **changes: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["cost"].update(changes)
    return changed


def _with_split(document: dict[str, Any], reinvest: str, buyer: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["gain_split"] = {"reinvest": reinvest, "buyer": buyer}
    return changed


# -- the database -------------------------------------------------------------


@dataclass(frozen=True)
class DeliverySizes:
    """What the delivery tables hold."""

    contracts: int
    actual_years: int
    closed_years: int
    kpis: int
    kpi_results: int
    initiatives: int
    fund_entries: int


@dataclass(frozen=True)
class BuildReport:
    """How the benchmark database was obtained."""

    url: str
    contracts: int
    years: int
    created: int
    seconds: float
    delivery: DeliveryReport
    delivery_sizes: DeliverySizes

    @property
    def reused(self) -> bool:
        """Whether every contract and its delivery data were already stored."""
        return self.created == 0 and self.delivery.loaded == 0


class ForeignData(RuntimeError):
    """The database holds contracts this benchmark did not make: it is not used."""


def default_sqlite_url(cache_dir: Path, count: int) -> str:
    """The SQLite file the benchmark keeps between runs."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{cache_dir / f'portfolio-{count}.sqlite3'}"


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist yet."""
    target = make_url(url)
    if not target.get_backend_name().startswith("postgresql") or not target.database:
        return
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).scalar()
            if not exists:
                quoted = target.database.replace('"', '""')
                connection.execute(text(f'CREATE DATABASE "{quoted}"'))
    finally:
        admin.dispose()


def build_database(
    url: str,
    count: int,
    progress: Callable[[int, int, float], None] | None = None,
    delivery_progress: Callable[[int, int, float], None] | None = None,
) -> BuildReport:
    """Migrate the database at ``url``, store whichever of the ``count`` contracts are
    missing, then the delivery data of those in delivery that lack it; reuses a
    complete database as it is."""
    ensure_postgres_database(url)
    engine = make_engine(url)
    try:
        if current_revision(engine) != head_revision(engine):
            upgrade(engine)
        factory = sessionmaker(engine, expire_on_commit=False)
        with factory() as session:
            stored = _stored(session)
        plan = planned_contracts(count)
        foreign = set(stored) - {p.code for p in plan}
        if foreign:
            raise ForeignData(
                f"{url} holds {len(foreign)} contracts that are not this benchmark's "
                f"(for example {min(foreign)}); use an empty database or remove them"
            )
        # A run cut short may have left a contract without its scenarios or archiving.
        todo = [p for p in plan if p.code not in stored or not _finished(p, stored[p.code])]
        started = time.perf_counter_ns()
        with factory() as session:
            for done, contract in enumerate(todo, start=1):
                _store(session, contract, stored.get(contract.code))
                if progress and (done % 500 == 0 or done == len(todo)):
                    progress(done, len(todo), (time.perf_counter_ns() - started) / 1e9)
        seconds = (time.perf_counter_ns() - started) / 1e9
        with factory() as session:
            in_delivery = delivery_contract_ids(session, [p.code for p in plan])
            delivery = load_delivery(session, in_delivery, delivery_progress)
        contracts, years = _sizes(engine)
        _analyse(engine)
        return BuildReport(
            url, contracts, years, len(todo), seconds if todo else 0.0, delivery,
            _delivery_sizes(engine),
        )  # fmt: skip
    finally:
        engine.dispose()


@dataclass(frozen=True)
class _Stored:
    id: int
    archived: bool
    scenarios: frozenset[str]


def _stored(session: Session) -> dict[str, _Stored]:
    """Every stored contract by code, with what the build adds after creating it."""
    with session.begin():
        names: dict[int, set[str]] = {}
        for contract_id, name in session.execute(select(Scenario.contract_id, Scenario.name)):
            names.setdefault(contract_id, set()).add(name)
        rows = session.execute(
            select(Contract.code, Contract.id, Contract.archived_at.is_not(None))
        ).all()
    return {
        code: _Stored(contract_id, bool(archived), frozenset(names.get(contract_id, ())))
        for code, contract_id, archived in rows
    }


def _finished(contract: PlannedContract, stored: _Stored) -> bool:
    return stored.archived == contract.archived and stored.scenarios == {
        name for name, _document in contract.scenarios
    }


def _store(session: Session, contract: PlannedContract, stored: _Stored | None) -> None:
    """Create the contract (unless stored), then its missing scenarios, then archive it."""
    if stored is None:
        contract_id = create_contract(
            session, SYSTEM, contract.document, code=contract.code, status=contract.status
        )
        stored = _Stored(contract_id, False, frozenset())
    for name, document in contract.scenarios:
        if name not in stored.scenarios:
            create_scenario(session, SYSTEM, stored.id, name, document)
    if contract.archived and not stored.archived:
        with session.begin():
            version = session.scalar(select(Contract.version).where(Contract.id == stored.id))
        assert version is not None
        set_archived(session, SYSTEM, stored.id, True, expected_version=version)


def _sizes(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session, session.begin():
        contracts = session.scalar(select(func.count(Contract.id))) or 0
        years = session.scalar(select(func.count()).select_from(ContractYear)) or 0
    return contracts, years


def _delivery_sizes(engine: Engine) -> DeliverySizes:
    with Session(engine) as session, session.begin():

        def count(statement: Any) -> int:
            return int(session.scalar(statement) or 0)

        return DeliverySizes(
            contracts=count(select(func.count()).where(DeliveryPlan.updated_at == COMPLETED_AT)),
            actual_years=count(select(func.count()).where(DeliveryYear.actual_cost.is_not(None))),
            closed_years=count(select(func.count()).where(DeliveryYear.closed_at.is_not(None))),
            kpis=count(select(func.count(Kpi.id))),
            kpi_results=count(select(func.count()).where(KpiYear.actual.is_not(None))),
            initiatives=count(select(func.count(Initiative.id))),
            fund_entries=count(select(func.count(FundEntry.id))),
        )


def _analyse(engine: Engine) -> None:
    """Fresh planner statistics, as a database in service would have."""
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
