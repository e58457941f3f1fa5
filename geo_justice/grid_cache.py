"""Grids kept on disk between runs, keyed by everything they are built from: the population on a grid, the
base friction (roads, barriers and crossings burnt in), the country's cells and the boundaries' regions.

Resampling the population raster onto the grid and scaling it to the official figures costs about 0.3 s
at 1 km and 3 s at 250 m in every process; a later process asking for the same grid reads the result
back in milliseconds. Read back, the base friction, country and regions spare a 1 km run its burning and
the import of rasterio (GDAL). A key hashes what the caller names (the layers' versions, which hash each file
and the options it is read with; the grid; the year) and the source of the `geo_justice` and `layers` packages,
so any change to a layer or to the code that builds a grid gives a new key. Arrays over MAX_BYTES are not kept
(at 100 m the population alone is 2.4 GB). The folder is the parsed datasets' (`layers.parsed.cache_dir`):
GEO_JUSTICE_CACHE=off turns both off. The newest grids are kept, at most KEEP of them and KEEP_BYTES in all.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from layers.parsed import cache_dir, mark_used, store

KEEP = 64  # a monthly timeline over 2012-2023 asks for 12 years of population per grid
KEEP_BYTES = 2**30
MAX_BYTES = 512 * 2**20
_PACKAGES = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "layers")


@functools.cache
def _code_version() -> str:
    """A hash of the source of the packages that build grids (read once per process)."""
    digest = hashlib.sha256()
    for folder in _PACKAGES:
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _path(key: tuple) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(f"{_code_version()}|{np.__version__}|{key!r}".encode()).hexdigest()[:32]
    return folder / "grids" / f"{digest}.npy"


def load(key: tuple) -> np.ndarray | None:
    """The array stored under `key`, or None (absent, unreadable, or the cache is off)."""
    path = _path(key)
    if path is None:
        return None
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    mark_used(path)
    return values


def save(key: tuple, values: np.ndarray) -> None:
    """Keep `values` under `key` when it fits and the folder can be written (the cache only saves time: a
    failed write is skipped without a word)."""
    path = _path(key)
    if path is not None and values.nbytes <= MAX_BYTES:
        store(path, lambda handle: np.save(handle, values, allow_pickle=False), keep=KEEP, keep_bytes=KEEP_BYTES)


def load_or_build(key: tuple, build: Callable[[], np.ndarray | None]) -> np.ndarray | None:
    """The array stored under `key`, else `build()`, kept (see `save`); a build that returns None (nothing to
    keep, e.g. no country outline) is returned as it is."""
    values = load(key)
    if values is None:
        values = build()
        if values is not None:
            save(key, values)
    return values
