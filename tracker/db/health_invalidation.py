"""Forget a contract's kept health whenever anything of the contract changes.

A listener on every session collects, before each flush, the contracts whose rows
are added, changed or deleted (directly through a ``contract_id``, or through the
KPI or plan action a row belongs to) and deletes their ContractHealth rows in the
same transaction, so that the next read computes them again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from tracker.db.account_map_models import IndicatorRating, PlanAction
from tracker.db.delivery_models import Kpi, KpiYear
from tracker.db.health_models import ContractHealth
from tracker.db.models import Contract

_PENDING = "tracker.health_stale"


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: Any, _instances: Any) -> None:
    direct: set[int] = session.info.setdefault(_PENDING, set())
    kpis: set[int] = session.info.setdefault(_PENDING + ".kpis", set())
    actions: set[int] = session.info.setdefault(_PENDING + ".actions", set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, ContractHealth):
            continue
        if isinstance(item, Contract):
            if item.id is not None:
                direct.add(item.id)
        elif isinstance(item, KpiYear):
            kpis.add(item.kpi_id)
        elif isinstance(item, IndicatorRating):
            actions.add(item.action_id)
        elif isinstance(getattr(item, "contract_id", None), int):
            direct.add(item.contract_id)


@event.listens_for(Session, "after_flush")
def _forget(session: Session, _context: Any) -> None:
    direct: set[int] = session.info.pop(_PENDING, set())
    kpis: set[int] = session.info.pop(_PENDING + ".kpis", set())
    actions: set[int] = session.info.pop(_PENDING + ".actions", set())
    connection = session.connection()
    if kpis:
        direct |= set(connection.scalars(select(Kpi.contract_id).where(Kpi.id.in_(kpis))))
    if actions:
        query = select(PlanAction.contract_id).where(PlanAction.id.in_(actions))
        direct |= set(connection.scalars(query))
    if direct:
        connection.execute(delete(ContractHealth).where(ContractHealth.contract_id.in_(direct)))
