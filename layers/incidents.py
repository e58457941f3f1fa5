"""Conflict incidents from an ACLED or UCDP GED CSV export (loaded unchanged) or a normalised file."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from .checks import (BBox, check_points, check_required_text, check_unique, check_vocabulary, parse_dates,
                     parse_numbers, require_columns, text)
from .errors import Report
from .plausible import check_date_order, check_layer_positions, check_not_future, check_range
from .read import read_table, where
from .vocabulary import INCIDENT_SOURCES

#: Normalised column <- column of each export format.
FORMATS: dict[str, dict[str, str]] = {
    "acled": {"id": "event_id_cnty", "date": "event_date", "event_type": "event_type", "sub_event_type": "sub_event_type",
              "actor1": "actor1", "actor2": "actor2", "fatalities": "fatalities", "geo_precision": "geo_precision"},
    "ucdp": {"id": "id", "date": "date_start", "event_type": "type_of_violence", "sub_event_type": "",
             "actor1": "side_a", "actor2": "side_b", "fatalities": "best", "geo_precision": "where_prec"},
    "normalised": {"id": "id", "date": "date", "event_type": "event_type", "sub_event_type": "sub_event_type",
                   "actor1": "actor1", "actor2": "actor2", "fatalities": "fatalities", "geo_precision": "geo_precision"},
}
REQUIRED = ("id", "date", "event_type", "fatalities")
UCDP_VIOLENCE = {"1": "state-based conflict", "2": "non-state conflict", "3": "one-sided violence"}
#: ACLED's six event types (ACLED codebook).
ACLED_EVENT_TYPES = ("Battles", "Violence against civilians", "Explosions/Remote violence", "Riots", "Protests",
                     "Strategic developments")
#: Documented ranges of precision and count columns: ACLED codebook and UCDP GED codebook (inclusive).
RANGES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "acled": {"geo_precision": (1, 3), "time_precision": (1, 3)},
    "ucdp": {"where_prec": (1, 7), "date_prec": (1, 5), "event_clarity": (1, 2), "type_of_violence": (1, 3),
             "low": (0, None), "high": (0, None)},
}
COLUMNS = ("id", "date", "event_type", "sub_event_type", "actor1", "actor2", "fatalities", "geo_precision", "source_dataset")


def detect_format(columns: pd.Index) -> str:
    """'acled', 'ucdp' or 'normalised', from the columns a file has."""
    if {"event_id_cnty", "event_date"} <= set(columns):
        return "acled"
    if {"date_start", "type_of_violence", "where_prec"} <= set(columns):
        return "ucdp"
    return "normalised"


def read_incidents(
    path: str | Path, *, study_area: BBox | None = None, layer: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Read incidents into the contract's columns, WGS 84 points.

    ACLED rows whose `tags` say "synthetic" (the embedded demo file) get source_dataset 'synthetic';
    other ACLED rows 'acled', UCDP GED rows 'ucdp'; a normalised file may carry its own
    `source_dataset` (default 'custom'). Raises LayerError listing every problem.
    """
    report = Report.for_path(path)
    frame = read_table(path, report, lon=("longitude", "lon"), lat=("latitude", "lat"), layer=layer, crs=crs)
    if frame is None:
        report.raise_if_any()
    fmt = detect_format(frame.columns)
    mapping = FORMATS[fmt]
    if not require_columns(frame, [mapping[c] for c in REQUIRED], report):
        report.raise_if_any()
    frame["id"] = frame[mapping["id"]]  # so that every message names the row's id
    out = gpd.GeoDataFrame({
        "id": check_required_text(frame, mapping["id"], report),
        "date": parse_dates(frame, mapping["date"], report),
        "event_type": check_required_text(frame, mapping["event_type"], report),
        "sub_event_type": column_or_blank(frame, mapping["sub_event_type"]),
        "actor1": column_or_blank(frame, mapping["actor1"]),
        "actor2": column_or_blank(frame, mapping["actor2"]),
        "fatalities": parse_numbers(frame, mapping["fatalities"], report, integer=True, required=True),
        "geo_precision": (parse_numbers(frame, mapping["geo_precision"], report, integer=True)
                          if mapping["geo_precision"] in frame else float("nan")),
    }, geometry=frame.geometry, crs="EPSG:4326")
    check_unique(frame, mapping["id"], report)
    check_points(frame, report, study_area)
    check_layer_positions(frame, report, study_area)
    check_export(frame, out, fmt, report)
    if fmt == "acled":
        tags = column_or_blank(frame, "tags").str.lower()
        out["source_dataset"] = tags.str.contains("synthetic").map({True: "synthetic", False: "acled"})
    elif fmt == "ucdp":
        out["event_type"] = out["event_type"].map(lambda v: UCDP_VIOLENCE.get(v, v))
        out["source_dataset"] = "ucdp"
    elif "source_dataset" in frame:
        out["source_dataset"] = check_vocabulary(frame, "source_dataset", INCIDENT_SOURCES, report).replace("", "custom")
    else:
        out["source_dataset"] = "custom"
    report.raise_if_any()
    out["fatalities"] = out["fatalities"].astype("Int64")
    out["geo_precision"] = out["geo_precision"].astype("Int64")
    out = out[list(COLUMNS) + ["geometry"]]
    out.attrs["format"] = fmt
    out.attrs["source"] = str(path)
    return out


def check_export(frame: gpd.GeoDataFrame, out: gpd.GeoDataFrame, fmt: str, report: Report) -> None:
    """Documented ranges and vocabularies of the export format, UCDP's date order, no event in the future."""
    for column, (low, high) in RANGES.get(fmt, {}).items():
        parsed = out["geo_precision"] if column == FORMATS[fmt]["geo_precision"] else None
        check_range(frame, column, report, low, high, values=parsed)
    check_not_future(frame, out["date"], report, FORMATS[fmt]["date"])
    if fmt == "acled":
        allowed = {t.lower(): t for t in ACLED_EVENT_TYPES}
        for i, value in enumerate(out["event_type"]):
            if value and value.lower() not in allowed:
                report.error(where(frame, i), "event_type", f"unknown ACLED event type {value!r}; expected one of {', '.join(ACLED_EVENT_TYPES)}")
    if fmt == "ucdp":
        if "date_end" in frame:
            check_date_order(frame, out["date"], parse_dates(frame, "date_end", report), report, "date_start", "date_end")
        best = out["fatalities"]
        if {"low", "high"} <= set(frame.columns):
            low, high = (pd.to_numeric(frame[c].map(text), errors="coerce") for c in ("low", "high"))
            for i in (~((low <= best) & (best <= high)) & low.notna() & high.notna() & best.notna()).to_numpy().nonzero()[0]:
                report.error(where(frame, i), "best", f"{best.iat[i]:g} is not between low {low.iat[i]:g} and high {high.iat[i]:g}")


def column_or_blank(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name].map(text) if name in frame else pd.Series("", index=frame.index)
