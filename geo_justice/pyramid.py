"""A tile pyramid per data version, for a CDN or a static host: `{version}/{layer}/{z}/{x}/{y}.png` and PMTiles.

The service's versioned tile URLs (`/tiles/{layer}/{z}/{x}/{y}.png?v=...`) already name one image for good;
this writes the same images once, under a folder named by the version, so that any static host can serve
them with `Cache-Control: immutable`. Layout of a pyramid root:

    latest.json                       the pointer to the version exported last (short-lived cache)
    {version}/manifest.json           data version, layers, zooms, tile counts, sources and attribution
    {version}/empty.png               the transparent tile the service answers where a layer draws nothing
    {version}/{layer}/{z}/{x}/{y}.png the tiles that draw something (empty ones are not written)
    {version}/{layer}.pmtiles         the same tiles as one PMTiles archive (when asked for)

A version folder is written aside (a hidden `.{version}.*` folder) and renamed into place at the end: it
appears whole or not at all, on an error or Ctrl-C alike. Example::

    engine = Engine(public_dataset(load_dataset()))
    export_pyramid(engine, [TileStyle(layer) for layer in LAYERS], range(4, 10), Path("site/tiles"))
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import mercantile

from layers.catalog import Dataset

from . import __version__
from .access import AccessParams, Engine
from .export import atomic_write
from .licence_floors import floors_apply
from .manifest import _plain
from .tiles import EMPTY_PNG, STYLE_VERSION, TileStyle, attribution, bounds, render_tile, tile_range

#: The pointer a client reads first; every other path of a pyramid lives under a version folder.
POINTER = "latest.json"
MANIFEST = "manifest.json"
EMPTY_TILE = "empty.png"
#: The headers to send (and that the service sends): a version's files never change, the pointer does.
IMMUTABLE = "public, max-age=31536000, immutable"
POINTER_MAX_AGE = 60


@dataclass(frozen=True)
class PyramidResult:
    """What an export did: the version folder, its manifest, and whether it was written now or found whole."""

    version: str
    folder: Path
    manifest: dict
    written: bool


def check_public(dataset: Dataset, params: AccessParams) -> None:
    """ValueError when the conflict settings are below the dataset's licence floors (as the service refuses
    them to anonymous callers): a static pyramid is public."""
    floors = floors_apply(dataset)
    if floors is None or params.conflict.mode == "off":
        return
    for option, value, floor in (("--bandwidth", params.conflict.bandwidth_km, floors.bandwidth_km),
                                 ("--conflict-window", params.conflict.window_days, floors.window_days)):
        if value < floor:
            raise ValueError(f"{option} {value:g} is below the licence floor of {floor:g} for public tiles "
                             "(this dataset holds licence-restricted incidents)")


def complete(engine: Engine, style: TileStyle) -> TileStyle:
    """The style with the dataset's as-of date where it names none: the style the service's URL names."""
    return replace(style, params=engine.complete(style.params))


def pyramid_version(data_version: str, styles: Sequence[TileStyle]) -> str:
    """`{data version}-{digest}`: the digest names the rendering and every layer's style, so a new
    version folder appears whenever any tile could differ."""
    digest = hashlib.sha256(repr(sorted(s.version(data_version) for s in styles)).encode()).hexdigest()[:8]
    return f"{data_version}-{digest}"


def export_pyramid(engine: Engine, styles: Sequence[TileStyle], zooms: Iterable[int], root: Path, *,
                   pmtiles: bool = False, progress: Callable[[int], None] | None = None) -> PyramidResult:
    """Write the version folder of `styles` at `zooms` under `root` (once) and point `latest.json` at it.

    `engine` must be the public one (`Engine(public_dataset(...))`): static tiles are anonymous. A version
    folder that already exists with the same zooms (and archives, if asked) is left as it is; one with
    other zooms is an error, since a version's files never change.
    """
    zooms = sorted(set(zooms))
    if not styles or not zooms:
        raise ValueError("name at least one layer and one zoom")
    layers = [s.layer for s in styles]
    if len(set(layers)) != len(layers):
        raise ValueError(f"each layer once, not {', '.join(layers)}")
    styles = [complete(engine, style) for style in styles]  # as_of filled in, as the service does
    for style in styles:
        check_public(engine.dataset, style.params)
    version = pyramid_version(engine.dataset.version, styles)
    folder = root / version
    if folder.exists():
        return existing(root, folder, zooms, pmtiles)
    root.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
    try:
        entries = {style.layer: write_layer(engine, style, zooms, aside, pmtiles, progress or (lambda _: None))
                   for style in styles}
        (aside / EMPTY_TILE).write_bytes(EMPTY_PNG)
        manifest = pyramid_manifest(engine, version, styles, zooms, entries)
        (aside / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        aside.chmod(0o755)  # mkdtemp's 0700 would hide the tiles from a web server's user
        try:
            aside.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
            shutil.rmtree(aside)  # another export of the same version finished first
            return existing(root, folder, zooms, pmtiles)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise
    write_pointer(root, manifest)
    return PyramidResult(version, folder, manifest, written=True)


def existing(root: Path, folder: Path, zooms: list[int], pmtiles: bool) -> PyramidResult:
    """A version folder already written: pointed at when it holds what is asked, else an error saying why."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    archives = all(entry["pmtiles"] for entry in manifest["layers"].values())
    if manifest["zooms"] != zooms or (pmtiles and not archives):
        raise ValueError(f"{folder} exists with zooms {manifest['zooms'][0]}-{manifest['zooms'][-1]}"
                         f"{'' if archives else ', without PMTiles'}: a version is written once; "
                         "remove that folder to write it again")
    write_pointer(root, manifest)
    return PyramidResult(folder.name, folder, manifest, written=False)


