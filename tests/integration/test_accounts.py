"""Accounts at the service level: users and their validation, administrators limited to
their own organisation, password checks, argon2 hashes, and login sessions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from tracker.db.account_models import LoginSession, Membership, User
from tracker.db.session import engine_of
from tracker.domain.errors import InvalidTerms
from tracker.services import accounts
from tracker.services.access import SYSTEM, Actor
from tracker.services.errors import DuplicateName, Forbidden, NotFound

PASSWORD = "a long enough password"
HOUR = timedelta(hours=1)


class CountingHasher:
    """The test hasher, counting every hash and verification."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def hash(self, password: str) -> str:
        self.calls.append("hash")
        return str(self.inner.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self.calls.append("verify")
        return bool(self.inner.verify(stored, password))

    def check_needs_rehash(self, stored: str) -> bool:
        return bool(self.inner.check_needs_rehash(stored))


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(accounts._HASHER)
    monkeypatch.setattr(accounts, "_HASHER", counting)
    return counting


@pytest.fixture
def orgs(session: Session) -> dict[str, int]:
    """Two organisations, A and B."""
    return {
        name: accounts.create_organisation(session, SYSTEM, name) for name in ("Org A", "Org B")
    }


def new_user(
    session: Session,
    email: str,
    organisation: str = "Org A",
    role: str = "staff",
    actor: Actor = SYSTEM,
    password: str = PASSWORD,
) -> int:
    return accounts.create_user(
        session,
        actor,
        email=email,
        name=email.split("@", maxsplit=1)[0].title(),
        password=password,
        organisation=organisation,
        role=role,
    )


def admin_of(orgs: dict[str, int], name: str) -> Actor:
    return Actor(user_id=None, label=f"admin of {name}", memberships={orgs[name]: "admin"})


def user_row(session: Session, email: str) -> User:
    with session.begin():
        user = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


def users(session: Session) -> int:
    with session.begin():
        return session.scalar(select(func.count()).select_from(User)) or 0


# -- creating users -----------------------------------------------------------------------------


def test_a_new_user_is_stored_with_a_normalised_address_and_its_membership(
    session: Session, orgs: dict[str, int]
) -> None:
    user_id = new_user(session, "  Ana@Example.COM ", role="finance")

    user = user_row(session, "ana@example.com")
    assert user.id == user_id
    assert user.name == "Ana"
    assert user.disabled_at is None
    with session.begin():
        memberships = session.execute(
            select(Membership.organisation_id, Membership.role).where(Membership.user_id == user_id)
        ).all()
    assert [tuple(m) for m in memberships] == [(orgs["Org A"], "finance")]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "ana@localhost"}, "email"),
        ({"email": "ana@exa mple.com"}, "email"),
        ({"email": "ana@example.com\n"}, None),  # trailing whitespace is trimmed: accepted
        ({"email": "a\x00na@example.com"}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 9}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"role": "owner"}, "role"),
        ({"role": ""}, "role"),
        ({"organisation": "No Such Org"}, "organisation"),
    ],
)
def test_create_user_refuses_bad_values_naming_the_field(
    session: Session, orgs: dict[str, int], changes: dict[str, str], field: str | None
) -> None:
    values = {
        "email": "ana@example.com",
        "name": "Ana",
        "password": PASSWORD,
        "organisation": "Org A",
        "role": "staff",
        **changes,
    }
    if field is None:
        assert accounts.create_user(session, SYSTEM, **values) > 0
        return
    with pytest.raises(InvalidTerms) as caught:
        accounts.create_user(session, SYSTEM, **values)
    assert [error.path for error in caught.value.errors] == [field]
    assert users(session) == 0


def test_passwords_of_10_and_256_characters_are_accepted(
    session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "ten@example.com", password="x" * 10)
    new_user(session, "long@example.com", password="y" * 256)
    assert accounts.authenticate(session, "ten@example.com", "x" * 10) is not None
    assert accounts.authenticate(session, "long@example.com", "y" * 256) is not None


