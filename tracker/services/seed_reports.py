"""Demo annual reports: prepared, commented on and signed through the report services, as
the demo accounts of each side, after a demo contract's delivery years are loaded.

Each entry of a contract's ``reports`` in seed_data/delivery.json names a year, each
side's commentary and the sides that sign, in order. A report whose year has not ended
(or is not closed, for signatures) on the day the seed runs is left as far as the
rules allow. Signing the second side freezes the report, which needs the PDF
renderer: without one (a seed run outside the application) the report stops at the
first signature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tracker.services.access import Actor
from tracker.services.annual_reports import (
    PdfRenderer,
    draft_report,
    save_commentary,
    sign_report,
)
from tracker.services.errors import Conflict
from tracker.services.report_views import report_view


@dataclass(frozen=True)
class ReportSigning:
    """What freezing a report needs: the PDF renderer and the folder of report files."""

    render_pdf: PdfRenderer
    reports_dir: Path


def seed_reports(
    session: Session,
    person: Callable[[str], Actor],
    contract_id: int,
    reports: Sequence[Mapping[str, Any]],
    today: date,
    signing: ReportSigning | None,
) -> None:
    """Prepare, comment on and sign the demo reports of one contract."""
    for entry in reports:
        year = int(entry["year"])
        try:
            _seed_report(session, person, contract_id, year, entry, today, signing)
        except Conflict:
            # Not possible on this day (the year has not ended or is not closed): left so.
            continue


def _seed_report(
    session: Session,
    person: Callable[[str], Actor],
    contract_id: int,
    year: int,
    entry: Mapping[str, Any],
    today: date,
    signing: ReportSigning | None,
) -> None:
    def current() -> Any:
        return report_view(session, person("vendor"), contract_id, year, today=today)

    draft_report(
        session, person("vendor"), contract_id, year,
        expected_version=current().version, today=today,
    )  # fmt: skip
    for side in ("vendor", "buyer"):
        text = entry.get(f"{side}_commentary")
        if text:
            save_commentary(
                session, person(side), contract_id, year, side, text,
                expected_version=current().version,
            )  # fmt: skip
    sides = list(entry.get("sign", ()))
    for number, side in enumerate(sides, start=1):
        if number == 2 and signing is None:
            return
        sign_report(
            session, person(side), contract_id, year, side, current().content["fingerprint"],
            render_pdf=signing.render_pdf if signing else _no_pdf,
            reports_dir=signing.reports_dir if signing else Path(),
            today=today,
        )  # fmt: skip


def _no_pdf(_content: dict[str, Any]) -> bytes:
    raise RuntimeError("a demo report cannot be frozen without the PDF renderer")
