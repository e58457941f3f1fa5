"""Collection snapshots: every feature of a collection prepared once per data version (and status date), so that
a single item, a page, a bbox or a property filter is an index lookup and a join of prepared GeoJSON bytes.

A snapshot holds the served rows as a GeoDataFrame (in CRS84, positions 0..n-1) for selections, each feature's
id, bounds and JSON properties, and its GeoJSON encoded per output CRS (made the first time a CRS is asked for).
It never changes: a write makes a new data version, hence new snapshots.
"""
from __future__ import annotations

import json
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import CRS84, reproject


class Prepared:
    """One collection as one kind of caller sees it, on one data version and status date."""

    def __init__(self, name: str, frame: gpd.GeoDataFrame, id_field: str, attributions: dict[str, str] | list[str], *,
                 key: tuple, dated: bool = True):
        """`attributions`: one list for every feature, or a source dataset's attribution per `source_dataset`;
        `key`: what names it (data version, caller, date) in the result cache, so answers built from it are cached
        under it; `dated`: a `datetime` window selects rows by their `date` (else the rows are already the window's)."""
        self.key = key
        frame = frame.to_crs("EPSG:4326") if frame.crs is not None and not frame.crs.equals("EPSG:4326") else frame
        self.name = name
        self.frame = frame.reset_index(drop=True)
        self.id_field = id_field
        self.ids = self.frame[id_field].astype(str).to_numpy(dtype=object)
        self.index = {fid: i for i, fid in enumerate(self.ids)}
        geometries = self.frame.geometry.to_numpy()
        self.geometries = geometries
        self.bounds = shapely.bounds(geometries)
        self.points_only = bool(np.all(shapely.get_type_id(geometries) == 0))
        self.properties = _properties(self.frame)
        self.columns = [c for c in self.frame.columns if c != self.frame.geometry.name]
        #: incidents: each row's source dataset, whose attribution the answer carries (else one fixed list)
        self.sources = self.frame["source_dataset"].astype(str).to_numpy() if isinstance(attributions, dict) else None
        self.attributions = attributions
        self.dates = self.frame["date"] if dated and "date" in self.frame.columns else None
        self._encoded: dict[str, list[bytes]] = {}
        self._orders: dict[tuple, np.ndarray] = {}
        self._lowered: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        """A size estimate for the cache: the encoded features (about 1 kB a feature per CRS) and the frame."""
        return int(self.frame.memory_usage(deep=True).sum()) + 2048 * len(self) * max(1, len(self._encoded))

    def encoded(self, crs: str = CRS84) -> list[bytes]:
        """Each feature as GeoJSON bytes, its geometry in `crs` (encoded once per CRS)."""
        if crs not in self._encoded:
            with self._lock:
                if crs not in self._encoded:
                    geometry = shapely.to_geojson(reproject(self.geometries, crs))
                    self._encoded[crs] = [
                        b'{"type":"Feature","id":' + json.dumps(fid).encode() + b',"geometry":'
                        + (g.encode() if g is not None else b"null") + b',"properties":'
                        + json.dumps(props, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode() + b"}"
                        for fid, g, props in zip(self.ids, geometry, self.properties)]
        return self._encoded[crs]

    def feature(self, position: int, crs: str = CRS84, properties: list[str] | None = None) -> bytes:
        """One feature's GeoJSON bytes; with `properties`, only those members of its properties."""
        if properties is None:
            return self.encoded(crs)[position]
        data = json.loads(self.encoded(crs)[position])
        data["properties"] = {k: data["properties"][k] for k in properties}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def in_bbox(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """Which features intersect the lon/lat box (west > east: the box crosses the antimeridian)."""
        if west > east:
            return self.in_bbox(west, south, 180.0, north) | self.in_bbox(-180.0, south, east, north)
        b = self.bounds
        keep = (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
        if not self.points_only and keep.any():  # bounds overlap; the shape itself must touch the box
            candidates = np.flatnonzero(keep)
            keep[candidates] = shapely.intersects(self.geometries[candidates], shapely.box(west, south, east, north))
        return keep

    def lowered(self, column: str) -> np.ndarray:
        """A property's values as lower-case text, for case-insensitive equality (kept once made)."""
        if column not in self._lowered:
            self._lowered[column] = self.frame[column].astype(str).str.lower().to_numpy()
        return self._lowered[column]

    def order(self, keys: tuple[tuple[str, bool], ...]) -> np.ndarray:
        """Every position sorted by (property, ascending) keys, stable, missing values last (kept once made)."""
        if keys not in self._orders:
            table = self.frame[[k for k, _ in keys]]
            ordered = table.sort_values([k for k, _ in keys], ascending=[a for _, a in keys], kind="stable",
                                        na_position="last")
            self._orders[keys] = ordered.index.to_numpy()
        return self._orders[keys]

    def attribution(self, positions: np.ndarray) -> str | None:
        """The attributions the features at `positions` need, joined (None when they need none)."""
        if self.sources is None:
            names = list(self.attributions)
        else:
            names = [self.attributions[s] for s in sorted(set(self.sources[positions]))]
        return "; ".join(names) or None


def _properties(frame: gpd.GeoDataFrame) -> list[dict]:
    """Each row's properties, JSON-ready: dates as YYYY-MM-DD, missing values as null."""
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for column in plain.columns:
        if pd.api.types.is_datetime64_any_dtype(plain[column]):
            plain[column] = plain[column].dt.strftime("%Y-%m-%d").where(plain[column].notna(), None)
    return json.loads(plain.to_json(orient="records", date_format="iso"))
