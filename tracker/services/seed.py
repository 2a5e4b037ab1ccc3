"""Demo data: the contracts listed in seed_data/portfolio.json, loaded once each, then
their delivery years (seed_data/delivery.json)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.account_models import ROLES, Membership
from tracker.db.models import Contract, Organisation
from tracker.domain.json_document import load_json_document
from tracker.services.access import SYSTEM
from tracker.services.accounts import create_user
from tracker.services.contracts import create_contract
from tracker.services.scenarios import create_scenario
from tracker.services.seed_account_map import seed_account_map
from tracker.services.seed_concerns import seed_concerns
from tracker.services.seed_delivery import seed_delivery
from tracker.services.seed_lifecycle import seed_lifecycle
from tracker.services.seed_meetings import seed_meetings
from tracker.services.seed_onboarding import seed_onboarding
from tracker.services.seed_reports import ReportSigning

SEED_DATA = Path(__file__).resolve().parent.parent.parent / "seed_data"


#: The password of every demo account: for trying the product, never for real data.
DEMO_PASSWORD = "demo-only-tracker"  # noqa: S105  (published in the README, demo data only)


@dataclass(frozen=True)
class SeedResult:
    """What a seed run did: codes of the contracts added and of those already there,
    the e-mail addresses of the demo accounts it added, and the codes of the contracts
    it gave demo delivery data."""

    added: tuple[str, ...]
    present: tuple[str, ...]
    users: tuple[str, ...] = ()
    delivery: tuple[str, ...] = ()


def database_is_empty(session: Session) -> bool:
    """Whether no contract at all is stored (archived ones count)."""
    with session.begin():
        return session.scalar(select(Contract.id).limit(1)) is None


def seed_demo(
    session: Session,
    folder: Path = SEED_DATA,
    *,
    today: date | None = None,
    signing: ReportSigning | None = None,
) -> SeedResult:
    """Add every demo contract whose code is not stored yet, then the delivery data of
    those without any (years that have not begun by ``today`` are left out); running it
    twice changes nothing."""
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
        contract_id = create_contract(
            session, SYSTEM, document, code=code, status=str(entry["status"])
        )
        for scenario in entry.get("scenarios", ()):
            changed = merged(document, scenario["changes"])
            create_scenario(session, SYSTEM, contract_id, str(scenario["name"]), changed)
        added.append(code)
    demo_parties = set()
    for entry in manifest["contracts"]:
        document = load_json_document((folder / "contracts" / entry["file"]).read_bytes())
        assert isinstance(document, dict)
        demo_parties |= {str(document["buyer"]), str(document["vendor"])}
    users = seed_demo_users(session, demo_parties)
    day = today or datetime.now(UTC).date()

    def follow_up() -> None:
        for seed_area in (seed_lifecycle, seed_onboarding, seed_concerns, seed_meetings,
                          seed_account_map):  # fmt: skip
            seed_area(session, folder, today=day)

    delivery = seed_delivery(session, folder, today=day, signing=signing, before_reports=follow_up)
    return SeedResult(tuple(added), tuple(present), users, delivery)


def demo_email(role: str, organisation: str) -> str:
    """The demo account of a role in an organisation: staff@nordlys-it.demo."""
    ascii_name = unicodedata.normalize("NFKD", organisation).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return f"{role}@{slug}.demo"


def seed_demo_users(session: Session, demo_parties: set[str]) -> tuple[str, ...]:
    """A staff, a finance and an admin account for every demo party without accounts
    (never for other organisations: the demo password is public)."""
    with session.begin():
        names = session.scalars(
            select(Organisation.name)
            .where(
                Organisation.name.in_(sorted(demo_parties)),
                ~Organisation.id.in_(select(Membership.organisation_id)),
            )
            .order_by(Organisation.name)
        ).all()
    added = []
    for name in names:
        for role in ROLES:
            email = demo_email(role, name)
            create_user(
                session, SYSTEM, email=email, name=f"{role.title()} at {name}",
                password=DEMO_PASSWORD, organisation=name, role=role,
            )  # fmt: skip
            added.append(email)
    return tuple(added)


def merged(document: Any, changes: Any) -> Any:
    """``document`` with ``changes`` laid over it; an object naming a ``method`` replaces."""
    if not isinstance(document, dict) or not isinstance(changes, dict) or "method" in changes:
        return changes
    result = dict(document)
    for key, value in changes.items():
        result[key] = merged(document.get(key), value)
    return result
