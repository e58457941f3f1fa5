"""Validate one file as a layer of a given kind against a study area: what `geo-justice layers validate` runs."""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd

from .area import StudyArea, outside_outline
from .barriers import read_barriers, read_crossings
from .boundaries import read_boundaries
from .errors import LayerError, Problem, Report
from .facilities import read_facilities
from .incidents import read_incidents
from .plausible import check_overlaps_area
from .population import read_population_raster
from .roads import read_roads
from .settlements import read_settlements

#: Point layers: read with the study area; those that must also lie in the country or units outline.
POINT_READERS = {
    "courts": lambda path, **o: read_facilities(path, "court", **o),
    "prisons": lambda path, **o: read_facilities(path, "prison", **o),
    "incidents": read_incidents,
    "settlements": read_settlements,
    "crossings": read_crossings,
}
INSIDE_OUTLINE = ("courts", "prisons", "settlements", "crossings")
SHAPE_READERS = {"boundaries": read_boundaries, "roads": read_roads, "barriers": read_barriers}
KINDS = (*POINT_READERS, *SHAPE_READERS, "population")


def validate_layer(path: str | Path, kind: str, area: StudyArea, *, name_field: str | None = None, crs: str | None = None,
                   layer: str | None = None, roads: dict | None = None,
                   tiers: tuple[str, ...] | None = None) -> tuple[str, gpd.GeoDataFrame | None]:
    """A summary and the layer read when `path` is a good layer of `kind` inside `area`; LayerError listing every
    problem otherwise (the layer is None for a population raster).

    Stricter than loading: a polygon the loader would repair with make_valid is reported as a problem.
    `roads` holds the roads reader's `class_field` and `speeds_kmh`; roads of speed 0 left out are listed.
    `tiers` is the court tier vocabulary of the dataset the file belongs to (default: the glossary's).
    """
    path = Path(path)
    if kind == "population":
        raster = read_population_raster(path, crs=crs, study_area=area.bbox)
        return f"{path.name}: valid population raster, {raster.counts.sum():,.0f} persons", None
    options = {"crs": crs, **({"layer": layer} if layer else {}), **({"tiers": tiers} if tiers and kind == "courts" else {})}
    if kind in POINT_READERS:
        frame = POINT_READERS[kind](path, study_area=area.bbox, **options)
        problems = outside_outline(frame, str(path), area.outline, area.label) if area.outline is not None and kind in INSIDE_OUTLINE else []
    elif kind in SHAPE_READERS:
        extra = {"boundaries": {"name_field": name_field}, "roads": roads or {}}.get(kind, {})
        frame = SHAPE_READERS[kind](path, **options, **extra)
        report = Report.for_path(path)
        check_overlaps_area(frame, report, area.bbox)
        repairs = [] if kind == "roads" else frame.attrs.get("notes", [])
        problems = report.problems + [repair_problem(note) for note in repairs]
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if problems:
        raise LayerError(problems)
    summary = f"{path.name}: valid {kind} layer, {len(frame)} rows"
    if kind == "roads":
        summary = "\n".join([*(f"left out: {note}" for note in frame.attrs.get("notes", [])), summary])
    if frame.attrs.get("name_field"):
        summary += f", names from '{frame.attrs['name_field']}'" + ("" if name_field else " (detected; choose another with --name-field)")
    return summary, frame


def repair_problem(note: str) -> Problem:
    """A repair the loader made ('file: feature 3: field ...: repaired ...') as a problem of the file itself."""
    file, _, rest = note.partition(": ")
    rest = re.sub(r"invalid polygon repaired with make_valid \(Self-intersection\[(\S+) (\S+)\]\)",
                  r"self-crossing polygon: its boundary crosses itself at lon \1, lat \2", rest)
    return Problem(file, None, None, f"{rest} (loading repairs it with make_valid; fix the file)")
