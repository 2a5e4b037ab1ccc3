"""Preparing, commenting on and signing the joint annual report; the second signature
freezes it.

The vendor prepares the report of an ended year for signature (the draft keeps every
figure); each side's staff add their commentary while nobody has signed; each side
signs what it saw (the fingerprint of the figures and both commentaries), once the
year is closed and while the live figures still equal the draft. The second
signature freezes the report: a canonical JSON snapshot of every figure, text and
signature and the PDF rendered from it are stored with their SHA-256, in the
database and under the reports folder, in the same transaction. A frozen report
never changes, and its year cannot be reopened: later corrections are adjustments
that the next year's report shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.db.report_models import SIDES, AnnualReport, ReportSignature
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.delivery import build_view
from tracker.services.delivery_rules import (
    locked_contract,
    long_text,
    now_utc,
    require_delivery,
    require_version,
    require_year,
    validated,
)
from tracker.services.delivery_views import canonical
from tracker.services.errors import Conflict, Forbidden
from tracker.services.report_document import differences, sha256_hex
from tracker.services.report_files import StoredReport, discard, store_report
from tracker.services.report_relationship import full_report_document
from tracker.services.report_views import (
    commentary_of,
    signatures_of,
    signing_fingerprint,
    stamp,
)

#: Renders the content of a report (tracker.services.report_views) as PDF bytes.
PdfRenderer = Callable[[dict[str, Any]], bytes]


def draft_report(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    *,
    expected_version: int,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Prepare (or prepare again) the report for signature with the live figures; preparing
    again withdraws the signatures given to the earlier draft."""
    moment = now_utc(now)
    with session.begin():
        contract, row, signatures = _locked_report(session, actor, contract_id, year)
        if not actor.system and "vendor" not in actor.staff_sides(
            contract.buyer_id, contract.vendor_id
        ):
            raise Forbidden("only staff of the vendor may prepare the annual report")
        _require_not_frozen(row)
        require_version("the report", row, expected_version)
        view = build_view(session, actor, contract, today or moment.date())
        if not view.year(year).ended:
            raise Conflict(
                f"year {year} ends on {view.year(year).plan.end}: "
                "its report is prepared once it has ended"
            )
        draft = canonical(full_report_document(session, view, year))
        if row is None:
            row = AnnualReport(contract_id=contract.id, year=year)
            session.add(row)
        elif row.draft == draft and not signatures:
            raise Conflict("the draft already has the current figures")
        row.draft, row.drafted_at, row.drafted_by = draft, moment, actor.label
        row.updated_at, row.updated_by = moment, actor.label
        for signature in signatures:
            session.delete(signature)
            record(session, actor, "withdraw_signature", "annual_report", row.id,
                   contract_id=contract.id,
                   before={"year": year, "side": signature.side, "by": signature.signed_by},
                   after={"reason": "the report was prepared again"}, request=request)  # fmt: skip
        session.flush()
        record(session, actor, "draft_report", "annual_report", row.id, contract_id=contract.id,
               after={"year": year, "figures": sha256_hex(draft)}, request=request)  # fmt: skip


