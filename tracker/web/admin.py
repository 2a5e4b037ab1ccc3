"""Administration: the users of the organisations an administrator manages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, SelectField, StringField
from wtforms.fields import SelectChoice

from tracker.db.account_models import ROLES
from tracker.db.session import request_session
from tracker.domain.errors import InvalidTerms
from tracker.services import accounts
from tracker.services.errors import DuplicateName
from tracker.web.auth import current_actor, request_info

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


class NewUserForm(FlaskForm):  # type: ignore[misc]
    """A new account in one of the administrator's organisations."""

    email = EmailField("E-mail address")
    name = StringField("Name")
    organisation = SelectField("Organisation")
    role = SelectField("Role", choices=[SelectChoice(role, role) for role in ROLES])


@blueprint.route("/users", methods=["GET", "POST"])
def users() -> str | tuple[str, int]:
    """The users list and the form to add one; a new account's password is shown once."""
    actor = current_actor()
    session = request_session()
    organisations = accounts.administered_organisations(session, actor)
    form = NewUserForm()
    form.organisation.choices = [SelectChoice(name, name) for _id, name in organisations]
    status = 200
    created_password = None
    if form.validate_on_submit():
        password = accounts.new_password()
        try:
            accounts.create_user(
                session,
                actor,
                email=form.email.data or "",
                name=form.name.data or "",
                password=password,
                organisation=form.organisation.data or "",
                role=form.role.data or "",
                request=request_info(),
            )
        except InvalidTerms as exc:
            for error in exc.errors:
                field = getattr(form, error.path, None)
                (field.errors if field is not None else form.form_errors).append(error.message)
            status = 422
        except DuplicateName as exc:
            form.email.errors = [str(exc)]
            status = 422
        else:
            created_password = (form.email.data, password)
            form = NewUserForm(formdata=None)
            form.organisation.choices = [SelectChoice(n, n) for _id, n in organisations]
    elif request.method == "POST":
        status = 400
    listed = accounts.user_summaries(session, actor)
    page = render_template(
        "admin_users.html", users=listed, form=form, created_password=created_password
    )
    return page, status


@blueprint.post("/users/disable")
def disable() -> BaseResponse:
    """Disable an account: it can no longer sign in and its sessions end now."""
    return _set_disabled(disabled=True)


@blueprint.post("/users/enable")
def enable() -> BaseResponse:
    """Let a disabled account sign in again."""
    return _set_disabled(disabled=False)


@blueprint.post("/users/reset-password")
def reset_password() -> str:
    """Give an account a new random password, shown once to the administrator."""
    email = request.form.get("email", "")
    password = accounts.new_password()
    accounts.reset_password(request_session(), current_actor(), email, password, request_info())
    return render_template("admin_password.html", email=email, password=password)


def _set_disabled(*, disabled: bool) -> BaseResponse:
    email = request.form.get("email", "")
    accounts.set_disabled(request_session(), current_actor(), email, disabled, request_info())
    flash(f"{email} {'disabled' if disabled else 'enabled'}.", "success")
    return redirect(url_for(".users"), 303)
