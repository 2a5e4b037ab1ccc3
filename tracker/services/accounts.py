"""Accounts: organisations, users and their roles, passwords, and login sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.db.account_models import ROLES, LoginSession, Membership, User
from tracker.db.models import Organisation
from tracker.domain.errors import FieldError, InvalidTerms
from tracker.domain.fields import FieldReader
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo, record
from tracker.services.errors import DuplicateName, NotFound

#: Longest password accepted: hashing a megabyte would be an easy denial of service.
MAX_PASSWORD = 256
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Verified when the account is unknown, so both failures take the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class UserSummary:
    """A user as the administration pages list them."""

    id: int
    email: str
    name: str
    disabled: bool
    memberships: tuple[tuple[str, str], ...]  # (organisation name, role)
    version: int


def normalised_email(email: str) -> str:
    """An e-mail address as stored: trimmed, lower case; InvalidTerms if implausible."""
    text = email.strip().lower()
    local, at, domain = text.partition("@")
    if not (at and local and "." in domain and len(text) <= 254) or any(
        char.isspace() or ord(char) < 32 for char in text
    ):
        raise InvalidTerms(
            [FieldError("email", "expected an e-mail address such as ana@example.com")]
        )
    return text


def check_password(password: str) -> str:
    """A new password of MIN_PASSWORD to MAX_PASSWORD characters; InvalidTerms if not."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidTerms(
            [
                FieldError(
                    "password",
                    f"use {MIN_PASSWORD} to {MAX_PASSWORD} characters (a few words work well)",
                )
            ]
        )
    return password


def new_password() -> str:
    """A random password to hand to a person once (about 96 bits)."""
    return secrets.token_urlsafe(12)


def create_organisation(
    session: Session, actor: Actor, name: str, request: RequestInfo | None = None
) -> int:
    """A new organisation (from the command line); its name must be unique."""
    actor.require_system()
    checked = _name(name, "name")
    with session.begin():
        organisation = Organisation(name=checked, created_at=datetime.now(UTC))
        session.add(organisation)
        try:
            session.flush()
        except IntegrityError as exc:
            raise DuplicateName("name", f"an organisation is already called {checked}") from exc
        record(session, actor, "create", "organisation", organisation.id, after={"name": checked},
               request=request)  # fmt: skip
        return organisation.id


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    password: str,
    organisation: str,
    role: str,
    request: RequestInfo | None = None,
) -> int:
    """A new user with one membership, by an administrator of that organisation."""
    actor.require_admin()
    address = normalised_email(email)
    checked_name = _name(name, "name")
    check_password(password)
    if role not in ROLES:
        raise InvalidTerms([FieldError("role", f"expected one of {', '.join(ROLES)}")])
    password_hash = _HASHER.hash(password)
    with session.begin():
        org = session.scalars(
            select(Organisation).where(Organisation.name == organisation.strip())
        ).one_or_none()
        if org is None or not actor.administers(org.id):
            whose = "" if actor.system else " you administer"
            message = f"no organisation{whose} is called {organisation}"
            raise InvalidTerms([FieldError("organisation", message)])
        user = User(
            email=address,
            name=checked_name,
            password_hash=password_hash,
            created_at=datetime.now(UTC),
            version=1,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError as exc:
            raise DuplicateName("email", f"{address} already has an account") from exc
        session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))
        record(
            session, actor, "create", "user", user.id,
            after={"email": address, "name": checked_name, "organisation": org.name, "role": role},
            request=request,
        )  # fmt: skip
        return user.id


def set_disabled(
    session: Session, actor: Actor, email: str, disabled: bool, request: RequestInfo | None = None
) -> None:
    """Disable an account (its login sessions end at once) or enable it again."""
    actor.require_admin()
    with session.begin():
        user = _user(session, actor, email)
        before = user.disabled_at is not None
        user.disabled_at = datetime.now(UTC) if disabled else None
        if disabled:
            session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        action = "disable" if disabled else "enable"
        record(
            session, actor, action, "user", user.id,
            before={"disabled": before}, after={"disabled": disabled}, request=request,
        )  # fmt: skip


def reset_password(
    session: Session,
    actor: Actor,
    email: str,
    password: str,
    request: RequestInfo | None = None,
) -> None:
    """Give an account a new password; its login sessions end."""
    actor.require_admin()
    check_password(password)
    password_hash = _HASHER.hash(password)
    with session.begin():
        user = _user(session, actor, email)
        user.password_hash = password_hash
        session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        record(session, actor, "reset-password", "user", user.id, request=request)


