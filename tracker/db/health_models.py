"""Each contract's health as computed on a day, kept so that the portfolio can sort
thousands of contracts by it; a row is deleted whenever the contract's data changes
(tracker.db.health_invalidation) and computed again on the next read."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db.base import Base


class ContractHealth(Base):
    """The health of a contract on ``computed_on`` (tracker.domain.health)."""

    __tablename__ = "contract_health"
    __table_args__ = (
        Index("ix_contract_health_score", "score"),
        Index("ix_contract_health_vendor_score", "vendor_score"),
    )

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    computed_on: Mapped[date] = mapped_column(Date)
    #: The score everyone sees, and the vendor's (with its account map's red flags).
    score: Mapped[int] = mapped_column(Integer)
    vendor_score: Mapped[int] = mapped_column(Integer)
    in_first_days: Mapped[bool] = mapped_column(Boolean)
    #: The alerts as canonical JSON: [[kind, text, points, vendor_only], ...].
    alerts: Mapped[str] = mapped_column(Text)
