"""The access engine: travel time from every cell to the nearest counting facility, with its label.

`Engine` binds a dataset; `Engine.access(params)` answers one question and caches it by
(data version, parameters). Grid-level layers (population, base friction, regions) are cached too.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy  # submodules load on first use (scipy's lazy loading): a command that needs none starts faster
import shapely

from layers.catalog import Dataset
from layers.population import read_population

from . import grid_cache
from .banks import reach_barrier_cells
from .cache import ResultCache
from .cancel import checkpoint
from .conflict import ConflictParams, PlacedIncidents, RiskSurface, place_incidents
from .dates import iso_date
from .facilities import Mode, counting_facilities
from .friction import BaseFriction, Friction, FrictionParams, base_friction, build_friction
from .grid import Grid
from .people import People, inside_country, people_of, scale_to_figures
from .traveltime import BLOCK_ROWS, PAD, Surface, padded_crossing, prepare_padded, surface_buffer, travel_time

Progress = Callable[[str], None]
WITHOUT_POPULATION = "access without population"  # cache key of an answer whose population is still to be read


@dataclass(frozen=True)
class AccessParams:
    """One access question. Every field has a default and is part of the cache key and the run manifest.

    kind: court or prison; mode: actual (working facilities at their sitting place) or nominal (all at
    their seat); as_of: ISO date for statuses, the conflict window and the people's year (None: the
    dataset's `as_of`, filled in by `Engine.complete`); tiers: only these court tiers
    (None = all); resolution_m: cell size; neighbours: 16 (accurate) or 8 (reproduces MCP_Geometric).
    """

    kind: str = "court"
    mode: Mode = "actual"
    as_of: str | None = None
    tiers: tuple[str, ...] | None = None
    resolution_m: float = 1000.0
    neighbours: int = 16
    friction: FrictionParams = field(default_factory=FrictionParams)
    conflict: ConflictParams = field(default_factory=ConflictParams)

    def __post_init__(self) -> None:
        if self.kind not in ("court", "prison"):
            raise ValueError(f"kind must be court or prison, not {self.kind!r}")
        if self.mode not in ("actual", "nominal"):
            raise ValueError(f"mode must be actual or nominal, not {self.mode!r}")
        if self.as_of is not None:
            value = self.as_of.date() if isinstance(self.as_of, datetime) else self.as_of
            object.__setattr__(self, "as_of", iso_date(value, "as_of").isoformat())
        if self.tiers is not None:
            object.__setattr__(self, "tiers", tuple(sorted(set(self.tiers))))
        if self.neighbours not in (8, 16):
            raise ValueError(f"neighbours must be 8 or 16, not {self.neighbours}")
        if not 10 <= self.resolution_m <= 100_000:
            raise ValueError(f"resolution_m must be between 10 and 100000 metres, not {self.resolution_m}")


def access_params(*, kind: str = "court", mode: str = "actual", as_of: str | None = None, tiers: str | None = None,
                  resolution_m: float = 1000.0, neighbours: int = 16, offroad_kmh: float = FrictionParams.offroad_kmh,
                  conflict: str = ConflictParams.mode, conflict_window: int = ConflictParams.window_days,
                  half_life: float = ConflictParams.half_life_days, bandwidth: float = ConflictParams.bandwidth_km,
                  penalty: float = ConflictParams.penalty, avoid_risk: float = ConflictParams.avoid_risk) -> AccessParams:
    """AccessParams from the flat options the CLI and the API share (`tiers` comma-separated); ValueError if bad."""
    return AccessParams(
        kind=kind, mode=mode, as_of=as_of, tiers=tuple(t.strip() for t in tiers.split(",")) if tiers else None,
        resolution_m=resolution_m, neighbours=neighbours, friction=FrictionParams(offroad_kmh=offroad_kmh),
        conflict=ConflictParams(mode=conflict, window_days=conflict_window, half_life_days=half_life,
                                bandwidth_km=bandwidth, penalty=penalty, avoid_risk=avoid_risk))


@dataclass(frozen=True)
class Access:
    """The answer to one access question on one grid."""

    params: AccessParams
    dataset_version: str
    grid: Grid
    facilities: gpd.GeoDataFrame  # with `site`: facilities in one cell share a site and its catchment
    site_cells: np.ndarray         # (sites, 2) row, col of each site
    minutes: np.ndarray            # float64, inf where no facility can be reached
    label: np.ndarray              # site of the nearest facility, -1 where none can be reached (int16 below 32,767 sites)
    population: np.ndarray         # float64 persons per cell (None only inside Engine.nominal_and_actual)
    risk: RiskSurface              # weighted incidents per 1,000 km² (float32 per cell, read when asked)

    @property
    def nbytes(self) -> int:
        return self.minutes.nbytes + self.label.nbytes + self.risk.nbytes

    @property
    def sites(self) -> int:
        return len(self.site_cells)

    def site_names(self) -> list[str]:
        """Per site, the names of the facilities it holds, joined with ' / '."""
        return self.facilities.groupby("site")["name"].agg(" / ".join).reindex(range(self.sites)).tolist()


@dataclass(frozen=True)
class Regions:
    """Region index per cell (-1 = none; int16, or int32 past 32,767 regions) and the region names it points into."""

    index: np.ndarray
    names: list[str]
    source: str  # "boundaries" or "facility attribute"


def index_dtype(count: int) -> str:
    """The smallest signed integer type holding -1 and indices up to `count` - 1 (2 bytes a cell where it can)."""
    return "int16" if count <= np.iinfo(np.int16).max else "int32"


def nearest_passable(base: BaseFriction, row: int, col: int) -> tuple[int, int]:
    """The passable cell nearest to (row, col) (itself if passable; itself too if none is), the one scipy's
    distance transform of the whole grid picks: the transform of a window around the cell, doubled until the
    nearest lies closer than the window's edge, so the cells that can tie with it are all inside."""
    shape, radius = base.codes.shape, 8
    while True:
        r0, c0 = max(row - radius, 0), max(col - radius, 0)
        r1, c1 = min(row + radius + 1, shape[0]), min(col + radius + 1, shape[1])
        blocked = base.codes[r0:r1, c0:c1] == base.impassable
        whole = (r0, c0, r1, c1) == (0, 0, *shape)
        if not blocked.all():
            distance, (near_r, near_c) = scipy.ndimage.distance_transform_edt(blocked, return_indices=True)
            if whole or distance[row - r0, col - c0] < radius:
                return int(near_r[row - r0, col - c0]) + r0, int(near_c[row - r0, col - c0]) + c0
        elif whole:
            return row, col
        radius *= 2


