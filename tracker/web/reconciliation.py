"""Finance reconciliation: the fund of every contract in delivery, and what does not tie out."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("reconciliation", __name__)
