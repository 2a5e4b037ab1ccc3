"""Demo concerns and pulse ratings of the demo contracts (seed_data/concerns.json).

The file holds them by contract code, with days as offsets from the contract's start
(day 0) and pulse ratings as one list per side, one entry per calendar quarter from
the quarter the contract starts in; so the same file keeps working as time passes.
Everything is written through the concern and pulse services as the demo staff of
each side (the system, speaking for the side, where a demo account is missing), on
the day it happened, so every rule applies and the audit trail names a person. What
lies after ``today`` is skipped; a contract that already has concerns or ratings, or
is not in its follow-up, is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.db.account_models import Membership, User
from tracker.db.followup_models import Concern, PulseCheck
from tracker.db.models import Contract
from tracker.domain.json_document import load_json_document
from tracker.domain.pulse import next_quarter, quarter_end, quarter_of
from tracker.services.access import SYSTEM, Actor
from tracker.services.concerns import move_concern, raise_concern
from tracker.services.delivery_rules import DELIVERY_STATUSES
from tracker.services.pulse import rate_relationship

#: The demo concerns and pulse ratings, beside portfolio.json.
CONCERNS_FILE = "concerns.json"
#: How many days into a quarter (or into the contract, in its first quarter) sides rate.
RATING_DAY = 30
_FIELDS = ("title", "description", "category", "severity", "owner_side", "owner")

People = Callable[[str], Actor]


def seed_concerns(session: Session, folder: Path, *, today: date) -> None:
    """Load the demo concerns and pulse ratings of every demo contract that has none."""
    path = folder / CONCERNS_FILE
    if not path.exists():
        return
    document = load_json_document(path.read_bytes())
    assert isinstance(document, dict)
    contracts: Mapping[str, Any] = document["contracts"]
    for code, (contract_id, start, people) in _targets(session, tuple(contracts)).items():
        data = contracts[code]
        for item in data.get("concerns", ()):
            _load_concern(session, people, contract_id, start, item, today)
        for side, ratings in data.get("pulse", {}).items():
            _load_ratings(session, people(side), side, contract_id, start, ratings, today)


def _targets(session: Session, codes: tuple[str, ...]) -> dict[str, tuple[int, date, People]]:
    """The named contracts in their follow-up without concerns or ratings, each with the
    demo staff acting for its sides."""
    with session.begin():
        rows = session.execute(
            select(Contract.code, Contract.id, Contract.start_date, Contract.buyer_id,
                   Contract.vendor_id)
            .where(
                Contract.code.in_(codes),
                Contract.status.in_(sorted(DELIVERY_STATUSES)),
                Contract.archived_at.is_(None),
                ~exists().where(Concern.contract_id == Contract.id),
                ~exists().where(PulseCheck.contract_id == Contract.id),
            )
        ).all()  # fmt: skip
        party_ids = {party for row in rows for party in (row.buyer_id, row.vendor_id)}
        staff: dict[int, Actor] = {}
        for user_id, email, party in session.execute(
            select(User.id, User.email, Membership.organisation_id)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id.in_(party_ids),
                Membership.role == "staff",
                User.email.like("%.demo"),
                User.disabled_at.is_(None),
            )
            .order_by(User.id)
        ):
            staff.setdefault(party, Actor(user_id, email, {party: "staff"}))

    def people_of(buyer_id: int, vendor_id: int) -> People:
        parties = {"buyer": buyer_id, "vendor": vendor_id}
        return lambda side: staff.get(parties[side], SYSTEM)

    return {
        row.code: (row.id, row.start_date, people_of(row.buyer_id, row.vendor_id)) for row in rows
    }


def _load_concern(
    session: Session,
    people: People,
    contract_id: int,
    start: date,
    item: Mapping[str, Any],
    today: date,
) -> None:
    """Raise a concern on its day, then start, resolve or reopen it as far as today goes."""
    raised_on = start + timedelta(days=int(item["day"]))
    if raised_on > today:
        return
    side = str(item["raised_by"])
    fields: dict[str, object] = {name: item.get(name) for name in _FIELDS}
    fields["due_on"] = (start + timedelta(days=int(item["due"]))).isoformat()
    concern_id = raise_concern(
        session, people(side), contract_id, fields, side=side, today=raised_on,
        now=_moment(raised_on),
    )  # fmt: skip
    version = 1
    for move in item.get("moves", ()):
        day = start + timedelta(days=int(move["day"]))
        if day > today:
            return
        move_concern(
            session, people(str(move.get("by", side))), concern_id, str(move["to"]),
            expected_version=version, resolution=move.get("resolution"),
            reason=move.get("reason"), today=day, now=_moment(day),
        )  # fmt: skip
        version += 1


def _load_ratings(
    session: Session,
    actor: Actor,
    side: str,
    contract_id: int,
    start: date,
    ratings: list[Any],
    today: date,
) -> None:
    """One rating per quarter from the contract's first; null entries are quarters not rated."""
    period = quarter_of(start)
    for entry in ratings:
        day = min(max(period, start) + timedelta(days=RATING_DAY), quarter_end(period))
        if day > today:
            return
        if entry is not None:
            rating, comment = (
                (entry["rating"], entry.get("comment"))
                if isinstance(entry, dict)
                else (entry, None)
            )
            rate_relationship(
                session, actor, contract_id, side=side, rating=int(rating), comment=comment,
                today=day, now=_moment(day),
            )  # fmt: skip
        period = next_quarter(period)


def _moment(day: date) -> datetime:
    """When the demo change is stamped: mid-morning UTC on its day."""
    return datetime.combine(day, time(9, 30), tzinfo=UTC)
