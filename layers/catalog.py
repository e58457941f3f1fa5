"""The layer catalog: a dataset is a folder with a `dataset.json` naming its layers; load it all or nothing."""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .barriers import read_barriers, read_crossings
from .boundaries import read_boundaries
from .checks import BBox
from .errors import LayerError, Problem, Report
from .facilities import read_facilities
from .history import as_of, combine_events, facility_events, read_status_history
from .incidents import read_incidents
from .licences import Licence, licences_from
from .parsed import dataset_key
from .parsed import get as cached_dataset
from .parsed import put as cache_dataset
from .read import read_table
from .roads import read_roads
from .settlements import read_settlements

MANIFEST = "dataset.json"
#: Environment variable naming the dataset folder used when none is given.
DATA_ENV = "GEO_JUSTICE_DATA"


def embedded_data_dir() -> Path:
    """The embedded default dataset (the repository's data/ folder), or $GEO_JUSTICE_DATA."""
    return Path(os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[1] / "data")


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Dataset:
    """Every layer of one study area, validated and normalised, with content hashes as versions."""

    name: str
    root: Path
    study_area: BBox
    courts: gpd.GeoDataFrame
    prisons: gpd.GeoDataFrame
    events: pd.DataFrame
    population_path: Path | None = None
    incidents: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    crossings: gpd.GeoDataFrame | None = None
    settlements: gpd.GeoDataFrame | None = None
    boundaries: gpd.GeoDataFrame | None = None
    country: gpd.GeoDataFrame | None = None
    basemap: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    licences: dict[str, Licence] = field(default_factory=licences_from)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """One hash for the whole dataset: changes whenever any layer's content does."""
        text = json.dumps(sorted(self.versions.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def facilities(self, kind: str) -> gpd.GeoDataFrame:
        return {"court": self.courts, "prison": self.prisons}[kind]

    def facilities_as_of(self, kind: str, date: str | pd.Timestamp) -> gpd.GeoDataFrame:
        """The courts or prisons with their status and sitting place as they stood on `date`."""
        return as_of(self.facilities(kind), self.events, date)

    def with_boundaries(self, path: str | Path, name_field: str, *, layer: str | None = None) -> "Dataset":
        """This dataset plus an official boundary layer (e.g. geoBoundaries ADM1, name field 'shapeName')."""
        boundaries = read_boundaries(path, name_field, layer=layer)
        return replace(self, boundaries=boundaries, versions={**self.versions, "boundaries": file_hash(Path(path))})


def load_reference(path: Path, name: str, problems: list[Problem], versions: dict[str, str]) -> gpd.GeoDataFrame | None:
    """A layer drawn on maps only (rivers, lakes, neighbouring borders, town labels): any geometry, WGS 84."""
    report = Report.for_path(path)
    frame = read_table(path, report)
    if frame is None:
        problems.extend(report.problems)
        return None
    versions[f"basemap.{name}"] = file_hash(path)
    return frame.drop(columns=["_where"])


def load_dataset(location: str | Path | None = None) -> Dataset:
    """Load the dataset in `location` (a folder with dataset.json, or the file itself); default: embedded.

    Every layer is checked before anything is returned; one LayerError lists the problems of all layers.
    A dataset loaded before from the same files comes from the parsed-dataset cache (layers.parsed).
    """
    root = Path(location) if location else embedded_data_dir()
    manifest_path = root if root.is_file() else root / MANIFEST
    key = dataset_key(manifest_path)
    if key is not None and isinstance(dataset := cached_dataset(key), Dataset):
        return dataset
    dataset = parse_dataset(manifest_path)
    if key is not None:
        cache_dataset(key, dataset)
    return dataset


def parse_dataset(manifest_path: Path) -> Dataset:
    """Read and check every layer `manifest_path` names (no cache)."""
    root = manifest_path.parent
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayerError([Problem(manifest_path.name, None, None, f"cannot read the dataset manifest ({exc})")]) from exc
    study_area = tuple(manifest["study_area"]) if "study_area" in manifest else None
    layers = manifest.get("layers", {})
    problems: list[Problem] = []
    versions: dict[str, str] = {}

    def load(name: str, reader: Callable, **kwargs):
        spec = layers.get(name)
        if spec is None:
            return None
        path = root / spec["path"]
        options = {k: v for k, v in spec.items() if k not in ("path", "licences")}
        try:
            result = reader(path, **options, **kwargs)
        except LayerError as exc:
            problems.extend(exc.problems)
            return None
        versions[name] = file_hash(path)
        return result

    for required in ("courts", "prisons"):
        if required not in layers:
            problems.append(Problem(manifest_path.name, None, f"layers.{required}", "required layer is missing"))
    courts = load("courts", read_facilities, kind="court", study_area=study_area)
    prisons = load("prisons", read_facilities, kind="prison", study_area=study_area)
    known = set(courts["id"] if courts is not None else []) | set(prisons["id"] if prisons is not None else [])
    history = load("status_history", read_status_history, facility_ids=known, study_area=study_area)
    dataset = dict(
        incidents=load("incidents", read_incidents, study_area=study_area),
        roads=load("roads", read_roads),
        barriers=load("barriers", read_barriers),
        crossings=load("crossings", read_crossings, study_area=study_area),
        settlements=load("settlements", read_settlements, study_area=study_area),
        boundaries=load("boundaries", read_boundaries),
        country=load("country", read_boundaries),
    )
    basemap = {}
    for name, spec in manifest.get("basemap", {}).items():
        frame = load_reference(root / spec["path"], name, problems, versions)
        if frame is not None:
            basemap[name] = frame
    population_path = None
    if "population" in layers:
        population_path = root / layers["population"]["path"]
        if population_path.is_file():
            versions["population"] = file_hash(population_path)
        else:
            problems.append(Problem(population_path.name, None, None, f"file not found: {population_path}"))
    if problems:
        raise LayerError(problems)
    own = [facility_events(f) for f in (courts, prisons)]
    events = combine_events(*([history] if history is not None else []), *own)
    return Dataset(
        name=manifest.get("name", root.name), root=root, study_area=study_area or tuple(courts.total_bounds),
        courts=courts, prisons=prisons, events=events, population_path=population_path,
        licences=licences_from(layers.get("incidents", {}).get("licences")), versions=versions, basemap=basemap, **dataset,
    )
