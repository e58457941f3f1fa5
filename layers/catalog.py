"""The layer catalog: a dataset is a folder with a `dataset.json` naming its layers; load it all or nothing."""
from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .area import MANIFEST, outside_outline
from .barriers import read_barriers, read_crossings
from .boundaries import matcher, read_boundaries
from .checks import BBox
from .errors import LayerError, Problem, Report
from .facilities import read_facilities
from .history import as_of, combine_events, facility_events, read_status_history
from .incidents import read_incidents
from .licences import Licence, LicenceFloors, floors_from, licences_from
from .parsed import dataset_key
from .parsed import get as cached_dataset
from .parsed import put as cache_dataset
from .population import population_footprint
from .population_figures import read_population_figures
from .read import read_table
from .region_check import describe, region_mismatches
from .roads import read_roads
from .settlements import read_settlements
from .vocabulary import TIERS

#: Environment variable naming the dataset folder used when none is given.
DATA_ENV = "GEO_JUSTICE_DATA"


def embedded_data_dir() -> Path:
    """$GEO_JUSTICE_DATA, else the embedded dataset: the repository's data/ folder in a source tree or an
    editable install, `geo_justice/data` (package data) in an installed wheel."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    here = Path(__file__).resolve().parents[1]
    source = here / "data"
    return source if (source / MANIFEST).is_file() else here / "geo_justice" / "data"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def layer_version(path: Path, options: dict[str, Any]) -> str:
    """A layer's version: its file's hash, and the options it is read with when it has any (a sheet, a declared CRS,
    road speeds, a name field change what is read from the same file; the grids kept on disk are keyed by these)."""
    content = file_hash(path)
    if not options:
        return content
    return hashlib.sha256(f"{content}|{json.dumps(options, sort_keys=True, default=str)}".encode()).hexdigest()[:16]


def admin_version(versions: dict[str, str], level: int) -> str:
    """The version of the per-region boundaries taken from admin level `level`: which level, and its content."""
    return f"admin{level}:{versions.get(f'admin{level}')}"


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
    admin: dict[int, gpd.GeoDataFrame] = field(default_factory=dict)
    basemap: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    licences: dict[str, Licence] = field(default_factory=licences_from)
    licence_floors: LicenceFloors = field(default_factory=LicenceFloors)
    versions: dict[str, str] = field(default_factory=dict)
    as_of: str | None = None
    tiers: dict[str, dict[str, str]] = field(default_factory=lambda: {t: {} for t in TIERS})
    population_year: int | None = None
    population_figures: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def version(self) -> str:
        """One hash for the whole dataset: changes whenever any layer's content does (found once: every cache
        key of an answer names it)."""
        text = json.dumps(sorted(self.versions.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def default_as_of(self) -> str:
        """The date analyses are made for unless told otherwise: the dataset's `as_of`, else today."""
        return self.as_of or pd.Timestamp.today().strftime("%Y-%m-%d")

    def tier_name(self, tier: str, lang: str = "en") -> str:
        """A tier's display name in `lang` as the dataset declares it (the code itself when it declares none)."""
        return self.tiers.get(tier, {}).get(lang) or tier

    def with_admin_level(self, level: int) -> "Dataset":
        """This dataset with its official boundaries of `level` (1: regions, 2: cercles...) as per-region boundaries."""
        if level not in self.admin:
            levels = ", ".join(str(k) for k in sorted(self.admin)) or "none"
            raise ValueError(f"the dataset has no boundaries of admin level {level} (it has: {levels})")
        versions = {**self.versions, "boundaries": admin_version(self.versions, level)}
        return replace(self, boundaries=self.admin[level], versions=versions)

    def facilities(self, kind: str) -> gpd.GeoDataFrame:
        return {"court": self.courts, "prison": self.prisons}[kind]

    def facilities_as_of(self, kind: str, date: str | pd.Timestamp | None = None) -> gpd.GeoDataFrame:
        """The courts or prisons with their status and sitting place as they stood on `date` (default: the dataset's)."""
        return as_of(self.facilities(kind), self.events, self.default_as_of if date is None else date)

    def with_boundaries(self, path: str | Path, name_field: str | None = None, *, layer: str | None = None) -> "Dataset":
        """This dataset plus an official boundary layer (e.g. geoBoundaries ADM1); the name field is detected when None."""
        boundaries = read_boundaries(path, name_field, layer=layer)
        options = {k: v for k, v in (("name_field", name_field), ("layer", layer)) if v is not None}
        versions = {**self.versions, "boundaries": layer_version(Path(path), options)}
        return replace(self, boundaries=boundaries, versions=versions)


