"""Write results (GeoPackage, GeoJSON, CSV, GeoTIFF) atomically, each with its run manifest beside it."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio

from .grid import Grid
from .manifest import manifest_json

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".csv"}


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write` on a temporary file in the same folder, then move it into place: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        temporary.unlink()  # GDAL drivers want to create the file themselves
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_tables(path: Path, layers: Mapping[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
    """GeoPackage: every layer (tables without geometry too); GeoJSON: the first layer; CSV: the first, no geometry."""
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise ValueError(f"cannot write {path.name}: use one of {', '.join(sorted(VECTOR_SUFFIXES))} (or .tif for rasters)")
    name, first = next(iter(layers.items()))

    def write(target: Path) -> None:
        if suffix == ".gpkg":
            for layer, frame in layers.items():
                pyogrio.write_dataframe(_for_gdal(frame), target, layer=layer, driver="GPKG", append=target.exists())
        elif suffix == ".csv":
            pd.DataFrame(first.drop(columns="geometry", errors="ignore")).to_csv(target, index=False)
        else:
            if not isinstance(first, gpd.GeoDataFrame):
                raise ValueError(f"layer {name!r} has no geometry: write it as .csv or .gpkg")
            pyogrio.write_dataframe(_for_gdal(first), target, driver="GeoJSON")

    atomic_write(path, write)
    atomic_write(manifest_path(path), lambda target: target.write_text(manifest_json(manifest), encoding="utf-8"))


def _for_gdal(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetimes as ISO dates, which every driver stores."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    return frame


def write_raster(path: Path, grid: Grid, values: np.ndarray, manifest: dict[str, Any], *, nodata: float = -1.0,
                 description: str = "") -> None:
    """A single-band float32 GeoTIFF on `grid` (non-finite values become `nodata`), DEFLATE-compressed."""
    data = np.where(np.isfinite(values), values, nodata).astype(np.float32)
    profile = dict(driver="GTiff", height=grid.shape[0], width=grid.shape[1], count=1, dtype="float32", crs=grid.crs,
                   transform=grid.transform, nodata=nodata, compress="deflate", predictor=3, tiled=True)

    def write(target: Path) -> None:
        with rasterio.open(target, "w", **profile) as dst:
            dst.write(data, 1)
            dst.set_band_description(1, description)
            dst.update_tags(DESCRIPTION=description, MANIFEST=manifest_json(manifest))

    atomic_write(path, write)
    atomic_write(manifest_path(path), lambda target: target.write_text(manifest_json(manifest), encoding="utf-8"))