def test_a_second_account_with_the_same_address_is_a_duplicate(
    session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "ana@example.com")
    with pytest.raises(DuplicateName) as caught:
        new_user(session, "ANA@example.com ", organisation="Org B")
    assert caught.value.field == "email"
    assert users(session) == 1


def test_only_administrators_create_users(session: Session, orgs: dict[str, int]) -> None:
    for role in ("staff", "finance"):
        actor = Actor(user_id=None, label=role, memberships={orgs["Org A"]: role})
        with pytest.raises(Forbidden):
            new_user(session, f"{role}-made@example.com", actor=actor)
    assert users(session) == 0


def test_an_administrator_creates_users_in_its_own_organisation(
    session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "made-by-admin@example.com", actor=admin_of(orgs, "Org A"))
    assert users(session) == 1


def test_an_administrator_of_a_cannot_create_a_user_in_b(
    session: Session, orgs: dict[str, int]
) -> None:
    with pytest.raises(InvalidTerms) as caught:
        new_user(session, "mole@example.com", "Org B", "admin", actor=admin_of(orgs, "Org A"))
    assert [error.path for error in caught.value.errors] == ["organisation"]
    assert users(session) == 0


def test_an_administrator_of_a_cannot_disable_or_reset_a_user_of_b(
    session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "bea@example.com", organisation="Org B")
    before = user_row(session, "bea@example.com")
    admin = admin_of(orgs, "Org A")

    with pytest.raises(NotFound):
        accounts.set_disabled(session, admin, "bea@example.com", True)
    with pytest.raises(NotFound):
        accounts.set_disabled(session, admin, "bea@example.com", False)
    with pytest.raises(NotFound):
        accounts.reset_password(session, admin, "bea@example.com", "a new password here")

    after = user_row(session, "bea@example.com")
    assert (after.disabled_at, after.password_hash, after.version) == (
        None,
        before.password_hash,
        before.version,
    )
    assert accounts.authenticate(session, "bea@example.com", PASSWORD) == before.id


def test_an_administrator_of_a_disables_enables_and_resets_a_user_of_a(
    session: Session, orgs: dict[str, int]
) -> None:
    user_id = new_user(session, "ana@example.com")
    admin = admin_of(orgs, "Org A")

    accounts.set_disabled(session, admin, "ana@example.com", True)
    assert user_row(session, "ana@example.com").disabled_at is not None
    accounts.set_disabled(session, admin, "Ana@Example.com", False)
    assert user_row(session, "ana@example.com").disabled_at is None
    accounts.reset_password(session, admin, "ana@example.com", "the new password")
    assert accounts.authenticate(session, "ana@example.com", PASSWORD) is None
    assert accounts.authenticate(session, "ana@example.com", "the new password") == user_id


def test_unknown_accounts_are_not_found_for_disable_and_reset(
    session: Session, orgs: dict[str, int]
) -> None:
    with pytest.raises(NotFound):
        accounts.set_disabled(session, SYSTEM, "nobody@example.com", True)
    with pytest.raises(NotFound):
        accounts.reset_password(session, SYSTEM, "nobody@example.com", "a new password here")


def test_a_reset_password_is_checked_like_a_new_one(session: Session, orgs: dict[str, int]) -> None:
    new_user(session, "ana@example.com")
    with pytest.raises(InvalidTerms) as caught:
        accounts.reset_password(session, SYSTEM, "ana@example.com", "short")
    assert [error.path for error in caught.value.errors] == ["password"]
    assert accounts.authenticate(session, "ana@example.com", PASSWORD) is not None


