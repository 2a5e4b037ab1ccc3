"""Signing in and out, and the person every request acts for.

The session cookie carries only a random login-session token; the database says
whether it is still live (not logged out, not idle too long, account enabled).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, PasswordField

from tracker.db.session import request_session
from tracker.services import accounts
from tracker.services.access import Actor
from tracker.services.audit import RequestInfo
from tracker.web.errors import request_id

blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)

#: Endpoints anyone may reach: the login page and the static files it needs.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "bootstrap.static"})
#: A login form is a few hundred bytes; refuse big bodies before parsing or hashing.
MAX_LOGIN_BODY = 16 * 1024
LOGIN_FAILED = "Unknown e-mail address or wrong password."


class SignedIn:
    """The Flask-Login user: a live login session and the actor it stands for."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, token: str, actor: Actor) -> None:
        self.token = token
        self.actor = actor

    def get_id(self) -> str:
        """What the session cookie keeps: the login-session token."""
        return self.token


class LoginForm(FlaskForm):  # type: ignore[misc]
    """E-mail address and password."""

    email = EmailField("E-mail address")
    password = PasswordField("Password")


def init_app(app: Flask) -> None:
    """Login manager, throttling, and the sign-in requirement on every other page."""
    app.config.setdefault("IDLE_TIMEOUT_MINUTES", 60)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("LOGIN_ATTEMPTS", "5 per minute")
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side token does this job
    login_manager.user_loader(_load_user)
    limiter.init_app(app)
    app.before_request(_require_sign_in)
    app.register_blueprint(blueprint)


def current_actor() -> Actor:
    """The person the current request acts for (views run signed in only)."""
    user = current_user._get_current_object()
    if not isinstance(user, SignedIn):
        abort(401)
    return user.actor


def request_info() -> RequestInfo:
    """Where the current change comes from, for the audit trail."""
    return RequestInfo(request_id=request_id(), address=request.remote_addr)


def _load_user(token: str) -> SignedIn | None:
    idle = timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
    actor = accounts.actor_for_token(request_session(), token, idle)
    return None if actor is None else SignedIn(token, actor)


def _require_sign_in() -> BaseResponse | tuple[Response, int] | None:
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.path.startswith("/api/"):
        return jsonify(error="sign in first", status=401, request_id=request_id()), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _account_key() -> str:
    # An oversized form is refused by the view: never parse it just to count it.
    if (request.content_length or 0) > MAX_LOGIN_BODY:
        return "account:"
    return "account:" + str(request.form.get("email", "")).strip().lower()[:254]


def _failed(response: Response) -> bool:
    return response.status_code != 303


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ATTEMPTS"], methods=["POST"],
               deduct_when=_failed)  # fmt: skip
@limiter.limit(lambda: current_app.config["LOGIN_ATTEMPTS"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed)  # fmt: skip
def login() -> str | BaseResponse | tuple[str, int]:
    """The sign-in page; one message for an unknown address and a wrong password."""
    if request.method == "POST" and (request.content_length or 0) > MAX_LOGIN_BODY:
        abort(413, "A sign-in form is a few hundred bytes.")
    form = LoginForm()
    if form.validate_on_submit():
        user_id = accounts.authenticate(
            request_session(), form.email.data or "", form.password.data or ""
        )
        if user_id is not None:
            token = accounts.start_login_session(request_session(), user_id, request.remote_addr)
            session.clear()  # a new session at every sign-in
            idle = timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
            actor = accounts.actor_for_token(request_session(), token, idle)
            assert actor is not None
            login_user(SignedIn(token, actor))
            return redirect(safe_next(request.args.get("next")), 303)
        form.password.errors = [LOGIN_FAILED]
        return render_template("login.html", form=form), 401
    return render_template("login.html", form=form), 200 if request.method == "GET" else 400


@blueprint.post("/logout")
def logout() -> BaseResponse:
    """Sign out: the session's token stops working, on this browser and any copy of it."""
    user = current_user._get_current_object()
    if isinstance(user, SignedIn):
        accounts.end_login_session(request_session(), user.token)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


def safe_next(target: str | None) -> str:
    """``next`` when it is a path of this site, else the portfolio."""
    if not target:
        return url_for("portfolio.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("portfolio.index")
    if "\\" in target or any(ord(char) < 32 for char in target):
        return url_for("portfolio.index")
    return target
