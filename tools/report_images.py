"""Make the annual-report images of docs/img: PDF pages as PNG, and the report's web page.

Run by hand when the report's look changes, never by the tests:

    export TRACKER_DATABASE_URL=sqlite:////tmp/demo.sqlite3 TRACKER_REPORTS_DIR=/tmp/reports
    tracker db upgrade && tracker seed
    python tools/report_images.py pages /tmp/reports/IFM-UK-2022/IFM-UK-2022-year-1.pdf docs/img
    python tools/report_images.py web SD-FR-2024 1 docs/img/report-web.png

``pages`` renders pages of a PDF with ``pdftoppm`` (Debian package poppler-utils) at
70 dpi: by default page 1 as report-page-1.png, page 2 as report-page-2.png and the
page with the sign-off as report-sign-off.png. ``web`` starts ``tracker serve`` on a
free local port with the same ``TRACKER_*`` settings, signs in as a demo account of
the contract (the vendor's staff unless told otherwise) in the system Chromium and
saves the report page, 1280 pixels wide and at most 1800 high.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

DPI = 70
#: The pages ``pages`` makes unless told otherwise: (page, file name without .png).
DEFAULT_PAGES = ("1:report-page-1", "2:report-page-2", "sign-off:report-sign-off")
#: The heading of the report's last section (templates/annual_report.html).
SIGN_OFF_HEADING = "Sign-off"
CHROMIUM = Path("/usr/bin/chromium")
WIDTH, MAX_HEIGHT = 1280, 1800
SERVER_START_SECONDS = 30.0


class Problem(Exception):
    """Something the person running the script has to fix; the message says what."""


def require_tool(name: str) -> str:
    """The path of a poppler-utils program, or a Problem naming the package."""
    path = shutil.which(name)
    if path is None:
        raise Problem(
            f"{name} is not installed: it comes with poppler-utils "
            "(sudo apt-get install poppler-utils)."
        )
    return path


def page_texts(pdf: Path) -> list[str]:
    """The text of each page of ``pdf``, in order."""
    result = subprocess.run(  # noqa: S603  (a fixed program; the PDF the person named)
        [require_tool("pdftotext"), "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise Problem(f"pdftotext could not read {pdf}: {result.stderr.strip()}")
    # pdftotext ends every page with a form feed.
    return result.stdout.split("\f")[:-1] or [result.stdout]


def resolve_page(spec: str, texts: list[str]) -> int:
    """The 1-based page number ``spec`` names: a number, or "sign-off" for the sign-off page."""
    if spec == "sign-off":
        found = [
            number
            for number, text in enumerate(texts, start=1)
            if any(line.strip() == SIGN_OFF_HEADING for line in text.splitlines())
        ]
        if not found:
            raise Problem(f"no page has the heading {SIGN_OFF_HEADING!r}")
        return found[-1]
    if not spec.isdigit() or not 1 <= int(spec) <= len(texts):
        raise Problem(f"page {spec!r}: give a number from 1 to {len(texts)} or 'sign-off'")
    return int(spec)


def render_page(pdf: Path, number: int, target: Path, dpi: int = DPI) -> None:
    """Write page ``number`` of ``pdf`` to the PNG file ``target``."""
    # pdftoppm adds ".png" to the prefix it is given.
    prefix = target.with_suffix("")
    command = [require_tool("pdftoppm"), "-png", "-r", str(dpi), "-f", str(number),
               "-l", str(number), "-singlefile", str(pdf), str(prefix)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise Problem(f"pdftoppm failed on page {number} of {pdf}: {result.stderr.strip()}")


def pages_command(args: argparse.Namespace) -> None:
    """Render the chosen pages of a PDF into a folder."""
    pdf: Path = args.pdf
    if not pdf.is_file():
        raise Problem(f"{pdf} is not a file")
    require_tool("pdftoppm")
    texts = page_texts(pdf)
    args.out.mkdir(parents=True, exist_ok=True)
    for choice in args.page or DEFAULT_PAGES:
        spec, _colon, name = choice.partition(":")
        if not name:
            raise Problem(f"--page {choice!r}: write PAGE:NAME, e.g. 2:report-page-2")
        number = resolve_page(spec, texts)
        target = args.out / f"{name}.png"
        render_page(pdf, number, target, args.dpi)
        print(f"page {number} -> {target} ({target.stat().st_size // 1024} KB)")


def contract_and_email(code: str, side: str) -> tuple[int, str]:
    """The id of the contract ``code`` and the demo staff account of its ``side``."""
    from sqlalchemy import select  # noqa: PLC0415  (only the web screenshot needs the app)

    from tracker.app import create_app  # noqa: PLC0415
    from tracker.db.models import Contract, Organisation  # noqa: PLC0415
    from tracker.db.session import new_session  # noqa: PLC0415
    from tracker.services.seed import demo_email  # noqa: PLC0415

    app = create_app()
    with app.app_context(), new_session(app) as session, session.begin():
        contract = session.scalars(select(Contract).where(Contract.code == code)).one_or_none()
        if contract is None:
            raise Problem(f"no contract {code!r} in {app.config['DATABASE_URL']}: run tracker seed")
        party = contract.vendor_id if side == "vendor" else contract.buyer_id
        organisation = session.get(Organisation, party)
        assert organisation is not None
        return contract.id, demo_email("staff", organisation.name)


def start_server() -> tuple[subprocess.Popen[bytes], str, Path]:
    """``tracker serve`` on a free local port: the process, its base URL and its log."""
    tracker = Path(sys.executable).parent / "tracker"
    if not tracker.exists():
        raise Problem(f"the tracker command is not installed at {tracker}: pip install -e .")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    log = Path(tempfile.mkstemp(prefix="report-images-", suffix=".log")[1])
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603  (the tracker command of this virtualenv)
            [str(tracker), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Problem(f"tracker serve stopped at once; see {log}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=2):  # noqa: S310  (http, local)
                return process, base, log
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.terminate()
    raise Problem(f"tracker serve did not answer within {SERVER_START_SECONDS:.0f} s; see {log}")


def web_command(args: argparse.Namespace) -> None:
    """Screenshot the web page of a report as a demo account sees it."""
    if not CHROMIUM.exists():
        raise Problem(f"Chromium is needed at {CHROMIUM}: sudo apt-get install chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (a development dependency)

    from tracker.services.seed import DEMO_PASSWORD  # noqa: PLC0415

    contract_id, email = contract_and_email(args.code, args.side)
    process, base, log = start_server()
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(base_url=base, viewport={"width": WIDTH, "height": 900})
            page.goto("/login")
            page.fill("#email", email)
            page.fill("#password", DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(f"/contracts/{contract_id}/reports/{args.year}", wait_until="networkidle")
            height = min(MAX_HEIGHT, int(page.evaluate("document.body.scrollHeight")))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(args.out),
                full_page=True,
                clip={"x": 0, "y": 0, "width": WIDTH, "height": height},
            )
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    log.unlink(missing_ok=True)
    size = args.out.stat().st_size // 1024
    print(f"{args.code} year {args.year} as {email} -> {args.out} ({size} KB)")


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; 1 with a message when something needs fixing first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pages = commands.add_parser("pages", help="render pages of a report PDF as PNG")
    pages.add_argument("pdf", type=Path)
    pages.add_argument("out", type=Path, help="the folder the PNG files go to")
    pages.add_argument(
        "--page", action="append", metavar="PAGE:NAME",
        help="a page (number or 'sign-off') and its file name without .png; repeatable; "
        f"default: {' '.join(DEFAULT_PAGES)}",
    )  # fmt: skip
    pages.add_argument("--dpi", type=int, default=DPI)
    pages.set_defaults(run=pages_command)
    web = commands.add_parser("web", help="screenshot a report's web page")
    web.add_argument("code", help="the contract's code, e.g. SD-FR-2024")
    web.add_argument("year", type=int)
    web.add_argument("out", type=Path, help="the PNG file to write")
    web.add_argument("--side", choices=("vendor", "buyer"), default="vendor")
    web.set_defaults(run=web_command)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except Problem as problem:
        print(f"report_images: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
