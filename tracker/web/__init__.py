"""The web interface: one blueprint per area, error pages and template filters."""

from __future__ import annotations

from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect

from tracker.web import (
    account_map,
    admin,
    api,
    auth,
    concerns,
    contracts,
    delivery,
    errors,
    filters,
    followup,
    imports,
    initiatives,
    kpis,
    lifecycle,
    meetings,
    onboarding,
    portfolio,
    pulse,
    reconciliation,
    reports,
    scenarios,
    security_headers,
)
from tracker.web.converters import IdConverter

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Register everything the web interface needs on ``app``."""
    app.url_map.converters["id"] = IdConverter
    Bootstrap5(app)
    csrf.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    filters.init_app(app)
    auth.init_app(app)
    app.register_blueprint(portfolio.blueprint)
    app.register_blueprint(contracts.blueprint)
    app.register_blueprint(scenarios.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(delivery.blueprint)
    app.register_blueprint(reconciliation.blueprint)
    app.register_blueprint(kpis.blueprint)
    app.register_blueprint(initiatives.blueprint)
    app.register_blueprint(imports.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(followup.blueprint)
    app.register_blueprint(onboarding.blueprint)
    app.register_blueprint(meetings.blueprint)
    app.register_blueprint(concerns.blueprint)
    app.register_blueprint(pulse.blueprint)
    app.register_blueprint(lifecycle.blueprint)
    app.register_blueprint(account_map.blueprint)
    csrf.exempt(api.blueprint)
