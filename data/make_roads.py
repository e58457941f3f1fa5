"""Write roads.geojson: the national road network as it runs through the towns it serves, APPROXIMATE.

    python data/make_roads.py

Reads road_routes.csv (one route per row: number, class paved / unpaved / track, the stops it passes in
order, and the source of that description). A stop is a town, placed from (first match wins)
road_towns.csv (towns positioned by hand, each with its source and how approximate it is), crossings.csv
(a road crosses a river at its bridge, dam or ferry), settlements.csv (GeoNames) or the Natural Earth
populated places; or `~River`, meaning the road keeps to its bank of that river (barriers.geojson) from
the previous stop to the next, BANK_OFFSET_M off the river line. Each route becomes one line through its
stops: straight between towns, not surveyed geometry. Replace it with an OpenStreetMap export (the roads
loader reads `highway` classes) for real planning.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import Transformer
from shapely.ops import substring

HERE = Path(__file__).resolve().parent
ALIASES = {"Tombouctou": "Timbuktu"}
SEPARATOR = " > "
BANK_OFFSET_M = 3000.0
#: Lambert azimuthal equal-area on Mali, for the bank offsets in metres.
LOCAL = "+proj=laea +lat_0=17 +lon_0=-4 +datum=WGS84 +units=m"


def town_positions() -> dict[str, tuple[float, float]]:
    """Town name -> (lon, lat); later sources win (road_towns.csv over crossings, GeoNames and Natural Earth)."""
    towns: dict[str, tuple[float, float]] = {}
    places = json.loads((HERE / "naturalearth" / "populated_places.geojson").read_text(encoding="utf-8"))
    for feature in places["features"]:
        if feature["properties"].get("adm0name") == "Mali":
            lon, lat = feature["geometry"]["coordinates"][:2]
            towns[feature["properties"]["name"]] = (lon, lat)
    with open(HERE / "settlements.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            towns[row["name"]] = (float(row["lon"]), float(row["lat"]))
    with open(HERE / "crossings.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            towns[row["name"]] = (float(row["lon"]), float(row["lat"]))
    with open(HERE / "road_towns.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            towns[row["name"]] = (float(row["lon"]), float(row["lat"]))
    return towns


def along_bank(lines: list[shapely.LineString], start: tuple[float, float], end: tuple[float, float]) -> list[list[float]]:
    """Points BANK_OFFSET_M off the river (projected metres) on the side of `start` and `end`, between where
    they project onto its line nearest to both."""
    a, b = shapely.Point(start), shapely.Point(end)
    river = min(lines, key=lambda line: line.distance(a) + line.distance(b))
    piece = substring(river, *sorted((river.project(a), river.project(b))))
    if river.project(a) > river.project(b):
        piece = piece.reverse()
    sides = [piece.offset_curve(d) for d in (BANK_OFFSET_M, -BANK_OFFSET_M)]
    bank = min(sides, key=lambda line: line.distance(a) + line.distance(b))
    if shapely.Point(bank.coords[0]).distance(a) > shapely.Point(bank.coords[-1]).distance(a):
        bank = bank.reverse()
    return [list(c) for c in bank.simplify(500).coords]


def rivers() -> dict[str, list[shapely.LineString]]:
    """Each barrier river's lines, merged where they join, projected to metres."""
    frame = gpd.read_file(HERE / "barriers.geojson").to_crs(LOCAL)
    return {name: list(shapely.get_parts(shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom))
            for name, geom in zip(frame["name"], frame.geometry) if geom.geom_type != "Polygon"}


def route_line(stops: list[str], towns: dict, banks: dict[str, list[shapely.LineString]]) -> list[list[float]]:
    """The route's coordinates (lon, lat): its towns in order, and the bank of a river where it says `~River`."""
    to_local = Transformer.from_crs("EPSG:4326", LOCAL, always_xy=True)
    to_wgs = Transformer.from_crs(LOCAL, "EPSG:4326", always_xy=True)
    coords: list[list[float]] = []
    for i, stop in enumerate(stops):
        if stop.startswith("~"):
            start = to_local.transform(*coords[-1])
            end = to_local.transform(*towns[ALIASES.get(stops[i + 1], stops[i + 1])])
            coords += [list(to_wgs.transform(x, y)) for x, y in along_bank(banks[stop[1:]], start, end)]
        else:
            coords.append(list(towns[ALIASES.get(stop, stop)]))
    return [[round(v, 5) for v in c] for c in coords]


def main() -> None:
    towns = town_positions()
    banks = rivers()
    features = []
    with open(HERE / "road_routes.csv", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            stops = row["towns"].split(SEPARATOR)
            missing = [t for t in stops if ALIASES.get(t, t) not in towns and t[1:] not in banks]
            if missing:
                raise SystemExit(f"road_routes.csv line {number + 1}: field 'towns': no position for {', '.join(missing)}")
            towns_only = [t for t in stops if not t.startswith("~")]
            features.append({"type": "Feature", "properties": {
                "id": f"road-{number:03d}", "ref": row["route"], "name": " - ".join(towns_only), "class": row["class"],
                "towns": row["towns"], "source": row["source"],
                "approximate": "yes: follows the route town by town (and a river's bank where it says ~River), "
                               "straight between towns; not surveyed"},
                "geometry": {"type": "LineString", "coordinates": route_line(stops, towns, banks)}})
    collection = {"type": "FeatureCollection", "features": features}
    (HERE / "roads.geojson").write_text(json.dumps(collection, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
