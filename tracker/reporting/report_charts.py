"""The annual report's charts as SVG: price and cost curves, the fund, and each KPI's trend.

They read only the plain report document (tracker.services.report_document), so the
page, the PDF and the frozen snapshot draw the same pictures. Each chart is
reduced to exactly the data it draws (as canonical text), hashed with the style and
matplotlib versions, and cached by that hash in the process and, optionally, on
disk; the hash is also the chart's ETag. Drawing follows tracker.reporting.charts:
object API only, one chart at a time, default style, deterministic bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import matplotlib.style
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from tracker.reporting import charts
from tracker.reporting.kpi_charts import (
    KpiTrend,
    TrendYear,
    clear_kpi_chart_cache,
    kpi_chart_etag,
    kpi_chart_svg,
)

# Bump when the drawing changes, so cached copies behind old ETags are not reused.
_STYLE_VERSION = "1"
#: The plan lines of the curves chart: (document key, colour, line style).
_PLAN_LINES = (
    ("price", "#1f77b4", "-"),
    ("baseline_cost", "#7f7f7f", "--"),
    ("planned_cost", "#ff7f0e", "--"),
)
_ACTUAL_COLOUR = "#d62728"
_BAND_COLOUR = "#fff3bf"
_COMMITTED_COLOUR = "#74c0fc"
_SPENT_COLOUR = "#1971c2"
_CLOSING_COLOUR = "#2b8a3e"
_BAR_WIDTH = 0.36
# (divisor, suffix, smallest peak using it): below 10,000 plain numbers read better than "1.2k".
_SCALES = ((10**9, "bn", 10**9), (10**6, "M", 10**6), (10**3, "k", 10**4))
_MAX_TICK_LABELS = 15
_KPI_PREFIX = "kpi-"

_cache_dir: Path | None = None


class _Curves(NamedTuple):
    """What the curves chart draws: money as canonical text, None where there is none."""

    currency: str
    year: int
    years: tuple[int, ...]
    lines: tuple[tuple[str, tuple[str | None, ...]], ...]
    actual: tuple[str | None, ...]


class _Fund(NamedTuple):
    """What the fund chart draws, year by year, as canonical text."""

    currency: str
    years: tuple[int, ...]
    committed: tuple[str, ...]  # committed plus adjusted
    spent: tuple[str, ...]
    closing: tuple[str, ...]


class _Kpi(NamedTuple):
    """What a KPI's trend chart draws, as text: (year, target, actual, quarters) per year."""

    name: str
    unit: str
    higher_is_better: bool
    tolerance: str
    years: tuple[tuple[int, str | None, str | None, tuple[str | None, ...]], ...]


_Chart = _Curves | _Fund | _Kpi


def curves_chart_svg(report: Mapping[str, Any]) -> str:
    """Price, baseline, planned and actual cost over the whole term, as SVG text."""
    return _svg(_curves(report))


def fund_chart_svg(report: Mapping[str, Any]) -> str:
    """Committed, spent and the closing balance of the fund up to the reported year, as SVG."""
    return _svg(_fund(report))


def kpi_chart_svgs(report: Mapping[str, Any]) -> dict[int, str]:
    """Each KPI's trend up to the reported year as SVG text, by KPI id."""
    return {int(kpi["id"]): _svg(_kpi(report, kpi)) for kpi in report["kpis"]}


def report_chart_svg(name: str, report: Mapping[str, Any]) -> str:
    """The report's chart called ``name``; ValueError when the report has no such chart."""
    return _svg(_chart(name, report))


def report_chart_svgs(report: Mapping[str, Any]) -> dict[str, str]:
    """Every chart of the report as SVG text, by its URL-safe name."""
    return {name: report_chart_svg(name, report) for name in report_chart_names(report)}


def report_chart_names(report: Mapping[str, Any]) -> list[str]:
    """The names of the report's charts: curves, fund (when there is one), kpi-<id>."""
    names = ["curves"]
    if report["fund_years"]:
        names.append("fund")
    names += [f"{_KPI_PREFIX}{int(kpi['id'])}" for kpi in report["kpis"]]
    return names


def chart_key(name: str, report: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) the chart called ``name`` is cached under, for an ETag."""
    return _key(_chart(name, report))


def set_chart_cache_dir(path: Path | None) -> None:
    """Keep drawn charts as <path>/<sha256>.svg too (None: in the process only)."""
    global _cache_dir  # noqa: PLW0603 - one process-wide setting, like the cache itself
    _cache_dir = path


def clear_report_chart_cache() -> None:
    """Forget every chart cached in the process (the files on disk stay), the KPI trend
    charts' own cache included."""
    _svg.cache_clear()
    clear_kpi_chart_cache()


