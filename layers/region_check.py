"""Does each facility lie in the region (or cercle) it names? A check against official boundaries.

A mismatch is reported, never refused: a court may serve a neighbouring area, and simplified boundaries
move a point near a border. Names are matched as `layers.names` says (accents, case, aliases).
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .boundaries import matcher

COLUMNS = ["id", "name", "field", "stated", "inside", "distance_km"]


def region_mismatches(facilities: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, field: str = "region") -> pd.DataFrame:
    """Facilities whose `field` does not name the boundary unit holding their seat.

    Columns: id, name, field, stated (the facility's value), inside (the unit holding the seat, '' if none),
    distance_km (from the seat to the stated unit; NaN when the stated name is no unit of `boundaries`).
    Facilities with an empty `field` are skipped.
    """
    names = matcher(boundaries)
    stated = facilities[field].fillna("").astype(str)
    given = stated != ""
    holder = gpd.sjoin(facilities[["geometry"]], boundaries[["name", "geometry"]], how="left", predicate="within")
    inside = holder.groupby(level=0)["name"].first().reindex(facilities.index).fillna("")
    official = stated.map(lambda s: names.match(s) or "")
    wrong = given & (official != inside)
    if not wrong.any():
        return pd.DataFrame(columns=COLUMNS)
    metric = boundaries.estimate_utm_crs()
    units = boundaries.set_index("name").geometry.to_crs(metric)
    seats = facilities.geometry[wrong].to_crs(metric)
    distance = [units[o].distance(p) / 1000 if o else np.nan for o, p in zip(official[wrong], seats)]
    return pd.DataFrame({"id": facilities.loc[wrong, "id"].to_numpy(), "name": facilities.loc[wrong, "name"].to_numpy(),
                         "field": field, "stated": stated[wrong].to_numpy(), "inside": inside[wrong].to_numpy(),
                         "distance_km": distance})


def describe(row: pd.Series) -> str:
    """One line a user reads: which facility, what it states, where it lies."""
    where = f"inside {row['inside']}" if row["inside"] else "outside every unit"
    if np.isnan(row["distance_km"]):
        return f"{row['id']} ({row['name']}): {row['field']} {row['stated']!r} is not a name of the boundaries; its seat lies {where}"
    return (f"{row['id']} ({row['name']}): {row['field']} {row['stated']!r} but its seat lies {where}, "
            f"{row['distance_km']:.1f} km from {row['stated']}")
