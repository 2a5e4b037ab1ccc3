"""Delivery years of a contract: plan against actuals, the fund, the year view and its close."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("delivery", __name__, url_prefix="/contracts")
