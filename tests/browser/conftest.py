"""Browser journeys: the system Chromium, driven by Playwright, against a live server.

Each test worker starts its own ``tracker serve`` (gunicorn, one worker) on a free
port, on the worker's migrated test database with the demo contracts and the demo
accounts loaded (``tracker seed``). The tests do not use the ``app`` fixture (it
empties the tables after each test); they only talk to the live server, so every
test makes its own uniquely named data. Every page needs a signed-in person: the
``page`` fixture signs in through the login page as the staff of Nordlys IT, the
vendor of the contracts the journeys create.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from tracker.db.account_models import User
from tracker.db.session import make_engine
from tracker.services.seed import seed_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Default time a Playwright action or expectation waits, in milliseconds.
TIMEOUT_MS = 10_000
#: How long the live server may take to answer its first request, in seconds.
SERVER_START_SECONDS = 20.0
#: The demo account the journeys act as (tracker.services.seed.demo_email("staff", ...)):
#: staff of Nordlys IT, the vendor of tests/data/fixed-5y.json.
STAFF_EMAIL = "staff@nordlys-it.demo"
#: The password of every demo account (tracker.services.seed.DEMO_PASSWORD).
DEMO_PASSWORD = "demo-only-tracker"
LOGIN_PAGE = re.compile(r"/login(\?.*)?$")
HERE = Path(__file__).parent

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test (``-m 'not browser'`` skips them)."""
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tracker_command() -> Path:
    # The console script installed beside this interpreter (the virtualenv's bin).
    command = Path(sys.executable).parent / "tracker"
    if not command.exists():
        pytest.fail(f"the tracker command is not installed at {command}: pip install -e .")
    return command


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:]


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"`tracker serve` exited with status {process.returncode} before answering; "
                f"its output:\n{_tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(
        f"`tracker serve` did not answer {url} within {SERVER_START_SECONDS:.0f} s; "
        f"its output:\n{_tail(log)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running ``tracker serve`` on this worker's test database."""
    tracker = _tracker_command()
    folder = tmp_path_factory.mktemp("live-server")
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_SECRET_KEY": "browser test secret key",
        "TRACKER_REPORTS_DIR": str(folder / "reports"),
    }
    seed = subprocess.run(
        [str(tracker), "seed"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if seed.returncode != 0:
        pytest.fail(f"`tracker seed` failed ({seed.returncode}):\n{seed.stdout}{seed.stderr}")
    port = _free_port()
    log = folder / "server.log"
    with log.open("wb") as output:
        # A file, not a pipe: gunicorn's access log would fill a pipe nobody reads.
        process = subprocess.Popen(
            [str(tracker), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        # A page with a form: it needs the templates and the CSRF machinery.
        _wait_until_answering(base_url + "/login", process, log)
        yield base_url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver, once per test worker."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """The system Chromium (never a downloaded one), once per test worker."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is needed at {CHROMIUM} for the browser tests: "
            "sudo apt-get install chromium (or deselect them with -m 'not browser')."
        )
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def demo_data(live_server: str, database_url: str) -> None:
    """The demo contracts and accounts the journeys sign in with and look for.

    ``tracker seed`` loaded them when the live server started; a test of another folder
    run by this worker since then may have emptied the database (the ``app`` fixture
    does), so they are loaded again when the journeys' account is missing."""
    engine = make_engine(database_url)
    try:
        with sessionmaker(engine, expire_on_commit=False)() as session:
            with session.begin():
                missing = session.scalar(select(User.id).where(User.email == STAFF_EMAIL)) is None
            if missing:
                seed_demo(session)
    finally:
        engine.dispose()


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, cache) per test, pointed at the live server."""
    browser_context = browser.new_context(
        base_url=live_server, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    browser_context.set_default_timeout(TIMEOUT_MS)
    browser_context.set_default_navigation_timeout(TIMEOUT_MS)
    yield browser_context
    browser_context.close()


def sign_in(page: Page, email: str = STAFF_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login page as a person does; fails unless it lands signed in."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(LOGIN_PAGE)
    expect(page.locator("#signed-in-as")).to_have_text(email)


def watched(tab: Page) -> list[str]:
    """The problems met on the tab: script errors and server errors (5xx)."""
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} from {response.url}")
            if response.status >= 500
            else None
        ),
    )
    return problems


@pytest.fixture
def page(context: BrowserContext, demo_data: None) -> Iterator[Page]:
    """A tab signed in as the staff of Nordlys IT; a script error or a server error (5xx)
    on any page fails the test."""
    tab = context.new_page()
    problems = watched(tab)
    sign_in(tab)
    yield tab
    assert not problems, "the browser met problems:\n" + "\n".join(problems)


@pytest.fixture
def anonymous_page(context: BrowserContext, demo_data: None) -> Iterator[Page]:
    """A tab nobody signed in on, watched like ``page``."""
    tab = context.new_page()
    problems = watched(tab)
    yield tab
    assert not problems, "the browser met problems:\n" + "\n".join(problems)
