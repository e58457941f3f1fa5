"""The map pages in a real browser (Debian's chromium) with every non-loopback request blocked.

Screenshots go to tests/output/ for a person to look at.
"""
from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner
from PIL import Image

from geo_justice.cli import main

from .conftest import OUTPUT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def visit(browser, url: str, name: str) -> dict:
    """Open `url` with the network closed except for loopback; what the page logged, loaded and showed."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    seen: dict = {"errors": [], "tiles": [], "blocked": [], "failed": []}

    def route(route):
        if urlparse(route.request.url).hostname in LOOPBACK or route.request.url.startswith(("data:", "file:")):
            route.continue_()
        else:
            seen["blocked"].append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: seen["errors"].append((m.text, m.location.get("url"))) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append((str(e), None)))
    page.on("response", lambda r: seen["tiles"].append((r.url, r.status)) if "/tiles/" in r.url else None)
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.goto(url, wait_until="networkidle", timeout=120_000)
    page.wait_for_timeout(500)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = page.locator(".folium-map").screenshot(path=str(OUTPUT / f"{name}.png"))
    seen["image"] = Image.open(io.BytesIO(shot)).convert("RGB")
    context.close()
    return seen


def assert_not_blank(image: Image.Image) -> None:
    """Many colours, and no single colour covering most of the map."""
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50
    assert max(count for count, _ in colours) < 0.8 * image.width * image.height


@pytest.mark.parametrize("path, name", [("/maps/coverage?resolution=5000&lang=en", "coverage_map"),
                                        ("/embed/traveltime?resolution=5000", "embed_traveltime")])
def test_page_works_offline(browser, live_server, path, name):
    seen = visit(browser, live_server + path, name)
    assert seen["blocked"] == ["https://tile.openstreetmap.org/0/0/0.png"]  # the external basemap's probe, only
    # The only console error allowed is Chromium's note that the request this test blocked failed.
    assert [(text, url) for text, url in seen["errors"] if url not in seen["blocked"]] == []
    assert seen["failed"] == seen["blocked"]  # no request to the service failed or was abandoned
    assert len(seen["tiles"]) >= 4
    assert {status for _, status in seen["tiles"]} <= {200, 304}
    assert any("/tiles/basemap/" in url for url, _ in seen["tiles"])  # the service's own basemap stood in
    assert_not_blank(seen["image"])


def test_map_file_works_with_no_server(browser, tmp_path):
    path = tmp_path / "coverage.html"
    result = CliRunner().invoke(main, ["map", "coverage", "--resolution", "5000", "-o", str(path)])
    assert result.exit_code == 0, result.output
    seen = visit(browser, path.as_uri(), "coverage_file")
    assert seen["blocked"] == ["https://tile.openstreetmap.org/0/0/0.png"]
    assert [(text, url) for text, url in seen["errors"] if url not in seen["blocked"]] == []
    assert seen["tiles"] == [] and seen["failed"] == seen["blocked"]
    assert_not_blank(seen["image"])
