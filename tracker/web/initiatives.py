"""Improvement initiatives: propose, approve as each side, start, deliver, drop, spend."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("initiatives", __name__)
