"""Time the annual report PDF: WeasyPrint alone, the whole PDF with its charts cached and
drawn, and the web request that serves it.

A fresh SQLite database in a temporary folder is migrated and given the demo data
(``seed_demo`` as of a fixed day, so that the demo years have ended), and the demo
report with the most content is measured: the most charts, then the longest print
HTML (a frozen report is left out, since its PDF is served as stored). Each timing is
the median (and the fastest) of ``--runs`` runs after one warm-up run. ``--write FILE``
replaces the report section of that file.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib
import weasyprint
from bench_web import ServerClock, cores, cpu_model, replace_section
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.db.migrate import upgrade
from tracker.db.models import Contract
from tracker.db.session import engine_of
from tracker.reporting.kpi_charts import clear_kpi_chart_cache
from tracker.reporting.pdf_support import font_subsetting_available
from tracker.reporting.report_charts import (
    clear_report_chart_cache,
    report_chart_names,
    report_chart_svgs,
    set_chart_cache_dir,
)
from tracker.reporting.report_pdf import pdf_from_html, report_html, report_pdf
from tracker.services.access import SYSTEM
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.report_views import report_list, report_view
from tracker.services.seed import DEMO_PASSWORD, demo_email, seed_demo

SECTION = "## Annual report PDF"
#: The day the demo is seeded as of: its delivery years up to then are loaded and ended.
TODAY = date(2026, 11, 1)
CACHED_TARGET = 1.2  # report_pdf with cached charts, against WeasyPrint alone
DRAWN_TARGET = 2.0  # report_pdf drawing its charts, against WeasyPrint alone
REQUEST_TARGET_S = 1.0  # the whole web request, warm
#: A one-minute load average from which the figures are marked as taken on a busy machine.
BUSY_LOAD = 1.0


@dataclass(frozen=True)
class Candidate:
    """A demo report that can be measured, and how much it holds."""

    contract_id: int
    code: str
    year: int
    state: str
    charts: int
    kpis: int
    initiatives: int
    html_chars: int
    content: dict[str, Any]

    @property
    def label(self) -> str:
        """The report as the section names it."""
        return f"{self.code} year {self.year}"


@dataclass(frozen=True)
class Timing:
    """The wall times and the measuring thread's CPU times (s) of one measured step."""

    label: str
    seconds: tuple[float, ...]
    cpu: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median time in seconds."""
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        """The fastest run in seconds."""
        return min(self.seconds)

    @property
    def cpu_median(self) -> float:
        """The median CPU time in seconds (less sensitive than wall time to a busy machine)."""
        return statistics.median(self.cpu)


def seeded_app(folder: Path) -> Flask:
    """The application on a new SQLite database in ``folder``, migrated and seeded."""
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'tracker.sqlite3'}",
            "SECRET_KEY": "benchmark",
            "REPORTS_DIR": str(folder / "reports"),
        }
    )
    upgrade(engine_of(app))
    with Session(engine_of(app)) as session:
        seed_demo(session, today=TODAY)
    return app


def candidates(app: Flask) -> list[Candidate]:
    """Every ended year's report of the demo contracts in delivery, except frozen ones."""
    found = []
    with Session(engine_of(app)) as session:
        with session.begin():
            contracts = list(
                session.execute(
                    select(Contract.id, Contract.code)
                    .where(Contract.status.in_(sorted(DELIVERY_STATUSES)))
                    .order_by(Contract.id)
                )
            )
        for contract_id, code in contracts:
            for item in report_list(session, SYSTEM, contract_id, today=TODAY).years:
                if not item.ended or item.state == "frozen":
                    continue
                content = report_view(session, SYSTEM, contract_id, item.year, today=TODAY).content
                report = content["report"]
                with app.app_context():
                    html = report_html(app.jinja_env, content)
                found.append(
                    Candidate(
                        contract_id, code, item.year, item.state,
                        len(report_chart_names(report)), len(report["kpis"]),
                        sum(len(group) for group in report["initiatives"].values()),
                        len(html), content,
                    )
                )  # fmt: skip
    return found


