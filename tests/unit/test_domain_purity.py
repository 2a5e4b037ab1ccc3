"""The domain layer is pure: importing it pulls in no web, database, data or drawing library."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

FORBIDDEN = ("flask", "sqlalchemy", "pandas", "matplotlib", "weasyprint", "werkzeug")
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter, so that nothing imported by pytest or other tests counts.
_PROBE = textwrap.dedent(
    """
    import importlib
    import json
    import pkgutil
    import sys

    import tracker.domain

    modules = sorted(
        info.name
        for info in pkgutil.walk_packages(tracker.domain.__path__, "tracker.domain.")
    )
    for name in modules:
        importlib.import_module(name)
    loaded = sorted(
        name for name in sys.modules
        if name.split(".")[0] in {forbidden!r}
    )
    print(json.dumps({{"modules": modules, "loaded": loaded}}))
    """
).format(forbidden=set(FORBIDDEN))


def probe() -> dict[str, list[str]]:
    """Import every module of ``tracker.domain`` in a new interpreter and report what loaded."""
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_importing_every_domain_module_loads_no_web_database_or_drawing_library() -> None:
    result = probe()
    # Discovery found the modules this suite is about, so an empty answer means something.
    assert {
        "tracker.domain.errors",
        "tracker.domain.money",
        "tracker.domain.fields",
        "tracker.domain.terms",
        "tracker.domain.terms_parser",
        "tracker.domain.calendar",
        "tracker.domain.schedule",
        "tracker.domain.schedule_document",
        "tracker.domain.json_document",
    } <= set(result["modules"])
    assert result["loaded"] == [], f"tracker.domain imports {result['loaded']}"
