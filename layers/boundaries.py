"""Boundaries: any polygon layer (GeoJSON, GeoPackage, Shapefile) with a name field chosen by the user."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from .checks import check_polygons, check_required_text, check_unique, require_columns
from .errors import Report
from .names import NameMatcher
from .read import read_table


def read_boundaries(path: str | Path, name_field: str, *, layer: str | None = None, crs: str | None = None,
                    aliases: dict[str, str] | None = None, level: int | None = None) -> gpd.GeoDataFrame:
    """Polygons in WGS 84 with a unique `name` (from `name_field`); invalid polygons repaired where safe.

    Other attributes are kept. Repairs made are listed in `.attrs["notes"]`; `aliases` (other spellings of
    names, {"Koulikoro": "Koulikouro"}) and the administrative `level` are kept in `.attrs` for `matcher`.
    """
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is None or not require_columns(frame, [name_field], report):
        report.raise_if_any()
    frame["name"] = check_required_text(frame, name_field, report)
    check_unique(frame, "name", report)
    geometry = check_polygons(frame, report)
    if not report.problems:
        try:
            NameMatcher(frame["name"], aliases)
        except ValueError as exc:
            report.error(None, "aliases", str(exc))
    report.raise_if_any()
    out = gpd.GeoDataFrame(frame.drop(columns=["_where"]), geometry=geometry, crs="EPSG:4326")
    out.attrs["notes"] = report.notes
    out.attrs["source"] = str(path)
    out.attrs["aliases"] = dict(aliases or {})
    out.attrs["level"] = level
    return out


def matcher(boundaries: gpd.GeoDataFrame) -> NameMatcher:
    """The name matcher of a boundary layer: its names, accent- and case-insensitive, and its aliases."""
    return NameMatcher(boundaries["name"], boundaries.attrs.get("aliases"))