def rendered(engine: Engine, style: TileStyle, tiles: list[mercantile.Tile],
             step: Callable[[int], None]) -> Iterator[tuple[mercantile.Tile, bytes]]:
    """Those of `tiles` that draw something, as the service renders them."""
    for tile in tiles:
        data = render_tile(engine, style, tile.z, tile.x, tile.y)
        if data is not EMPTY_PNG:
            yield tile, data
        step(1)


def write_layer(engine: Engine, style: TileStyle, zooms: list[int], folder: Path, pmtiles: bool,
                step: Callable[[int], None]) -> dict:
    """The layer's non-empty tiles as z/x/y.png (and its archive); its manifest entry."""
    tiles, kept = tile_range(engine, style, zooms), []
    for tile, data in rendered(engine, style, tiles, step):
        path = folder / style.layer / str(tile.z) / str(tile.x) / f"{tile.y}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        kept.append((tile, data))
    archive = None
    if pmtiles and kept:
        archive = f"{style.layer}.pmtiles"
        write_pmtiles(folder / archive, kept, pmtiles_metadata(engine, style, zooms), bounds(engine, style))
    return {"style": style.version(engine.dataset.version), "tiles": len(kept), "tiles_in_range": len(tiles),
            "path": f"{style.layer}/{{z}}/{{x}}/{{y}}.png", "pmtiles": archive,
            "attribution": attribution(engine, style)}


def export_pmtiles(engine: Engine, style: TileStyle, zooms: Iterable[int], output: Path,
                   progress: Callable[[int], None] | None = None) -> int:
    """One layer as a PMTiles file, written aside and moved into place; returns the tiles written."""
    zooms = sorted(set(zooms))
    style = complete(engine, style)
    check_public(engine.dataset, style.params)
    kept = list(rendered(engine, style, tile_range(engine, style, zooms), progress or (lambda _: None)))
    if not kept:
        raise ValueError(f"layer {style.layer} draws nothing at zooms {zooms[0]}-{zooms[-1]}: no archive written")
    atomic_write(output, lambda target: write_pmtiles(target, kept, pmtiles_metadata(engine, style, zooms),
                                                      bounds(engine, style)))
    return len(kept)


def pmtiles_metadata(engine: Engine, style: TileStyle, zooms: list[int]) -> dict:
    return {"name": f"geo-justice {style.layer}", "type": "overlay", "format": "png",
            "version": style.version(engine.dataset.version), "minzoom": zooms[0], "maxzoom": zooms[-1],
            "attribution": "; ".join(attribution(engine, style))}


def write_pmtiles(path: Path, tiles: list[tuple[mercantile.Tile, bytes]], metadata: dict,
                  extent: tuple[float, float, float, float]) -> None:
    """A PMTiles v3 archive of PNG tiles (the `pmtiles` package's writer; identical tiles stored once)."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    west, south, east, north = extent
    ordered = sorted(tiles, key=lambda item: zxy_to_tileid(item[0].z, item[0].x, item[0].y))
    with open(path, "wb") as handle:
        writer = Writer(handle)
        for tile, data in ordered:
            writer.write_tile(zxy_to_tileid(tile.z, tile.x, tile.y), data)
        writer.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE,
                         "min_lon_e7": round(west * 1e7), "min_lat_e7": round(south * 1e7),
                         "max_lon_e7": round(east * 1e7), "max_lat_e7": round(north * 1e7),
                         "center_zoom": metadata["minzoom"], "center_lon_e7": round((west + east) / 2 * 1e7),
                         "center_lat_e7": round((south + north) / 2 * 1e7)}, metadata)


def pyramid_manifest(engine: Engine, version: str, styles: Sequence[TileStyle], zooms: list[int],
                     entries: dict[str, dict]) -> dict:
    dataset = engine.dataset
    return {"version": version, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "software": {"name": "geo-justice", "version": __version__, "style_version": STYLE_VERSION},
            "dataset": {"name": dataset.name, "version": dataset.version, "layers": dict(sorted(dataset.versions.items()))},
            "zooms": zooms, "bounds": list(bounds(engine, styles[0])),
            "tile_count": sum(e["tiles"] for e in entries.values()),
            "empty_tile": EMPTY_TILE,
            "cache_control": {f"{version}/": IMMUTABLE, POINTER: f"public, max-age={POINTER_MAX_AGE}"},
            "parameters": {s.layer: {"access": _plain(s.params),
                                     **({"threshold": s.threshold} if s.layer == "coverage" else {})} for s in styles},
            "layers": entries}


def write_pointer(root: Path, manifest: dict) -> None:
    """`latest.json`: the version exported last, its manifest, each layer's tile path and attribution (plain
    text), replaced atomically."""
    version = manifest["version"]
    pointer = {"version": version, "manifest": f"{version}/{MANIFEST}",
               "tiles": {layer: f"{version}/{entry['path']}" for layer, entry in manifest["layers"].items()},
               "pmtiles": {layer: f"{version}/{entry['pmtiles']}" for layer, entry in manifest["layers"].items()
                           if entry["pmtiles"]},
               "attribution": {layer: "; ".join(entry["attribution"]) for layer, entry in manifest["layers"].items()},
               "minzoom": manifest["zooms"][0], "maxzoom": manifest["zooms"][-1], "bounds": manifest["bounds"]}
    atomic_write(root / POINTER, lambda target: target.write_text(json.dumps(pointer, indent=2) + "\n", encoding="utf-8"))
