"""The annual report's charts: valid SVG, deterministic, cached by their data (memory, disk)."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracker.reporting import report_charts
from tracker.reporting.kpi_charts import clear_kpi_chart_cache
from tracker.reporting.report_charts import (
    chart_key,
    clear_report_chart_cache,
    curves_chart_svg,
    fund_chart_svg,
    kpi_chart_svgs,
    report_chart_svgs,
    set_chart_cache_dir,
)

SVG = "{http://www.w3.org/2000/svg}"


def report() -> dict[str, Any]:
    """A three-year contract reported in year 2: actuals for years 1-2, pre-funding in year 1."""
    return {
        "contract": {"currency": "EUR", "years": 3},
        "year": 2,
        "note": "A good year.",
        "curves": [
            {
                "year": 1,
                "price": "1200000.00",
                "baseline_cost": "1000000.00",
                "planned_cost": "950000.00",
                "actual_cost": "960000.00",
            },
            {
                "year": 2,
                "price": "1230000.00",
                "baseline_cost": "1020000.00",
                "planned_cost": "940000.00",
                "actual_cost": "930000.00",
            },
            {
                "year": 3,
                "price": "1260000.00",
                "baseline_cost": "1040000.00",
                "planned_cost": "930000.00",
                "actual_cost": None,
            },
        ],
        "fund_years": [
            {
                "year": 1,
                "opening": "0.00",
                "committed": "20000.00",
                "from_actuals": True,
                "adjusted": "0.00",
                "spent": "45000.00",
                "closing": "-25000.00",
            },
            {
                "year": 2,
                "opening": "-25000.00",
                "committed": "40000.00",
                "from_actuals": True,
                "adjusted": "-2000.00",
                "spent": "10000.00",
                "closing": "3000.00",
            },
        ],
        "kpis": [
            {
                "id": 7,
                "name": "Availability",
                "unit": "%",
                "higher_is_better": True,
                "tolerance": "0.2",
                "target": "99.5",
                "actual": "99.4",
                "status": "near",
                "quarters": ["99.6", "99.2", None, "99.5"],
                "trend": [
                    {"year": 1, "target": "99.5", "actual": "99.7", "status": "met"},
                    {"year": 2, "target": "99.5", "actual": "99.4", "status": "near"},
                ],
            },
            {
                "id": 9,
                "name": "Incidents\x00 per month",
                "unit": "count",
                "higher_is_better": False,
                "tolerance": "1",
                "target": "4",
                "actual": "3",
                "status": "met",
                "quarters": [],
                "trend": [
                    {"year": 1, "target": "5", "actual": "6", "status": "near"},
                    {"year": 2, "target": "4", "actual": "3", "status": "met"},
                ],
            },
        ],
    }


def root(svg: str) -> ET.Element:
    """The parsed SVG document (parsing fails on anything that is not well-formed XML)."""
    element = ET.fromstring(svg)
    assert element.tag == f"{SVG}svg"
    return element


def texts(svg: str) -> list[str]:
    """The text of every <text> element of the SVG."""
    return ["".join(element.itertext()) for element in root(svg).iter(f"{SVG}text")]


def styles_of(svg: str, text: str) -> list[str]:
    """The style attribute of each <text> element reading exactly ``text``."""
    return [
        element.get("style", "")
        for element in root(svg).iter(f"{SVG}text")
        if "".join(element.itertext()) == text
    ]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    set_chart_cache_dir(None)
    clear_report_chart_cache()
    yield
    set_chart_cache_dir(None)
    clear_report_chart_cache()


def test_the_curves_chart_is_valid_svg_with_title_axis_label_and_every_line() -> None:
    found = texts(curves_chart_svg(report()))
    assert "Price and cost, year by year" in found
    assert "Amount (EUR)" in found
    for label in ("Price", "Baseline cost", "Planned cost", "Actual cost"):
        assert label in found
    assert [text for text in found if text.startswith("Y")] == ["Y1", "Y2", "Y3"]


def test_the_curves_chart_scales_amounts_to_millions_from_zero() -> None:
    found = texts(curves_chart_svg(report()))
    assert "0" in found
    assert "1M" in found
    assert not [text for text in found if text.startswith("-")]


def test_the_reported_year_is_highlighted_with_a_bold_tick_label() -> None:
    svg = curves_chart_svg(report())
    assert "fill: #fff3bf" in svg  # the light band behind the reported year
    assert ["font-weight: 700" in style for style in styles_of(svg, "Y2")] == [True]
    assert ["font-weight" in style for style in styles_of(svg, "Y1")] == [False]
    later = copy.deepcopy(report())
    later["year"] = 3
    moved = curves_chart_svg(later)
    assert ["font-weight: 700" in style for style in styles_of(moved, "Y3")] == [True]
    assert ["font-weight" in style for style in styles_of(moved, "Y2")] == [False]


def test_a_report_without_actuals_draws_no_actual_cost_line() -> None:
    data = report()
    for row in data["curves"]:
        row["actual_cost"] = None
    found = texts(curves_chart_svg(data))
    assert "Actual cost" not in found
    assert "Planned cost" in found


def test_the_fund_chart_shows_bars_the_closing_balance_and_a_zero_line_for_prefunding() -> None:
    svg = fund_chart_svg(report())
    found = texts(svg)
    for label in ("Reinvestment fund", "Committed", "Spent", "Closing balance", "Amount (EUR)"):
        assert label in found
    assert "-20k" in found  # the pre-funded year pulls the axis below zero
    assert [text for text in found if text.startswith("Y")] == ["Y1", "Y2"]


def test_the_fund_chart_counts_adjustments_as_committed() -> None:
    data = report()
    adjusted = copy.deepcopy(data)
    adjusted["fund_years"][1]["adjusted"] = "0.00"
    assert chart_key("fund", adjusted) != chart_key("fund", data)
    # The same total committed draws the same chart, however it is split.
    moved = copy.deepcopy(data)
    moved["fund_years"][1]["committed"] = "38000.00"
    moved["fund_years"][1]["adjusted"] = "0.00"
    assert chart_key("fund", moved) == chart_key("fund", data)


def test_each_kpi_gets_a_trend_chart_with_quarters_only_where_given() -> None:
    svgs = kpi_chart_svgs(report())
    assert sorted(svgs) == [7, 9]
    availability = texts(svgs[7])
    assert "Availability" in availability
    assert "Quarterly result" in availability
    incidents = texts(svgs[9])
    assert "Incidents per month" in incidents  # the NUL an XML document cannot hold is gone
    assert "count (lower is better)" in incidents
    assert "Quarterly result" not in incidents


def test_quarters_belong_to_the_reported_year_only() -> None:
    data = report()
    # The KPI's quarters are those of the reported year: moving it moves their points.
    earlier = copy.deepcopy(data)
    earlier["year"] = 1
    assert chart_key("kpi-7", earlier) != chart_key("kpi-7", data)
    assert chart_key("kpi-9", earlier) == chart_key("kpi-9", data)


def test_every_chart_of_the_report_is_named_and_url_safe() -> None:
    svgs = report_chart_svgs(report())
    assert list(svgs) == ["curves", "fund", "kpi-7", "kpi-9"]
    for svg in svgs.values():
        root(svg)
    without_fund = report()
    without_fund["fund_years"] = []
    without_fund["kpis"] = []
    assert list(report_chart_svgs(without_fund)) == ["curves"]
    with pytest.raises(ValueError, match="fund"):
        chart_key("fund", without_fund)
    with pytest.raises(ValueError, match="kpi-8"):
        chart_key("kpi-8", report())


def test_the_same_data_gives_the_same_bytes() -> None:
    first = report_chart_svgs(report())
    # Both caches forgotten, so every chart is really drawn a second time.
    clear_report_chart_cache()
    clear_kpi_chart_cache()
    assert report_chart_svgs(report()) == first


def test_different_data_gives_a_different_key_and_unrelated_data_does_not() -> None:
    data = report()
    keys = {name: chart_key(name, data) for name in ("curves", "fund", "kpi-7", "kpi-9")}
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in keys.values())
    assert len(set(keys.values())) == 4
    cheaper = copy.deepcopy(data)
    cheaper["curves"][2]["planned_cost"] = "920000.00"
    assert chart_key("curves", cheaper) != keys["curves"]
    assert chart_key("fund", cheaper) == keys["fund"]
    renamed = copy.deepcopy(data)
    renamed["kpis"][0]["name"] = "Uptime"
    assert chart_key("kpi-7", renamed) != keys["kpi-7"]
    assert chart_key("kpi-9", renamed) == keys["kpi-9"]
    # Text the charts do not draw leaves every key alone.
    noted = copy.deepcopy(data)
    noted["note"] = "Another text."
    assert {name: chart_key(name, noted) for name in keys} == keys


def test_the_disk_cache_keeps_each_chart_under_its_key_and_is_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "charts"
    set_chart_cache_dir(folder)
    data = report()
    drawn = report_chart_svgs(data)
    files = sorted(path.name for path in folder.iterdir())
    assert files == sorted(f"{chart_key(name, data)}.svg" for name in drawn)
    assert (folder / f"{chart_key('curves', data)}.svg").read_text("utf-8") == drawn["curves"]

    clear_report_chart_cache()

    def redraw(_chart: object) -> str:
        raise AssertionError("drawn again although the disk cache has it")

    monkeypatch.setattr(report_charts, "_drawn", redraw)
    assert report_chart_svgs(data) == drawn


def test_a_chart_is_drawn_again_when_its_file_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_chart_cache_dir(tmp_path)
    data = report()
    svg = curves_chart_svg(data)
    (tmp_path / f"{chart_key('curves', data)}.svg").unlink()
    clear_report_chart_cache()
    calls: list[object] = []
    draw = report_charts._drawn

    def counted(chart: Any) -> str:
        calls.append(chart)
        return draw(chart)

    monkeypatch.setattr(report_charts, "_drawn", counted)
    assert curves_chart_svg(data) == svg
    assert len(calls) == 1
    assert (tmp_path / f"{chart_key('curves', data)}.svg").is_file()
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".tmp"] == []


def test_the_in_process_cache_answers_without_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = report()
    svg = fund_chart_svg(data)

    def redraw(_chart: object) -> str:
        raise AssertionError("drawn again although the process cache has it")

    monkeypatch.setattr(report_charts, "_drawn", redraw)
    assert fund_chart_svg(data) == svg
    clear_report_chart_cache()
    with pytest.raises(AssertionError, match="drawn again"):
        fund_chart_svg(data)
