"""Every page of the demo answers; a contract stored through the API reads back exactly."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_portfolio_lists_the_demo_contracts(seeded: object, client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "SD-FR-2024" in page.text
    assert "Workplace support" in page.text
