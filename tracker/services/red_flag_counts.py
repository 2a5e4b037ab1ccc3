"""How many account-map red flags each of some contracts has on a day, read at once (for
the health score; the account map itself lists them)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.account_map_models import Alternative, IndicatorRating, Influence, PlanAction
from tracker.domain.red_flags import red_flags


class _Action(NamedTuple):
    id: int
    title: str
    status: str
    last_rated_on: date | None


def red_flag_counts(session: Session, contract_ids: list[int], today: date) -> dict[int, int]:
    """Red flags per contract id (contracts without an account map have none: 0)."""
    influences: dict[int, list[Influence]] = defaultdict(list)
    for influence in session.scalars(
        select(Influence).where(Influence.contract_id.in_(contract_ids)).order_by(Influence.id)
    ):
        influences[influence.contract_id].append(influence)
    alternatives: dict[int, list[Alternative]] = defaultdict(list)
    for alternative in session.scalars(
        select(Alternative)
        .where(Alternative.contract_id.in_(contract_ids))
        .order_by(Alternative.id)
    ):
        alternatives[alternative.contract_id].append(alternative)
    last_rated = (
        select(IndicatorRating.action_id, func.max(IndicatorRating.reviewed_on).label("last"))
        .group_by(IndicatorRating.action_id)
        .subquery()
    )
    actions: dict[int, list[_Action]] = defaultdict(list)
    for contract_id, *fields in session.execute(
        select(
            PlanAction.contract_id, PlanAction.id, PlanAction.title, PlanAction.status,
            last_rated.c.last,
        )
        .outerjoin(last_rated, last_rated.c.action_id == PlanAction.id)
        .where(PlanAction.contract_id.in_(contract_ids))
        .order_by(PlanAction.id)
    ):  # fmt: skip
        actions[contract_id].append(_Action(*fields))
    mapped = set(influences) | set(alternatives) | set(actions)
    return {
        contract_id: len(
            red_flags(
                influences[contract_id], alternatives[contract_id], actions[contract_id], today
            )
        )
        for contract_id in mapped
    }
