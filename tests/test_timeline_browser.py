"""The timeline's pages in Debian's chromium with the network closed: the slider map file and the chart."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from geo_justice.cli import main

from .conftest import CHROMIUM, OUTPUT

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)")
RANGE = ["--from", "2012-01-01", "--to", "2015-12-31", "--step", "quarter", "--resolution", "10000", "--conflict", "off"]


def open_offline(browser, url: str):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    seen: dict = {"errors": [], "requests": []}
    context.route("**/*", lambda route: (seen["requests"].append(route.request.url),
                                         route.continue_() if route.request.url.startswith("file:") else route.abort()))
    page = context.new_page()
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(url, wait_until="load", timeout=120_000)
    page.wait_for_timeout(500)
    return context, page, seen


def test_slider_map_file_moves_through_dates(browser, tmp_path):
    path = tmp_path / "timeline.html"
    run = CliRunner().invoke(main, ["map", "timeline", *RANGE, "--lang", "en", "-o", str(path)])
    assert run.exit_code == 0, run.output
    context, page, seen = open_offline(browser, path.as_uri())
    try:
        assert page.locator(".gj-date").inner_text() == "2012-01-01"
        fills = lambda: page.eval_on_selector_all("path.leaflet-interactive", "ps => ps.map(p => p.getAttribute('fill'))")
        before = fills()
        page.eval_on_selector("input[type=range]", "i => { i.value = 1; i.dispatchEvent(new Event('input')); }")
        assert page.locator(".gj-date").inner_text() == "2012-04-01"
        assert "closed" in page.locator(".gj-counts").inner_text()
        assert fills() != before  # courts closed in April 2012: regions and markers change colour
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.locator(".folium-map").screenshot(path=str(OUTPUT / "timeline_map.png"))
    finally:
        context.close()
    assert seen["errors"] == []
    assert all(url.startswith("file:") for url in seen["requests"])


def test_chart_page_renders_offline(browser, tmp_path):
    path = tmp_path / "timeline.html"
    run = CliRunner().invoke(main, ["timeline", *RANGE, "-o", str(path)])
    assert run.exit_code == 0, run.output
    context, page, seen = open_offline(browser, path.as_uri())
    try:
        page.wait_for_selector(".mark-line path", state="attached", timeout=30_000)
        assert page.locator(".mark-line path").count() >= 2  # actual and nominal
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "timeline_chart.png"))
    finally:
        context.close()
    assert seen["errors"] == []
    assert all(url.startswith("file:") for url in seen["requests"])
