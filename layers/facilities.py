"""Courts and prisons: read, validate and normalise a facility layer (DESIGN.md data contract)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .checks import (BBox, check_points, check_required_text, check_unique, check_vocabulary, coordinate_problem,
                     parse_dates, parse_numbers, require_columns, text)
from .errors import Report
from .plausible import check_layer_positions, check_not_future
from .read import read_table, where
from .vocabulary import KINDS, STATUSES, TIERS

REQUIRED = ("id", "name", "region", "status", "status_as_of", "status_source")
SITTING = ("sitting_name", "sitting_lon", "sitting_lat", "sitting_since", "sitting_source")
PRISON_FIGURES = ("capacity", "detainees", "high_risk_capacity")
#: Optional court capacity: judges sitting, hearings held and cases handled a year.
COURT_FIGURES = ("judges", "hearings_per_year", "cases_per_year")
FIGURES_SOURCE = "figures_source"


def read_facilities(
    path: str | Path,
    kind: str,
    *,
    study_area: BBox | None = None,
    lon: str = "lon",
    lat: str = "lat",
    layer: str | None = None,
    crs: str | None = None,
    tiers: tuple[str, ...] = TIERS,
) -> gpd.GeoDataFrame:
    """Read courts or prisons from GeoJSON, GeoPackage, Shapefile or CSV (lon/lat columns).

    Returns one row per facility at its seat (EPSG:4326) with the contract columns; a relocated
    court has `sitting_*` columns with the place it sits, since when and the source. Raises
    LayerError listing every problem; repairs made are in `.attrs["notes"]`. `tiers` is the court-tier
    vocabulary (a dataset declares its own in dataset.json; the glossary's by default).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    report = Report.for_path(path)
    frame = read_table(path, report, lon=lon, lat=lat, layer=layer, crs=crs)
    if frame is None:
        report.raise_if_any()
    required = REQUIRED + (("tier",) if kind == "court" else ())
    if not require_columns(frame, required, report):
        report.raise_if_any()

    out = frame.copy()
    out["id"] = check_required_text(frame, "id", report)
    check_unique(frame, "id", report)
    out["name"] = check_required_text(frame, "name", report)
    out["region"] = check_required_text(frame, "region", report)
    out["cercle"] = frame["cercle"].map(text) if "cercle" in frame else ""
    if "kind" in frame:
        for i, value in enumerate(frame["kind"].map(text).str.lower()):
            if value and value != kind:
                report.error(where(frame, i), "kind", f"{value!r} in a layer read as {kind}s")
    out["kind"] = kind
    out["tier"] = check_vocabulary(frame, "tier", tiers, report) if kind == "court" else (
        frame["tier"].map(text) if "tier" in frame else "")
    out["status"] = check_vocabulary(frame, "status", STATUSES, report)
    out["status_as_of"] = parse_dates(frame, "status_as_of", report)
    out["status_source"] = check_required_text(frame, "status_source", report)
    check_not_future(frame, out["status_as_of"], report, "status_as_of")
    check_points(frame, report, study_area)
    check_layer_positions(frame, report, study_area)
    _read_sitting(frame, out, report, study_area)
    _read_figures(frame, out, report, PRISON_FIGURES if kind == "prison" else COURT_FIGURES, integer=kind == "prison")
    report.raise_if_any()
    out = out.drop(columns="_where").set_crs("EPSG:4326", allow_override=True)
    out.attrs["notes"] = report.notes
    out.attrs["source"] = str(path)
    return out


def _read_figures(frame: gpd.GeoDataFrame, out: gpd.GeoDataFrame, report: Report, columns: tuple[str, ...],
                  integer: bool) -> None:
    """Optional capacity figures (blank = not known); every figure given needs `figures_source` (a citation or 'assumed')."""
    for column in columns:
        out[column] = parse_numbers(frame, column, report, integer=integer) if column in frame else np.nan
    sources = frame[FIGURES_SOURCE].map(text) if FIGURES_SOURCE in frame else pd.Series("", index=frame.index)
    for i in range(len(frame)):
        given = [c for c in columns if c in frame and text(frame[c].iat[i])]
        if given and not sources.iat[i]:
            report.error(where(frame, i), FIGURES_SOURCE, f"{', '.join(given)} given without a source (a citation or 'assumed')")
    out[FIGURES_SOURCE] = sources


def _read_sitting(frame: gpd.GeoDataFrame, out: gpd.GeoDataFrame, report: Report, study_area: BBox | None) -> None:
    """Optional sitting place: both coordinates, a date and a source whenever one is given."""
    present = [c for c in SITTING if c in frame.columns]
    if not present:
        for column in SITTING:
            out[column] = pd.NaT if column == "sitting_since" else (np.nan if column in ("sitting_lon", "sitting_lat") else "")
        return
    if not require_columns(frame, SITTING, report):
        return
    lons = parse_numbers(frame, "sitting_lon", report, minimum=None)
    lats = parse_numbers(frame, "sitting_lat", report, minimum=None)
    since = parse_dates(frame, "sitting_since", report, required=False)
    sources = frame["sitting_source"].map(text)
    for i in range(len(frame)):
        given = [c for c in SITTING if text(frame[c].iat[i])]
        if not given:
            continue
        for column in SITTING:
            if column not in given:
                report.error(where(frame, i), column, "a sitting place needs sitting_name, sitting_lon, sitting_lat, sitting_since and sitting_source")
        if not (np.isnan(lons.iat[i]) or np.isnan(lats.iat[i])):
            problem = coordinate_problem(lons.iat[i], lats.iat[i], study_area)
            if problem:
                report.error(where(frame, i), "sitting_lon/sitting_lat", problem)
    out["sitting_name"] = frame["sitting_name"].map(text)
    out["sitting_lon"], out["sitting_lat"], out["sitting_since"], out["sitting_source"] = lons, lats, since, sources
