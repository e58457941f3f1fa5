"""Folium pages: self-contained file, served page with its own Leaflet, languages, licences, embeds."""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace

import pytest
from click.testing import CliRunner

from geo_justice import analysis
from geo_justice.access import AccessParams, Engine
from geo_justice.cli import main
from geo_justice.collections import aggregate_incidents
from web.maps import coverage_map, page

RES = "5000"
ENGINE = ["--resolution", RES]


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("map") / "coverage.html"
    result = CliRunner().invoke(main, ["map", "coverage", *ENGINE, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return decoded(path.read_text(encoding="utf-8"))


def decoded(text: str) -> str:
    """The page with the \\uXXXX escapes of its JSON-encoded strings decoded, as a browser would."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def resources(text: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"|<link rel="stylesheet" href="([^"]+)"', text)


def test_map_file_is_self_contained_and_french_by_default(map_file, dataset):
    assert resources(map_file) == []
    assert "L.map(" in map_file and "L.markerClusterGroup" in map_file and "L.control.scale()" in map_file
    assert "data:image/png;base64," in map_file  # the rasters are in the page, not behind a server
    assert "Temps de trajet (minutes)" in map_file and "Tribunaux délocalisés" in map_file
    assert "Travel time (minutes)" not in map_file
    assert "L.control.layers" in map_file
    for source in ("modelled by geo-justice", "MODELLED population", "Synthetic demo incidents", dataset.name):
        assert source in map_file


def test_relocated_courts_are_drawn_from_seat_to_sitting_place(map_file, dataset):
    moved = dataset.facilities_as_of("court", "2023-11-17").query("sitting_name != ''")
    assert len(moved) == 8
    lines = re.findall(r"L\.polyline\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", map_file)
    assert len(lines) == len(moved)
    ends = {(round(float(a), 4), round(float(b), 4), round(float(c), 4), round(float(d), 4)) for a, b, c, d in lines}
    expected = {(round(r.geometry.y, 4), round(r.geometry.x, 4), round(float(r.sitting_lat), 4), round(float(r.sitting_lon), 4))
                for r in moved.itertuples()}
    assert ends == expected


def test_gap_hotspots_carry_their_population(client):
    engine = client.app.state.snapshot.engine
    gaps = analysis.access_gaps(engine, AccessParams(resolution_m=float(RES)), 120.0).layers["gaps"]
    text = decoded(client.get(f"/maps/coverage?resolution={RES}&lang=en").text)
    top = gaps.iloc[0]
    assert f'"population": "{round(top["population"]):,}"' in text and top["name"] in text  # written in English
    assert "Access gaps (beyond 120 min)" in text


def test_served_page_loads_leaflet_from_the_service(client):
    response = client.get(f"/maps/coverage?resolution={RES}&lang=en")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in resources(response.text)]
    assert {"/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css", "/static/markercluster/leaflet.markercluster.js"} <= set(urls)
    assert all(u.startswith("/static/") for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200
    assert "/tiles/traveltime/{z}/{x}/{y}.png?resolution=5000&v=s2-" in decoded(response.text)
    again = client.get(f"/maps/coverage?resolution={RES}&lang=en", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url, status, name", [
    ("/maps/coverage?lang=de", 400, "lang"), ("/maps/coverage?incidents=yesterday", 400, "datetime"),
    ("/embed/nowhere", 404, "layer"), ("/static/leaflet/%2e%2e/%2e%2e/__init__.py", 404, "static"),
    ("/static/nothing/x.js", 404, "static"),
])
def test_bad_map_requests_name_the_parameter(client, url, status, name):
    response = client.get(url)
    assert response.status_code == status and name in response.json()["detail"]


def test_acled_incidents_appear_only_aggregated_with_attribution(dataset):
    acled = replace(dataset, incidents=dataset.incidents.assign(source_dataset="acled"))
    text = decoded(page(coverage_map(Engine(acled), AccessParams(resolution_m=float(RES)), lang="en")))
    window = acled.incidents[acled.incidents["date"].between("2022-11-17", "2023-11-17")]
    cells = aggregate_incidents(window)
    cells = cells[cells["incidents"] >= acled.licence_floors.min_incidents]  # sparser cells are not published
    assert len(cells) < len(window)
    assert text.count("L.rectangle(") == len(cells)
    assert "Armed Conflict Location & Event Data (ACLED)" in text  # in the page's list of sources
    first = window.iloc[0]
    assert first["event_type"] not in text.replace("event_type", "")  # no event row in the page


def test_embed_page_and_snippet(client):
    embed = client.get(f"/embed/traveltime?resolution={RES}")
    assert embed.status_code == 200
    text = decoded(embed.text)
    assert "/tiles/traveltime/{z}/{x}/{y}.png?resolution=5000&v=s2-" in text
    assert "Temps de trajet (minutes)" in text and "L.control.layers" not in text
    snippet = client.get(f"/embed/traveltime/snippet?resolution={RES}&lang=en").text
    assert snippet.startswith('<iframe src="http://testserver/embed/traveltime?resolution=5000&amp;lang=en"')
    assert 'height="450"' in snippet and "Travel time: modelled by geo-justice" in snippet


def test_cli_exports_tiles_to_a_folder_and_mbtiles(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "zxy"
    result = runner.invoke(main, ["tiles", "export", "--layer", "courts", "--zoom", "5-6", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    layer = folder / json.loads((folder / "latest.json").read_text())["version"] / "courts"  # a versioned pyramid
    written = sorted(p.relative_to(layer).as_posix() for p in layer.rglob("*.png"))
    assert written and all(p.split("/")[0] in ("5", "6") for p in written)
    assert f"wrote {len(written)} tiles" in result.output
    mbtiles = tmp_path / "t.mbtiles"
    assert runner.invoke(main, ["tiles", "export", "--layer", "courts", "--zoom", "5-6", "-o", str(mbtiles)]).exit_code == 0
    with sqlite3.connect(mbtiles) as db:
        assert db.execute("SELECT count(*) FROM tiles").fetchone()[0] == len(written)
    bad = runner.invoke(main, ["tiles", "export", "--layer", "courts", "--zoom", "9-4", "-o", str(folder)])
    assert bad.exit_code == 1 and "--zoom" in bad.output


def test_pages_are_compressed_and_docs_work_offline(client):
    import gzip
    plain = client.get(f"/maps/coverage?resolution={RES}", headers={"Accept-Encoding": "identity"})
    zipped = client.get(f"/maps/coverage?resolution={RES}", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes: the same page ...
    assert len(gzip.compress(plain.content)) < len(plain.content) / 4  # ... which compresses well
    assert client.get("/static/gj/map.js").headers["content-encoding"] == "gzip"
    tile = client.get(f"/tiles/basemap/5/15/14.png?resolution={RES}")
    assert "content-encoding" not in tile.headers  # PNG is compressed already
    for path, script in (("/docs", "/static/docs/swagger-ui-bundle.js"), ("/redoc", "/redoc.standalone.js")):
        text = client.get(path).text
        assert script in text and "cdn." not in text and "fonts.googleapis" not in text
        assert client.get(script).status_code == 200
    assert "cdn.redoc.ly" not in client.get("/redoc.standalone.js").text
    assert client.get("/favicon.ico").headers["content-type"] == "image/svg+xml"


def test_page_language_numbers_dates_and_tier_names(client, dataset):
    fr = decoded(client.get(f"/maps/coverage?resolution={RES}").text)
    en = decoded(client.get(f"/maps/coverage?resolution={RES}&lang=en").text)
    assert '<html lang="fr">' in fr and '<html lang="en">' in en
    assert "user-scalable=no" not in fr and 'rel="icon"' in fr
    # A gap hotspot's population as the analysis API gives it, written by hand in each language's way.
    gaps = client.get(f"/analysis/gaps?resolution={RES}&threshold=120").json()["features"]
    people = round(max(f["properties"]["population"] for f in gaps))
    assert people >= 1000
    assert f"{people:,}".replace(",", "\u202f") in fr and f"{people:,}" in en and f"{people:,}" not in fr
    assert "Tribunal de grande instance" in fr and "Tier: tgi" not in en and "High court" in en
    assert "17 novembre 2023" in fr and "17 November 2023" in en


def test_tier_names_come_from_the_dataset_when_it_declares_them():
    from web.i18n import tier_name
    assert tier_name("fr", "tgi") == "Tribunal de grande instance"
    assert tier_name("en", "jpce") == "Justice of the peace with extended jurisdiction"
    assert tier_name("fr", "tgi", {"tgi": {"fr": "TGI (déclaré)", "en": "High court"}}) == "TGI (déclaré)"
    assert tier_name("en", "district", {"district": "District court"}) == "District court"
    assert tier_name("en", "unheard-of") == "unheard-of"  # an unknown code stays visible rather than vanishing


def test_numbers_and_dates_by_language():
    from web.i18n import date_text, number
    assert number("fr", 1588052) == "1\u202f588\u202f052" and number("en", 1588052) == "1,588,052"
    assert number("fr", 6.45, 1) == "6,5" or number("fr", 6.45, 1) == "6,4"  # rounding of a binary float
    assert date_text("fr", "2023-11-01") == "1er novembre 2023" and date_text("en", "2023-11-17") == "17 November 2023"
