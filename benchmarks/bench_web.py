"""Time the portfolio, contract and delivery pages with 5,000 contracts stored (server time).

The database is built once through the application's services (see
portfolio_data.py and delivery_data.py) and reused while it is complete: by default
a SQLite file in the user's cache folder, or any database given with
``--database-url`` (a PostgreSQL database is created if missing). The pages are
requested as a person signed in through ``/login``: a staff member of every
organisation of the portfolio, who sees every contract. Each page is requested
through Flask's test client after a warm-up; the time measured is the time spent
inside the WSGI application, body included, and the SQL statements each request
runs are counted. ``--write FILE`` replaces the web section of that file.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import re
import secrets
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from delivery_data import TODAY
from flask import Flask
from flask.testing import FlaskClient
from portfolio_data import BuildReport, build_database, default_sqlite_url, organisations
from sqlalchemy import Engine, event, func, make_url, select, text
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.db.account_models import Membership, User
from tracker.db.delivery_models import DeliveryYear, FundEntry, Initiative
from tracker.db.models import Contract, Organisation, Scenario
from tracker.db.session import engine_of
from tracker.services.access import SYSTEM, Actor
from tracker.services.accounts import create_user, reset_password
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.portfolio import PortfolioQuery, portfolio_page
from tracker.services.reconciliation import portfolio_reconciliation

CONTRACTS = 5_000
PORTFOLIO_TARGET_MS = 150.0
CONTRACT_TARGET_MS = 50.0
#: The delivery pages are held to a contract page's target, the portfolio's
#: reconciliation (every contract in delivery) to the portfolio's.
DELIVERY_TARGET_MS = CONTRACT_TARGET_MS
RECONCILIATION_TARGET_MS = PORTFOLIO_TARGET_MS
#: The person the pages are requested as: staff of every organisation of the portfolio.
READER_EMAIL = "portfolio.reader@example.com"
SLOW_REPETITIONS = 10
SECTION = "## Web pages at 5,000 contracts"


def section_heading(database: str) -> str:
    """One section per database kind, so a PostgreSQL run keeps the SQLite figures."""
    return f"{SECTION}, {'PostgreSQL' if database.startswith('PostgreSQL') else 'SQLite'}"


SEARCH = "services"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tracker-bench"

_StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Page:
    """One URL to time, what it shows and the target it is held to (ms, or None).

    ``slow`` pages (seconds a request) are requested at most SLOW_REPETITIONS times
    after one warm-up request."""

    label: str
    url: str
    target_ms: float | None
    slow: bool = False


@dataclass(frozen=True)
class Timing:
    """The server times (ns) and SQL statement counts of a page's measured requests."""

    page: Page
    times_ns: tuple[int, ...]
    cpu_ns: tuple[int, ...]
    queries: tuple[int, ...]

    def ms(self, quantile: float) -> float:
        """The time at ``quantile`` (nearest rank), in milliseconds."""
        ordered = sorted(self.times_ns)
        rank = max(1, -(-len(ordered) * quantile // 1))
        return ordered[int(rank) - 1] / 1e6

    @property
    def median_ms(self) -> float:
        """The median time in milliseconds."""
        return statistics.median(self.times_ns) / 1e6

    @property
    def cpu_median_ms(self) -> float:
        """The median CPU time of the serving thread in milliseconds."""
        return statistics.median(self.cpu_ns) / 1e6

    @property
    def query_text(self) -> str:
        """The statement count, or its range when requests differed."""
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


class ServerClock:
    """WSGI middleware: the time from entering the application to the end of the body."""

    def __init__(self, app: Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.last_ns = 0
        self.last_cpu_ns = 0

    def __call__(self, environ: dict[str, Any], start_response: _StartResponse) -> list[bytes]:
        cpu_started = time.thread_time_ns()
        started = time.perf_counter_ns()
        body = self.app(environ, start_response)
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        self.last_ns = time.perf_counter_ns() - started
        self.last_cpu_ns = time.thread_time_ns() - cpu_started
        return [data]


class QueryCounter:
    """Counts the SQL statements an engine sends."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def pages(app: Flask, actor: Actor) -> list[Page]:
    """The URLs to time, with contracts picked from the stored portfolio."""
    long_id = _contract_with_term(app, 30)
    short_id = _contract_with_term(app, 5)
    live = _matching(app, actor, PortfolioQuery())
    found = _matching(app, actor, PortfolioQuery(search=SEARCH))
    active = _matching(app, actor, PortfolioQuery(status="active"))
    long_delivery = _delivery_contract(app, 30)
    short_delivery = _delivery_contract(app, 5)
    year = _year_with_spending(app, long_delivery)
    with Session(engine_of(app)) as session:
        in_delivery = portfolio_reconciliation(session, actor)[1]
    return [
        Page(f"portfolio, default ({live:,} live)", "/", PORTFOLIO_TARGET_MS),
        Page("portfolio, by value desc", "/?sort=value&dir=desc", PORTFOLIO_TARGET_MS),
        Page(
            f'portfolio, search "{SEARCH}" ({found:,} match)', f"/?q={SEARCH}", PORTFOLIO_TARGET_MS
        ),
        Page(
            f"portfolio, active ({active:,}), page 3", "/?status=active&page=3", PORTFOLIO_TARGET_MS
        ),
        Page("contract, 30 years", f"/contracts/{long_id}", CONTRACT_TARGET_MS),
        Page("contract, 5 years", f"/contracts/{short_id}", CONTRACT_TARGET_MS),
        Page("schedule CSV, 30 years", f"/contracts/{long_id}/schedule.csv", None),
        Page(
            "delivery, 30 years", f"/contracts/{long_delivery}/delivery", DELIVERY_TARGET_MS
        ),
        Page(
            "delivery, 5 years", f"/contracts/{short_delivery}/delivery", DELIVERY_TARGET_MS
        ),
        Page(
            f"delivery year {year} of 30", f"/contracts/{long_delivery}/years/{year}",
            DELIVERY_TARGET_MS,
        ),
        Page(
            "reconciliation, contract of 30 years",
            f"/contracts/{long_delivery}/reconciliation",
            DELIVERY_TARGET_MS,
        ),
        Page(
            f"reconciliation, portfolio ({in_delivery:,} contracts, signed or later)",
            "/reconciliation",
            RECONCILIATION_TARGET_MS,
            slow=True,
        ),
    ]  # fmt: skip


def _matching(app: Flask, actor: Actor, query: PortfolioQuery) -> int:
    """How many contracts the portfolio lists for ``query``."""
    with Session(engine_of(app)) as session:
        return portfolio_page(session, actor, query).matching


def _contract_with_term(app: Flask, years: int) -> int:
    """A live contract of ``years`` years, one with scenarios when there is one."""
    with Session(engine_of(app)) as session, session.begin():
        contract_id = session.scalar(
            select(Contract.id)
            .where(Contract.term_years == years, Contract.archived_at.is_(None))
            .order_by(
                select(Scenario.id).where(Scenario.contract_id == Contract.id).exists().desc(),
                Contract.id,
            )
            .limit(1)
        )
    if contract_id is None:
        raise SystemExit(f"no {years}-year contract stored")
    return contract_id


def _delivery_contract(app: Flask, years: int) -> int:
    """The contract in delivery of ``years`` years with the most delivery records: closed
    years, actuals, initiatives and fund entries (the earliest started, if several)."""

    def counted(model: Any, *where: Any) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .where(model.contract_id == Contract.id, *where)
            .scalar_subquery()
        )

    records = (
        counted(DeliveryYear, DeliveryYear.actual_cost.is_not(None))
        + counted(DeliveryYear, DeliveryYear.closed_at.is_not(None))
        + counted(Initiative)
        + counted(FundEntry)
    )
    with Session(engine_of(app)) as session, session.begin():
        contract_id = session.scalar(
            select(Contract.id)
            .where(
                Contract.term_years == years,
                Contract.archived_at.is_(None),
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
            )
            .order_by(records.desc(), Contract.start_date, Contract.id)
            .limit(1)
        )
    if contract_id is None:
        raise SystemExit(f"no {years}-year contract in delivery stored")
    return contract_id


def _year_with_spending(app: Flask, contract_id: int) -> int:
    """The latest year of the contract with spending from the fund (else with actuals)."""
    with Session(engine_of(app)) as session, session.begin():
        year = session.scalar(
            select(func.max(FundEntry.year)).where(FundEntry.contract_id == contract_id)
        ) or session.scalar(
            select(func.max(DeliveryYear.year)).where(
                DeliveryYear.contract_id == contract_id, DeliveryYear.actual_cost.is_not(None)
            )
        )
    return int(year or 1)


def reader(app: Flask) -> tuple[Actor, str]:
    """The person the pages are requested as, with a password to sign in with.

    The account is created through the accounts service with one membership; there is
    no service that adds a second one, so its staff memberships of the other
    organisations are stored directly. A new password is set at every run (it is never
    kept)."""
    password = secrets.token_urlsafe(16)
    with Session(engine_of(app)) as session:
        with session.begin():
            exists = session.scalar(select(User.id).where(User.email == READER_EMAIL))
        if exists is None:
            create_user(
                session, SYSTEM, email=READER_EMAIL, name="Portfolio reader",
                password=password, organisation=organisations()[0], role="staff",
            )  # fmt: skip
        else:
            reset_password(session, SYSTEM, READER_EMAIL, password)
        with session.begin():
            user_id = session.scalar(select(User.id).where(User.email == READER_EMAIL))
            member_of = set(
                session.scalars(
                    select(Membership.organisation_id).where(Membership.user_id == user_id)
                )
            )
            for organisation_id in session.scalars(select(Organisation.id)):
                if organisation_id not in member_of:
                    session.add(
                        Membership(user_id=user_id, organisation_id=organisation_id, role="staff")
                    )
            session.flush()
            memberships = {
                row[0]: row[1]
                for row in session.execute(
                    select(Membership.organisation_id, Membership.role).where(
                        Membership.user_id == user_id
                    )
                )
            }
    return Actor(user_id, READER_EMAIL, memberships), password


def signed_in(app: Flask, password: str) -> FlaskClient:
    """A test client signed in as the reader through the login form (with its CSRF token)."""
    client = app.test_client()
    form = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    data = {"email": READER_EMAIL, "password": password}
    if token is not None:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    if response.status_code != 303:
        raise SystemExit(f"signing in as {READER_EMAIL} answered {response.status}")
    return client


def measure(app: Flask, client: FlaskClient, page: Page, warmup: int, repetitions: int) -> Timing:
    """Warm up, then time ``repetitions`` requests of ``page``."""
    if page.slow:
        warmup, repetitions = min(warmup, 1), min(repetitions, SLOW_REPETITIONS)
    original = app.wsgi_app
    clock = ServerClock(original)
    app.wsgi_app = clock  # type: ignore[method-assign]
    counter = QueryCounter(engine_of(app))
    times: list[int] = []
    cpu: list[int] = []
    queries: list[int] = []
    try:
        for n in range(warmup + repetitions):
            counter.count = 0
            response = client.get(page.url)
            if response.status_code != 200:
                raise SystemExit(f"{page.url} answered {response.status}")
            if n >= warmup:
                times.append(clock.last_ns)
                cpu.append(clock.last_cpu_ns)
                queries.append(counter.count)
    finally:
        app.wsgi_app = original  # type: ignore[method-assign]
        event.remove(engine_of(app), "before_cursor_execute", counter._seen)
    return Timing(page, tuple(times), tuple(cpu), tuple(queries))


def profile(client: FlaskClient, timing: Timing) -> str:
    """One more request of a page that misses its target, under cProfile: where its time
    goes, by library (own time) and by the application's heaviest functions (cumulative)."""
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(timing.page.url)
    profiler.disable()
    if response.status_code != 200:
        raise SystemExit(f"{timing.page.url} answered {response.status}")
    entries = profiler.getstats()
    total = sum(entry.inlinetime for entry in entries)
    own: dict[str, float] = defaultdict(float)
    heaviest: list[tuple[float, int, str]] = []
    for entry in entries:
        code = entry.code
        where, name = ("~", code) if isinstance(code, str) else (code.co_filename, code.co_name)
        own[_library(where, name)] += entry.inlinetime
        # The services and the model (the views only call them); no comprehensions.
        if "/tracker/" in where and "/tracker/web/" not in where and not name.startswith("<"):
            assert not isinstance(code, str)
            module = where.rsplit("/tracker/", 1)[1]
            label = f"{module}:{code.co_qualname.replace('.<locals>', '')}"
            heaviest.append((entry.totaltime, entry.callcount, label))
    libraries = ", ".join(
        f"{part} {seconds / total:.0%}"
        for part, seconds in sorted(own.items(), key=lambda item: -item[1])
        if seconds / total >= 0.01
    )
    functions = "; ".join(
        f"`{label}` {seconds / total:.0%} ({calls:,} call{'s' if calls > 1 else ''})"
        for seconds, calls, label in sorted(heaviest, reverse=True)[:10]
    )
    return (
        f"Where the time of `{timing.page.url}` goes, from one more request under cProfile "
        f"({total:.1f} s, against a median of {timing.median_ms / 1000:.1f} s without): own "
        f"time by library: {libraries}. Cumulative time of the heaviest functions of the "
        f"services and the model: {functions}."
    )


def _library(filename: str, name: str) -> str:
    if filename.endswith(".html"):
        return "templates"
    if "sqlite3" in name or "/psycopg" in filename or "psycopg" in name:
        return "database driver"
    if "/tracker/" in filename:
        return "the application"
    if "/sqlalchemy/" in filename:
        return "SQLAlchemy"
    if filename == "~":
        return "built-in functions"
    if "site-packages" in filename:
        return "other libraries"
    return "standard library"


def database_description(app: Flask) -> str:
    """The database kind and server version."""
    engine = engine_of(app)
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar()
    return f"PostgreSQL {version} ({engine.url.host or 'local socket'}, {engine.driver})"


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def report(
    timings: list[Timing],
    build: BuildReport,
    database: str,
    repetitions: int,
    warmup: int,
    load: tuple[float, float],
    profiles: Iterable[str] = (),
) -> str:
    """The Markdown section: conditions, one row per page, then where the time of the
    pages that miss their target goes."""
    sizes = build.delivery_sizes
    if build.reused:
        built = "reused as stored"
    else:
        parts = []
        if build.created:
            parts.append(
                f"{build.created:,} contracts stored (or completed) through create_contract() "
                f"in {build.seconds:.1f} s ({build.seconds * 1000 / build.created:.1f} ms each)"
            )
        if build.delivery.loaded:
            delivery = build.delivery
            parts.append(
                f"the delivery data of {delivery.loaded:,} contracts recorded through "
                f"{delivery.calls:,} service calls in {delivery.seconds:.1f} s "
                f"({delivery.seconds * 1000 / delivery.loaded:.0f} ms a contract)"
            )
        built = "; ".join(parts)
    lines = [
        section_heading(database),
        "",
        f"`benchmarks/bench_web.py` ({time.strftime('%Y-%m-%d')}): {build.contracts:,} "
        f"contracts, {build.years:,} stored contract-years; {database}; Python "
        f"{platform.python_version()} on {cpu_model()} ({platform.machine()}, {cores()} cores). "
        f"Server time is the time inside the WSGI application (Flask test client, body "
        f"included), {repetitions} requests per page after {warmup} to warm up "
        f"({_slow_note(timings)}); one process; "
        f"CPU is the serving thread's own CPU time (on PostgreSQL the server's work is not in "
        f"it). Load average {load[0]:.2f} before, {load[1]:.2f} after. The pages are "
        f"requested as a person signed in through `/login` who is staff of every "
        f"organisation, so sees every contract; each request includes reading the login "
        f"session and its memberships. Database: {built}.",
        "",
        f"Delivery data (`benchmarks/delivery_data.py`), recorded through the delivery "
        f"services as of {TODAY:%d %B %Y} for all {sizes.contracts:,} contracts in delivery "
        f"(signed, onboarding, active or renewal, not archived): {sizes.actual_years:,} years "
        f"with actual costs (every year begun by then, a few ended ones excepted), "
        f"{sizes.kpis:,} KPIs with {sizes.kpi_results:,} yearly results, "
        f"{sizes.initiatives:,} initiatives, {sizes.fund_entries:,} fund entries (spending "
        f"and adjustments) and {sizes.closed_years:,} closed years. The pages themselves "
        f"compute as of the day they are requested.",
        "",
        "| page | median | p95 | max | CPU median | SQL statements | target | median / target "
        "| p95 / target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for timing in timings:
        target = timing.page.target_ms
        median, p95 = timing.median_ms, timing.ms(0.95)
        if target is None:
            verdicts = "— | — | —"
        else:
            verdicts = f"≤ {target:.0f} ms | {_ratio(median, target)} | {_ratio(p95, target)}"
        lines.append(
            f"| {timing.page.label} (`{timing.page.url}`) | {median:.1f} ms | {p95:.1f} ms "
            f"| {timing.ms(1.0):.1f} ms | {timing.cpu_median_ms:.1f} ms | {timing.query_text} "
            f"| {verdicts} |"
        )
    lines += ["", *_query_notes(timings), ""]
    for note in profiles:
        lines += [note, ""]
    return "\n".join(lines)


def _slow_note(timings: list[Timing]) -> str:
    slow = [t for t in timings if t.page.slow]
    if not slow:
        return "every page"
    return (
        f"{len(slow[0].times_ns)} after 1 for the portfolio reconciliation, which takes "
        f"seconds, so that its p95 is its slowest request"
    )


def _ratio(measured: float, target: float) -> str:
    return f"{measured / target:.2f} ({'meets' if measured <= target else 'misses'})"


def _query_notes(timings: list[Timing]) -> list[str]:
    by_label = {t.page.label: t for t in timings}
    long, short = by_label["contract, 30 years"], by_label["contract, 5 years"]
    portfolio = {q for t in timings if t.page.url.startswith("/?") or t.page.url == "/"
                 for q in t.queries}  # fmt: skip
    same = set(long.queries) == set(short.queries)
    delivery = {q for t in timings if t.page.url.startswith("/contracts/")
                and not t.page.url.split("/")[-1].isdigit()
                and t.page.target_ms == DELIVERY_TARGET_MS for q in t.queries}  # fmt: skip
    return [
        f"SQL statements per portfolio page: {', '.join(map(str, sorted(portfolio)))}; "
        f"per contract page: {long.query_text} for 30 years, {short.query_text} for 5 years "
        f"({'the same' if same else 'they differ'}); per delivery page: "
        f"{', '.join(map(str, sorted(delivery)))}, whatever the number of years and records."
    ]


def replace_section(path: Path, section: str) -> None:
    """Replace the section of ``path`` under the section's own heading, or append it."""
    current = path.read_text() if path.exists() else "# Performance\n\n"
    heading = section.splitlines()[0]
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(current):
        updated = pattern.sub(lambda _match: section + "\n", current)
    else:
        updated = current.rstrip() + "\n\n" + section
    path.write_text(updated.rstrip() + "\n")


def _progress(done: int, total: int, seconds: float) -> None:
    print(f"  stored {done:,}/{total:,} contracts in {seconds:.1f} s", file=sys.stderr)


def _delivery_progress(done: int, total: int, seconds: float) -> None:
    print(f"  delivery data of {done:,}/{total:,} contracts in {seconds:.1f} s", file=sys.stderr)


def main() -> int:
    """Build or reuse the database, time the pages, print the figures, optionally write them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a cached SQLite file)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--contracts", type=int, default=CONTRACTS)
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--write", type=Path, help="Markdown file whose web section to replace")
    args = parser.parse_args()
    if args.write and args.contracts != CONTRACTS:
        parser.error(f"--write records the figures at {CONTRACTS:,} contracts only")

    url = args.database_url or default_sqlite_url(args.cache_dir, args.contracts)
    print(f"database: {make_url(url).render_as_string(hide_password=True)}", file=sys.stderr)
    build = build_database(url, args.contracts, _progress, _delivery_progress)
    if not build.reused:
        print(
            f"  built: {build.created:,} contracts in {build.seconds:.1f} s, the delivery data "
            f"of {build.delivery.loaded:,} in {build.delivery.seconds:.1f} s "
            f"({build.delivery.refused_closes} year closes refused)",
            file=sys.stderr,
        )

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "benchmark", "REPORTS_DIR": str(args.cache_dir)}
    )
    try:
        actor, password = reader(app)
        client = signed_in(app, password)
        load_before = os.getloadavg()[0]
        timings = [
            measure(app, client, page, args.warmup, args.repetitions) for page in pages(app, actor)
        ]
        load = (load_before, os.getloadavg()[0])
        missed = [t for t in timings if t.page.target_ms and t.median_ms > t.page.target_ms]
        profiles = [profile(client, timing) for timing in missed]
        section = report(
            timings, build, database_description(app), args.repetitions, args.warmup, load,
            profiles,
        )  # fmt: skip
    finally:
        engine_of(app).dispose()
    print(section)
    if args.write:
        replace_section(args.write, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
