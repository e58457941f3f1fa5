"""XYZ tiles (256 px, Web Mercator) of the engine's rasters and of the point layers, and their export.

A raster layer is reprojected once per (data version, style) onto a Web Mercator pixel grid at a
"native" zoom fine enough for the analysis cells (an inverse index from Mercator pixels to grid cells,
shared by every layer of a grid); a tile is then a slice of class indices, a palette and a PNG encode.
"""
from __future__ import annotations

import hashlib
import io
import math
import shutil
import sqlite3
import tempfile
from contextlib import closing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import mercantile
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.warp
from affine import Affine
import geopandas as gpd
from PIL import Image, ImageDraw

from .access import AccessParams, Engine
from .collections import Interval, incidents_view
from . import country
from .colours import (BASEMAP, INCIDENT_COLOUR, PRISON_COLOUR, RISK, STATUS_COLOURS, TRANSPARENT, TRAVELTIME, Ramp,
                      coverage_ramp, rgba)
from .defaults import POINT_LAYERS, RASTER_LAYERS
from .export import atomic_write
from .grid import Grid

TILE = 256
#: Bump when the rendering of any layer changes: it is part of every tile's version and ETag.
STYLE_VERSION = "s2"
LAYERS = RASTER_LAYERS + POINT_LAYERS
MAX_ZOOM = 18
#: Zooms a TileJSON advertises: beyond 14 a tile only magnifies the analysis cells.
TILEJSON_ZOOMS = (0, 14)
MAX_NATIVE_PIXELS = 24_000_000
EARTH_HALF = math.pi * 6378137.0


@dataclass(frozen=True)
class TileStyle:
    """What a tile of a layer shows: the analysis question and, for `coverage`, the threshold in minutes."""

    layer: str
    params: AccessParams = AccessParams()
    threshold: float = 120.0

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"layer must be one of {', '.join(LAYERS)}, not {self.layer!r}")
        if not self.threshold > 0:
            raise ValueError(f"threshold must be positive minutes, not {self.threshold}")

    @property
    def key(self) -> tuple:
        """Only what changes the picture: two styles with the same key draw the same tiles."""
        p = self.params
        if self.layer in ("courts", "prisons"):
            return (self.layer, p.as_of)
        if self.layer == "incidents":
            return (self.layer, p.as_of, p.conflict.window_days)
        if self.layer == "basemap":
            return (self.layer, p.resolution_m)
        if self.layer == "risk":
            return (self.layer, p.resolution_m, p.as_of, p.conflict)
        return (self.layer, p, self.threshold if self.layer == "coverage" else None)

    def version(self, data_version: str) -> str:
        """The versioned style id: rendering version, data version and the style's parameters."""
        digest = hashlib.sha256(repr((STYLE_VERSION, data_version, self.key)).encode()).hexdigest()[:12]
        return f"{STYLE_VERSION}-{digest}"


def check_tile(z: int, x: int, y: int) -> None:
    """ValueError naming z, x or y when the tile does not exist."""
    if not 0 <= z <= MAX_ZOOM:
        raise ValueError(f"z must be between 0 and {MAX_ZOOM}, not {z}")
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < 2**z:
            raise ValueError(f"{name} must be between 0 and {2**z - 1} at zoom {z}, not {value}")


@dataclass(frozen=True)
class MercatorRaster:
    """uint8 values on the Web Mercator pixel grid of `zoom`, its corner at global pixel (col0, row0)."""

    zoom: int
    col0: int
    row0: int
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.values.nbytes

    def tile(self, z: int, x: int, y: int, fill: int = TRANSPARENT) -> np.ndarray | None:
        """The 256 x 256 values of tile z/x/y (nearest pixel), or None when it misses the raster."""
        scale = 2.0 ** (self.zoom - z)
        centres = np.arange(TILE) + 0.5
        cols = np.floor((x * TILE + centres) * scale).astype(np.int64) - self.col0
        rows = np.floor((y * TILE + centres) * scale).astype(np.int64) - self.row0
        height, width = self.values.shape
        col_in, row_in = (cols >= 0) & (cols < width), (rows >= 0) & (rows < height)
        if not col_in.any() or not row_in.any():
            return None
        out = self.values[np.ix_(np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1))]
        if not (col_in.all() and row_in.all()):
            out[~row_in, :] = fill
            out[:, ~col_in] = fill
        return out


