"""Frozen reports on disk, and their verification.

A frozen report is kept twice: in the database (snapshot, PDF and their SHA-256) and
under the reports folder as ``<CODE>/<CODE>-year-<Y>.json`` and ``.pdf``, each written
to a temporary file and renamed, so that no half-written file is ever left behind.
Verification recomputes every hash and compares the database, the files, the
signatures and the freeze recorded in the append-only audit trail: a report whose
bytes or hashes were changed anywhere is named with what differs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.db.models import Contract
from tracker.db.report_models import AnnualReport, ReportSignature
from tracker.services.errors import NotFound
from tracker.services.report_document import sha256_hex
from tracker.services.report_views import signatures_of, signing_fingerprint


class StorageFailed(OSError):
    """A report file could not be written (a full disk, a read-only folder)."""


@dataclass(frozen=True)
class StoredReport:
    """The two files of a frozen report."""

    snapshot: Path
    pdf: Path


@dataclass(frozen=True)
class ReportCheck:
    """The verification of one frozen report: what differs (nothing when intact)."""

    code: str
    year: int
    snapshot_sha256: str | None
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """Whether every hash, file and signature matched."""
        return not self.problems


def report_paths(reports_dir: Path, code: str, year: int) -> StoredReport:
    """Where the files of a report go: one folder per contract code."""
    folder = reports_dir / code
    stem = f"{code}-year-{year}"
    return StoredReport(folder / f"{stem}.json", folder / f"{stem}.pdf")


def store_report(
    reports_dir: Path, code: str, year: int, snapshot: str, pdf: bytes
) -> StoredReport:
    """Write both files of a report atomically; StorageFailed (and neither file) on error."""
    paths = report_paths(reports_dir, code, year)
    written: list[Path] = []
    try:
        paths.pdf.parent.mkdir(parents=True, exist_ok=True)
        for path, data in ((paths.snapshot, snapshot.encode("utf-8")), (paths.pdf, pdf)):
            write_atomically(path, data)
            written.append(path)
    except OSError as error:
        for path in written:
            path.unlink(missing_ok=True)
        raise StorageFailed(
            f"the report files could not be written under {reports_dir} "
            f"({error.strerror or error}); nothing was signed"
        ) from error
    return paths


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)  # readable like any other generated file
        with os.fdopen(handle, "wb") as output:
            output.write(data)
            output.flush()
            os.fsync(output.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def discard(stored: StoredReport) -> None:
    """Remove the files of a freeze that did not commit."""
    for path in (stored.snapshot, stored.pdf):
        path.unlink(missing_ok=True)


def verify_reports(
    session: Session,
    reports_dir: Path,
    *,
    code: str | None = None,
    year: int | None = None,
) -> list[ReportCheck]:
    """Check every frozen report (of one contract and/or year when given); NotFound for a
    contract code that does not exist."""
    with session.begin():
        if (
            code is not None
            and session.scalar(select(Contract.id).where(Contract.code == code)) is None
        ):
            raise NotFound(f"no contract {code}")
        query = (
            select(AnnualReport, Contract.code)
            .join(Contract, Contract.id == AnnualReport.contract_id)
            .where(AnnualReport.frozen_at.is_not(None))
            .order_by(Contract.code, AnnualReport.year)
        )
        if code is not None:
            query = query.where(Contract.code == code)
        if year is not None:
            query = query.where(AnnualReport.year == year)
        rows = session.execute(query).all()
        ids = [row.id for row, _code in rows]
        signatures: dict[int, list[ReportSignature]] = {}
        for signature in session.scalars(
            select(ReportSignature).where(ReportSignature.report_id.in_(ids))
        ):
            signatures.setdefault(signature.report_id, []).append(signature)
        freezes: dict[int, list[AuditEvent]] = {}
        for event in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "freeze_report", AuditEvent.entity_id.in_(ids))
            .order_by(AuditEvent.id)
        ):
            if event.entity_id is not None:
                freezes.setdefault(event.entity_id, []).append(event)
        return [
            ReportCheck(
                contract_code,
                row.year,
                row.snapshot_sha256,
                tuple(
                    _problems(
                        row,
                        report_paths(reports_dir, contract_code, row.year),
                        signatures.get(row.id, []),
                        freezes.get(row.id, []),
                    )
                ),
            )
            for row, contract_code in rows
        ]


def _problems(
    row: AnnualReport,
    paths: StoredReport,
    signatures: list[ReportSignature],
    freezes: list[AuditEvent],
) -> Iterator[str]:
    snapshot = row.snapshot or ""
    pdf = row.pdf or b""
    if sha256_hex(snapshot) != row.snapshot_sha256:
        yield "the stored snapshot does not match its SHA-256"
    if sha256_hex(pdf) != row.pdf_sha256:
        yield "the stored PDF does not match its SHA-256"
    for label, path, expected in (
        ("snapshot", paths.snapshot, row.snapshot_sha256),
        ("PDF", paths.pdf, row.pdf_sha256),
    ):
        if not path.is_file():
            yield f"the {label} file {path} is missing"
        elif sha256_hex(path.read_bytes()) != expected:
            yield f"the {label} file {path} differs from the one that was signed"
    recorded = [json.loads(event.after or "{}") for event in freezes]
    if not recorded:
        yield "the audit trail has no record of the freeze"
    elif any(
        item.get("snapshot_sha256") != row.snapshot_sha256
        or item.get("pdf_sha256") != row.pdf_sha256
        for item in recorded[-1:]
    ):
        yield "the hashes differ from those recorded in the audit trail when it was frozen"
    yield from _signature_problems(snapshot, signatures)


def _signature_problems(snapshot: str, signatures: list[ReportSignature]) -> Iterator[str]:
    try:
        document = json.loads(snapshot)
        fingerprint = signing_fingerprint(document["report"], document["commentary"])
        kept = document["signatures"]
    except (ValueError, KeyError, TypeError):
        yield "the snapshot is not a report snapshot"
        return
    for side, signature in sorted(kept.items()):
        if signature is None:
            yield f"the snapshot has no {side} signature"
        elif signature.get("fingerprint") != fingerprint:
            yield f"the {side} signature does not match the report's figures and commentary"
    if signatures_of(signatures) != kept:
        yield "the signatures stored differ from those in the snapshot"