def richest(found: list[Candidate]) -> Candidate:
    """The report with the most charts, then the longest print HTML."""
    if not found:
        raise SystemExit("the demo has no ended, unfrozen report year: was the seed loaded?")
    return max(found, key=lambda c: (c.charts, c.html_chars, -c.contract_id, -c.year))


def timed(
    label: str, runs: int, action: Callable[[], object], before: Callable[[], None]
) -> Timing:
    """One warm-up run, then ``runs`` timed runs of ``action``, each after ``before``."""
    times, cpu = [], []
    for n in range(runs + 1):
        before()
        gc.collect()
        cpu_started, started = time.thread_time(), time.perf_counter()
        action()
        if n:
            times.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - cpu_started)
    return Timing(label, tuple(times), tuple(cpu))


def signed_in(app: Flask, email: str) -> FlaskClient:
    """A test client signed in as the demo account ``email`` through the login form."""
    client = app.test_client()
    form = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    data = {"email": email, "password": DEMO_PASSWORD}
    if token is not None:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    if response.status_code != 303:
        raise SystemExit(f"signing in as {email} answered {response.status}")
    return client


def requests(app: Flask, client: FlaskClient, url: str, runs: int) -> tuple[Timing, bytes]:
    """The server time of ``runs`` requests of ``url`` after one, and the last PDF."""
    original = app.wsgi_app
    clock = ServerClock(original)
    app.wsgi_app = clock  # type: ignore[method-assign]
    times, cpu = [], []
    body = b""
    try:
        for n in range(runs + 1):
            gc.collect()
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "application/pdf":
                raise SystemExit(f"{url} answered {response.status} ({response.mimetype})")
            body = response.data
            if n:
                times.append(clock.last_ns / 1e9)
                cpu.append(clock.last_cpu_ns / 1e9)
    finally:
        app.wsgi_app = original  # type: ignore[method-assign]
    label = f"(d) the web request `GET {url}`, warm"
    return Timing(label, tuple(times), tuple(cpu)), body


def forget_charts() -> None:
    """Empty every in-process chart cache, so that the next report draws all its charts."""
    clear_report_chart_cache()
    # The KPI trend charts are also cached by kpi_charts itself, which
    # clear_report_chart_cache() leaves alone: without this they would not be redrawn.
    clear_kpi_chart_cache()


