"""`tracker report build` and `tracker report verify` on the test database: frozen,
drafted and previewed reports, their files, and tampering with any copy of a frozen one."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from delivery_factory import contract_in_delivery
from flask import Flask
from report_factory import draft, frozen_contract, reportable_contract
from sqlalchemy import text
from sqlalchemy.orm import Session

from tracker import report_cli
from tracker.cli import cli
from tracker.services.report_document import sha256_hex
from tracker.services.report_files import report_paths

Run = Callable[..., Result]


@pytest.fixture
def run(app: Flask) -> Run:
    """``run("build", "--year", "1")``: `tracker report ...` against the test application."""
    runner = app.test_cli_runner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["report", *args], catch_exceptions=False)

    return invoke


def reports_dir(app: Flask) -> Path:
    return Path(app.config["REPORTS_DIR"])


def stored_row(session: Session, code: str = "REP-1") -> dict[str, Any]:
    """The frozen report's columns of contract ``code``, year 1."""
    with session.begin():
        row = session.execute(
            text(
                "SELECT r.pdf, r.snapshot, r.snapshot_sha256 FROM annual_reports r "
                "JOIN contracts c ON c.id = r.contract_id WHERE c.code = :code AND r.year = 1"
            ),
            {"code": code},
        ).one()
    return {"pdf": bytes(row.pdf), "snapshot": row.snapshot, "sha256": row.snapshot_sha256}


