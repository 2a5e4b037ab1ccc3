"""What the annual report pages read: the report's content (live, drafted or frozen), its
state, what changed since the draft, and what the reader may do with it.

The content is one plain dict of the same shape whatever the state, so that one
template renders every report: ``report`` (the figures, tracker.services.report_document),
``commentary`` and ``signatures`` by side, ``state``, the ``fingerprint`` a signature
approves, when it was ``drafted``, when the year was closed, when it was frozen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from tracker.db.models import Contract
from tracker.db.report_models import SIDES, AnnualReport, ReportSignature
from tracker.services.access import Actor
from tracker.services.delivery import build_view
from tracker.services.delivery_rules import DELIVERY_STATUSES, require_year
from tracker.services.delivery_views import DeliveryView, canonical
from tracker.services.errors import NotFound
from tracker.services.report_document import differences, sha256_hex
from tracker.services.report_relationship import full_report_document

#: The states of a report, in the order it goes through them.
STATES = ("preview", "draft", "signed", "frozen")


@dataclass(frozen=True)
class ReportPermissions:
    """What the reader may do with the report now."""

    draft: bool
    comment_sides: tuple[str, ...]
    sign_sides: tuple[str, ...]
    withdraw_sides: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    """An annual report as a page shows it."""

    contract_id: int
    year: int
    term_years: int
    content: dict[str, Any]
    #: Live figures against the draft, one line per changed value (empty when equal).
    changes: tuple[str, ...]
    #: Why it cannot be signed now (empty when it can).
    blockers: tuple[str, ...]
    year_ended: bool
    version: int
    permissions: ReportPermissions

    @property
    def state(self) -> str:
        """preview, draft, signed (by one side) or frozen."""
        return str(self.content["state"])

    @property
    def report(self) -> dict[str, Any]:
        """The figures and texts."""
        return dict(self.content["report"])


def stamp(moment: datetime | None) -> str | None:
    """A stored moment as the text the report keeps: UTC, to the second."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def commentary_of(row: AnnualReport | None) -> dict[str, Any]:
    """Each side's commentary: text, when and by whom (None when the side wrote none)."""
    result: dict[str, Any] = {}
    for side in SIDES:
        text = None if row is None else getattr(row, f"{side}_commentary")
        result[side] = (
            None
            if not text or row is None
            else {
                "text": text,
                "at": stamp(getattr(row, f"{side}_commentary_at")),
                "by": getattr(row, f"{side}_commentary_by"),
            }
        )
    return result


def signatures_of(signatures: list[ReportSignature]) -> dict[str, Any]:
    """Each side's signature: who, when, what fingerprint (None when not signed)."""
    by_side = {signature.side: signature for signature in signatures}
    return {
        side: None
        if side not in by_side
        else {
            "signed_by": by_side[side].signed_by,
            "signed_at": stamp(by_side[side].signed_at),
            "fingerprint": by_side[side].fingerprint,
        }
        for side in SIDES
    }


def signed_content(report: dict[str, Any], commentary: dict[str, Any]) -> dict[str, Any]:
    """What a signature approves: every figure and both commentaries."""
    return {"report": report, "commentary": commentary}


def signing_fingerprint(report: dict[str, Any], commentary: dict[str, Any]) -> str:
    """The SHA-256 of what a signature approves."""
    return sha256_hex(canonical(signed_content(report, commentary)))


def report_view(
    session: Session, actor: Actor, contract_id: int, year: int, *, today: date | None = None
) -> ReportView:
    """The report of contract year ``year`` as ``actor`` sees it, read in one transaction."""
    day = today or datetime.now(UTC).date()
    with session.begin():
        contract = _visible_contract(session, actor, contract_id)
        require_year(contract, year)
        row = session.scalars(
            select(AnnualReport)
            .where(AnnualReport.contract_id == contract.id, AnnualReport.year == year)
            .options(defer(AnnualReport.pdf))
            .execution_options(populate_existing=True)
        ).one_or_none()
        signatures = _signatures(session, row)
        if row is not None and row.snapshot is not None:
            return _frozen(contract, row)
        view = build_view(session, actor, contract, day)
        return assemble(session, actor, contract, view, year, row, signatures)


def _signatures(session: Session, row: AnnualReport | None) -> list[ReportSignature]:
    if row is None:
        return []
    return list(
        session.scalars(
            select(ReportSignature)
            .where(ReportSignature.report_id == row.id)
            .execution_options(populate_existing=True)
        )
    )


def _frozen(contract: Contract, row: AnnualReport) -> ReportView:
    content = frozen_content(row.snapshot or "{}")
    none = ReportPermissions(False, (), (), ())
    return ReportView(
        contract.id, row.year, contract.term_years, content, (), (), True, row.version, none
    )


def frozen_content(snapshot: str) -> dict[str, Any]:
    """The content of a frozen report, from its stored snapshot."""
    document: dict[str, Any] = json.loads(snapshot)
    return {
        **document,
        "state": "frozen",
        "fingerprint": signing_fingerprint(document["report"], document["commentary"]),
    }


