"""The portfolio: every contract at a glance, searched, filtered, sorted, paged and totalled.

A page costs a fixed number of queries whatever the number of contracts: the rows of
the page, their count, the totals per currency and the parties for the filter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from tracker.db.functions import folded
from tracker.db.health_models import ContractHealth
from tracker.db.models import STATUSES, Contract, Organisation
from tracker.domain.health import band
from tracker.services.access import Actor
from tracker.services.health import KeptHealth, ensure_health, kept_health

PER_PAGE_CHOICES = (25, 50, 100)
SORTS = {
    "name": Contract.name,
    "code": Contract.code,
    "status": Contract.status,
    "start": Contract.start_date,
    "end": Contract.end_date,
    "value": Contract.total_price,
    "gain": Contract.total_efficiency_gain,
    "reinvest": Contract.total_reinvest,
    "margin": Contract.total_net_margin,
    "health": None,  # by the reader's score: the vendor's side sees its own (health.py)
}
_MAX_SEARCH = 200
#: The largest id a database integer column holds; larger ones match nothing.
MAX_ID = 2**31 - 1
_Statement = TypeVar("_Statement", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class PortfolioQuery:
    """What the person asked for: search text, filters, sort and page."""

    search: str = ""
    party_id: int | None = None
    status: str | None = None
    archived: bool = False
    sort: str = "name"
    descending: bool = False
    page: int = 1
    per_page: int = 25

    def normalised(self) -> PortfolioQuery:
        """The same query with every value brought into range (bad values fall back)."""
        return PortfolioQuery(
            search=_searchable(self.search),
            party_id=self.party_id if self.party_id and 0 < self.party_id <= MAX_ID else None,
            status=self.status if self.status in STATUSES else None,
            archived=self.archived,
            sort=self.sort if self.sort in SORTS else "name",
            descending=self.descending,
            page=max(1, self.page),
            per_page=self.per_page if self.per_page in PER_PAGE_CHOICES else 25,
        )


@dataclass(frozen=True)
class PortfolioRow:
    """One contract as the portfolio lists it; amounts in minor units of ``currency``."""

    id: int
    code: str
    name: str
    buyer: str
    vendor: str
    status: str
    archived: bool
    start_date: date
    end_date: date
    term_years: int
    currency: str
    total_price: int
    total_efficiency_gain: int
    total_reinvest: int
    total_net_margin: int
    #: The health score the reader sees (None before the signature) and its alerts.
    health: int | None = None
    health_alerts: tuple[str, ...] = ()
    in_valley: bool = False

    @property
    def health_band(self) -> str | None:
        """healthy, watch or at risk."""
        return None if self.health is None else band(self.health)


@dataclass(frozen=True)
class CurrencyTotals:
    """Sums over the matching contracts of one currency (amounts never mix currencies)."""

    currency: str
    contracts: int
    total_price: int
    total_efficiency_gain: int
    total_reinvest: int
    total_net_margin: int


@dataclass(frozen=True)
class PortfolioPage:
    """One page of the portfolio with what the filters and pager need."""

    query: PortfolioQuery
    rows: tuple[PortfolioRow, ...]
    matching: int
    totals: tuple[CurrencyTotals, ...]
    parties: tuple[tuple[int, str], ...]

    @property
    def pages(self) -> int:
        """How many pages the matching contracts fill (at least one)."""
        return max(1, -(-self.matching // self.query.per_page))


def portfolio_page(
    session: Session, actor: Actor, query: PortfolioQuery, *, today: date | None = None
) -> PortfolioPage:
    """The page of the actor's contracts ``query`` asks for, with totals over every
    matching contract; only contracts of the actor's organisations are ever counted."""
    query = query.normalised()
    buyer = aliased(Organisation)
    vendor = aliased(Organisation)
    visible = _visible_to(actor)
    with session.begin():
        totals = _currency_totals(
            session, _filtered(_totals_select(), query, buyer, vendor).where(visible)
        )
        # The totals count the matching contracts too: no separate count query.
        count = sum(total.contracts for total in totals)
        pages = max(1, -(-count // query.per_page))
        if query.page > pages:
            query = replace(query, page=pages)
        today = today or datetime.now(UTC).date()
        if query.sort == "health":
            # Sorting by health needs every matching contract's: kept ones are reused.
            ensure_health(session, session.scalars(_filtered(
                select(Contract.id), query, buyer, vendor).where(visible)), today)  # fmt: skip
        score = _reader_score(actor)
        order = score if query.sort == "health" else SORTS[query.sort]
        assert order is not None
        ordered: list[ColumnElement[Any]] = [
            order.is_(None),  # contracts without a health last, whichever the direction
            order.desc() if query.descending else order.asc(),
            Contract.id.asc(),
        ]
        rows = session.execute(
            _filtered(_rows_select(buyer, vendor), query, buyer, vendor)
            .add_columns(Contract.vendor_id)
            .outerjoin(ContractHealth, ContractHealth.contract_id == Contract.id)
            .where(visible)
            .order_by(*ordered)
            .limit(query.per_page)
            .offset((query.page - 1) * query.per_page)
        ).all()
        ensure_health(session, (row.id for row in rows), today)
        healths = kept_health(session, (row.id for row in rows))
        # Only the parties of contracts the actor sees: other names stay private.
        party_ids = (
            select(Contract.buyer_id.label("id"))
            .where(visible)
            .union(select(Contract.vendor_id.label("id")).where(visible))
            .subquery()
        )
        parties = session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(select(party_ids.c.id)))
            .order_by(Organisation.name)
        ).all()
    return PortfolioPage(
        query=query,
        rows=tuple(_row(actor, tuple(row), healths) for row in rows),
        matching=count,
        totals=totals,
        parties=tuple((row[0], row[1]) for row in parties),
    )