def native_zoom(grid: Grid) -> int:
    """Smallest zoom whose pixels are at most half a cell at the grid's centre, within the pixel budget."""
    west, south, east, north = rasterio.warp.transform_bounds(grid.crs, "EPSG:4326", *grid.bounds)
    shrink = math.cos(math.radians((south + north) / 2))
    zoom = 0
    while 2 * EARTH_HALF / (TILE * 2**zoom) * shrink > grid.cell_size / 2 and zoom < MAX_ZOOM:
        zoom += 1
    while zoom > 0 and _pixel_window(grid, zoom)[2] * _pixel_window(grid, zoom)[3] > MAX_NATIVE_PIXELS:
        zoom -= 1
    return zoom


def _pixel_window(grid: Grid, zoom: int) -> tuple[int, int, int, int]:
    """(col0, row0, width, height) of the global Mercator pixels of `zoom` covering the grid."""
    xmin, ymin, xmax, ymax = rasterio.warp.transform_bounds(grid.crs, "EPSG:3857", *grid.bounds, densify_pts=50)
    size = 2 * EARTH_HALF / (TILE * 2**zoom)
    col0, col1 = math.floor((xmin + EARTH_HALF) / size), math.ceil((xmax + EARTH_HALF) / size)
    row0, row1 = math.floor((EARTH_HALF - ymax) / size), math.ceil((EARTH_HALF - ymin) / size)
    return col0, row0, col1 - col0, row1 - row0


def mercator_index(grid: Grid) -> MercatorRaster:
    """Per Mercator pixel of the native zoom, the flat index of the grid cell under its centre (-1 outside)."""
    zoom = native_zoom(grid)
    col0, row0, width, height = _pixel_window(grid, zoom)
    size = 2 * EARTH_HALF / (TILE * 2**zoom)
    dst_transform = Affine(size, 0, -EARTH_HALF + col0 * size, 0, -size, EARTH_HALF - row0 * size)
    index = np.full((height, width), -1, dtype=np.int32)
    source = np.arange(grid.shape[0] * grid.shape[1], dtype=np.int32).reshape(grid.shape)
    rasterio.warp.reproject(source, index, src_transform=grid.transform, src_crs=grid.crs, src_nodata=-1,
                            dst_transform=dst_transform, dst_crs="EPSG:3857", dst_nodata=-1,
                            resampling=rasterio.warp.Resampling.nearest)
    return MercatorRaster(zoom, col0, row0, index)


def layer_classes(engine: Engine, style: TileStyle) -> tuple[Grid, np.ndarray]:
    """The grid and the uint8 class per cell of a raster layer."""
    params = style.params
    if style.layer == "basemap":
        grid = engine.grid(params.resolution_m)
        return grid, BASEMAP.classify(engine.population(grid) / grid.cell_area_km2)
    access = engine.access(params)
    values = access.risk.values().astype(float) if style.layer == "risk" else access.minutes
    return access.grid, ramp_of(style).classify(values)


def ramp_of(style: TileStyle) -> Ramp:
    return {"traveltime": TRAVELTIME, "risk": RISK, "basemap": BASEMAP}.get(style.layer) or coverage_ramp(style.threshold)


def mercator_classes(engine: Engine, style: TileStyle) -> MercatorRaster:
    """The layer's classes on the native Mercator grid, cached per (data version, style)."""
    def compute() -> MercatorRaster:
        grid, classes = layer_classes(engine, style)
        index = engine.cache.get_or_compute(("mercator-index", grid.key), lambda: mercator_index(grid),
                                            lambda m: m.nbytes)
        values = np.take(classes.ravel(), np.maximum(index.values, 0))
        values[index.values < 0] = TRANSPARENT
        inside = engine.cache.get_or_compute(("country-mask", engine.dataset.version, grid.key),
                                             lambda: country_mask(engine.dataset, index),
                                             lambda m: 0 if m is None else m.nbytes)
        if inside is not None:
            values[~inside] = TRANSPARENT
        return MercatorRaster(index.zoom, index.col0, index.row0, values)
    return engine.cache.get_or_compute(("mercator", engine.dataset.version, style.key), compute, lambda m: m.nbytes)


