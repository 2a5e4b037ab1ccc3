"""The stored tables: organisations, contracts with their yearly schedule, scenarios.

Money is stored as integer minor units (BIGINT) in the contract's currency, so it is
exact on SQLite and PostgreSQL alike; the terms themselves are stored as their
canonical JSON document, whose numbers are decimal strings.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db.base import Base, UtcDateTime

#: Contract statuses, in lifecycle order.
STATUSES = ("draft", "negotiation", "signed", "onboarding", "active", "renewal", "closed")
_STATUS_LIST = ", ".join(f"'{status}'" for status in STATUSES)


class Organisation(Base):
    """A party to contracts: a buyer, a vendor, or both in different contracts."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Contract(Base):
    """A contract: its terms document, lifecycle status and the totals of its schedule."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status"),
        CheckConstraint("term_years BETWEEN 1 AND 30", name="term_years"),
        Index("ix_contracts_buyer_id", "buyer_id"),
        Index("ix_contracts_vendor_id", "vendor_id"),
        Index("ix_contracts_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    term_years: Mapped[int] = mapped_column(Integer)
    #: The canonical terms document (JSON text); parse_terms() gives the terms back.
    terms: Mapped[str] = mapped_column(Text)
    total_price: Mapped[int] = mapped_column(BigInteger)
    total_efficiency_gain: Mapped[int] = mapped_column(BigInteger)
    total_reinvest: Mapped[int] = mapped_column(BigInteger)
    total_net_margin: Mapped[int] = mapped_column(BigInteger)
    npv_net_margin: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer)

    buyer: Mapped[Organisation] = relationship(foreign_keys=[buyer_id], lazy="raise")
    vendor: Mapped[Organisation] = relationship(foreign_keys=[vendor_id], lazy="raise")
    years: Mapped[list[ContractYear]] = relationship(
        back_populates="contract",
        lazy="raise",
        order_by="ContractYear.year",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    scenarios: Mapped[list[Scenario]] = relationship(
        back_populates="contract",
        lazy="raise",
        order_by="Scenario.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ContractYear(Base):
    """One year of a contract's planned schedule (spec section 2), amounts in minor units."""

    __tablename__ = "contract_years"

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    #: The applied escalation rate as a decimal string; NULL for year 1 and schedules.
    escalation: Mapped[str | None] = mapped_column(String(40))
    price: Mapped[int] = mapped_column(BigInteger)
    baseline_cost: Mapped[int] = mapped_column(BigInteger)
    planned_cost: Mapped[int] = mapped_column(BigInteger)
    efficiency_gain: Mapped[int] = mapped_column(BigInteger)
    #: S/B in ten-thousandths (0.0400 -> 400); NULL when the baseline is zero.
    efficiency_pct: Mapped[int | None] = mapped_column(Integer)
    reinvest: Mapped[int] = mapped_column(BigInteger)
    buyer_credit: Mapped[int] = mapped_column(BigInteger)
    vendor_gain: Mapped[int] = mapped_column(BigInteger)
    net_price: Mapped[int] = mapped_column(BigInteger)
    gross_margin: Mapped[int] = mapped_column(BigInteger)
    net_margin: Mapped[int] = mapped_column(BigInteger)
    reinvest_cumulative: Mapped[int] = mapped_column(BigInteger)

    contract: Mapped[Contract] = relationship(back_populates="years", lazy="raise")


class Scenario(Base):
    """A named what-if variant of a contract's terms."""

    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("contract_id", "name", name="uq_scenarios_contract_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    terms: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer)

    contract: Mapped[Contract] = relationship(back_populates="scenarios", lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
