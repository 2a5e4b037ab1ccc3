"""The stored annual reports: the draft both sides review, their commentary and signatures,
and once both have signed, the frozen snapshot and PDF with their SHA-256.

A report row exists once the vendor prepares the draft for signature; before that
the report is only a preview computed from the live figures. The draft keeps every
figure as canonical JSON, so that a signature can be refused when the live figures
no longer match it. Frozen reports are never changed again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db.base import Base, UtcDateTime

SIDES = ("buyer", "vendor")
_SIDE_LIST = ", ".join(f"'{side}'" for side in SIDES)


class AnnualReport(Base):
    """The joint annual improvement report of one contract year."""

    __tablename__ = "annual_reports"
    __table_args__ = (UniqueConstraint("contract_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    #: Every figure of the report as canonical JSON when it was (last) drafted.
    draft: Mapped[str] = mapped_column(Text)
    drafted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    drafted_by: Mapped[str] = mapped_column(String(320))
    buyer_commentary: Mapped[str | None] = mapped_column(Text)
    buyer_commentary_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    buyer_commentary_by: Mapped[str | None] = mapped_column(String(320))
    vendor_commentary: Mapped[str | None] = mapped_column(Text)
    vendor_commentary_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    vendor_commentary_by: Mapped[str | None] = mapped_column(String(320))
    #: Set by the second signature: the report is final from then on.
    frozen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The canonical JSON of every figure, text and signature, and its SHA-256 (hex).
    snapshot: Mapped[str | None] = mapped_column(Text)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(320))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ReportSignature(Base):
    """One side's signature: who, when, and the fingerprint of the report they approved."""

    __tablename__ = "report_signatures"
    __table_args__ = (
        UniqueConstraint("report_id", "side"),
        CheckConstraint(f"side IN ({_SIDE_LIST})", name="side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("annual_reports.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_by: Mapped[str] = mapped_column(String(320))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: SHA-256 (hex) of the canonical report and commentary the signer approved.
    fingerprint: Mapped[str] = mapped_column(String(64))
