"""Places named by users: towns of the settlements layer, facilities' sitting places, and facility ids (their seat)."""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

from layers.catalog import Dataset


@dataclass(frozen=True)
class Place:
    name: str
    lon: float
    lat: float
    source: str  # "settlements", "sitting place of <id>" or "seat of <id>"


def fold(text: str) -> str:
    """Case, accents, hyphens and apostrophes do not matter: 'Gourma-Rharous' == 'gourma rharous'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("-", " ").replace("'", " ").split())


def gazetteer(dataset: Dataset) -> dict[str, Place]:
    """Every name a user may give, folded; settlements win over sitting places, which win over facility ids."""
    places: dict[str, Place] = {}
    for facilities in (dataset.courts, dataset.prisons):
        for row in facilities.itertuples():
            places.setdefault(fold(row.id), Place(row.id, row.geometry.x, row.geometry.y, f"seat of {row.id}"))
    events = dataset.events
    for row in events[(events["sitting_name"] != "") & events["sitting_lon"].notna()].itertuples():
        places[fold(row.sitting_name)] = Place(row.sitting_name, row.sitting_lon, row.sitting_lat,
                                               f"sitting place of {row.facility_id}")
    if dataset.settlements is not None:
        for row in dataset.settlements.itertuples():
            places[fold(row.name)] = Place(row.name, row.geometry.x, row.geometry.y, "settlements")
    return places


def find_place(dataset: Dataset, name: str, places: dict[str, Place] | None = None) -> Place:
    """The place called `name`; ValueError naming the closest known names when there is none."""
    places = gazetteer(dataset) if places is None else places
    found = places.get(fold(name))
    if found is None:
        close = difflib.get_close_matches(fold(name), list(places), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(places[c].name for c in close)}?" if close else ""
        raise ValueError(f"unknown place {name!r}: not a settlement, a sitting place or a facility id{hint}")
    return found
