"""A cache of parsed datasets, keyed by the content of every file a dataset names (and of the loaders).

A second `load_dataset` of unchanged files reads one pickle from the user's cache folder instead of
parsing and checking every layer again. Only datasets that loaded without a problem are stored; any
change to a layer file, to dataset.json, to the loaders' code or to the pandas/geopandas/shapely versions
gives a new key. Folder: $GEO_JUSTICE_CACHE, else $XDG_CACHE_HOME/geo-justice, else ~/.cache/geo-justice;
GEO_JUSTICE_CACHE=off turns the cache off. The newest KEEP entries are kept.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

CACHE_ENV = "GEO_JUSTICE_CACHE"
KEEP = 8
_LOADERS = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where parsed datasets are kept, or None when the cache is off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen and chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "geo-justice"


def dataset_key(manifest_path: Path) -> str | None:
    """A hash of the manifest, every file it names and the loaders' code; None when any of them cannot be read
    (the full load then reports why)."""
    import geopandas
    import pandas
    import shapely

    digest = hashlib.sha256()
    try:
        text = manifest_path.read_bytes()
        manifest = json.loads(text)
        specs = list(manifest.get("layers", {}).values()) + list(manifest.get("basemap", {}).values())
        files = [manifest_path.parent / spec[key] for spec in specs for key in ("path", "figures") if key in spec]
        digest.update(f"{manifest_path.resolve()}|{pandas.__version__}|{geopandas.__version__}|{shapely.__version__}".encode())
        digest.update(text)
        for path in sorted(_LOADERS.glob("*.py")) + files:
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return digest.hexdigest()[:32]


def get(key: str) -> Any | None:
    """The dataset stored under `key`, or None (absent, unreadable or written by another version)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"dataset-{key}.pickle"
    try:
        with open(path, "rb") as handle:
            value = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    mark_used(path)
    return value


def put(key: str, dataset: Any) -> None:
    """Store `dataset` under `key` (see `store`)."""
    folder = cache_dir()
    if folder is not None:
        store(folder / f"dataset-{key}.pickle", lambda handle: pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL),
              keep=KEEP)


def mark_used(path: Path) -> None:
    """Mark a cache entry just read as recently used, so the pruning keeps it (an entry another process pruned
    since it was read is no matter: what was read is whole)."""
    try:
        os.utime(path)
    except OSError:
        pass


def store(path: Path, write: Callable[[IO[bytes]], None], *, keep: int, keep_bytes: float = math.inf) -> None:
    """Write a cache entry atomically with `write` (a reader never sees half a file), then keep only the newest
    entries of its kind (same folder and suffix): at most `keep`, and `keep_bytes` in all. A cache that cannot be
    written is skipped silently: it only saves time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False)
    except OSError:
        return
    try:
        with handle:
            write(handle)
        os.replace(handle.name, path)
    except OSError:
        Path(handle.name).unlink(missing_ok=True)
        return
    try:
        entries = sorted(path.parent.glob(f"*{path.suffix}"), key=lambda p: p.stat().st_mtime, reverse=True)
        held = 0
        for i, entry in enumerate(entries):
            held += entry.stat().st_size
            if i >= keep or held > keep_bytes:
                entry.unlink(missing_ok=True)
    except OSError:  # another process pruned first
        pass
