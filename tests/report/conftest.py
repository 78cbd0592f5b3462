"""A headless Chromium for the report tests: Debian's chromium (``make browser``) driven by
playwright.  Skips without it on a developer machine; under CI=true it is a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SPIKEC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Screenshots land here too (build/ is not tracked), for a person or a CI artifact to look at.
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} under CI=true (`make browser` installs chromium, the test extra playwright)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"no chromium at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                              "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def open_page(browser):
    """``open_page(html_path, shot_name)``: load the file offline, wait until every Plotly div
    has drawn, save a full-page screenshot; returns (console errors, plots: [id, svg layers,
    traces], screenshot path)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def run(path: Path, name: str) -> tuple[list[str], list[list], Path]:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # Offline: any request leaving the file (a CDN script) is refused and shows up as an error.
        page.route("http*://**", lambda route: (errors.append(f"network request: {route.request.url}"),
                                                route.abort()))
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => { const d = [...document.querySelectorAll('.js-plotly-plot')];"
                               " return d.length > 0 && d.every(x => x._fullLayout); }", timeout=30_000)
        plots = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(d => "
                              "[d.id, d.querySelectorAll('.main-svg').length, d.data.length])")
        shot = SHOTS / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        page.close()
        return errors, plots, shot

    return run
