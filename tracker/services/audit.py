"""Writing the audit trail, inside the transaction of the change it records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.audit_models import AuditEvent
from tracker.services.access import Actor


@dataclass(frozen=True)
class RequestInfo:
    """Where a change came from: the request id and the client's address."""

    request_id: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change, with the fields that differ before and after."""

    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    changes: tuple[tuple[str, str | None, str | None], ...]
    request_id: str | None


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    *,
    contract_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    request: RequestInfo | None = None,
) -> None:
    """Add an audit event to the caller's transaction (committed with the change)."""
    origin = request or RequestInfo()
    session.add(
        AuditEvent(
            at=datetime.now(UTC),
            actor_user_id=actor.user_id,
            actor=actor.label,
            action=action,
            entity=entity,
            entity_id=entity_id,
            contract_id=contract_id,
            before=_canonical(before),
            after=_canonical(after),
            request_id=origin.request_id,
            address=origin.address,
        )
    )


def contract_history(
    session: Session, contract_id: int, created_at: datetime | None = None
) -> tuple[HistoryEntry, ...]:
    """Every recorded change of a contract and its scenarios, newest first.

    The caller has already checked that the actor may see the contract. Events from
    before its creation belong to a deleted contract whose id SQLite gave again."""
    with session.begin():
        events = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.contract_id == contract_id,
                AuditEvent.at >= (created_at or datetime.min.replace(tzinfo=UTC)),
            )
            .order_by(AuditEvent.id.desc())
        ).all()
        return tuple(
            HistoryEntry(
                event.at,
                event.actor,
                event.action,
                event.entity,
                event.entity_id,
                changed_fields(_loaded(event.before), _loaded(event.after)),
                event.request_id,
            )
            for event in events
        )


def changed_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[tuple[str, str | None, str | None], ...]:
    """(path, before, after) for every leaf value that differs, paths like price.base."""
    old = dict(_flattened(before or {}))
    new = dict(_flattened(after or {}))
    return tuple(
        (path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    )


def _flattened(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        items: list[tuple[str, str]] = []
        for key, item in value.items():
            items += _flattened(item, f"{prefix}.{key}" if prefix else str(key))
        return items
    if isinstance(value, list):
        return [(prefix, ", ".join(str(item) for item in value))]
    return [(prefix, "" if value is None else str(value))]


def _canonical(document: Mapping[str, Any] | None) -> str | None:
    if document is None:
        return None
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _loaded(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)
