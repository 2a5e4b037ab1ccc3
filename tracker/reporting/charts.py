"""Schedule charts as SVG: one contract's price and cost curves, or one figure across scenarios.

Drawn with matplotlib's object API only (no pyplot, no global backend), so the
charts are safe inside the web app. The output is deterministic: the same data
gives the same bytes (fixed SVG id salt, no date, default style), and each
chart is cached by exactly the data it draws, which also gives its ETag.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

import matplotlib
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from tracker.domain.money import Currency, from_minor_units
from tracker.domain.schedule import PCT_PLACES, Schedule

#: The year fields an overlay chart can draw, with their legend text.
FIELD_LABELS: dict[str, str] = {
    "price": "Price",
    "baseline_cost": "Baseline cost",
    "planned_cost": "Planned cost",
    "efficiency_gain": "Efficiency gain",
    "efficiency_pct": "Efficiency gain %",
    "reinvest": "Reinvested",
    "buyer_credit": "Buyer credit",
    "vendor_gain": "Vendor gain",
    "net_price": "Net price",
    "gross_margin": "Gross margin",
    "net_margin": "Net margin",
    "reinvest_cumulative": "Reinvested to date",
}
#: The lines of the single-schedule chart, in drawing order.
SCHEDULE_FIELDS = ("price", "baseline_cost", "planned_cost", "net_margin")

# Bump when the drawing changes, so cached copies behind old ETags are not reused.
_STYLE_VERSION = "1"
# Drawn over matplotlib's default style, so rcParams changed elsewhere cannot alter the bytes.
SVG_RC: dict[str, Any] = {"svg.hashsalt": "tracker", "svg.fonttype": "none"}
# (divisor, suffix, smallest peak using it): below 10,000 plain numbers read better than "1.2k".
_SCALES = ((10**9, "bn", 10**9), (10**6, "M", 10**6), (10**3, "k", 10**4))
_MAX_TICK_LABELS = 15
# Characters XML 1.0 cannot carry at all: matplotlib would write an unparsable SVG.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# rc contexts and warning filters are process-wide, so one chart is drawn at a time.
DRAWING_LOCK = threading.Lock()


class _Chart(NamedTuple):
    """Everything a chart shows, and nothing else: the cache key and the ETag source."""

    title: str
    y_label: str
    currency: Currency
    percent: bool  # values are ten-thousandths (efficiency_pct), not minor units
    lines: tuple[tuple[str, tuple[int | None, ...]], ...]
    #: The y axis starts at zero (a whole picture), else it fits the lines (differences).
    from_zero: bool = False


def schedule_chart_svg(schedule: Schedule, title: str) -> str:
    """Price, baseline cost, planned cost and net margin by contract year, as SVG text."""
    return _render(_schedule_chart(schedule, title))


def schedule_chart_etag(schedule: Schedule, title: str) -> str:
    """A short hash of what ``schedule_chart_svg`` draws, for an HTTP ETag."""
    return _etag(_schedule_chart(schedule, title))


def overlay_chart_svg(
    series: Sequence[tuple[str, Schedule]], field: str = "price", title: str = ""
) -> str:
    """One line per named schedule for one year field, as SVG text (scenarios compared)."""
    return _render(_overlay_chart(series, field, title))


def overlay_chart_etag(
    series: Sequence[tuple[str, Schedule]], field: str = "price", title: str = ""
) -> str:
    """A short hash of what ``overlay_chart_svg`` draws, for an HTTP ETag."""
    return _etag(_overlay_chart(series, field, title))


def clear_chart_cache() -> None:
    """Forget every cached chart."""
    _render.cache_clear()


def _schedule_chart(schedule: Schedule, title: str) -> _Chart:
    """What the single-schedule chart draws."""
    lines = tuple(
        (FIELD_LABELS[key], tuple(getattr(year, key) for year in schedule.years))
        for key in SCHEDULE_FIELDS
    )
    code = schedule.currency.code
    return _Chart(plain_text(title), f"Amount ({code})", schedule.currency, False, lines, True)


def _overlay_chart(series: Sequence[tuple[str, Schedule]], field: str, title: str) -> _Chart:
    """What the overlay chart draws; ValueError for a bad field, no or mixed-currency schedules."""
    if field not in FIELD_LABELS:
        raise ValueError(f"cannot chart the field {field!r}")
    if not series:
        raise ValueError("an overlay chart needs at least one schedule")
    currencies = {schedule.currency for _name, schedule in series}
    if len(currencies) > 1:
        codes = ", ".join(sorted(money.code for money in currencies))
        raise ValueError(f"schedules in different currencies cannot share a chart: {codes}")
    money = series[0][1].currency
    lines = tuple(
        (plain_text(name), tuple(getattr(year, field) for year in schedule.years))
        for name, schedule in series
    )
    percent = field == "efficiency_pct"
    y_label = "Share of baseline cost" if percent else f"{FIELD_LABELS[field]} ({money.code})"
    return _Chart(plain_text(title) or FIELD_LABELS[field], y_label, money, percent, lines)


def plain_text(text: str) -> str:
    """User text without the characters an SVG (XML) document cannot hold."""
    return _NOT_XML.sub("", text)


def _etag(chart: _Chart) -> str:
    """16 hex digits of the sha256 of the chart's data, style version and matplotlib version."""
    # repr of ints, strs, bools and a frozen dataclass is stable across runs.
    source = repr((_STYLE_VERSION, matplotlib.__version__, chart))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=256)
