"""Jinja filters for money, rates and percentages, so templates never format numbers."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from tracker.domain.money import currency, units_text
from tracker.domain.schedule import PCT_PLACES
from tracker.reporting.schedule_formats import percent_display


def money(units: int | None, code: str) -> str:
    """Minor units as a grouped amount with the currency's places: 1,234.56."""
    if units is None:
        return ""
    return units_text(int(units), currency(code), grouped=True)


def rate(value: Decimal | None) -> str:
    """A rate as a percentage: 0.0139 -> 1.39 %."""
    return "" if value is None else percent_display(value)


def pct(ten_thousandths: int | None) -> str:
    """Efficiency in ten-thousandths as a percentage: 400 -> 4.00 %."""
    if ten_thousandths is None:
        return "—"
    return percent_display(Decimal(ten_thousandths).scaleb(-PCT_PLACES))


def signed_money(units: int | None, code: str) -> str:
    """An amount with an explicit sign, for differences: +1,000.00 / −250.00."""
    if units is None:
        return ""
    text = money(abs(units), code)
    if units > 0:
        return f"+{text}"
    return f"−{text}" if units < 0 else text


def signed_pct(ten_thousandths: int | None) -> str:
    """A relative difference in ten-thousandths with its sign: +2.50 % / −1.00 %."""
    if ten_thousandths is None:
        return "—"
    text = pct(abs(ten_thousandths))
    if ten_thousandths > 0:
        return f"+{text}"
    return f"−{text}" if ten_thousandths < 0 else text


def decimal_text(value: Decimal | None) -> str:
    """An exact decimal as written, without exponent or trailing zeros: 99.90 -> 99.9."""
    if value is None:
        return ""
    whole = value.to_integral()
    return f"{whole:f}" if value == whole else f"{value.normalize():f}"


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.add_template_filter(money)
    app.add_template_filter(signed_money)
    app.add_template_filter(rate)
    app.add_template_filter(pct)
    app.add_template_filter(signed_pct)
    app.add_template_filter(decimal_text)
    app.add_template_filter(amount)
    app.add_template_filter(signed_amount)
    app.add_template_filter(share)
    app.add_template_filter(signed_share)


def amount(text: str | None) -> str:
    """A canonical amount ("-1234.50") as read in a table: -1,234.50; a dash for none."""
    if text is None:
        return "—"
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{value:,.{places}f}".replace("-", "−")


def signed_amount(text: str | None) -> str:
    """A canonical amount with an explicit sign, for differences: +1,000.00 / −250.00."""
    if text is None:
        return "—"
    shown = amount(text)
    return f"+{shown}" if Decimal(text) > 0 else shown


def share(text: str | None) -> str:
    """A canonical decimal fraction ("0.0400") as a percentage: 4.00 %; a dash for none."""
    return "—" if text is None else percent_display(Decimal(text))


def signed_share(text: str | None) -> str:
    """A decimal fraction with its sign, for relative differences: +2.50 % / −1.00 %."""
    if text is None:
        return "—"
    value = Decimal(text)
    shown = percent_display(abs(value))
    return f"+{shown}" if value > 0 else (f"−{shown}" if value < 0 else shown)