def pages(pdf: bytes) -> int:
    """The number of pages of a PDF."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def measure(app: Flask, report: Candidate, runs: int) -> tuple[list[Timing], bytes]:
    """The four timings of ``report``, and its PDF as the web request served it."""
    static = Path(str(app.static_folder))
    content = report.content
    with app.app_context():
        html = report_html(app.jinja_env, content)
        charts = report_chart_svgs(content["report"])

        def whole() -> bytes:
            return report_pdf(app.jinja_env, static, content)

        steps = [
            timed(
                "(a) WeasyPrint alone: `pdf_from_html` (HTML and charts made before)",
                runs, lambda: pdf_from_html(html, static, charts), lambda: None,
            ),
            timed(
                "(b) `report_pdf`, charts cached (in the process)", runs, whole, lambda: None
            ),
            timed(
                "(c) `report_pdf`, charts drawn (every cache cleared before each run)",
                runs, whole, forget_charts,
            ),
        ]  # fmt: skip
    vendor = demo_email("staff", str(content["report"]["contract"]["vendor"]))
    client = signed_in(app, vendor)
    url = f"/contracts/{report.contract_id}/reports/{report.year}/report.pdf"
    request, body = requests(app, client, url, runs)
    return [*steps, request], body


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def _busy(load: tuple[float, float]) -> str:
    # Wall times on a machine shared with other work say little: say so beside them.
    if max(load) < BUSY_LOAD:
        return ""
    return " (a busy machine: the wall times are higher than on an idle one)"


def section(
    report: Candidate, timings: list[Timing], runs: int, page_count: int, size: int,
    load: tuple[float, float], vendor: str,
) -> str:  # fmt: skip
    """The Markdown section: conditions, the report, the four timings, the ratios."""
    alone, cached, drawn, request = timings
    cached_ratio, drawn_ratio = cached.median / alone.median, drawn.median / alone.median
    subsetting = "installed" if font_subsetting_available() else "missing (slower fonts)"
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_report.py` ({time.strftime('%Y-%m-%d')}): WeasyPrint "
        f"{weasyprint.__version__}, matplotlib {matplotlib.__version__}, HarfBuzz subsetting "
        f"{subsetting}; SQLite (file, new in a temporary folder, migrated and seeded with "
        f"the demo as of {TODAY:%d %B %Y}); Python {platform.python_version()} on "
        f"{cpu_model()} ({platform.machine()}, {cores()} cores); one process. Load average "
        f"{load[0]:.2f} before, {load[1]:.2f} after{_busy(load)}.",
        "",
        f"Report measured: {report.label} ({report.state}), the demo report with the most "
        f"content: {page_count} pages ({size / 1024:.0f} KiB), {report.charts} charts, "
        f"{report.kpis} KPIs, {report.initiatives} initiatives, "
        f"{report.html_chars:,} characters of print HTML.",
        "",
        "| step | median | fastest | CPU median |",
        "|---|---:|---:|---:|",
        *(
            f"| {t.label} | {t.median * 1000:.0f} ms | {t.best * 1000:.0f} ms "
            f"| {t.cpu_median * 1000:.0f} ms |"
            for t in timings
        ),
        "",
        "| target (medians) | measured | target | result |",
        "|---|---:|---:|---|",
        f"| (b) / (a): the PDF with its charts cached, against WeasyPrint alone "
        f"| {cached_ratio:.2f} | ≤ {CACHED_TARGET:g} | {_verdict(cached_ratio, CACHED_TARGET)} |",
        f"| (c) / (a): the PDF drawing its charts, against WeasyPrint alone "
        f"| {drawn_ratio:.2f} | ≤ {DRAWN_TARGET:g} | {_verdict(drawn_ratio, DRAWN_TARGET)} |",
        f"| (d): the web request, warm | {request.median:.2f} s | ≤ {REQUEST_TARGET_S:g} s "
        f"| {_verdict(request.median, REQUEST_TARGET_S)} |",
        "",
        f"Each step ran {runs} times after one warm-up run (garbage collected before each); "
        f"the ratios are of the median wall times, and CPU is the measuring thread's own: "
        f"(a) to (c) are direct calls inside an application context, (c) with "
        f"the in-process chart caches cleared and no disk cache, and (d) is the server time "
        f"inside the WSGI application (Flask test client, body included) of the report's "
        f"PDF requested by {vendor}, signed in through `/login`, so it includes the login "
        f"session, reading the contract's delivery data, the template and WeasyPrint, with "
        f"the charts already cached by the warm-up request.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Seed a database, pick the report, time it, print the figures, optionally write them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per step")
    parser.add_argument("--write", type=Path, help="Markdown file whose report section to replace")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    set_chart_cache_dir(None)  # the process cache only, as the application runs
    with tempfile.TemporaryDirectory(prefix="tracker-bench-report-") as folder:
        started = time.perf_counter()
        app = seeded_app(Path(folder))
        print(f"seeded the demo in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            found = candidates(app)
            for item in found:
                print(
                    f"  {item.label} ({item.state}): {item.charts} charts, {item.kpis} KPIs, "
                    f"{item.initiatives} initiatives, {item.html_chars:,} chars of HTML",
                    file=sys.stderr,
                )
            report = richest(found)
            load_before = os.getloadavg()[0]
            timings, pdf = measure(app, report, args.runs)
            load = (load_before, os.getloadavg()[0])
            page_count = pages(pdf)
            print(f"measured {report.label}: {page_count} pages", file=sys.stderr)
        finally:
            engine_of(app).dispose()
    vendor = demo_email("staff", str(report.content["report"]["contract"]["vendor"]))
    text = section(report, timings, args.runs, page_count, len(pdf), load, vendor)
    print(text)
    if args.write:
        replace_section(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
