"""The area a layer is checked against: a dataset's study area and country, a boundaries file, or a box."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .boundaries import read_boundaries
from .checks import BBox
from .errors import LayerError, Problem

MANIFEST = "dataset.json"
#: How far (km) a facility or settlement may lie outside the country outline (generalised borders, border towns).
OUTLINE_MARGIN_KM = 10.0


@dataclass(frozen=True)
class StudyArea:
    """A bounding box (lon/lat degrees), optionally the outline of the country or units inside it, and where they came from."""

    bbox: BBox
    label: str
    outline: BaseGeometry | None = None


def parse_bbox(text: str) -> StudyArea:
    """'west,south,east,north' in degrees; ValueError naming --study-area when malformed."""
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--study-area must be west,south,east,north in degrees, not {text!r}") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"--study-area {text!r}: need -180 <= west < east <= 180 and -90 <= south < north <= 90")
    return StudyArea((west, south, east, north), f"--study-area {text}")


def boundaries_area(path: Path, name_field: str | None = None) -> StudyArea:
    """The outline and bounds of a boundaries file (raises LayerError when it is bad)."""
    units = read_boundaries(path, name_field)
    return StudyArea(tuple(float(v) for v in units.total_bounds), f"boundaries {Path(path).name}", units.union_all())


def find_manifest(file: Path) -> Path | None:
    """The dataset.json of the nearest folder holding `file` (the file's own folder first), or None."""
    for folder in Path(file).resolve().parents:
        if (folder / MANIFEST).is_file():
            return folder / MANIFEST
    return None


def dataset_area(manifest_path: Path) -> StudyArea:
    """A dataset's study_area and, when it lists one, its country outline (from dataset.json alone)."""
    try:
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayerError([Problem(Path(manifest_path).name, None, None, f"cannot read the dataset manifest ({exc})")]) from exc
    country = manifest.get("layers", {}).get("country")
    outline = None
    bbox = tuple(float(v) for v in manifest["study_area"]) if "study_area" in manifest else None
    if country:
        options = {k: v for k, v in country.items() if k in ("name_field", "layer", "crs")}
        units = read_boundaries(Path(manifest_path).parent / country["path"], **options)
        outline = units.union_all()
        bbox = bbox or tuple(float(v) for v in units.total_bounds)
    if bbox is None:
        raise LayerError([Problem(Path(manifest_path).name, None, "study_area", "the dataset declares no study_area and no country")])
    return StudyArea(bbox, f"the study area{' and country' if outline is not None else ''} of {manifest_path}", outline)


def haversine_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distance (km, authalic sphere) between (lon, lat) rows of `a` and `b`."""
    lon1, lat1, lon2, lat2 = (np.radians(v) for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0072 * np.arcsin(np.sqrt(h))


def locate(frame: gpd.GeoDataFrame, i: int, source: str) -> str:
    """Where row i of a loaded layer was in its file: 'line N (id X)' for text files, 'feature N' otherwise."""
    place = f"line {i + 2}" if Path(source).suffix.lower() in (".csv", ".tsv", ".txt") else f"feature {i}"
    if "id" in frame.columns and str(frame["id"].iat[i]).strip():
        return f"{place} (id {frame['id'].iat[i]})"
    return place


def outside_outline(frame: gpd.GeoDataFrame, source: str, outline: BaseGeometry, label: str,
                    margin_km: float = OUTLINE_MARGIN_KM) -> list[Problem]:
    """Each point farther than `margin_km` outside `outline`, as a problem naming its row and distance."""
    geoms = frame.geometry.to_numpy()
    points = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & (shapely.get_type_id(geoms) == 0)  # 0: Point
    if not points.any():
        return []
    distance = np.full(len(geoms), 0.0)
    shapely.prepare(outline)
    outside = np.flatnonzero(points)[shapely.distance(outline, geoms[points]) > 0]
    if len(outside):
        ends = shapely.get_coordinates(shapely.shortest_line(outline, geoms[outside])).reshape(-1, 2, 2)
        distance[outside] = haversine_km(ends[:, 0], ends[:, 1])
    name = Path(source).name
    return [Problem(name, locate(frame, i, source), "geometry",
                    f"lon {geoms[i].x:g}, lat {geoms[i].y:g} lies about {distance[i]:.0f} km outside {label}")
            for i in np.flatnonzero(distance > margin_km)]