class Engine:
    """Answers access questions on one dataset, caching what it computes."""

    def __init__(self, dataset: Dataset, cache: ResultCache | None = None):
        self.dataset = dataset
        self.cache = cache or ResultCache()

    def complete(self, params: AccessParams) -> AccessParams:
        """`params` with the dataset's as-of date where it names none."""
        return params if params.as_of is not None else replace(params, as_of=self.dataset.default_as_of)

    def grid(self, resolution_m: float = 1000.0) -> Grid:
        """Cells covering the country (its `country` layer), else the boundaries, else the study area."""
        area = self.dataset.study_area
        outline = self.dataset.country if self.dataset.country is not None else self.dataset.boundaries
        if outline is not None:
            area = tuple(outline.total_bounds)
        return Grid.covering(area, resolution_m)

    def _cached(self, key: tuple, compute: Callable, nbytes: Callable = lambda v: getattr(v, "nbytes", 0)):
        return self.cache.get_or_compute(key, compute, nbytes)

    def inside(self, grid: Grid) -> np.ndarray | None:
        """Cells of the country (None: the dataset has no outline, every cell counts); nothing outside carries
        people or travel time."""
        key = ("inside", self.dataset.versions.get("country"), self._boundary_version, grid.key)
        return self._cached(key, lambda: grid_cache.load_or_build(key, lambda: inside_country(grid, self.dataset)),
                            lambda m: getattr(m, "nbytes", 0))

    def people(self, as_of: str | None = None) -> People:
        """Which people head counts on `as_of` (default: the dataset's date) are of, and their label."""
        return people_of(self.dataset, as_of or self.dataset.default_as_of)

    def population(self, grid: Grid, as_of: str | None = None) -> np.ndarray:
        """Persons per cell on `grid` in the year of `as_of` (default: the dataset's date), zero outside the country."""
        people = self.people(as_of)

        def compute() -> np.ndarray:
            if self.dataset.population_path is None:
                raise ValueError("the dataset has no population layer")
            values = read_population(self.dataset.population_path, dst_crs=grid.crs, dst_transform=grid.transform,
                                     dst_shape=grid.shape)
            inside = self.inside(grid)
            if inside is not None:
                values[~inside] = 0.0
            return scale_to_figures(values, grid, self.dataset, people)
        versions = tuple(self.dataset.versions.get(k) for k in ("population", "population_figures", "country", "admin1"))
        key = ("population", versions, self._boundary_version, grid.key, people.year)
        return self._cached(key, lambda: grid_cache.load_or_build(key, compute))

    @property
    def _boundary_version(self) -> str | None:
        return self.dataset.versions.get("boundaries")

    def regions(self, grid: Grid) -> Regions:
        """Per-cell region: official boundaries when loaded, else the region of the nearest court seat."""
        def compute() -> Regions:
            boundaries = self.dataset.boundaries
            if boundaries is not None:
                names = boundaries["name"].tolist()
                index = grid_cache.load_or_build(key, lambda: grid.rasterize(
                    boundaries.geometry, np.arange(len(names)), fill=-1, dtype=index_dtype(len(names)), all_touched=False))
                return Regions(index, names, "boundaries")
            courts = self.dataset.courts
            names = sorted(courts["region"].unique())
            seats = courts.geometry.to_crs(grid.crs)
            tree = scipy.spatial.cKDTree(np.column_stack([seats.x, seats.y]))
            region_of_court = courts["region"].map({n: i for i, n in enumerate(names)}).to_numpy().astype(np.int32)
            index = np.full(grid.shape, -1, dtype=index_dtype(len(names)))
            populated = self.population(grid) > 0  # only populated cells need a region
            for start in range(0, grid.shape[0], BLOCK_ROWS):  # in blocks of rows: bounded temporaries
                rows, cols = np.nonzero(populated[start:start + BLOCK_ROWS])
                _, nearest = tree.query(np.column_stack(grid.centres(rows + start, cols)), workers=-1)
                index[rows + start, cols] = region_of_court[nearest]
            return Regions(index, names, "facility attribute")
        key = ("regions", self._boundary_version, self.dataset.versions.get("courts"), grid.key)
        return self._cached(key, compute, lambda r: r.index.nbytes)

    def base_friction(self, grid: Grid, params: FrictionParams) -> BaseFriction:
        """Friction without insecurity; impassable outside the country, so no cell there gets a travel time. Kept
        on disk too (`grid_cache`): a later process reads it back instead of burning the roads and barriers."""
        key = self._base_key(grid, params)

        def compute() -> BaseFriction:
            keys = [key + (part,) for part in ("codes", "table", "crossing")]
            stored = [grid_cache.load(k) for k in keys]
            if all(part is not None for part in stored):
                return BaseFriction.from_arrays(*stored)
            friction = base_friction(grid, self.dataset, params)
            inside = self.inside(grid)
            if inside is not None:
                friction.codes[~inside] = friction.impassable
            for k, part in zip(keys, friction.to_arrays()):
                grid_cache.save(k, part)
            return friction
        return self._cached(key, compute)

    def _base_key(self, grid: Grid, params: FrictionParams, layer: str = "base_friction") -> tuple:
        versions = tuple(self.dataset.versions.get(k) for k in ("roads", "barriers", "crossings", "country"))
        return (layer, versions, self._boundary_version, grid.key, params)

    def _friction_key(self, grid: Grid, params: AccessParams, layer: str = "friction") -> tuple:
        return (layer, self.dataset.version, grid.key, params.friction, params.conflict, params.as_of)

    def _release_search_layers(self, grid: Grid, params: AccessParams) -> None:
        """Let the cache evict what only searches use (friction, prepared surface, base friction, barrier cells)
        once this question has searched: at fine resolutions they must not be held while the population is built.
        Asked again later (a scenario on this answer), they come from the cache unless the budget made them go."""
        params = self.complete(params)
        self.cache.release(self._friction_key(grid, params), self._friction_key(grid, params, "surface"),
                           self._base_key(grid, params.friction), self._base_key(grid, params.friction, "barrier cells"))

    def friction(self, grid: Grid, params: AccessParams) -> Friction:
        """The friction of `params`. Its minutes per metre are a view into the prepared surface (`surface`):
        the same values (positive or inf), held once."""
        params = self.complete(params)
        key = self._friction_key(grid, params)
        base = self.base_friction(grid, params.friction)

        def compute() -> Friction:
            placed = None if params.conflict.mode == "off" else self.placed_incidents(grid)
            padded = surface_buffer(grid.shape)  # built where the search reads it: no second copy of the grid
            built = build_friction(grid, self.dataset, pd.Timestamp(params.as_of), params.friction, params.conflict, base,
                                   placed=placed, out=padded[PAD:-PAD, PAD:-PAD])
            surface = self._cached(self._friction_key(grid, params, "surface"),
                                   lambda: self._prepared(grid, params, padded, built.crossing_minutes))
            return replace(built, minutes_per_metre=surface.padded[PAD:-PAD, PAD:-PAD])
        return self._cached(key, compute, lambda f: f.risk.nbytes)

    def placed_incidents(self, grid: Grid) -> PlacedIncidents | None:
        """The dataset's incidents on `grid` (cached: the risk of every date selects its window from them)."""
        incidents = self.dataset.incidents
        if incidents is None:
            return None
        return self._cached(("placed incidents", self.dataset.version, grid.key), lambda: place_incidents(grid, incidents))

    def surface(self, grid: Grid, params: AccessParams) -> Surface:
        """The friction of `params` prepared for searches (cached: scenarios and siting search it many times)."""
        params = self.complete(params)
        friction = self.friction(grid, params)  # prepares the surface too: asked first, never inside its own computation
        return self._cached(self._friction_key(grid, params, "surface"),  # the friction stayed cached, its surface did not
                            lambda: self._prepared(grid, params, surface_buffer(grid.shape, friction.minutes_per_metre),
                                                   friction.crossing_minutes))

    def _prepared(self, grid: Grid, params: AccessParams, padded: np.ndarray, crossing_minutes: np.ndarray | None) -> Surface:
        """The friction in `padded` (a `surface_buffer`) prepared for searches in place, its crossings padded once
        per base friction (not once per date)."""
        crossing = self._cached(self._base_key(grid, params.friction, "padded crossing"),
                                lambda: padded_crossing(crossing_minutes, grid.shape),
                                lambda c: 1 << 12)  # its zero pages are never mapped; each surface counts it whole
        return prepare_padded(padded, grid.cell_size, crossing=crossing)

    def onto_banks(self, grid: Grid, params: AccessParams, minutes: np.ndarray, label: np.ndarray,
                   changed_rows: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Minutes and labels with barrier cells inside the country set from their quicker bank (see `banks`),
        changed in place: pass a search's own result, not arrays someone else holds. `changed_rows` (first, last + 1):
        only there did the search change anything (an update: barrier cells elsewhere keep their banks' times)."""
        def barrier_cells() -> tuple[np.ndarray, np.ndarray]:
            base = self.base_friction(grid, params.friction)
            inside = self.inside(grid)
            rows, cols = [], []
            for start in range(0, grid.shape[0], BLOCK_ROWS):  # in blocks of rows: bounded temporaries
                part = slice(start, start + BLOCK_ROWS)
                blocked = base.codes[part] == base.impassable
                if inside is not None:
                    blocked &= inside[part]
                r, c = np.nonzero(blocked)
                rows.append(r + start)
                cols.append(c)
            return np.concatenate(rows), np.concatenate(cols)
        cells = self._cached(self._base_key(grid, params.friction, "barrier cells"), barrier_cells,
                             lambda c: c[0].nbytes + c[1].nbytes)
        if changed_rows is not None:  # the barrier cells next to a changed row (the cells are in row order)
            part = slice(*np.searchsorted(cells[0], (changed_rows[0] - 1, changed_rows[1] + 1)))
            cells = (cells[0][part], cells[1][part])
        return reach_barrier_cells(minutes, label, self.friction(grid, params).minutes_per_metre, cells, grid.cell_size)

    def sources(self, grid: Grid, facilities: gpd.GeoDataFrame, params: FrictionParams) -> np.ndarray:
        """Grid cells of the facilities, moved to the nearest passable cell when a barrier covers theirs. Each
        point's cell is remembered per grid and friction: what-ifs and timelines place the same points again."""
        geometry = facilities.geometry.array
        points = list(zip(shapely.get_x(geometry).tolist(), shapely.get_y(geometry).tolist()))
        placed = self._cached(self._base_key(grid, params, "placed points") + (getattr(facilities.crs, "srs", None),), dict,
                              lambda found: 1 << 12)  # a few kilobytes: counted, so the budget bounds them too
        new = [i for i, point in enumerate(points) if point not in placed]
        if new:
            fresh = facilities.iloc[new]
            rows, cols, inside = grid.cells(fresh.geometry)
            if not inside.all():
                names = ", ".join(fresh.loc[~inside, "name"])
                raise ValueError(f"facilities outside the analysis grid: {names}")
            base = self.base_friction(grid, params)
            blocked = np.flatnonzero(base.codes[rows, cols] == base.impassable)
            if blocked.size:  # kept on disk too: a later process moves the same cells without scipy.ndimage
                cells = np.column_stack([rows[blocked], cols[blocked]]).astype(np.int64)
                moved = grid_cache.load_or_build(
                    self._base_key(grid, params, "moved sources") + (cells.tobytes(),),
                    lambda: np.array([nearest_passable(base, int(r), int(c)) for r, c in cells], dtype=np.int64))
                rows[blocked], cols[blocked] = moved[:, 0], moved[:, 1]
            placed.update({points[i]: (int(r), int(c)) for i, r, c in zip(new, rows, cols)})
        return np.array([placed[point] for point in points], dtype=np.int64).reshape(-1, 2)

    def place_sites(self, grid: Grid, facilities: gpd.GeoDataFrame, params: AccessParams) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        """The facilities with their `site` (facilities in one cell share one) and the sites' (row, col) cells."""
        site, sites = self.site_index(grid, facilities, params)
        return facilities.assign(site=site), sites

    def site_index(self, grid: Grid, facilities: gpd.GeoDataFrame, params: AccessParams) -> tuple[np.ndarray, np.ndarray]:
        """Each facility's site (numbered by row, then column, of the sites' cells) and the sites' (row, col) cells."""
        if facilities.empty:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64)
        cells = self.sources(grid, facilities, params.friction)
        flat, site = np.unique(cells[:, 0] * grid.shape[1] + cells[:, 1], return_inverse=True)
        return site.ravel(), np.column_stack(np.divmod(flat, grid.shape[1]))

    def access(self, params: AccessParams | None = None, progress: Progress | None = None) -> Access:
        """Travel time to the nearest counting facility for `params` (cached); `params.as_of` None means the
        dataset's date."""
        params = self.complete(params or AccessParams())
        with self.cache.question():
            return self._access(params, progress)

    def _access(self, params: AccessParams, progress: Progress | None, people: bool = True) -> Access:
        """The answer to `params`, its population asked after the search. people=False: without its population
        (None) unless the whole answer is cached already, for `nominal_and_actual`, which adds it after both
        searches so that it is not held while they run."""
        key = ("access", self.dataset.version, params)
        if not people:
            found = self.cache.get(key)
            if found is not None:
                return found
            key = (WITHOUT_POPULATION,) + key[1:]

        def step(name: str) -> None:
            checkpoint()
            if progress is not None:
                progress(name)

        def compute() -> Access:
            grid = self.grid(params.resolution_m)
            step("friction")
            friction = self.friction(grid, params)
            facilities = counting_facilities(self.dataset, kind=params.kind, mode=params.mode, as_of=params.as_of,
                                             tiers=params.tiers)
            step("travel time")
            facilities, sites = self.place_sites(grid, facilities, params)
            result = travel_time(self.surface(grid, params), grid.cell_size, sites, neighbours=params.neighbours)
            minutes, label = self.onto_banks(grid, params, result.minutes, result.label)
            population = None
            if people:
                self._release_search_layers(grid, params)
                step("population")
                population = self.population(grid, params.as_of)
            return Access(params, self.dataset.version, grid, facilities, sites, minutes, label,
                          population, friction.risk)
        return self._cached(key, compute, lambda a: a.nbytes)

    def nominal_and_actual(self, params: AccessParams, progress: Progress | None = None) -> tuple[Access, Access]:
        """Both modes of `params`. The actual travel times are derived from the nominal ones incrementally (they
        differ only where courts are closed or relocated): the same minutes as a full search, found faster.
        The population is read after both searches (it is not held while they run)."""
        from .scenarios import updated_access  # scenarios builds on this module

        params = self.complete(params)
        step = progress or (lambda _: None)
        keys = {mode: ("access", self.dataset.version, replace(params, mode=mode)) for mode in ("nominal", "actual")}
        with self.cache.question():
            nominal = self._access(keys["nominal"][2], progress, people=False)
            actual = self.cache.get(keys["actual"])
            if actual is None:
                def compute() -> Access:
                    step("travel time (actual, from nominal)")
                    facilities = counting_facilities(self.dataset, kind=params.kind, mode="actual", as_of=params.as_of,
                                                     tiers=params.tiers)
                    return replace(updated_access(self, nominal, facilities), params=keys["actual"][2])
                actual = self._cached((WITHOUT_POPULATION,) + keys["actual"][1:], compute, lambda a: a.nbytes)
            answers = {"nominal": nominal, "actual": actual}
            self._release_search_layers(nominal.grid, params)
            if any(a.population is None for a in answers.values()):
                step("population")
                population = self.population(nominal.grid, params.as_of)
                for mode, found in answers.items():
                    if found.population is None:
                        answers[mode] = self._cached(keys[mode], lambda a=found: replace(a, population=population),
                                                     lambda a: a.nbytes)
                        self.cache.discard((WITHOUT_POPULATION,) + keys[mode][1:])
            return answers["nominal"], answers["actual"]