def test_an_administrator_lists_only_the_users_of_its_organisations(
    session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "ana@example.com")
    new_user(session, "bea@example.com", organisation="Org B")

    listed = accounts.user_summaries(session, admin_of(orgs, "Org A"))
    assert [(u.email, u.memberships) for u in listed] == [
        ("ana@example.com", (("Org A", "staff"),))
    ]
    assert accounts.administered_organisations(session, admin_of(orgs, "Org A")) == (
        (orgs["Org A"], "Org A"),
    )
    assert {u.email for u in accounts.user_summaries(session, SYSTEM)} == {
        "ana@example.com",
        "bea@example.com",
    }
    staff = Actor(user_id=None, label="staff", memberships={orgs["Org A"]: "staff"})
    with pytest.raises(Forbidden):
        accounts.user_summaries(session, staff)


def test_organisations_are_created_from_the_command_line_only(
    session: Session, orgs: dict[str, int]
) -> None:
    with pytest.raises(Forbidden):
        accounts.create_organisation(session, admin_of(orgs, "Org A"), "Org C")
    with pytest.raises(DuplicateName):
        accounts.create_organisation(session, SYSTEM, "Org A")


# -- authentication -----------------------------------------------------------------------------


def test_authenticate_returns_the_user_for_the_right_password_only(
    session: Session, orgs: dict[str, int]
) -> None:
    user_id = new_user(session, "ana@example.com")

    assert accounts.authenticate(session, "ana@example.com", PASSWORD) == user_id
    assert accounts.authenticate(session, " ANA@example.com ", PASSWORD) == user_id
    assert accounts.authenticate(session, "ana@example.com", PASSWORD.upper()) is None
    assert accounts.authenticate(session, "ana@example.com", PASSWORD + " ") is None
    assert accounts.authenticate(session, "ana@example.com", "") is None
    assert accounts.authenticate(session, "nobody@example.com", PASSWORD) is None


def test_an_unknown_account_costs_one_verification_like_a_wrong_password(
    session: Session, orgs: dict[str, int], hasher: CountingHasher
) -> None:
    new_user(session, "ana@example.com")
    hasher.calls.clear()

    assert accounts.authenticate(session, "nobody@example.com", PASSWORD) is None
    unknown = list(hasher.calls)
    hasher.calls.clear()
    assert accounts.authenticate(session, "ana@example.com", "wrong password") is None

    assert unknown == hasher.calls == ["verify"]


def test_a_disabled_account_cannot_sign_in_even_with_its_password(
    session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "ana@example.com")
    accounts.set_disabled(session, SYSTEM, "ana@example.com", True)
    assert accounts.authenticate(session, "ana@example.com", PASSWORD) is None
    accounts.set_disabled(session, SYSTEM, "ana@example.com", False)
    assert accounts.authenticate(session, "ana@example.com", PASSWORD) is not None


def test_a_megabyte_password_is_refused_without_hashing_it(
    session: Session, orgs: dict[str, int], hasher: CountingHasher
) -> None:
    new_user(session, "ana@example.com")
    hasher.calls.clear()

    assert accounts.authenticate(session, "ana@example.com", "x" * 1024 * 1024) is None
    assert accounts.authenticate(session, "ana@example.com", "x" * 257) is None

    assert hasher.calls == []


