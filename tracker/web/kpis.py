"""Service levels: KPI definitions with yearly targets, results, and trend charts."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("kpis", __name__)
