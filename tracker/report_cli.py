"""``tracker report``: build the annual reports of a year in bulk, verify the frozen ones.

``build`` writes each report's PDF and JSON to a folder of its own (never over the
frozen originals): a frozen report's stored bytes as they are, any other rendered
now as a watermarked draft or preview. Rendering is CPU-bound, so reports are built
in worker processes, each with an application of its own and the charts' disk cache
shared between them and later runs.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.app import create_app
from tracker.cli_support import fail, require_migrated
from tracker.db.session import database_url, new_session
from tracker.services.errors import Conflict, NotFound
from tracker.services.report_batch import batch_output, batch_targets
from tracker.services.report_files import report_paths, verify_reports, write_atomically

#: The folder under REPORTS_DIR that built reports go to unless --out says otherwise.
BUILD_FOLDER = "build"
#: The charts' disk cache under REPORTS_DIR, shared by the workers and later runs.
CHART_CACHE = ".chart-cache"
#: How the summary counts each state: a report signed by one side is still a draft.
_KINDS = {"frozen": "final", "signed": "drafts", "draft": "drafts", "preview": "previews"}

#: The application of a worker process, built once by _start_worker.
_worker_app: Flask | None = None


@dataclass(frozen=True)
class Outcome:
    """What building one report gave: its state, or why it failed."""

    code: str
    state: str | None
    error: str | None = None


@click.group("report")
def report_group() -> None:
    """Annual reports: build their files in bulk, verify the frozen ones."""


@report_group.command("build")
@click.option("--year", type=int, required=True, help="The contract year to report on.")
@click.option("--contract", "code", metavar="CODE", help="Only this contract.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write to  [default: REPORTS_DIR/build]",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes  [default: the number of CPUs]; 1 builds in this process.",
)
@with_appcontext
def build_command(year: int, code: str | None, out: Path | None, jobs: int | None) -> None:
    """Write <OUT>/<CODE>/<CODE>-year-<YEAR>.pdf and .json for every report of YEAR."""
    require_migrated()
    reports_dir = Path(current_app.config["REPORTS_DIR"])
    out_dir = out if out is not None else reports_dir / BUILD_FOLDER
    if out_dir.resolve() == reports_dir.resolve():
        fail([f"--out: {out_dir} holds the frozen originals; choose another folder"])
    session = new_session(current_app)
    try:
        targets = batch_targets(session, year, code=code, today=datetime.now(UTC).date())
    except (NotFound, Conflict, ValueError) as exc:
        fail(str(exc).splitlines())
    finally:
        session.close()
    workers = min(jobs or os.cpu_count() or 1, len(targets))
    outcomes: list[Outcome] = []
    with click.progressbar(length=len(targets), label="Building reports", file=sys.stderr) as bar:

        def done(outcome: Outcome) -> None:
            outcomes.append(outcome)
            bar.update(1)

        if workers <= 1:
            _build_here(current_app, targets, year, out_dir, done)
        else:
            _build_in_pool(current_app, targets, year, out_dir, workers, done)
    counts = dict.fromkeys(("final", "drafts", "previews"), 0)
    for outcome in outcomes:
        if outcome.state is not None:
            counts[_KINDS[outcome.state]] += 1
    written = sum(counts.values())
    click.echo(
        f"Wrote {written} reports ({counts['final']} final, {counts['drafts']} drafts, "
        f"{counts['previews']} previews) to {out_dir}"
    )
    failures = sorted((o for o in outcomes if o.error is not None), key=lambda o: o.code)
    for failure in failures:
        click.echo(f"failed: {failure.code} year {year}: {failure.error}", err=True)
    if failures:
        sys.exit(1)


@report_group.command("verify")
@click.option("--contract", "code", metavar="CODE", help="Only this contract's reports.")
@click.option("--year", type=int, help="Only this contract year's reports.")
@with_appcontext
def verify_command(code: str | None, year: int | None) -> None:
    """Check every frozen report's hashes, files, signatures and audit record."""
    require_migrated()
    session = new_session(current_app)
    try:
        checks = verify_reports(
            session, Path(current_app.config["REPORTS_DIR"]), code=code, year=year
        )
    except NotFound as exc:
        fail([str(exc)])
    finally:
        session.close()
    if not checks:
        click.echo("No frozen reports to check.")
        return
    for check in checks:
        if check.intact:
            digest = (check.snapshot_sha256 or "")[:16]
            click.echo(f"ok        {check.code} year {check.year}  {digest}")
        else:
            click.echo(f"TAMPERED  {check.code} year {check.year}: {'; '.join(check.problems)}")
    tampered = sum(not check.intact for check in checks)
    click.echo(f"{len(checks)} reports checked, {tampered} tampered")
    if tampered:
        sys.exit(1)