def authenticate(session: Session, email: str, password: str) -> int | None:
    """The id of the enabled account with this e-mail and password, else None.

    Unknown accounts, disabled ones and wrong passwords are indistinguishable."""
    if len(password) > MAX_PASSWORD or not _plain(email):
        return None
    with session.begin():
        user = session.scalars(
            select(User).where(User.email == email.strip().lower())
        ).one_or_none()
        stored = user.password_hash if user is not None else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled_at is not None:
            return None
        if _HASHER.check_needs_rehash(stored):
            user.password_hash = _HASHER.hash(password)
        return user.id


def start_login_session(session: Session, user_id: int, address: str | None) -> str:
    """A new login session for the user; returns the token the cookie will carry."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with session.begin():
        session.add(
            LoginSession(
                token_hash=_token_hash(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                address=address,
            )
        )
        user = session.get(User, user_id)
        assert user is not None
        record(session, Actor(user.id, user.email), "login", "user", user.id)
    return token


def actor_for_token(session: Session, token: str, idle: timedelta) -> Actor | None:
    """The actor of a live login session, or None (unknown, ended, idle, disabled).

    Refreshes the session's last activity at most once a minute."""
    now = datetime.now(UTC)
    with session.begin():
        login = session.get(LoginSession, _token_hash(token))
        if login is None:
            return None
        if now - login.last_seen_at > idle:
            session.delete(login)
            return None
        user = session.scalars(
            select(User).where(User.id == login.user_id).options(selectinload(User.memberships))
        ).one()
        if user.disabled_at is not None:
            session.delete(login)
            return None
        if now - login.last_seen_at > timedelta(minutes=1):
            login.last_seen_at = now
        return Actor(
            user_id=user.id,
            label=user.email,
            memberships={m.organisation_id: m.role for m in user.memberships},
        )


def end_login_session(session: Session, token: str) -> None:
    """Log out: the token stops working everywhere."""
    with session.begin():
        session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))


def user_summaries(session: Session, actor: Actor) -> tuple[UserSummary, ...]:
    """The users of the organisations the actor administers, with their memberships."""
    actor.require_admin()
    with session.begin():
        query = select(User).options(
            selectinload(User.memberships).selectinload(Membership.organisation)
        )
        if not actor.system:
            administered = [org for org, role in actor.memberships.items() if role == "admin"]
            query = query.where(
                User.id.in_(
                    select(Membership.user_id).where(Membership.organisation_id.in_(administered))
                )
            )
        users = session.scalars(query.order_by(func.lower(User.email))).all()
        return tuple(
            UserSummary(
                user.id,
                user.email,
                user.name,
                user.disabled_at is not None,
                tuple((m.organisation.name, m.role) for m in user.memberships),
                user.version,
            )
            for user in users
        )


def administered_organisations(session: Session, actor: Actor) -> tuple[tuple[int, str], ...]:
    """The organisations whose users the actor manages (every one for the command line)."""
    actor.require_admin()
    with session.begin():
        query = select(Organisation.id, Organisation.name).order_by(Organisation.name)
        if not actor.system:
            query = query.where(
                Organisation.id.in_([o for o, role in actor.memberships.items() if role == "admin"])
            )
        return tuple((row[0], row[1]) for row in session.execute(query).all())


def user_count(session: Session) -> int:
    """How many accounts exist."""
    with session.begin():
        return session.scalar(select(func.count(User.id))) or 0


def _user(session: Session, actor: Actor, email: str) -> User:
    """An account the actor administers (one of its organisations); NotFound otherwise."""
    if not _plain(email):
        raise NotFound("no such account")
    user = session.scalars(
        select(User)
        .where(User.email == email.strip().lower())
        .options(selectinload(User.memberships))
    ).one_or_none()
    if user is None or not any(actor.administers(m.organisation_id) for m in user.memberships):
        raise NotFound(f"no account for {email}")
    return user


def _name(value: str, path: str) -> str:
    reader = FieldReader()
    checked = reader.text(value, path)
    if checked is None:
        raise InvalidTerms(reader.errors)
    return checked


def _token_hash(token: str) -> str:
    # Only a hash is stored: a copy of the database does not hand out live sessions.
    return hashlib.sha256(token.encode()).hexdigest()


def _plain(text: str) -> bool:
    """Text without control characters (PostgreSQL refuses NUL in a query)."""
    return len(text) <= 254 and not any(ord(char) < 32 or ord(char) == 127 for char in text)
