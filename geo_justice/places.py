"""Places named by users (scenarios, siting, routes): one gazetteer of the dataset's towns and facilities."""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from layers.catalog import Dataset

#: Two matches of one name farther apart than this (degrees) are different places.
SAME_PLACE_DEG = 0.05


@dataclass(frozen=True)
class Place:
    """A named point in WGS 84, and where the name came from."""

    name: str
    lon: float
    lat: float
    source: str = ""


def fold(name: str) -> str:
    """Case, accents and punctuation do not matter: 'Gourma-Rharous' == 'gourma rharous'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain.lower()).split())


def gazetteer(dataset: Dataset) -> pd.DataFrame:
    """Every name a place can be given by, best first (`rank`): settlements (0); sitting places and the town
    in a facility's name ('... de Diré') (1); facility ids and full names, at their seat (2)."""
    frames = []
    if dataset.settlements is not None:
        towns = dataset.settlements
        frames.append(pd.DataFrame({"name": towns["name"], "lon": towns.geometry.x, "lat": towns.geometry.y,
                                    "rank": 0, "source": "settlements"}))
    events = dataset.events[(dataset.events["sitting_name"] != "") & dataset.events["sitting_lon"].notna()]
    frames.append(pd.DataFrame({"name": events["sitting_name"], "lon": events["sitting_lon"], "lat": events["sitting_lat"],
                                "rank": 1, "source": "sitting place of " + events["facility_id"]}))
    for facilities in (dataset.courts, dataset.prisons):
        seat = {"lon": facilities.geometry.x, "lat": facilities.geometry.y, "source": "seat of " + facilities["id"]}
        town = facilities["name"].str.extract(r"^.*(?:\bde |\bd')(.+)$", expand=False)
        frames.append(pd.DataFrame({"name": town, **seat, "rank": 1}).dropna(subset=["name"]))
        frames.append(pd.DataFrame({"name": facilities["name"], **seat, "rank": 2}))
        frames.append(pd.DataFrame({"name": facilities["id"], **seat, "rank": 2}))
    table = pd.concat(frames, ignore_index=True)
    return table.assign(key=table["name"].map(fold))


def find_place(dataset: Dataset, name: str, table: pd.DataFrame | None = None) -> Place:
    """The place called `name`; ValueError listing close names when there is none, or the candidates when
    the name is ambiguous. `table`: the dataset's gazetteer, when already built."""
    table = gazetteer(dataset) if table is None else table
    matches = table[table["key"] == fold(name)]
    if matches.empty:
        close = difflib.get_close_matches(fold(name), table["key"].unique().tolist(), n=5, cutoff=0.6)
        names = table.drop_duplicates("key").set_index("key").loc[close, "name"].tolist() if close else []
        hint = f"; close names: {', '.join(names)}" if names else ""
        raise ValueError(f"unknown place {name!r}: not a settlement, sitting place or facility of the dataset{hint}")
    best = matches[matches["rank"] == matches["rank"].min()]
    spread = max(best["lon"].max() - best["lon"].min(), best["lat"].max() - best["lat"].min())
    if spread > SAME_PLACE_DEG:
        spots = ", ".join(sorted({f"{n} ({x:.3f}, {y:.3f})" for n, x, y in zip(best["name"], best["lon"], best["lat"])}))
        raise ValueError(f"place {name!r} is ambiguous: {spots}; give its lon and lat")
    row = best.iloc[0]
    return Place(str(row["name"]), float(row["lon"]), float(row["lat"]), str(row["source"]))


def place_from(dataset: Dataset, spec: str | Mapping, table: pd.DataFrame | None = None) -> Place:
    """A place from a name, or a mapping {name, lon, lat} (without lon and lat, the name is looked up)."""
    if isinstance(spec, str):
        return find_place(dataset, spec, table)
    name = str(spec.get("name") or "").strip()
    if spec.get("lon") is None or spec.get("lat") is None:
        if not name:
            raise ValueError(f"a place needs a name, or lon and lat: {dict(spec)!r}")
        return find_place(dataset, name, table)
    lon, lat = float(spec["lon"]), float(spec["lat"])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"place {name or dict(spec)!r}: lon {lon}, lat {lat} are not WGS 84 degrees")
    return Place(name or f"{lat:.4f}, {lon:.4f}", lon, lat, "given")