def assemble(
    session: Session,
    actor: Actor,
    contract: Contract,
    view: DeliveryView,
    year: int,
    row: AnnualReport | None,
    signatures: list[ReportSignature],
) -> ReportView:
    """The view of a report not yet frozen, from rows read in the caller's transaction."""
    live = full_report_document(session, view, year)
    entry = view.year(year)
    shown = live if row is None else json.loads(row.draft)
    commentary = commentary_of(row)
    signed = signatures_of(signatures)
    state = "preview" if row is None else ("signed" if signatures else "draft")
    content = {
        "report": shown,
        "commentary": commentary,
        "signatures": signed,
        "state": state,
        "fingerprint": None if row is None else signing_fingerprint(shown, commentary),
        "drafted": None if row is None else {"at": stamp(row.drafted_at), "by": row.drafted_by},
        "year_closed": None
        if entry.closed_at is None
        else {"at": stamp(entry.closed_at), "by": entry.closed_by},
        "frozen_at": None,
    }
    changes = () if row is None else tuple(differences(shown, live))
    return ReportView(
        contract_id=contract.id,
        year=year,
        term_years=contract.term_years,
        content=content,
        changes=changes,
        blockers=tuple(_blockers(row, entry.closed, entry.ended, changes)),
        year_ended=entry.ended,
        version=0 if row is None else row.version,
        permissions=_permissions(actor, contract, row, entry.ended, signed),
    )


def _blockers(
    row: AnnualReport | None, closed: bool, ended: bool, changes: tuple[str, ...]
) -> list[str]:
    blockers = []
    if row is None:
        blockers.append(
            "the vendor has not prepared the report for signature yet"
            if ended
            else "the year has not ended: its report is prepared once it has"
        )
    if not closed:
        blockers.append("finance has not closed the year yet (it closes once the figures tie out)")
    if changes:
        blockers.append("the figures changed since the draft: the vendor prepares it again")
    return blockers


def _permissions(
    actor: Actor,
    contract: Contract,
    row: AnnualReport | None,
    ended: bool,
    signed: dict[str, Any],
) -> ReportPermissions:
    writable = contract.archived_at is None and contract.status in DELIVERY_STATUSES
    sides = SIDES if actor.system else actor.staff_sides(contract.buyer_id, contract.vendor_id)
    if not writable:
        return ReportPermissions(False, (), (), ())
    drafted = row is not None
    any_signature = any(signed.values())
    return ReportPermissions(
        draft=ended and "vendor" in sides,
        comment_sides=sides if drafted and not any_signature else (),
        sign_sides=tuple(side for side in sides if drafted and signed[side] is None),
        withdraw_sides=tuple(side for side in sides if signed[side] is not None),
    )


@dataclass(frozen=True)
class ReportListItem:
    """One contract year in the list of a contract's reports."""

    year: int
    start: date
    end: date
    ended: bool
    closed: bool
    state: str
    signed_sides: tuple[str, ...]
    drafted_at: datetime | None
    frozen_at: datetime | None


@dataclass(frozen=True)
class ReportList:
    """Every year of a contract with the state of its report."""

    contract_id: int
    code: str
    name: str
    buyer: str
    vendor: str
    in_delivery: bool
    years: tuple[ReportListItem, ...]


def report_list(
    session: Session, actor: Actor, contract_id: int, *, today: date | None = None
) -> ReportList:
    """The reports of a contract, year by year, read in one transaction."""
    day = today or datetime.now(UTC).date()
    with session.begin():
        contract = _visible_contract(session, actor, contract_id)
        view = build_view(session, actor, contract, day)
        rows = {
            row.year: row
            for row in session.scalars(
                select(AnnualReport)
                .where(AnnualReport.contract_id == contract.id)
                .options(defer(AnnualReport.pdf), defer(AnnualReport.snapshot))
            )
        }
        signed: dict[int, list[str]] = {}
        for report_id, side in session.execute(
            select(ReportSignature.report_id, ReportSignature.side).where(
                ReportSignature.report_id.in_([row.id for row in rows.values()])
            )
        ):
            signed.setdefault(report_id, []).append(side)
        items = []
        for entry in view.years:
            row = rows.get(entry.year)
            sides = tuple(sorted(signed.get(row.id, []))) if row is not None else ()
            state = (
                "preview"
                if row is None
                else "frozen"
                if row.frozen_at is not None
                else ("signed" if sides else "draft")
            )
            items.append(
                ReportListItem(
                    entry.year,
                    entry.plan.start,
                    entry.plan.end,
                    entry.ended,
                    entry.closed,
                    state,
                    sides,
                    None if row is None else row.drafted_at,
                    None if row is None else row.frozen_at,
                )
            )
        return ReportList(
            contract.id, view.code, view.name, view.buyer, view.vendor, view.in_delivery,
            tuple(items),
        )  # fmt: skip


def frozen_files(
    session: Session, actor: Actor, contract_id: int, year: int
) -> tuple[bytes, str] | None:
    """The stored PDF and snapshot of a frozen report; None while it is not frozen."""
    with session.begin():
        contract = _visible_contract(session, actor, contract_id)
        require_year(contract, year)
        row = session.execute(
            select(AnnualReport.pdf, AnnualReport.snapshot).where(
                AnnualReport.contract_id == contract.id,
                AnnualReport.year == year,
                AnnualReport.frozen_at.is_not(None),
            )
        ).one_or_none()
        if row is None or row.pdf is None or row.snapshot is None:
            return None
        return bytes(row.pdf), row.snapshot


def _visible_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    contract = session.scalars(
        select(Contract).where(Contract.id == contract_id).execution_options(populate_existing=True)
    ).one_or_none()
    if contract is None or not actor.sees(contract.buyer_id, contract.vendor_id):
        raise NotFound(f"no contract {contract_id}")
    return contract
