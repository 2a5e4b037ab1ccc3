"""A KPI's trend as SVG: the target of each contract year, the results, and the quarters.

Each year's target is a short level across the year with the near (amber) band
beside it, the yearly results are joined by a line, and quarterly results are
small points spread over their year. Drawn with matplotlib's object API under the
same lock, style and SVG settings as the schedule charts (tracker.reporting.charts),
so the output is deterministic and cached by exactly the data it draws, which
also gives its ETag. The data of the chart is the KPI's table on its page.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

import matplotlib
import matplotlib.style
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import ScalarFormatter

from tracker.reporting import charts

# Bump when the drawing changes, so cached copies behind old ETags are not reused.
_STYLE_VERSION = "1"
#: Where each quarter's point sits within its contract year (the year is 1 wide).
QUARTER_OFFSETS = (-0.3, -0.1, 0.1, 0.3)
_TARGET_HALF_WIDTH = 0.42
_TARGET_COLOUR = "#495057"
_BAND_COLOUR = "#ffc107"
_RESULT_COLOUR = "#0d6efd"
_QUARTER_COLOUR = "#6ea8fe"
_MAX_TICK_LABELS = 15


class TrendYear(NamedTuple):
    """One contract year of a KPI: its target, its result and its quarterly results."""

    year: int
    target: Decimal | None
    actual: Decimal | None
    quarters: tuple[Decimal | None, ...] = ()


class KpiTrend(NamedTuple):
    """Everything the trend chart shows, and nothing else: the cache key and the ETag source."""

    name: str
    unit: str
    higher_is_better: bool
    tolerance: Decimal
    years: tuple[TrendYear, ...]


def kpi_chart_svg(trend: KpiTrend) -> str:
    """The KPI's targets and results by contract year, as SVG text."""
    return _render(_cleaned(trend))


def kpi_chart_etag(trend: KpiTrend) -> str:
    """16 hex digits of the sha256 of what ``kpi_chart_svg`` draws, for an HTTP ETag."""
    # Decimals go in as their text: the repr of strs, ints and bools is stable across runs.
    cleaned = _cleaned(trend)
    source = repr(
        (
            _STYLE_VERSION,
            matplotlib.__version__,
            cleaned.name,
            cleaned.unit,
            cleaned.higher_is_better,
            str(cleaned.tolerance),
            tuple(
                (y.year, _text(y.target), _text(y.actual), tuple(_text(q) for q in y.quarters))
                for y in cleaned.years
            ),
        )
    )
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def clear_kpi_chart_cache() -> None:
    """Forget every cached trend chart."""
    _render.cache_clear()


def _cleaned(trend: KpiTrend) -> KpiTrend:
    """The trend with user text stripped of what an SVG (XML) document cannot hold."""
    return trend._replace(name=charts.plain_text(trend.name), unit=charts.plain_text(trend.unit))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


@lru_cache(maxsize=256)
def _render(trend: KpiTrend) -> str:
    """The chart as SVG text, drawn under matplotlib's default style."""
    return charts.svg_drawing(lambda axes: _draw(axes, trend))


def _draw(axes: Axes, trend: KpiTrend) -> None:
    """Target levels with their near band, the results line, quarterly points, axes, legend."""
    tolerance = float(trend.tolerance)
    # The near band lies on the losing side of the target: below it when higher is better.
    towards = -1.0 if trend.higher_is_better else 1.0
    handles: list[Artist] = []
    labels: list[str] = []
    target_line: Line2D | None = None
    for entry in trend.years:
        if entry.target is None:
            continue
        level = float(entry.target)
        left, right = entry.year - _TARGET_HALF_WIDTH, entry.year + _TARGET_HALF_WIDTH
        if tolerance > 0:
            axes.fill_between(
                [left, right], level, level + towards * tolerance,
                color=_BAND_COLOUR, alpha=0.25, linewidth=0,
            )  # fmt: skip
        (target_line,) = axes.plot(
            [left, right], [level, level], color=_TARGET_COLOUR, linewidth=2.2
        )
    if target_line is not None:
        handles.append(target_line)
        labels.append("Target")
        if tolerance > 0:
            handles.append(Patch(facecolor=_BAND_COLOUR, alpha=0.25, linewidth=0))
            labels.append("Near (within tolerance)")
    quarters = [
        (entry.year + offset, float(value))
        for entry in trend.years
        for offset, value in zip(QUARTER_OFFSETS, entry.quarters, strict=False)
        if value is not None
    ]
    if quarters:
        (points,) = axes.plot(
            [x for x, _ in quarters], [y for _, y in quarters], linestyle="none",
            marker="o", markersize=3.5, color=_QUARTER_COLOUR,
        )  # fmt: skip
        handles.append(points)
        labels.append("Quarterly result")
    results = [math.nan if y.actual is None else float(y.actual) for y in trend.years]
    if any(not math.isnan(value) for value in results):
        # Markers keep a lone result (no neighbour to join) visible.
        (line,) = axes.plot(
            [y.year for y in trend.years], results, marker="o", markersize=6,
            linewidth=1.8, color=_RESULT_COLOUR,
        )  # fmt: skip
        handles.append(line)
        labels.append("Result")
    years = len(trend.years)
    axes.set_xlim(0.5, max(years, 1) + 0.5)
    stride = math.ceil(years / _MAX_TICK_LABELS) or 1
    ticks = list(range(1, years + 1, stride))
    axes.set_xticks(ticks, labels=[f"Y{year}" for year in ticks])
    axes.set_xlabel("Contract year")
    formatter = ScalarFormatter(useOffset=False)
    formatter.set_powerlimits((-6, 9))
    axes.yaxis.set_major_formatter(formatter)
    better = "higher" if trend.higher_is_better else "lower"
    axes.set_ylabel(f"{trend.unit} ({better} is better)", parse_math=False)
    axes.grid(visible=True, color="0.9", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_title(trend.name, loc="left", parse_math=False)
    if not handles:
        axes.text(
            0.5, 0.5, "No target or result yet", transform=axes.transAxes,
            ha="center", va="center", color="0.45", parse_math=False,
        )  # fmt: skip
        axes.set_yticks([])
        return
    legend = axes.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