def _chart(name: str, report: Mapping[str, Any]) -> _Chart:
    """What the chart called ``name`` draws; ValueError when the report has no such chart."""
    if name == "curves":
        return _curves(report)
    if name == "fund" and report["fund_years"]:
        return _fund(report)
    if name.startswith(_KPI_PREFIX):
        for kpi in report["kpis"]:
            if name == f"{_KPI_PREFIX}{int(kpi['id'])}":
                return _kpi(report, kpi)
    raise ValueError(f"the report has no chart called {name!r}")


def _curves(report: Mapping[str, Any]) -> _Curves:
    rows = report["curves"]
    return _Curves(
        currency=charts.plain_text(report["contract"]["currency"]),
        year=int(report["year"]),
        years=tuple(int(row["year"]) for row in rows),
        lines=tuple((key, tuple(row[key] for row in rows)) for key, _c, _s in _PLAN_LINES),
        actual=tuple(row["actual_cost"] for row in rows),
    )


def _fund(report: Mapping[str, Any]) -> _Fund:
    rows = report["fund_years"]
    return _Fund(
        currency=charts.plain_text(report["contract"]["currency"]),
        years=tuple(int(row["year"]) for row in rows),
        committed=tuple(
            f"{Decimal(row['committed']) + Decimal(row['adjusted']):f}" for row in rows
        ),
        spent=tuple(row["spent"] for row in rows),
        closing=tuple(row["closing"] for row in rows),
    )


def _kpi(report: Mapping[str, Any], kpi: Mapping[str, Any]) -> _Kpi:
    reported = int(report["year"])
    quarters = tuple(kpi["quarters"])
    return _Kpi(
        name=charts.plain_text(kpi["name"]),
        unit=charts.plain_text(kpi["unit"]),
        higher_is_better=bool(kpi["higher_is_better"]),
        tolerance=kpi["tolerance"] or "0",
        years=tuple(
            (
                int(item["year"]),
                item["target"],
                item["actual"],
                quarters if int(item["year"]) == reported else (),
            )
            for item in kpi["trend"]
        ),
    )


def _trend(chart: _Kpi) -> KpiTrend:
    """The KPI chart's data as tracker.reporting.kpi_charts draws it."""
    return KpiTrend(
        chart.name,
        chart.unit,
        chart.higher_is_better,
        Decimal(chart.tolerance),
        tuple(
            TrendYear(year, _decimal(target), _decimal(actual), tuple(map(_decimal, quarters)))
            for year, target, actual, quarters in chart.years
        ),
    )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _key(chart: _Chart) -> str:
    """The sha256 hex of the chart's data, this module's style version and matplotlib's."""
    # The trend chart's ETag carries kpi_charts' own style version, so a change there counts.
    drawer = kpi_chart_etag(_trend(chart)) if isinstance(chart, _Kpi) else ""
    # ints, strs, bools, None and tuples of them: a repr stable across runs.
    source = repr((_STYLE_VERSION, matplotlib.__version__, drawer, chart))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@lru_cache(maxsize=128)
def _svg(chart: _Chart) -> str:
    """The chart as SVG text: from the disk cache when it is there, else drawn (and stored)."""
    folder = _cache_dir
    path = None if folder is None else folder / f"{_key(chart)}.svg"
    if path is not None and path.is_file():
        # Files are only ever written whole (os.replace), so one that exists is complete.
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return path.read_text(encoding="utf-8")
    svg = _drawn(chart)
    if path is not None:
        _store(path, svg)
    return svg