def save_commentary(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    side: str,
    text: object,
    *,
    expected_version: int,
    now: datetime | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Set one side's commentary (empty clears it) while nobody has signed."""
    moment = now_utc(now)
    with session.begin():
        contract, row, signatures = _locked_report(session, actor, contract_id, year)
        _require_side(actor, contract, side, "write its commentary")
        if row is None:
            raise Conflict("the vendor has not prepared the report for signature yet")
        _require_not_frozen(row)
        require_version("the report", row, expected_version)
        if signatures:
            first = signatures[0]
            raise Conflict(
                f"the {first.side} signed the report on {first.signed_at:%Y-%m-%d}: the "
                "commentary is final unless that signature is withdrawn"
            )
        value = validated(lambda reader: _commentary(reader, text))
        before = getattr(row, f"{side}_commentary")
        if value == before:
            return
        setattr(row, f"{side}_commentary", value)
        setattr(row, f"{side}_commentary_at", moment if value else None)
        setattr(row, f"{side}_commentary_by", actor.label if value else None)
        row.updated_at, row.updated_by = moment, actor.label
        record(session, actor, "comment_report", "annual_report", row.id,
               contract_id=contract.id, before={"year": year, "side": side, "text": before},
               after={"year": year, "side": side, "text": value}, request=request)  # fmt: skip


def sign_report(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    side: str,
    fingerprint: object,
    *,
    render_pdf: PdfRenderer,
    reports_dir: Path,
    now: datetime | None = None,
    today: date | None = None,
    request: RequestInfo | None = None,
) -> bool:
    """Sign for ``side`` the report whose fingerprint the signer saw; True when this second
    signature froze it."""
    moment = now_utc(now)
    stored: StoredReport | None = None
    try:
        with session.begin():
            contract, row, signatures = _locked_report(session, actor, contract_id, year)
            _require_side(actor, contract, side, "sign its report")
            if row is None:
                raise Conflict("the vendor has not prepared the report for signature yet")
            _require_not_frozen(row)
            done = next((item for item in signatures if item.side == side), None)
            if done is not None:
                raise Conflict(
                    f"the {side} already signed this report on "
                    f"{done.signed_at:%Y-%m-%d %H:%M} UTC ({done.signed_by})"
                )
            view = build_view(session, actor, contract, today or moment.date())
            entry = view.year(year)
            if entry.closed_at is None:
                raise Conflict(
                    f"year {year} is not closed: finance closes it once its figures tie out, "
                    "then the report can be signed"
                )
            draft = json.loads(row.draft)
            changed = differences(draft, full_report_document(session, view, year))
            if changed:
                raise Conflict(
                    f"the figures changed since the report was prepared on "
                    f"{row.drafted_at:%Y-%m-%d}, so it cannot be signed; the vendor prepares "
                    "it again. Changed: " + "; ".join(changed)
                )
            commentary = commentary_of(row)
            current = signing_fingerprint(draft, commentary)
            if fingerprint != current:
                raise Conflict(
                    "the report changed since you opened it (its fingerprint is now "
                    f"{current[:16]}); reload it, read it again and sign"
                )
            for other in signatures:
                if other.fingerprint != current:
                    raise Conflict(
                        f"the {other.side} signed a different version of the report; "
                        "they withdraw their signature and sign again"
                    )
            signature = ReportSignature(
                report_id=row.id, side=side, user_id=actor.user_id, signed_by=actor.label,
                signed_at=moment, fingerprint=current,
            )  # fmt: skip
            session.add(signature)
            row.updated_at, row.updated_by = moment, actor.label
            record(session, actor, "sign_report", "annual_report", row.id,
                   contract_id=contract.id,
                   after={"year": year, "side": side, "fingerprint": current},
                   request=request)  # fmt: skip
            if len(signatures) + 1 < len(SIDES):
                return False
            snapshot = canonical({
                "format": draft.get("format"),
                "report": draft,
                "commentary": commentary,
                "signatures": signatures_of([*signatures, signature]),
                "drafted": {"at": stamp(row.drafted_at), "by": row.drafted_by},
                "year_closed": {"at": stamp(entry.closed_at), "by": entry.closed_by},
                "frozen_at": stamp(moment),
            })  # fmt: skip
            content = {**json.loads(snapshot), "state": "frozen", "fingerprint": current}
            pdf = render_pdf(content)
            row.frozen_at = moment
            row.snapshot, row.snapshot_sha256 = snapshot, sha256_hex(snapshot)
            row.pdf, row.pdf_sha256 = pdf, sha256_hex(pdf)
            # Written before the commit so that a full disk stops the freeze; removed
            # again below when the commit fails.
            stored = store_report(reports_dir, contract.code, year, snapshot, pdf)
            record(session, actor, "freeze_report", "annual_report", row.id,
                   contract_id=contract.id,
                   after={"year": year, "snapshot_sha256": row.snapshot_sha256,
                          "pdf_sha256": row.pdf_sha256},
                   request=request)  # fmt: skip
    except BaseException:
        if stored is not None:
            discard(stored)
        raise
    return True


def withdraw_signature(
    session: Session,
    actor: Actor,
    contract_id: int,
    year: int,
    side: str,
    *,
    request: RequestInfo | None = None,
) -> None:
    """Withdraw ``side``'s signature of a report not yet frozen."""
    with session.begin():
        contract, row, signatures = _locked_report(session, actor, contract_id, year)
        _require_side(actor, contract, side, "withdraw its signature")
        _require_not_frozen(row)
        signature = next((item for item in signatures if item.side == side), None)
        if row is None or signature is None:
            raise Conflict(f"the {side} has not signed this report")
        session.delete(signature)
        row.updated_at, row.updated_by = now_utc(), actor.label
        record(session, actor, "withdraw_signature", "annual_report", row.id,
               contract_id=contract.id,
               before={"year": year, "side": side, "by": signature.signed_by,
                       "fingerprint": signature.fingerprint},
               request=request)  # fmt: skip


def _locked_report(
    session: Session, actor: Actor, contract_id: int, year: int
) -> tuple[Contract, AnnualReport | None, list[ReportSignature]]:
    """The contract (locked: one report change at a time), its report and signatures."""
    contract = locked_contract(session, actor, contract_id)
    require_year(contract, year)
    require_delivery(contract)
    row = session.scalars(
        select(AnnualReport)
        .where(AnnualReport.contract_id == contract.id, AnnualReport.year == year)
        .execution_options(populate_existing=True)
    ).one_or_none()
    signatures = (
        []
        if row is None
        else list(
            session.scalars(
                select(ReportSignature)
                .where(ReportSignature.report_id == row.id)
                .order_by(ReportSignature.signed_at)
                .execution_options(populate_existing=True)
            )
        )
    )
    return contract, row, signatures


def _require_side(actor: Actor, contract: Contract, side: str, what: str) -> None:
    if side not in SIDES:
        raise Forbidden(f"a report is signed by the buyer or the vendor, not {side!r}")
    party = contract.buyer_id if side == "buyer" else contract.vendor_id
    if not actor.system and actor.memberships.get(party) != "staff":
        raise Forbidden(f"only staff of the {side} may {what}")


def _require_not_frozen(row: AnnualReport | None) -> None:
    if row is not None and row.frozen_at is not None:
        raise Conflict(
            f"the report was signed by both sides and frozen on {row.frozen_at:%Y-%m-%d}: "
            "it is final; corrections are adjustments that the next year's report shows"
        )


def _commentary(reader: FieldReader, text: object) -> str | None:
    return long_text(reader, text, "commentary", required=False)