def country_mask(dataset, raster: MercatorRaster) -> np.ndarray | None:
    """True on the raster's Mercator pixels whose centre lies in the country; None when the dataset has no outline."""
    shape = country.outline(dataset)
    if shape is None:
        return None
    mercator = gpd.GeoSeries([shape], crs="EPSG:4326").to_crs("EPSG:3857")
    size = 2 * EARTH_HALF / (TILE * 2**raster.zoom)
    transform = Affine(size, 0, -EARTH_HALF + raster.col0 * size, 0, -size, EARTH_HALF - raster.row0 * size)
    return rasterio.features.geometry_mask(list(mercator), raster.values.shape,
                                           transform, invert=True)


def encode_png(classes: np.ndarray, palette: np.ndarray) -> bytes:
    """An 8-bit palette PNG of class indices, with per-class alpha."""
    image = Image.fromarray(classes, mode="P")
    image.putpalette(palette[:, :3].tobytes(), rawmode="RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=palette[:, 3].tobytes(), compress_level=6)
    return out.getvalue()


EMPTY_PNG = encode_png(np.full((TILE, TILE), TRANSPARENT, dtype=np.uint8), np.zeros((256, 4), dtype=np.uint8))


def overlay_png(engine: Engine, style: TileStyle) -> tuple[bytes, tuple[tuple[float, float], tuple[float, float]]]:
    """A raster layer whole, as one Mercator PNG at its native zoom, and its ((south, west), (north, east))."""
    raster = mercator_classes(engine, style)
    n = TILE * 2**raster.zoom
    height, width = raster.values.shape

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    west, east = raster.col0 / n * 360 - 180, (raster.col0 + width) / n * 360 - 180
    corners = ((lat(raster.row0 + height), west), (lat(raster.row0), east))
    return encode_png(raster.values, ramp_of(style).palette()), corners


def raster_tile(engine: Engine, style: TileStyle, z: int, x: int, y: int) -> bytes:
    classes = mercator_classes(engine, style).tile(z, x, y)
    if classes is None or (classes == TRANSPARENT).all():
        return EMPTY_PNG
    return encode_png(classes, ramp_of(style).palette())


def to_pixels(lon: np.ndarray, lat: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """Global Web Mercator pixel coordinates at zoom z of WGS 84 points."""
    n = TILE * 2**z
    sin = np.sin(np.radians(np.clip(lat, -85.0511, 85.0511)))
    return (np.asarray(lon) + 180.0) / 360.0 * n, (0.5 - np.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * n


@dataclass(frozen=True)
class Marks:
    """What a point layer draws, in WGS 84: dots (lon, lat, radius scale, colour) and lines (lon0, lat0, lon1, lat1)."""

    dots: pd.DataFrame
    lines: pd.DataFrame

    @property
    def nbytes(self) -> int:
        return int(self.dots.memory_usage().sum() + self.lines.memory_usage().sum())


def point_marks(engine: Engine, style: TileStyle) -> Marks:
    """Dots and lines of a point layer; licence-restricted incidents only as per-cell aggregates."""
    dataset, as_of = engine.dataset, style.params.as_of
    no_lines = pd.DataFrame({"lon0": [], "lat0": [], "lon1": [], "lat1": []})
    if style.layer == "incidents":
        frame, _ = incidents_window(engine, style.params)
        box = frame.geometry.bounds  # an aggregate cell's centre, or the point itself
        counts = frame.get("incidents", pd.Series(1, index=frame.index)).fillna(1).astype(float)
        scale = np.where(frame["kind"] == "aggregate", np.minimum(np.sqrt(counts), 4.0), 0.6)
        dots = pd.DataFrame({"lon": (box["minx"] + box["maxx"]) / 2, "lat": (box["miny"] + box["maxy"]) / 2,
                             "scale": scale, "colour": INCIDENT_COLOUR + "c0", "ring": False})
        return Marks(dots.reset_index(drop=True), no_lines)
    kind = "court" if style.layer == "courts" else "prison"
    frame = dataset.facilities_as_of(kind, as_of)
    colours = frame["status"].map(STATUS_COLOURS).fillna(STATUS_COLOURS["unknown"])
    dots = pd.DataFrame({"lon": frame.geometry.x, "lat": frame.geometry.y, "scale": 1.0 if kind == "court" else 1.2,
                         "colour": colours if kind == "court" else PRISON_COLOUR,
                         "ring": frame["status"].eq("closed") if kind == "court" else False})  # closed: a ring
    moved = frame[frame["sitting_name"].fillna("") != ""]
    lines = pd.DataFrame({"lon0": moved.geometry.x, "lat0": moved.geometry.y,
                          "lon1": moved["sitting_lon"].astype(float), "lat1": moved["sitting_lat"].astype(float)})
    sitting = pd.DataFrame({"lon": lines["lon1"], "lat": lines["lat1"], "scale": 0.6,
                            "colour": colours[moved.index] if len(moved) else [], "ring": False})
    return Marks(pd.concat([dots, sitting], ignore_index=True), lines.reset_index(drop=True))


def incidents_window(engine: Engine, params: AccessParams):
    """Incidents in the conflict window before `as_of`, as they may be served publicly, and their attributions."""
    if engine.dataset.incidents is None:
        raise ValueError("layer incidents: this dataset has no incidents layer")
    params = engine.complete(params)
    end = pd.Timestamp(params.as_of)
    interval = Interval(end - pd.Timedelta(days=params.conflict.window_days), end)
    return incidents_view(engine.dataset, interval, raw_allowed=False)


def point_tile(engine: Engine, style: TileStyle, z: int, x: int, y: int) -> bytes:
    """Dots (and relocation lines) of a point layer on a transparent tile."""
    marks = engine.cache.get_or_compute(("marks", engine.dataset.version, style.key), lambda: point_marks(engine, style),
                                        lambda m: m.nbytes)
    radius = 2.5 + z / 2
    px, py = to_pixels(marks.dots["lon"].to_numpy(), marks.dots["lat"].to_numpy(), z)
    px, py = px - x * TILE, py - y * TILE
    r = radius * marks.dots["scale"].to_numpy()
    near = (px > -r) & (px < TILE + r) & (py > -r) & (py < TILE + r)
    lx0, ly0 = to_pixels(marks.lines["lon0"].to_numpy(), marks.lines["lat0"].to_numpy(), z)
    lx1, ly1 = to_pixels(marks.lines["lon1"].to_numpy(), marks.lines["lat1"].to_numpy(), z)
    lx0, lx1, ly0, ly1 = lx0 - x * TILE, lx1 - x * TILE, ly0 - y * TILE, ly1 - y * TILE
    crossing = ~(((lx0 < 0) & (lx1 < 0)) | ((lx0 > TILE) & (lx1 > TILE)) | ((ly0 < 0) & (ly1 < 0)) | ((ly0 > TILE) & (ly1 > TILE)))
    if not near.any() and not crossing.any():
        return EMPTY_PNG
    image = Image.new("RGBA", (TILE, TILE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for a, b, c, d in zip(lx0[crossing], ly0[crossing], lx1[crossing], ly1[crossing]):
        draw.line([(a, b), (c, d)], fill=(40, 40, 40, 220), width=2)
    for cx, cy, rr, colour, ring in zip(px[near], py[near], r[near], marks.dots["colour"].to_numpy()[near],
                                        marks.dots["ring"].to_numpy()[near]):
        if ring:  # status by shape too: a closed court is a thick ring
            draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=(255, 255, 255, 230), outline=rgba(colour),
                         width=max(2, round(rr / 2.5)))
        else:
            draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=rgba(colour), outline=(255, 255, 255, 230))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def render_tile(engine: Engine, style: TileStyle, z: int, x: int, y: int) -> bytes:
    """The PNG of tile z/x/y of `style`; a shared transparent tile where there is no data."""
    check_tile(z, x, y)
    west, south, east, north = mercantile.bounds(x, y, z)
    data_west, data_south, data_east, data_north = bounds(engine, style)
    if west > data_east or east < data_west or south > data_north or north < data_south:
        return EMPTY_PNG
    if style.layer in RASTER_LAYERS:
        return raster_tile(engine, style, z, x, y)
    return point_tile(engine, style, z, x, y)


def bounds(engine: Engine, style: TileStyle) -> tuple[float, float, float, float]:
    """WGS 84 bounds of the layer's data: the country (nothing is drawn outside it), else the analysis grid."""
    def compute() -> tuple[float, float, float, float]:
        shape = country.outline(engine.dataset)
        if shape is not None:
            return tuple(float(round(v, 5)) for v in shape.bounds)
        grid = engine.grid(style.params.resolution_m)
        return tuple(float(round(v, 5)) for v in rasterio.warp.transform_bounds(grid.crs, "EPSG:4326", *grid.bounds))
    return engine.cache.get_or_compute(("bounds", engine.dataset.version, style.params.resolution_m), compute, lambda _: 64)


def attribution(engine: Engine, style: TileStyle) -> list[str]:
    """Every source the layer draws on, saying which are modelled, assumed or synthetic."""
    dataset = engine.dataset
    facilities = f"Courts and prisons: {dataset.name}"
    model = "Travel time: modelled by geo-justice (roads, off-road speed, incident risk), not observed"
    if style.layer in ("courts", "prisons"):
        return [facilities]
    if style.layer == "incidents":
        return incidents_window(engine, style.params)[1]
    notes = [population_note(dataset.population_path)] if style.layer in ("basemap", "coverage") else []
    if style.layer == "basemap":
        return notes
    uses_incidents = style.params.conflict.mode != "off" and dataset.incidents is not None
    incidents = incidents_window(engine, style.params)[1] if uses_incidents else []
    return [model, facilities, *notes, *incidents]


def population_note(path: Path | None) -> str:
    """The population raster's own description and source tags, when it has them."""
    if path is None:
        return "Population: none loaded"
    with rasterio.open(path) as src:
        tags = src.tags()
    described = "; ".join(tags[k] for k in ("DESCRIPTION", "SOURCE") if tags.get(k))
    return f"Population: {described or path.name}"


def tile_range(engine: Engine, style: TileStyle, zooms: Iterable[int]) -> list[mercantile.Tile]:
    """Every tile of the given zooms over the layer's bounds."""
    return list(mercantile.tiles(*bounds(engine, style), zooms=list(zooms)))


def export_tiles(engine: Engine, style: TileStyle, zooms: Iterable[int], output: Path,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write the layer's tiles as MBTiles (`.mbtiles`) or a new z/x/y.png folder; returns tiles written (empty
    skipped). Either appears whole or not at all: tiles are written aside and moved into place at the end."""
    tiles = tile_range(engine, style, zooms)
    step = progress or (lambda _: None)
    if output.suffix.lower() == ".mbtiles":
        written = []
        atomic_write(output, lambda target: written.append(_export_mbtiles(engine, style, tiles, target, step)))
        return written[0]
    if output.exists():
        raise ValueError(f"{output} exists: name a new folder for the tiles")
    output.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        written = 0
        for tile in tiles:
            data = render_tile(engine, style, tile.z, tile.x, tile.y)
            if data is not EMPTY_PNG:
                path = aside / str(tile.z) / str(tile.x) / f"{tile.y}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                written += 1
            step(1)
        aside.rename(output)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise
    return written


def _export_mbtiles(engine: Engine, style: TileStyle, tiles: list[mercantile.Tile], output: Path,
                    step: Callable[[int], None]) -> int:
    output.unlink(missing_ok=True)  # a fresh temporary file
    west, south, east, north = bounds(engine, style)
    zooms = [t.z for t in tiles]
    metadata = {"name": f"geo-justice {style.layer}", "format": "png", "type": "overlay",
                "version": style.version(engine.dataset.version), "bounds": f"{west},{south},{east},{north}",
                "center": f"{(west + east) / 2},{(south + north) / 2},{min(zooms)}",
                "minzoom": str(min(zooms)), "maxzoom": str(max(zooms)),
                "attribution": "; ".join(attribution(engine, style))}
    written = 0
    with closing(sqlite3.connect(output)) as db, db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())
        for tile in tiles:
            data = render_tile(engine, style, tile.z, tile.x, tile.y)
            if data is not EMPTY_PNG:  # MBTiles rows count from the south (TMS)
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (tile.z, tile.x, 2**tile.z - 1 - tile.y, data))
                written += 1
            step(1)
    return written

