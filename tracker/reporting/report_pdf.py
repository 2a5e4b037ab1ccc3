"""The annual report as a PDF: the report template rendered in print mode, then WeasyPrint.

WeasyPrint fetches nothing but the application's own assets: the report's print
stylesheet under ``static/`` and the report's charts, both under a fixed base URL
that never reaches a network. Every other URL (another host, ``file:``, ``data:``)
is refused. Charts come from tracker.reporting.report_charts, cached by a hash of
their data.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

from tracker.reporting.report_charts import report_chart_svgs

#: The address the report's assets are fetched from while rendering; never resolved.
BASE_URL = "https://tracker.invalid/"
_CHARTS = "report-charts/"
_STATIC = "static/"
#: The template that renders a report, as a page and (``pdf`` set) for print.
TEMPLATE = "annual_report.html"


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
    """Serves the application's static files and the report's charts; refuses the rest."""

    def __init__(self, static_dir: Path, charts: Mapping[str, str]) -> None:
        super().__init__(allowed_protocols=("https",))
        self._static = static_dir.resolve()
        self._charts = charts

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:  # noqa: ARG002
        """The asset at ``url``; ValueError for anything that is not the app's own."""
        if not url.startswith(BASE_URL):
            raise ValueError(f"only the application's own assets are fetched, not {url}")
        path = unquote(urlsplit(url).path).lstrip("/")
        if path.startswith(_CHARTS) and path.endswith(".svg"):
            name = path[len(_CHARTS) : -len(".svg")]
            if name in self._charts:
                return URLFetcherResponse(
                    url, self._charts[name].encode("utf-8"), {"Content-Type": "image/svg+xml"}
                )
        elif path.startswith(_STATIC):
            file = (self._static / path[len(_STATIC) :]).resolve()
            if file.is_relative_to(self._static) and file.is_file():
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, file.read_bytes(), {"Content-Type": kind})
        raise ValueError(f"no such asset: {url}")


def chart_url(name: str) -> str:
    """Where the print template finds a chart."""
    return f"{BASE_URL}{_CHARTS}{name}.svg"


def static_url(filename: str) -> str:
    """Where the print template finds a static file."""
    return f"{BASE_URL}{_STATIC}{filename}"


def report_html(environment: jinja2.Environment, content: Mapping[str, Any]) -> str:
    """The report's print HTML (the page template with ``pdf`` set)."""
    return environment.get_template(TEMPLATE).render(
        content=content, pdf=True, chart_src=chart_url, static_src=static_url
    )


def pdf_from_html(html: str, static_dir: Path, charts: Mapping[str, str]) -> bytes:
    """WeasyPrint alone: the PDF of ``html`` with only the app's assets fetchable."""
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=AssetFetcher(static_dir, charts))
    data: bytes = document.write_pdf()
    return data


def report_pdf(
    environment: jinja2.Environment, static_dir: Path, content: Mapping[str, Any]
) -> bytes:
    """The report's PDF: charts (from the cache when drawn before), HTML, WeasyPrint."""
    charts = report_chart_svgs(content["report"])
    return pdf_from_html(report_html(environment, content), static_dir, charts)
