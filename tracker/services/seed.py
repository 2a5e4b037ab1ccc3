"""Demo data: the contracts listed in seed_data/portfolio.json, loaded once each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Contract
from tracker.domain.json_document import load_json_document
from tracker.services.contracts import create_contract
from tracker.services.scenarios import create_scenario

SEED_DATA = Path(__file__).resolve().parent.parent.parent / "seed_data"


@dataclass(frozen=True)
class SeedResult:
    """What a seed run did: codes of the contracts added and of those already there."""

    added: tuple[str, ...]
    present: tuple[str, ...]


def database_is_empty(session: Session) -> bool:
    """Whether no contract at all is stored (archived ones count)."""
    with session.begin():
        return session.scalar(select(Contract.id).limit(1)) is None


def seed_demo(session: Session, folder: Path = SEED_DATA) -> SeedResult:
    """Add every demo contract whose code is not stored yet; running it twice changes nothing."""
    manifest = load_json_document((folder / "portfolio.json").read_bytes())
    assert isinstance(manifest, dict)
    with session.begin():
        existing = set(session.scalars(select(Contract.code)).all())
    added: list[str] = []
    present: list[str] = []
    for entry in manifest["contracts"]:
        code = str(entry["code"])
        if code in existing:
            present.append(code)
            continue
        document = load_json_document((folder / "contracts" / entry["file"]).read_bytes())
        contract_id = create_contract(session, document, code=code, status=str(entry["status"]))
        for scenario in entry.get("scenarios", ()):
            changed = merged(document, scenario["changes"])
            create_scenario(session, contract_id, str(scenario["name"]), changed)
        added.append(code)
    return SeedResult(tuple(added), tuple(present))


def merged(document: Any, changes: Any) -> Any:
    """``document`` with ``changes`` laid over it; an object naming a ``method`` replaces."""
    if not isinstance(document, dict) or not isinstance(changes, dict) or "method" in changes:
        return changes
    result = dict(document)
    for key, value in changes.items():
        result[key] = merged(document.get(key), value)
    return result