def _store(path: Path, svg: str) -> None:
    """Write the file whole or not at all, so a concurrent reader never sees a part."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".chart-", suffix=".tmp")
    except OSError:
        return  # the disk cache is an optimisation: the chart is still served
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(svg)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _drawn(chart: _Chart) -> str:
    """The chart drawn now, ignoring every cache."""
    if isinstance(chart, _Kpi):
        return kpi_chart_svg(_trend(chart))  # takes charts.DRAWING_LOCK itself
    if isinstance(chart, _Curves):
        curves = chart
        return charts.svg_drawing(lambda axes: _draw_curves(axes, curves), (8.0, 4.0))
    return charts.svg_drawing(lambda axes: _draw_fund(axes, chart), (8.0, 3.2))


def _draw_curves(axes: Axes, chart: _Curves) -> None:
    """The plan lines, the actual cost where known, and the reported year's band."""
    handles: list[Artist] = []
    labels: list[str] = []
    drawn: list[float] = []
    for (key, values), (_, colour, style) in zip(chart.lines, _PLAN_LINES, strict=True):
        ys = _floats(values)
        # Markers keep a one-year term (a single point per line) visible.
        (line,) = axes.plot(
            chart.years, ys, color=colour, linestyle=style, marker="o", markersize=3,
            linewidth=1.6,
        )  # fmt: skip
        handles.append(line)
        labels.append(charts.FIELD_LABELS[key])
        drawn += [y for y in ys if not math.isnan(y)]
    actual = _floats(chart.actual)
    if any(not math.isnan(y) for y in actual):
        # NaN for a year without actuals leaves a gap rather than bridging it.
        (line,) = axes.plot(
            chart.years, actual, color=_ACTUAL_COLOUR, linestyle="-", marker="o",
            markersize=6, linewidth=2.2, zorder=3,
        )  # fmt: skip
        handles.append(line)
        labels.append("Actual cost")
        drawn += [y for y in actual if not math.isnan(y)]
    axes.axvspan(chart.year - 0.5, chart.year + 0.5, color=_BAND_COLOUR, zorder=0, linewidth=0)
    _year_axis(axes, chart.years, chart.year)
    _amount_axis(axes, drawn, chart.currency)
    _finish(axes, "Price and cost, year by year", handles, labels)


def _draw_fund(axes: Axes, chart: _Fund) -> None:
    """Committed and spent as paired bars, the closing balance as a line."""
    committed, spent, closing = (
        _floats(values) for values in (chart.committed, chart.spent, chart.closing)
    )
    left = [year - _BAR_WIDTH / 2 for year in chart.years]
    right = [year + _BAR_WIDTH / 2 for year in chart.years]
    axes.bar(left, committed, _BAR_WIDTH, color=_COMMITTED_COLOUR)
    axes.bar(right, spent, _BAR_WIDTH, color=_SPENT_COLOUR)
    (line,) = axes.plot(
        chart.years, closing, color=_CLOSING_COLOUR, marker="o", markersize=5, linewidth=1.8,
        zorder=3,
    )  # fmt: skip
    _year_axis(axes, chart.years, None)
    _amount_axis(axes, [*committed, *spent, *closing], chart.currency)
    handles: list[Artist] = [
        Patch(facecolor=_COMMITTED_COLOUR, linewidth=0),
        Patch(facecolor=_SPENT_COLOUR, linewidth=0),
        line,
    ]
    _finish(axes, "Reinvestment fund", handles, ["Committed", "Spent", "Closing balance"])


def _floats(values: Sequence[str | None]) -> list[float]:
    """Canonical amounts as floats for drawing; NaN where there is none."""
    return [math.nan if value is None else float(Decimal(value)) for value in values]


def _year_axis(axes: Axes, years: Sequence[int], bold: int | None) -> None:
    """Y1, Y2, ... under the years (thinned on long terms), the ``bold`` year always shown."""
    last = max(years, default=1)
    axes.set_xlim(0.5, last + 0.5)
    stride = math.ceil(last / _MAX_TICK_LABELS) or 1
    ticks = sorted({*range(1, last + 1, stride), *([] if bold is None else [bold])})
    axes.set_xticks(ticks, labels=[f"Y{year}" for year in ticks])
    for year, label in zip(ticks, axes.get_xticklabels(), strict=True):
        if year == bold:
            label.set_fontweight("bold")
    axes.set_xlabel("Contract year")


def _amount_axis(axes: Axes, values: Sequence[float], currency: str) -> None:
    """Amounts with a k / M / bn suffix, from zero unless something is negative."""
    drawn = [value for value in values if not math.isnan(value)]
    peak = max((abs(value) for value in drawn), default=0.0)
    scale, suffix = next(((s, x) for s, x, least in _SCALES if peak >= least), (1, ""))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _tick(y, scale, suffix)))
    axes.set_ylabel(f"Amount ({currency})", parse_math=False)
    if drawn and min(drawn) < 0:
        # Pre-funding shows as a negative balance: the zero line marks it.
        axes.axhline(0, color="0.35", linewidth=0.8)
    else:
        axes.set_ylim(bottom=0)


def _tick(value: float, scale: int, suffix: str) -> str:
    """An axis value with thousands separators and a scale suffix: 1,200, 40k, 1.25M."""
    text = f"{value / scale:,.3f}".rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        return "0"
    return text + suffix


def _finish(axes: Axes, title: str, handles: list[Artist], labels: list[str]) -> None:
    """Grid, title and the legend beside the axes."""
    axes.grid(visible=True, color="0.9", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_title(title, loc="left", parse_math=False)
    legend = axes.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
