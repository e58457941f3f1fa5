"""Boundaries: any polygon layer (GeoJSON, GeoPackage, Shapefile) with a name field, chosen by the user or detected."""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd

from .checks import check_polygons, check_required_text, check_unique, require_columns
from .errors import Report
from .names import NameMatcher
from .read import read_table

#: Name fields of common boundary sources, most specific first: geoBoundaries, OCHA COD (ADMn_FR/EN/PT/ES), GADM (NAME_n),
#: then generic names. Among ADMn_xx and NAME_n fields the deepest level wins (an ADM2 file also carries ADM1 names).
NAME_FIELD_PATTERNS = (r"shapeName", r"ADM(\d)_(FR|EN|PT|ES)", r"NAME_(\d)", r"name", r"NAME", r"Name", r"nom", r"NOM", r"Nom")



def detect_name_field(columns: list[str]) -> str | None:
    """The attribute most likely holding each unit's name (see NAME_FIELD_PATTERNS), or None."""
    for pattern in NAME_FIELD_PATTERNS:
        found = [(m, c) for c in columns if (m := re.fullmatch(pattern, c))]
        if found:
            return max(found, key=lambda pair: int(pair[0].group(1)) if pair[0].groups() else 0)[1]
    return None


def read_boundaries(path: str | Path, name_field: str | None = None, *, layer: str | None = None, crs: str | None = None,
                    aliases: dict[str, str] | None = None, level: int | None = None) -> gpd.GeoDataFrame:
    """Polygons in WGS 84 with a unique `name` (from `name_field`, detected when None); invalid polygons repaired where safe.

    Other attributes are kept. The field used is in `.attrs["name_field"]`; repairs made are in `.attrs["notes"]`;
    `aliases` (other spellings of names, {"Koulikoro": "Koulikouro"}) and the administrative `level` are kept in
    `.attrs` for `matcher`.
    """
    report = Report.for_path(path)
    frame = read_table(path, report, layer=layer, crs=crs)
    if frame is not None and name_field is None:
        name_field = detect_name_field([c for c in frame.columns if c not in ("_where", frame.geometry.name)])
        if name_field is None:
            columns = ", ".join(c for c in frame.columns if c not in ("_where", frame.geometry.name)) or "none"
            report.error(None, None, f"no name field found (looked for shapeName, ADMn_FR/EN, NAME_n, name, nom; "
                         f"attributes: {columns}): give one with --name-field")
    if frame is None or name_field is None or not require_columns(frame, [name_field], report):
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
    out.attrs["name_field"] = name_field
    out.attrs["source"] = str(path)
    out.attrs["aliases"] = dict(aliases or {})
    out.attrs["level"] = level
    return out


def matcher(boundaries: gpd.GeoDataFrame) -> NameMatcher:
    """The name matcher of a boundary layer: its names, accent- and case-insensitive, and its aliases."""
    return NameMatcher(boundaries["name"], boundaries.attrs.get("aliases"))
