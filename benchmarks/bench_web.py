"""Time the portfolio and contract pages with 5,000 contracts stored (server time).

The database is built once through the application's services (see
portfolio_data.py) and reused while it is complete: by default a SQLite file in
the user's cache folder, or any database given with ``--database-url`` (a
PostgreSQL database is created if missing). Each page is requested through
Flask's test client after a warm-up; the time measured is the time spent inside
the WSGI application, body included, and the SQL statements each request runs
are counted. ``--write FILE`` replaces the web section of that file.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from portfolio_data import BuildReport, build_database, default_sqlite_url
from sqlalchemy import Engine, event, make_url, select, text
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.db.models import Contract, Scenario
from tracker.db.session import engine_of
from tracker.services.portfolio import PortfolioQuery, portfolio_page

CONTRACTS = 5_000
PORTFOLIO_TARGET_MS = 150.0
CONTRACT_TARGET_MS = 50.0
SECTION = "## Web pages at 5,000 contracts"


def section_heading(database: str) -> str:
    """One section per database kind, so a PostgreSQL run keeps the SQLite figures."""
    return f"{SECTION}, {'PostgreSQL' if database.startswith('PostgreSQL') else 'SQLite'}"


SEARCH = "services"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tracker-bench"

_StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Page:
    """One URL to time, what it shows and the target it is held to (ms, or None)."""

    label: str
    url: str
    target_ms: float | None


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


def pages(app: Flask) -> list[Page]:
    """The URLs to time, with contracts picked from the stored portfolio."""
    long_id = _contract_with_term(app, 30)
    short_id = _contract_with_term(app, 5)
    live = _matching(app, PortfolioQuery())
    found = _matching(app, PortfolioQuery(search=SEARCH))
    active = _matching(app, PortfolioQuery(status="active"))
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
    ]


def _matching(app: Flask, query: PortfolioQuery) -> int:
    """How many contracts the portfolio lists for ``query``."""
    with Session(engine_of(app)) as session:
        return portfolio_page(session, query).matching


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


def measure(app: Flask, page: Page, warmup: int, repetitions: int) -> Timing:
    """Warm up, then time ``repetitions`` requests of ``page``."""
    original = app.wsgi_app
    clock = ServerClock(original)
    app.wsgi_app = clock  # type: ignore[method-assign]
    counter = QueryCounter(engine_of(app))
    client = app.test_client()
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
) -> str:
    """The Markdown section: conditions, then one row per page."""
    if build.reused:
        built = "reused as stored"
    else:
        built = (
            f"{build.created:,} contracts stored (or completed) through create_contract() in "
            f"{build.seconds:.1f} s ({build.seconds * 1000 / build.created:.1f} ms each)"
        )
    lines = [
        section_heading(database),
        "",
        f"`benchmarks/bench_web.py` ({time.strftime('%Y-%m-%d')}): {build.contracts:,} "
        f"contracts, {build.years:,} stored contract-years; {database}; Python "
        f"{platform.python_version()} on {cpu_model()} ({platform.machine()}, {cores()} cores). "
        f"Server time is the time inside the WSGI application (Flask test client, body "
        f"included), {repetitions} requests per page after {warmup} to warm up; one process; "
        f"CPU is the serving thread's own CPU time (on PostgreSQL the server's work is not in "
        f"it). Load average {load[0]:.2f} before, {load[1]:.2f} after. Database: {built}.",
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
    return "\n".join(lines)


def _ratio(measured: float, target: float) -> str:
    return f"{measured / target:.2f} ({'meets' if measured <= target else 'misses'})"


def _query_notes(timings: list[Timing]) -> list[str]:
    by_label = {t.page.label: t for t in timings}
    long, short = by_label["contract, 30 years"], by_label["contract, 5 years"]
    portfolio = {q for t in timings if t.page.url.startswith("/?") or t.page.url == "/"
                 for q in t.queries}  # fmt: skip
    same = set(long.queries) == set(short.queries)
    return [
        f"SQL statements per portfolio page: {', '.join(map(str, sorted(portfolio)))}; "
        f"per contract page: {long.query_text} for 30 years, {short.query_text} for 5 years "
        f"({'the same' if same else 'they differ'})."
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
    build = build_database(url, args.contracts, _progress)
    if not build.reused:
        print(f"  built: {build.created:,} contracts in {build.seconds:.1f} s", file=sys.stderr)

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "benchmark", "REPORTS_DIR": str(args.cache_dir)}
    )
    try:
        load_before = os.getloadavg()[0]
        timings = [measure(app, page, args.warmup, args.repetitions) for page in pages(app)]
        load = (load_before, os.getloadavg()[0])
        section = report(
            timings, build, database_description(app), args.repetitions, args.warmup, load
        )
    finally:
        engine_of(app).dispose()
    print(section)
    if args.write:
        replace_section(args.write, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
