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
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

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
    try:
        os.utime(path)  # recently used: kept by the pruning
    except OSError:  # pruned by another process since it was read: what was read is whole
        pass
    return value


def put(key: str, dataset: Any) -> None:
    """Store `dataset` under `key` atomically (a reader never sees half a file); a cache that cannot be
    written is skipped silently: it only saves time."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as handle:
            pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, folder / f"dataset-{key}.pickle")
        entries = sorted(folder.glob("dataset-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return