def _build_here(
    app: Flask,
    targets: list[tuple[int, str]],
    year: int,
    out_dir: Path,
    done: Callable[[Outcome], None],
) -> None:
    """Build one report after the other in this process."""
    _use_chart_cache(_chart_cache(app))
    try:
        for contract_id, code in targets:
            done(_build_safely(app, contract_id, code, year, out_dir))
    finally:
        _use_chart_cache(None)


def _build_in_pool(
    app: Flask,
    targets: list[tuple[int, str]],
    year: int,
    out_dir: Path,
    workers: int,
    done: Callable[[Outcome], None],
) -> None:
    """Build the reports in ``workers`` processes, reporting each as it finishes."""
    # spawn, not fork: a forked child would share this process's database connections.
    context = multiprocessing.get_context("spawn")
    settings = (
        database_url(app),
        str(Path(app.config["REPORTS_DIR"]).resolve()),
        str(app.config["SECRET_KEY"]),
    )
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=settings
    ) as pool:
        futures: dict[Future[Outcome], str] = {
            pool.submit(_build_in_worker, contract_id, code, year, str(out_dir.resolve())): code
            for contract_id, code in targets
        }
        try:
            for future in as_completed(futures):
                try:
                    done(future.result())
                except Exception as exc:  # a worker that died (BrokenProcessPool) fails its report
                    done(Outcome(futures[future], None, _reason(exc)))
        finally:
            pool.shutdown(cancel_futures=True)


def _start_worker(database: str, reports_dir: str, secret_key: str) -> None:
    """Build the worker's application once and share the charts' disk cache."""
    global _worker_app  # noqa: PLW0603 - one application per worker process
    # The secret key is passed so that a worker never makes or reads the instance's.
    _worker_app = create_app(
        {"DATABASE_URL": database, "REPORTS_DIR": reports_dir, "SECRET_KEY": secret_key}
    )
    _use_chart_cache(_chart_cache(_worker_app))


def _build_in_worker(contract_id: int, code: str, year: int, out_dir: str) -> Outcome:
    """Build one report in a worker process."""
    if _worker_app is None:
        return Outcome(code, None, "the worker process has no application")
    return _build_safely(_worker_app, contract_id, code, year, Path(out_dir))


def _build_safely(app: Flask, contract_id: int, code: str, year: int, out_dir: Path) -> Outcome:
    """Build one report; a failure is reported, and the other reports are still built."""
    try:
        return Outcome(code, _build(app, contract_id, code, year, out_dir))
    except Exception as exc:  # reported per report at the end
        return Outcome(code, None, _reason(exc))


def _build(app: Flask, contract_id: int, code: str, year: int, out_dir: Path) -> str:
    """Write the report's PDF and JSON under ``out_dir``; the report's state."""
    session = new_session(app)
    try:
        output = batch_output(session, contract_id, year)
    finally:
        session.close()
    if output.stored_pdf is not None:
        pdf = output.stored_pdf
    else:
        # Imported here: WeasyPrint and matplotlib would slow every `tracker` command.
        from tracker.reporting.report_pdf import report_pdf  # noqa: PLC0415

        with app.app_context():
            pdf = report_pdf(app.jinja_env, Path(str(app.static_folder)), output.content)
    paths = report_paths(out_dir, code, year)
    paths.pdf.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(paths.snapshot, output.snapshot.encode("utf-8"))
    write_atomically(paths.pdf, pdf)
    return output.state


def _use_chart_cache(path: Path | None) -> None:
    """Keep drawn charts under ``path`` (None: in the process only)."""
    # Imported here: matplotlib would slow every `tracker` command.
    from tracker.reporting.report_charts import set_chart_cache_dir  # noqa: PLC0415

    set_chart_cache_dir(path)


def _chart_cache(app: Flask) -> Path:
    return Path(app.config["REPORTS_DIR"]) / CHART_CACHE


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