def _row(actor: Actor, values: tuple[Any, ...], healths: dict[int, KeptHealth]) -> PortfolioRow:
    *fields, vendor_id = values
    row = PortfolioRow(*fields)
    kept = healths.get(row.id)
    if kept is None:
        return row
    vendor = actor.system or vendor_id in actor.organisation_ids
    found = kept.as_health()
    alerts = tuple(alert.text for alert in found.alerts_for(vendor))
    return replace(
        row, health=found.score_for(vendor), health_alerts=alerts, in_valley=found.in_valley(vendor)
    )


def _reader_score(actor: Actor) -> ColumnElement[Any]:
    """The kept score as the reader sees it: the vendor's own where the reader is the vendor."""
    if actor.system:
        return ContractHealth.vendor_score.expression
    ids = sorted(actor.organisation_ids)
    return case(
        (Contract.vendor_id.in_(ids), ContractHealth.vendor_score), else_=ContractHealth.score
    )


def _visible_to(actor: Actor) -> ColumnElement[bool]:
    if actor.system:
        return true()
    ids = sorted(actor.organisation_ids)
    return or_(Contract.buyer_id.in_(ids), Contract.vendor_id.in_(ids))


def _rows_select(buyer: type[Organisation], vendor: type[Organisation]) -> Select[*tuple[Any, ...]]:
    return select(
        Contract.id,
        Contract.code,
        Contract.name,
        buyer.name,
        vendor.name,
        Contract.status,
        Contract.archived_at.is_not(None),
        Contract.start_date,
        Contract.end_date,
        Contract.term_years,
        Contract.currency,
        Contract.total_price,
        Contract.total_efficiency_gain,
        Contract.total_reinvest,
        Contract.total_net_margin,
    )


#: Totals are summed in two parts, amount // 10^9 and amount % 10^9, so that the sums
#: stay exact integers on SQLite, whose 64-bit sum() would overflow on huge portfolios.
_SPLIT = 10**9
_TOTAL_COLUMNS = (
    Contract.total_price,
    Contract.total_efficiency_gain,
    Contract.total_reinvest,
    Contract.total_net_margin,
)


def _totals_select() -> Select[*tuple[Any, ...]]:
    parts = []
    for column in _TOTAL_COLUMNS:
        # Both databases truncate integer division towards zero and give the remainder
        # the dividend's sign, so high * 10^9 + low is the amount exactly.
        parts += [func.sum(column // _SPLIT), func.sum(column % _SPLIT)]
    return select(Contract.currency, func.count(Contract.id), *parts)


def _currency_totals(
    session: Session, statement: Select[*tuple[Any, ...]]
) -> tuple[CurrencyTotals, ...]:
    rows = session.execute(statement.group_by(Contract.currency).order_by(Contract.currency))
    totals = []
    for row in rows:
        values = [int(row[i]) * _SPLIT + int(row[i + 1]) for i in range(2, 10, 2)]
        totals.append(CurrencyTotals(row[0], int(row[1]), *values))
    return tuple(totals)


def _filtered(
    statement: _Statement,
    query: PortfolioQuery,
    buyer: type[Organisation],
    vendor: type[Organisation],
) -> _Statement:
    statement = (
        statement.select_from(Contract)
        .join(buyer, buyer.id == Contract.buyer_id)
        .join(vendor, vendor.id == Contract.vendor_id)
    )
    if query.archived:
        statement = statement.where(Contract.archived_at.is_not(None))
    else:
        statement = statement.where(Contract.archived_at.is_(None))
    if query.status:
        statement = statement.where(Contract.status == query.status)
    if query.party_id:
        statement = statement.where(
            or_(Contract.buyer_id == query.party_id, Contract.vendor_id == query.party_id)
        )
    if query.search:
        pattern = query.search.lower()
        statement = statement.where(
            or_(
                *(
                    folded(column).contains(pattern, autoescape=True)
                    for column in (Contract.name, Contract.code, buyer.name, vendor.name)
                )
            )
        )
    return statement


def _searchable(text: str) -> str:
    """Search text without control characters (PostgreSQL refuses NUL), at most 200 long."""
    kept = "".join(char for char in text if unicodedata.category(char) != "Cc")
    return kept.strip()[:_MAX_SEARCH]
