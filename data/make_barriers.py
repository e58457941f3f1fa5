"""Write barriers.geojson: the rivers and lake the embedded dataset treats as impassable except at crossings.

    python data/make_barriers.py

From the Natural Earth 1:10m copies in naturalearth/ (public domain): the Niger, the Bani, the Sénégal and
its headwaters the Bafing and the Bakoy, and Lac Débo, cut to Mali's official border (geoBoundaries ADM0)
plus 5 km, so a river on the border still bounds it. Other Natural Earth rivers (the Baoulé, the Bagoé,
the Komoé) stay map context only: national roads cross them at bridges this dataset cannot source
offline, and they are low or dry for much of the year.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

HERE = Path(__file__).resolve().parent
RIVERS = ("Niger", "Bani", "Sénégal", "Bafing", "Bakoy")
LAKES = ("Lake Débo", "Lake Dbo")  # the Natural Earth name lost its accent in some copies
MARGIN_DEG = 0.045  # about 5 km
#: Side channels of the Niger's inner delta, by their end points (lon, lat): the Diaka, and the eastern channel
#: from Lac Débo to the Niger bend. With them the delta's islands are closed rings that the model could never
#: leave, while boats cross the channels everywhere; the main channel and Lac Débo stay barriers.
SIDE_CHANNELS = {((-4.23, 15.23), (-4.92, 14.17)), ((-3.47, 16.07), (-3.98, 15.31)), ((-3.22, 16.4), (-3.47, 16.07)),
                 ((-3.47, 16.07), (-3.46, 16.16)), ((-3.47, 16.07), (-3.47, 16.07))}
SOURCE = "Natural Earth 1:10m {} (public domain), cut to Mali's ADM0 border plus 5 km"
APPROXIMATE = "yes: a 1:10m centre line or outline, good to a few km; no river width"


def main() -> None:
    border = gpd.read_file(HERE / "boundaries" / "geoBoundaries-MLI-ADM0_simplified.geojson").to_crs(4326)
    area = border.geometry.union_all().buffer(MARGIN_DEG)
    rivers = gpd.read_file(HERE / "naturalearth" / "rivers.geojson")
    rivers = rivers[rivers["name"].isin(RIVERS)].explode(index_parts=False)
    rivers = rivers[[ends(line) not in SIDE_CHANNELS for line in rivers.geometry]].dissolve("name", as_index=False)
    rivers = rivers.assign(kind="river", source=SOURCE.format("rivers_lake_centerlines"))
    lakes = gpd.read_file(HERE / "naturalearth" / "lakes.geojson")
    lakes = lakes[lakes["name"].isin(LAKES)].assign(name="Lac Débo", kind="lake", source=SOURCE.format("lakes"))
    frame = gpd.GeoDataFrame(pd.concat([rivers, lakes], ignore_index=True)[["name", "kind", "source", "geometry"]], crs=4326)
    frame["geometry"] = frame.geometry.intersection(area)
    frame = frame[~frame.geometry.is_empty].assign(approximate=APPROXIMATE)
    frame.geometry = frame.geometry.set_precision(1e-5)
    frame.to_file(HERE / "barriers.geojson", driver="GeoJSON", COORDINATE_PRECISION=5)


def ends(line) -> tuple[tuple[float, float], tuple[float, float]]:
    return tuple(tuple(round(v, 2) for v in line.coords[i]) for i in (0, -1))


if __name__ == "__main__":
    main()
