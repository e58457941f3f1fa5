"""The map pages in a real browser (Debian's chromium) with every non-loopback request blocked, checked for what
a person sees: the country and its towns, every facility reachable by a click, a phone layout that leaves the
map visible, the legend following the layers. Screenshots go to tests/output/ for a person to look at.
"""
from __future__ import annotations

import io
import json
import time
import urllib.request
from urllib.parse import urlparse

import mercantile
import pytest
from click.testing import CliRunner
from PIL import Image
from shapely.geometry import box

from geo_justice.cli import main

from .conftest import CHROMIUM, OUTPUT, TOKEN

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (CI installs Debian's chromium)")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
OSM_PROBE = "https://tile.openstreetmap.org/0/0/0.png"
LAPTOP, PHONE = {"width": 1100, "height": 800}, {"width": 390, "height": 844}
MAP = "window[Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)]"


@pytest.fixture(scope="module")
def server(live_server):
    """The run's one `geo-justice serve`, once it says the default map is ready (conftest)."""
    return live_server


#: Every tile image has loaded, and every tile layer of the page's map has drawn the view: none still loading,
#: each with tiles (no tile yet is not "all loaded"). True on pages without a tile layer.
TILES_DRAWN = """() => {
    const tiles = [...document.querySelectorAll('img.leaflet-tile')];
    if (!tiles.every(t => t.classList.contains('leaflet-tile-loaded') && t.complete)) return false;
    const map = window.L && Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])
        .find(v => v instanceof L.Map);
    const layers = [];
    if (map) map.eachLayer(layer => { if (layer instanceof L.GridLayer) layers.push(layer); });
    return layers.every(layer => !layer.isLoading() && Object.values(layer._tiles).some(tile => tile.loaded));
}"""


class Visit:
    """A page opened with the network closed except for loopback, and what it logged and asked for."""

    def __init__(self, browser, url: str, viewport: dict = LAPTOP) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.errors, self.blocked, self.failed, self.tiles = [], [], [], []
        self.pending, self.last_activity = set(), time.monotonic()
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append((m.text, m.location.get("url"))) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append((str(e), None)))
        self.page.on("request", self._started)
        self.page.on("requestfinished", self._ended)
        self.page.on("requestfailed", self._ended)
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: self.tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)
        self.page.goto(url, wait_until="load", timeout=120_000)
        self.page.wait_for_function(TILES_DRAWN, timeout=120_000)
        self._wait_until_idle()
        # The page's tiles are drawn; their responses reach this process as events of their own, which may come
        # after: wait until each drawn tile's response has been seen, so that `tiles` is complete.
        drawn = set(self.page.evaluate("() => [...document.querySelectorAll('img.leaflet-tile-loaded')].map(t => t.src)"))
        for _ in range(600):
            if drawn <= {url for url, _ in self.tiles}:
                break
            self.page.wait_for_timeout(50)

    def _started(self, request) -> None:
        self.pending.add(request)
        self.last_activity = time.monotonic()

    def _ended(self, request) -> None:
        self.pending.discard(request)
        self.last_activity = time.monotonic()

    def _wait_until_idle(self, quiet: float = 0.5, timeout: float = 120) -> None:
        """No request in flight for `quiet` seconds, from the page's own request events (every request ends in
        exactly one of finished or failed). Playwright's "networkidle" can be lost for good when a request starts
        and ends before DOMContentLoaded (microsoft/playwright#42598): the map file's basemap probe does."""
        deadline = time.monotonic() + timeout
        while self.pending or time.monotonic() - self.last_activity < quiet:
            assert time.monotonic() < deadline, f"requests still in flight: {sorted(r.url for r in self.pending)}"
            self.page.wait_for_timeout(50)

    def _route(self, route) -> None:
        url = route.request.url
        if urlparse(url).hostname in LOOPBACK or url.startswith(("data:", "file:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def clean(self) -> None:
        """Nothing left the machine but the OpenStreetMap probe, and nothing else failed or logged an error."""
        assert set(self.blocked) <= {OSM_PROBE}
        assert [(text, url) for text, url in self.errors if url not in self.blocked] == []
        assert set(self.failed) <= set(self.blocked)

    def shot(self, name: str) -> Image.Image:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        return Image.open(io.BytesIO(self.page.screenshot(path=str(OUTPUT / f"{name}.png")))).convert("RGB")

    def close(self) -> None:
        self.context.close()


def click(page, x: float, y: float) -> None:
    """Click once no popup is left (a closed one fades out), and wait for the one popup the click opens."""
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0")
    page.mouse.click(x, y)
    page.wait_for_function("document.querySelectorAll('.leaflet-popup-content').length === 1", timeout=5_000)


def assert_not_blank(image: Image.Image) -> None:
    """Many colours, and no single colour covering most of the map."""
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50
    assert max(count for count, _ in colours) < 0.8 * image.width * image.height


def test_coverage_map_shows_the_country_and_every_facility(browser, server, dataset):
    visit = Visit(browser, server + "/maps/coverage")
    page = visit.page
    try:
        visit.clean()
        assert visit.blocked == [OSM_PROBE]
        assert len(visit.tiles) >= 4 and {status for _, status in visit.tiles} <= {200, 304}
        assert any("/tiles/basemap/" in url for url, _ in visit.tiles)  # the service's own basemap stood in
        assert page.locator("html").get_attribute("lang") == "fr"
        assert "user-scalable=no" not in page.content()
        # The border of Mali is drawn across most of the view, and towns are named.
        border = page.locator("path.gj-border").bounding_box()
        assert border["width"] > 0.5 * LAPTOP["width"] or border["height"] > 0.7 * LAPTOP["height"]
        names = set(dataset.basemap["places"]["name"]) | set(dataset.settlements["name"])
        labels = [t.strip() for t in page.locator(".gj-place").all_inner_texts()]
        assert len(labels) >= 10 and set(labels) <= names
        assert {"Bamako", "Gao", "Kayes"} <= set(labels)
        # Tier names and dates in French, not codes.
        assert "Tribunaux (statut au 17 novembre 2023)" in page.locator(".gj-legend").inner_text()
        assert_not_blank(visit.shot("coverage_laptop"))
        # Every court and prison: a click on the map at its place (at the initial zoom) opens a popup naming it.
        zoom = page.evaluate(f"{MAP}.getZoom()")
        box_ = page.locator(".folium-map").bounding_box()
        facilities = [*dataset.facilities_as_of("court").itertuples(),
                      *dataset.facilities_as_of("prison").itertuples()]
        assert len(facilities) == 56 + 21
        page.evaluate(f"{MAP}._fadeAnimated = false")  # a closed popup goes at once, not after a 200 ms fade
        missed, popup = [], page.locator(".leaflet-popup-content")
        for facility in facilities:
            lat, lon = facility.geometry.y, facility.geometry.x
            point = page.evaluate(f"""([lat, lon, zoom]) => {{
                const map = {MAP};
                map.closePopup();
                map.setView([lat, lon], zoom, {{animate: false}});
                const p = map.latLngToContainerPoint([lat, lon]);
                return [p.x, p.y];
            }}""", [lat, lon, zoom])
            # No popup is left (closed without a fade above): the one popup after the click is this click's.
            page.mouse.click(box_["x"] + point[0], box_["y"] + point[1])
            if facility.name not in popup.inner_text(timeout=5_000):
                missed.append(facility.name)
        assert missed == []
        # Facilities at one place share one marker whose popup lists them all, each with its own details.
        first = next(f for f in facilities if "Bamako" in f.name)
        same = [f.name for f in facilities if f.geometry.equals(first.geometry)]
        assert len(same) >= 5
        point = page.evaluate(f"""([lat, lon]) => {{
            const map = {MAP};
            map.closePopup();
            map.setView([lat, lon], {zoom}, {{animate: false}});
            const p = map.latLngToContainerPoint([lat, lon]);
            return [p.x, p.y];
        }}""", [first.geometry.y, first.geometry.x])
        click(page, box_["x"] + point[0], box_["y"] + point[1])
        assert all(name in popup.inner_text() for name in same)
        assert popup.locator("details").count() >= len(same)
    finally:
        visit.close()


def test_legend_follows_the_layers(browser, server):
    visit = Visit(browser, server + "/maps/coverage?lang=en")
    page = visit.page
    try:
        titles = page.locator(".gj-legend .gj-section > b")
        before = titles.all_inner_texts()
        assert "Prisons" in before and "Within 120 min" not in before
        for name in ("Prisons", "Within 120 min"):  # one layer off, one on, through the layer control
            page.locator(".leaflet-control-layers-selector + span", has_text=name).first.evaluate(
                "s => s.previousElementSibling.click()")
        after = titles.all_inner_texts()
        assert "Prisons" not in after and "Within 120 min" in after
        assert set(before) - {"Prisons"} <= set(after)
    finally:
        visit.close()


def test_phone_keeps_the_map_in_view(browser, server):
    visit = Visit(browser, server + "/maps/coverage?lang=en", PHONE)
    page = visit.page
    try:
        visit.clean()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator(".leaflet-control-layers-expanded").count() == 0  # the layer control is an icon
        assert not page.locator(".gj-legend details").evaluate("d => d.open")  # the legend is closed
        screen = PHONE["width"] * PHONE["height"]
        controls = sum(b["width"] * b["height"] for b in
                       (c.bounding_box() for c in page.locator(".leaflet-control").all()) if b)
        map_box = page.locator(".folium-map").bounding_box()
        assert (map_box["width"] * map_box["height"] - controls) / screen >= 0.6
        attribution = page.locator(".leaflet-control-attribution").bounding_box()
        assert attribution["height"] <= 24  # one short line
        mali = page.locator("path.gj-border").bounding_box()
        assert mali["width"] >= 0.85 * PHONE["width"]  # fitted to the country
        assert_not_blank(visit.shot("coverage_phone"))
        page.locator(".gj-sources-link").click()
        sources = page.locator(".gj-sources").inner_text()
        assert "modelled" in sources and "Synthetic" in sources
    finally:
        visit.close()


def test_nothing_is_painted_over_mauritania(server):
    tile = mercantile.tile(-8.5, 19.0, 7)
    assert box(*mercantile.bounds(tile)).disjoint(box(-5.0, 10.0, 4.5, 25.1))  # well west of Mali's north
    spec = json.load(urllib.request.urlopen(server + "/tiles/traveltime/tilejson.json"))
    url = spec["tiles"][0].format(z=7, x=tile.x, y=tile.y)
    image = Image.open(io.BytesIO(urllib.request.urlopen(url).read())).convert("RGBA")
    assert image.getextrema()[3] == (0, 0)


def test_embed_says_what_where_and_when(browser, server):
    visit = Visit(browser, server + "/embed/traveltime")
    try:
        visit.clean()
        title = visit.page.title()
        assert "Temps de trajet" in title and "Mali" in title and "17 novembre 2023" in title
        assert visit.page.locator(".gj-place").count() >= 10
        assert_not_blank(visit.shot("embed_traveltime"))
    finally:
        visit.close()


def test_route_map_offline(browser, server):
    body = json.dumps({"depots": ["Tombouctou"], "stops": ["Diré", {"name": "Goundam", "hearing_days": 2}],
                       "start": "2024-01-08"}).encode()
    request = urllib.request.Request(server + "/routes", data=body, headers={"Content-Type": "application/json",
                                                                              "Authorization": f"Bearer {TOKEN}"})
    plan = json.load(urllib.request.urlopen(request))
    (team,) = plan["plan"]["teams"]
    visit = Visit(browser, f"{server}/maps/route/{plan['id']}")
    page = visit.page
    try:
        visit.clean()
        numbers = page.locator(".gj-stop span").all_inner_texts()
        assert sorted(numbers) == sorted(["D", *(str(n) for n in range(1, len(team["stops"]) + 1))])
        days = page.locator(".gj-stop-day").all_inner_texts()
        assert sum("jour " in text for text in days) == len(team["stops"])
        summary = page.locator(".gj-title").inner_text()
        assert f"{team['days']} jours" in summary and "km" in summary
        assert page.locator(".gj-place").count() >= 1 and page.locator("path.gj-border").count() == 1  # towns, Mali
        legs = page.locator('.leaflet-overlay-pane path[stroke="#0072b2"]')
        assert legs.count() == len(team["stops"]) + 1  # depot -> stops -> depot, each leg drawn
        visit.shot("route_map")
    finally:
        visit.close()


def test_api_docs_offline(browser, server):
    for path, ready in (("/docs", ".swagger-ui .info"), ("/redoc", "redoc h1, [role=main] h1")):
        visit = Visit(browser, server + path)
        try:
            visit.page.wait_for_selector(ready, timeout=60_000)
            assert visit.blocked == [] and visit.failed == []
            assert [e for e in visit.errors] == []
        finally:
            visit.close()


def test_map_file_works_with_no_server(browser, tmp_path):
    path = tmp_path / "coverage.html"
    result = CliRunner().invoke(main, ["map", "coverage", "--resolution", "5000", "-o", str(path)])
    assert result.exit_code == 0, result.output
    visit = Visit(browser, path.as_uri())
    try:
        visit.clean()
        assert visit.tiles == [] and visit.page.locator(".gj-place").count() >= 10
        assert_not_blank(visit.shot("coverage_file"))
    finally:
        visit.close()


def test_an_items_page_maps_every_feature_offline(browser, server):
    """The HTML encoding of OGC API - Features items: a circle per feature of the page, drawn by the service's
    own copy of Leaflet with the network closed, and a table row each."""
    visit = Visit(browser, f"{server}/collections/courts/items?f=html&limit=20")
    try:
        assert visit.page.locator("path.leaflet-interactive").count() == 20
        assert visit.page.locator("table tr").count() == 21  # a header and 20 courts
        assert visit.blocked == [] and visit.errors == [] and visit.failed == []
    finally:
        visit.close()