def load_reference(path: Path, name: str, problems: list[Problem], versions: dict[str, str]) -> gpd.GeoDataFrame | None:
    """A layer drawn on maps only (rivers, lakes, neighbouring borders, town labels): any geometry, WGS 84."""
    report = Report.for_path(path)
    frame = read_table(path, report)
    if frame is None:
        problems.extend(report.problems)
        return None
    versions[f"basemap.{name}"] = file_hash(path)
    return frame.drop(columns=["_where"])


def positions_in_country(country: gpd.GeoDataFrame, layers: dict, root: Path,
                         frames: dict[str, gpd.GeoDataFrame | None]) -> list[Problem]:
    """Facilities, settlements and crossings outside the country (incidents across the border are kept: they count)."""
    outline = country.union_all()
    label = f"the country ({layers['country']['path']})"
    return [problem for name, frame in frames.items() if frame is not None
            for problem in outside_outline(frame, str(root / layers[name]["path"]), outline, label)]


def load_dataset(location: str | Path | None = None) -> Dataset:
    """Load the dataset in `location` (a folder with dataset.json, or the file itself); default: embedded.

    Every layer is checked before anything is returned; one LayerError lists the problems of all layers.
    Facilities whose seat lies outside the region (admin1) or cercle (admin2) they name are listed in
    `notes`, with the distance: a warning, not an error. A dataset loaded before from the same files comes
    from the parsed-dataset cache (layers.parsed).
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
        options = {k: v for k, v in spec.items() if k not in ("path", "licences", "licence_floors")}
        try:
            result = reader(path, **options, **kwargs)
        except LayerError as exc:
            problems.extend(exc.problems)
            return None
        versions[name] = layer_version(path, options)
        return result

    for required in ("courts", "prisons"):
        if required not in layers:
            problems.append(Problem(manifest_path.name, None, f"layers.{required}", "required layer is missing"))
    tiers = manifest.get("tiers") or {t: {} for t in TIERS}
    if not isinstance(tiers, dict) or not all(isinstance(v, dict) for v in tiers.values()):
        problems.append(Problem(manifest_path.name, None, "tiers", 'expected {"code": {"en": name, "fr": name}, ...}'))
        tiers = {t: {} for t in TIERS}
    courts = load("courts", read_facilities, kind="court", study_area=study_area, tiers=tuple(tiers))
    prisons = load("prisons", read_facilities, kind="prison", study_area=study_area)
    known = set(courts["id"] if courts is not None else []) | set(prisons["id"] if prisons is not None else [])
    history = load("status_history", read_status_history, facility_ids=known, study_area=study_area)
    barriers = load("barriers", read_barriers)
    if "crossings" in layers and "barriers" not in layers:
        problems.append(Problem(manifest_path.name, None, "layers.crossings", "crossings need a barriers layer to cross"))
    dataset = dict(
        incidents=load("incidents", read_incidents, study_area=study_area),
        roads=load("roads", read_roads),
        barriers=barriers,
        crossings=load("crossings", read_crossings, study_area=study_area, barriers=barriers),
        settlements=load("settlements", read_settlements, study_area=study_area),
        boundaries=load("boundaries", read_boundaries),
        country=load("country", read_boundaries),
    )
    admin = {int(name[5:]): load(name, read_boundaries, level=int(name[5:]))
             for name in sorted(layers) if name.startswith("admin") and name[5:].isdigit()}
    admin = {level: frame for level, frame in admin.items() if frame is not None}
    if dataset["boundaries"] is None and 1 in admin:
        dataset["boundaries"] = admin[1]
        versions["boundaries"] = admin_version(versions, 1)
    basemap = {}
    for name, spec in manifest.get("basemap", {}).items():
        frame = load_reference(root / spec["path"], name, problems, versions)
        if frame is not None:
            basemap[name] = frame
    population_path, population_year, figures = None, None, None
    if "population" in layers:
        spec = layers["population"]
        population_path = root / spec["path"]
        if population_path.is_file():
            versions["population"] = layer_version(population_path, {k: v for k, v in spec.items() if k == "crs"})
            problems.extend(population_footprint(population_path, study_area, layers["population"].get("crs")))
        else:
            problems.append(Problem(population_path.name, None, None, f"file not found: {population_path}"))
        year = spec.get("year")
        if year is not None and not (isinstance(year, int) and 1800 <= year <= 2200):
            problems.append(Problem(manifest_path.name, None, "layers.population.year", f"not a year: {year!r}"))
        population_year = year if isinstance(year, int) else None
        if spec.get("figures"):
            figures = load_figures(root / spec["figures"], problems, versions)
    if dataset["country"] is not None:
        problems.extend(positions_in_country(dataset["country"], layers, root,
                                             dict(courts=courts, prisons=prisons, settlements=dataset["settlements"],
                                                  crossings=dataset["crossings"])))
    as_of_date = manifest.get("as_of")
    if as_of_date is not None:
        try:
            as_of_date = pd.Timestamp(as_of_date).strftime("%Y-%m-%d")
        except ValueError:
            problems.append(Problem(manifest_path.name, None, "as_of", f"not a date (YYYY-MM-DD): {as_of_date!r}"))
    if figures is not None and 1 in admin:
        names = matcher(admin[1])
        for i, (level, area) in enumerate(zip(figures["level"], figures["area"])):
            if level == "region" and names.match(area) is None:
                problems.append(Problem(Path(layers["population"]["figures"]).name, f"line {i + 2}", "area",
                                        f"region {area!r} is no name of the admin1 boundaries ({', '.join(names.names)})"))
    floors = LicenceFloors()
    try:
        floors = floors_from(layers.get("incidents", {}).get("licence_floors"))
    except (TypeError, ValueError) as exc:
        problems.append(Problem(manifest_path.name, None, "layers.incidents.licence_floors", str(exc)))
    if problems:
        raise LayerError(problems)
    notes = [describe(row) for level, field_name in ((1, "region"), (2, "cercle")) if level in admin
             for frame in (courts, prisons) for _, row in region_mismatches(frame, admin[level], field_name).iterrows()]
    own = [facility_events(f) for f in (courts, prisons)]
    events = combine_events(*([history] if history is not None else []), *own)
    return Dataset(
        name=manifest.get("name", root.name), root=root, study_area=study_area or tuple(courts.total_bounds),
        courts=courts, prisons=prisons, events=events, population_path=population_path,
        licences=licences_from(layers.get("incidents", {}).get("licences")),
        licence_floors=floors, versions=versions, basemap=basemap, **dataset,
        admin=admin, as_of=as_of_date, tiers=tiers, population_year=population_year, population_figures=figures, notes=notes,
    )


def load_figures(path: Path, problems: list[Problem], versions: dict[str, str]) -> pd.DataFrame | None:
    """The published population figures the population surface is scaled to (see layers.population_figures)."""
    try:
        figures = read_population_figures(path)
    except LayerError as exc:
        problems.extend(exc.problems)
        return None
    versions["population_figures"] = file_hash(path)
    return figures
