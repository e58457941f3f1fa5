"""GeoDataFrames as RFC 7946 GeoJSON (WGS 84, dates as ISO strings, NaN as null)."""
from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd


def features(frame: gpd.GeoDataFrame, id_field: str = "id") -> list[dict]:
    """GeoJSON features; `id` from `id_field` when present, else the row number."""
    frame = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    plain = frame.copy()
    for column in plain.columns:
        if pd.api.types.is_datetime64_any_dtype(plain[column]):
            plain[column] = plain[column].dt.strftime("%Y-%m-%d").where(plain[column].notna(), None)
    out = json.loads(plain.to_json(na="null", drop_id=True))["features"]
    ids = frame[id_field].astype(str).tolist() if id_field in frame else [str(i) for i in range(len(frame))]
    for feature, fid in zip(out, ids):
        feature["id"] = fid
    return out


def table(frame: pd.DataFrame) -> list[dict]:
    """Records of a plain table, JSON-safe."""
    return json.loads(pd.DataFrame(frame).drop(columns="geometry", errors="ignore").to_json(orient="records", date_format="iso"))