def update_report(session: Session, **columns: str | bytes) -> None:
    """Overwrite columns of the year-1 report behind the application's back."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with session.begin():
        session.execute(text(f"UPDATE annual_reports SET {assignments} WHERE year = 1"), columns)


# --- verify -------------------------------------------------------------------------------


def test_verify_says_ok_and_exits_0_for_an_intact_frozen_report(
    app: Flask, session: Session, run: Run
) -> None:
    frozen_contract(app, session)
    digest = stored_row(session)["sha256"]

    result = run("verify")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok        REP-1 year 1  {digest[:16]}",
        "1 reports checked, 0 tampered",
    ]


def flip_one_pdf_byte(app: Flask, _session: Session) -> None:
    path = report_paths(reports_dir(app), "REP-1", 1).pdf
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def change_the_stored_snapshot(_app: Flask, session: Session) -> None:
    update_report(session, snapshot=stored_row(session)["snapshot"].replace("REP-1", "REP-X", 1))


def delete_the_snapshot_file(app: Flask, _session: Session) -> None:
    report_paths(reports_dir(app), "REP-1", 1).snapshot.unlink()


def change_the_snapshot_and_its_hash(_app: Flask, session: Session) -> None:
    # Consistent in the row: only the hashes recorded in the audit trail give it away.
    snapshot = stored_row(session)["snapshot"] + " "
    update_report(session, snapshot=snapshot, snapshot_sha256=sha256_hex(snapshot))


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (flip_one_pdf_byte, "the PDF file"),
        (change_the_stored_snapshot, "the stored snapshot does not match its SHA-256"),
        (delete_the_snapshot_file, "the snapshot file"),
        (change_the_snapshot_and_its_hash, "recorded in the audit trail"),
    ],
    ids=["pdf-file-byte", "stored-snapshot", "snapshot-file-deleted", "snapshot-and-hash"],
)
def test_verify_names_the_contract_year_and_problem_of_a_tampered_report_and_exits_1(
    app: Flask,
    session: Session,
    run: Run,
    tamper: Callable[[Flask, Session], None],
    named: str,
) -> None:
    frozen_contract(app, session)
    tamper(app, session)

    result = run("verify", "--contract", "REP-1")

    assert result.exit_code == 1, result.output
    first, summary = result.stdout.splitlines()
    assert first.startswith("TAMPERED  REP-1 year 1: ")
    assert named in first
    assert summary == "1 reports checked, 1 tampered"


def test_verify_with_no_frozen_report_says_so_and_exits_0(session: Session, run: Run) -> None:
    draft(session, reportable_contract(session))

    result = run("verify")

    assert result.exit_code == 0, result.output
    assert result.stdout == "No frozen reports to check.\n"


def test_verify_of_an_unknown_contract_is_bad_input_not_a_clean_check(run: Run) -> None:
    result = run("verify", "--contract", "NO-SUCH")

    assert result.exit_code == 2
    assert "no contract NO-SUCH" in result.stderr


# --- build --------------------------------------------------------------------------------


def test_build_copies_a_frozen_reports_stored_pdf_and_snapshot_and_leaves_the_originals(
    app: Flask, session: Session, run: Run
) -> None:
    frozen_contract(app, session)
    # As if rendered by an older template: the stored bytes are copied, never redrawn.
    update_report(session, pdf=stored_row(session)["pdf"] + b"% rendered by an older template\n")
    stored = stored_row(session)
    originals = report_paths(reports_dir(app), "REP-1", 1)
    before = (originals.pdf.stat().st_mtime_ns, originals.snapshot.stat().st_mtime_ns)

    result = run("build", "--year", "1", "--jobs", "1")

    assert result.exit_code == 0, result.output
    out = reports_dir(app) / "build"
    built = report_paths(out, "REP-1", 1)
    assert built.pdf.read_bytes() == stored["pdf"]
    assert built.snapshot.read_bytes() == stored["snapshot"].encode("utf-8")
    assert (originals.pdf.stat().st_mtime_ns, originals.snapshot.stat().st_mtime_ns) == before
    assert result.stdout == f"Wrote 1 reports (1 final, 0 drafts, 0 previews) to {out}\n"
    assert "Building reports" in result.stderr


def test_a_drafted_report_builds_as_a_draft_pdf_and_its_content_json(
    app: Flask, session: Session, run: Run, tmp_path: Path
) -> None:
    draft(session, reportable_contract(session))
    out = tmp_path / "out"

    result = run("build", "--year", "1", "--contract", "REP-1", "--out", str(out), "--jobs", "1")

    assert result.exit_code == 0, result.output
    built = report_paths(out, "REP-1", 1)
    assert built.pdf.read_bytes().startswith(b"%PDF")
    content = json.loads(built.snapshot.read_text(encoding="utf-8"))
    assert content["state"] == "draft"
    assert content["report"]["contract"]["code"] == "REP-1"
    assert result.stdout == f"Wrote 1 reports (0 final, 1 drafts, 0 previews) to {out}\n"
    # Nothing is written where the frozen originals live.
    assert not (reports_dir(app) / "REP-1").exists()


def test_build_with_two_jobs_builds_each_contract_in_spawned_worker_processes(
    app: Flask, session: Session, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two contracts only: each worker process starts an interpreter and the application.
    draft(session, reportable_contract(session, code="REP-1"))
    contract_in_delivery(session, code="REP-2")
    pools: list[dict[str, Any]] = []

    class RecordingPool(ProcessPoolExecutor):
        def __init__(self, **kwargs: Any) -> None:
            pools.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(report_cli, "ProcessPoolExecutor", RecordingPool)

    result = run("build", "--year", "1", "--jobs", "2")

    assert result.exit_code == 0, result.output
    out = reports_dir(app) / "build"
    assert result.stdout == f"Wrote 2 reports (0 final, 1 drafts, 1 previews) to {out}\n"
    states = {}
    for code in ("REP-1", "REP-2"):
        built = report_paths(out, code, 1)
        assert built.pdf.read_bytes().startswith(b"%PDF")
        states[code] = json.loads(built.snapshot.read_text(encoding="utf-8"))["state"]
    assert states == {"REP-1": "draft", "REP-2": "preview"}
    [pool] = pools
    assert pool["max_workers"] == 2
    assert isinstance(pool["mp_context"], type(multiprocessing.get_context("spawn")))
    # The workers drew the charts into the shared disk cache.
    assert list((reports_dir(app) / ".chart-cache").glob("*.svg"))


def test_build_of_an_unknown_contract_exits_2_with_the_message_and_writes_nothing(
    app: Flask, run: Run
) -> None:
    result = run("build", "--year", "1", "--contract", "NOPE")

    assert result.exit_code == 2
    assert result.stderr == "no contract NOPE\n"
    assert result.stdout == ""
    assert not reports_dir(app).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "9", "--contract", "REP-1"), "year: REP-1 has contract years 1 to 5, not 9"),
        (("--year", "9"), "year: expected a contract year from 1 to 5"),
        (("--year", "0"), "year: expected a contract year from 1 to 5"),
        (("--year", "1", "--jobs", "0"), "Invalid value for '--jobs'"),
        (("--year", "1", "--contract", "DRAFT-1"), "DRAFT-1 is draft, not in delivery"),
    ],
    ids=["year-beyond-the-term", "year-beyond-every-term", "year-0", "jobs-0", "not-in-delivery"],
)
def test_bad_input_to_build_exits_2_with_the_message_and_writes_nothing(
    app: Flask, session: Session, run: Run, args: tuple[str, ...], message: str
) -> None:
    contract_in_delivery(session, code="REP-1", accounts_too=False)
    contract_in_delivery(session, code="DRAFT-1", status="draft", accounts_too=False)

    result = run("build", *args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not reports_dir(app).exists()


def test_build_refuses_to_write_over_the_frozen_originals(
    app: Flask, session: Session, run: Run
) -> None:
    contract_in_delivery(session, code="REP-1", accounts_too=False)

    result = run("build", "--year", "1", "--out", str(reports_dir(app)))

    assert result.exit_code == 2, result.output
    assert "holds the frozen originals" in result.stderr
    assert not reports_dir(app).exists()


def test_a_report_that_cannot_be_written_is_named_and_the_build_exits_1(
    app: Flask, session: Session, run: Run, tmp_path: Path
) -> None:
    contract_in_delivery(session, code="REP-1", accounts_too=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "REP-1").write_text("a file where the contract's folder goes")

    result = run("build", "--year", "1", "--out", str(out), "--jobs", "1")

    assert result.exit_code == 1, result.output
    assert result.stdout == f"Wrote 0 reports (0 final, 0 drafts, 0 previews) to {out}\n"
    assert "failed: REP-1 year 1: " in result.stderr