def _render(chart: _Chart) -> str:
    """The chart as SVG text, drawn under matplotlib's default style."""
    return svg_drawing(lambda axes: _draw(axes, chart))


def svg_drawing(draw: Callable[[Axes], None], size: tuple[float, float] = (8, 4)) -> str:
    """What ``draw`` puts on one set of axes, as deterministic SVG text: one chart at a
    time (rc contexts and warning filters are process-wide), matplotlib's default style."""
    with DRAWING_LOCK, warnings.catch_warnings(), matplotlib.style.context(["default", SVG_RC]):
        # Text is left to the browser's fonts (svg.fonttype none): a glyph missing
        # from matplotlib's font only affects its layout estimate, not the chart.
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        figure = Figure(figsize=size, layout="tight")
        draw(figure.add_subplot())
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue().decode("utf-8")


def _draw(axes: Axes, chart: _Chart) -> None:
    """Lines, axes, grid, title and legend of one chart."""
    handles: list[Line2D] = []
    labels: list[str] = []
    drawn: list[float] = []
    for label, values in chart.lines:
        ys = [_plotted(value, chart) for value in values]
        # Markers keep a one-year term (a single point per line) visible.
        (line,) = axes.plot(range(1, len(ys) + 1), ys, marker="o", markersize=4, linewidth=1.8)
        handles.append(line)
        labels.append(label)
        drawn += [y for y in ys if not math.isnan(y)]
    years = max((len(values) for _label, values in chart.lines), default=0)
    axes.set_xlim(0.5, max(years, 1) + 0.5)
    stride = math.ceil(years / _MAX_TICK_LABELS) or 1
    ticks = list(range(1, years + 1, stride))
    axes.set_xticks(ticks, labels=[f"Y{year}" for year in ticks])
    axes.set_xlabel("Contract year")
    if chart.percent:
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    else:
        peak = max((abs(y) for y in drawn), default=0.0)
        scale, suffix = next(((s, x) for s, x, least in _SCALES if peak >= least), (1, ""))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _tick(y, scale, suffix)))
    axes.set_ylabel(chart.y_label, parse_math=False)
    if drawn and min(drawn) < 0:
        axes.axhline(0, color="0.35", linewidth=0.8)
    elif chart.from_zero:
        axes.set_ylim(bottom=0)
    axes.grid(visible=True, color="0.9", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_title(chart.title, loc="left", parse_math=False)
    # Explicit handles keep labels that start with "_", which matplotlib would hide.
    legend = axes.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
    )
    for text in legend.get_texts():
        text.set_parse_math(False)  # a "$" in a scenario name is money, not TeX


def _plotted(value: int | None, chart: _Chart) -> float:
    """A drawn value in major units (or as a fraction); NaN leaves a gap."""
    if value is None:
        return math.nan
    if chart.percent:
        return float(Decimal(value).scaleb(-PCT_PLACES))
    return float(from_minor_units(value, chart.currency))


def _tick(value: float, scale: int, suffix: str) -> str:
    """An axis value with thousands separators and a scale suffix: 1,200, 40k, 1.25M."""
    text = f"{value / scale:,.3f}".rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        return "0"
    return text + suffix