def test_passwords_are_stored_as_argon2_hashes_never_in_clear(
    app: Flask, session: Session, orgs: dict[str, int]
) -> None:
    new_user(session, "ana@example.com")
    stored = user_row(session, "ana@example.com").password_hash

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    with engine_of(app).connect() as connection:
        for table in ("users", "memberships", "audit_events", "login_sessions"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert PASSWORD not in " ".join(str(value) for value in row), table
    # The same password hashed again differs (a salt), and still verifies.
    assert accounts._HASHER.hash(PASSWORD) != stored


# -- login sessions -----------------------------------------------------------------------------


@pytest.fixture
def ana(session: Session, orgs: dict[str, int]) -> int:
    """ana@example.com: staff of Org A and finance of Org B."""
    user_id = new_user(session, "ana@example.com")
    with session.begin():
        session.add(Membership(user_id=user_id, organisation_id=orgs["Org B"], role="finance"))
    return user_id


def test_a_login_session_stores_only_a_hash_of_its_token(
    app: Flask, session: Session, ana: int
) -> None:
    token = accounts.start_login_session(session, ana, "192.0.2.7")

    assert len(token) >= 40
    with session.begin():
        rows = session.scalars(select(LoginSession)).all()
        assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert rows[0].user_id == ana
        assert rows[0].address == "192.0.2.7"
    with engine_of(app).connect() as connection:
        for table in ("login_sessions", "users", "audit_events"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                assert token not in " ".join(str(value) for value in row), table
    assert accounts.start_login_session(session, ana, None) != token


def test_the_actor_of_a_session_carries_the_users_memberships(
    session: Session, orgs: dict[str, int], ana: int
) -> None:
    token = accounts.start_login_session(session, ana, None)

    actor = accounts.actor_for_token(session, token, HOUR)

    assert actor == Actor(
        user_id=ana,
        label="ana@example.com",
        memberships={orgs["Org A"]: "staff", orgs["Org B"]: "finance"},
    )
    assert not actor.system
    assert accounts.actor_for_token(session, token + "x", HOUR) is None
    assert accounts.actor_for_token(session, "", HOUR) is None


def test_logging_out_ends_the_session_and_only_that_one(session: Session, ana: int) -> None:
    first = accounts.start_login_session(session, ana, None)
    second = accounts.start_login_session(session, ana, None)

    accounts.end_login_session(session, first)

    assert accounts.actor_for_token(session, first, HOUR) is None
    assert accounts.actor_for_token(session, second, HOUR) is not None


def test_disabling_an_account_ends_its_sessions(session: Session, ana: int) -> None:
    token = accounts.start_login_session(session, ana, None)
    assert accounts.actor_for_token(session, token, HOUR) is not None

    accounts.set_disabled(session, SYSTEM, "ana@example.com", True)

    assert accounts.actor_for_token(session, token, HOUR) is None
    with session.begin():
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0
    accounts.set_disabled(session, SYSTEM, "ana@example.com", False)
    assert accounts.actor_for_token(session, token, HOUR) is None  # not revived


def test_a_session_of_an_account_disabled_behind_the_services_back_is_refused(
    session: Session, ana: int
) -> None:
    token = accounts.start_login_session(session, ana, None)
    with session.begin():
        session.execute(update(User).where(User.id == ana).values(disabled_at=datetime.now(UTC)))

    assert accounts.actor_for_token(session, token, HOUR) is None


def test_a_new_password_ends_every_session(session: Session, ana: int) -> None:
    tokens = [accounts.start_login_session(session, ana, None) for _ in range(2)]

    accounts.reset_password(session, SYSTEM, "ana@example.com", "another good password")

    assert [accounts.actor_for_token(session, token, HOUR) for token in tokens] == [None, None]


def _idle_for(session: Session, minutes: int) -> None:
    with session.begin():
        session.execute(
            update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )


def test_an_idle_session_ends_and_an_active_one_is_kept_alive(session: Session, ana: int) -> None:
    token = accounts.start_login_session(session, ana, None)

    _idle_for(session, 50)
    assert accounts.actor_for_token(session, token, HOUR) is not None  # and refreshed
    with session.begin():
        seen = session.scalars(select(LoginSession.last_seen_at)).one()
    assert datetime.now(UTC) - seen < timedelta(minutes=1)

    _idle_for(session, 61)
    assert accounts.actor_for_token(session, token, HOUR) is None
    with session.begin():
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0
    _idle_for(session, 0)
    assert accounts.actor_for_token(session, token, HOUR) is None  # gone for good


def test_a_tiny_idle_timeout_ends_the_session_at_once(session: Session, ana: int) -> None:
    token = accounts.start_login_session(session, ana, None)
    assert accounts.actor_for_token(session, token, timedelta(microseconds=1)) is None
