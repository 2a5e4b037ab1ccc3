"""Importing delivery figures from CSV and XLSX, and exporting them."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("imports", __name__)
