"""The pulse of a relationship as SVG: each side's rating (1-5) quarter by quarter.

One line per side, a gap where a side did not rate, and a light red band over the
quarters whose two ratings lie two or more points apart. Drawn with matplotlib's
object API under the lock, style and SVG settings of tracker.reporting.charts, so the
same ratings give the same bytes; cached by exactly the data it draws, which also
gives its ETag. The data of the chart is the table on the pulse page.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from typing import NamedTuple

import matplotlib
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from tracker.reporting import charts

# Bump when the drawing changes, so cached copies behind old ETags are not reused.
_STYLE_VERSION = "1"
_COLOURS = {"buyer": "#0d6efd", "vendor": "#198754"}
_MARKERS = {"buyer": "o", "vendor": "s"}
_GAP_COLOUR = "#dc3545"
#: Ratings this many points apart are shaded (tracker.domain.pulse.DIVERGENCE_GAP).
_SHADED_GAP = 2
_MAX_TICK_LABELS = 12


class PulseSeries(NamedTuple):
    """Everything the chart shows, oldest quarter first: the cache key and the ETag source."""

    title: str
    quarters: tuple[str, ...]
    buyer: tuple[int | None, ...]
    vendor: tuple[int | None, ...]


def pulse_chart_svg(series: PulseSeries) -> str:
    """Both sides' ratings by quarter, as SVG text."""
    return _render(_cleaned(series))


def pulse_chart_etag(series: PulseSeries) -> str:
    """16 hex digits of the sha256 of what ``pulse_chart_svg`` draws, for an HTTP ETag."""
    source = repr((_STYLE_VERSION, matplotlib.__version__, tuple(_cleaned(series))))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def clear_pulse_chart_cache() -> None:
    """Forget every cached pulse chart."""
    _render.cache_clear()


def _cleaned(series: PulseSeries) -> PulseSeries:
    """The series with user text stripped of what an SVG (XML) document cannot hold."""
    return series._replace(title=charts.plain_text(series.title))


@lru_cache(maxsize=128)
def _render(series: PulseSeries) -> str:
    return charts.svg_drawing(lambda axes: _draw(axes, series), size=(8, 3.6))


def _draw(axes: Axes, series: PulseSeries) -> None:
    """The divergence bands, one line per side, axes and legend."""
    count = len(series.quarters)
    positions = list(range(count))
    for x, buyer, vendor in zip(positions, series.buyer, series.vendor, strict=True):
        if buyer is not None and vendor is not None and abs(buyer - vendor) >= _SHADED_GAP:
            axes.axvspan(x - 0.4, x + 0.4, color=_GAP_COLOUR, alpha=0.12, linewidth=0)
    handles: list[Line2D] = []
    for side, ratings in (("buyer", series.buyer), ("vendor", series.vendor)):
        values = [math.nan if r is None else float(r) for r in ratings]
        if all(math.isnan(v) for v in values):
            continue
        (line,) = axes.plot(
            positions, values, marker=_MARKERS[side], markersize=6, linewidth=1.8,
            color=_COLOURS[side], label=f"{side.title()}",
        )  # fmt: skip
        handles.append(line)
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.set_ylabel("Rating (5 is best)")
    axes.set_xlim(-0.5, max(count, 1) - 0.5)
    stride = math.ceil(count / _MAX_TICK_LABELS) or 1
    ticks = positions[::stride]
    axes.set_xticks(ticks, labels=[series.quarters[i] for i in ticks])
    axes.grid(visible=True, color="0.9", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_title(series.title, loc="left", parse_math=False)
    if not handles:
        axes.text(
            0.5, 0.5, "No rating yet", transform=axes.transAxes,
            ha="center", va="center", color="0.45", parse_math=False,
        )  # fmt: skip
        return
    legend = axes.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
