"""Justice over time: coverage, facilities by status and conflict, date by date, from the status history.

`timeline(engine, params, start, end, step)` answers, for each date of the range, what `coverage`
answers for one date (nominal vs actual, overall and per region, people who lost access) plus the
facilities by status and kind and a conflict summary. Walking the dates in order, it reuses work:

- when neither the counting facilities nor the friction changed, the previous date's access is reused;
- when only facilities changed, `scenarios.updated_access` recomputes just the catchments of the sites
  that closed or moved and the reach of those that opened (equal to a full recomputation);
- when the friction changed (the conflict window holds incidents, whose weights decay with age, so the
  risk surface differs from one date to the next), the date is searched in full, but once: the nominal
  travel time by one search on the date's friction, the actual one from it by the incremental update
  (`Engine.nominal_and_actual` does the same). Whatever does not depend on the date is found once per run:
  the grid, the people of each year, the facilities, their sites and counts of each period between two
  status events. A friction repair (dynamic shortest paths) would not pay here: the decay changes the
  friction of every cell near any incident of the window (on the embedded data at 5 km, about 22,000 of the
  50,000 cells of the country each month), and about 70% of the reached cells descend from one of them.

Example::

    from geo_justice.timeline import timeline
    result = timeline(Engine(load_dataset()), AccessParams(resolution_m=5000), "2012-01-01", "2023-12-31", "month")
    result.summary[["date", "actual_share_120"]]
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.vocabulary import STATUSES

from .access import Access, AccessParams, Engine
from .defaults import DEFAULT_THRESHOLDS
from .coverage import ALL, coverage_columns, population_totals
from .dates import iso_date
from .facilities import counting
from .grid import Grid, polygons
from .manifest import _plain, run_manifest
from .people import analysis_year
from .scenarios import updated_access
from .traveltime import travel_time

#: Steps of a timeline and their pandas frequencies (dates fall on the first day of each period).
STEPS = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}
#: More dates than this need `force=True`.
MAX_DATES = 1000
#: How a date's access was obtained.
REUSED, INCREMENTAL, FULL = "reused", "incremental", "full"
DateProgress = Callable[[int], None]


def timeline_dates(dataset_events: pd.DataFrame, start: str, end: str, step: str, *, force: bool = False) -> list[str]:
    """The ISO dates from `start` to `end` (inclusive) on the first day of each `step`; ValueError when the
    range is empty, starts before the first status event, or gives more than MAX_DATES dates without force."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, not {step!r}")
    first, last = pd.Timestamp(iso_date(start, "from")), pd.Timestamp(iso_date(end, "to"))
    if last < first:
        raise ValueError(f"empty date range: to ({last:%Y-%m-%d}) is before from ({first:%Y-%m-%d})")
    if not dataset_events.empty:
        earliest = pd.Timestamp(dataset_events["as_of"].min())
        if first < earliest:
            raise ValueError(f"from ({first:%Y-%m-%d}) is before the first status event ({earliest:%Y-%m-%d}): "
                             f"every facility's status would be unknown; start on or after {earliest:%Y-%m-%d}")
    dates = pd.date_range(first, last, freq=STEPS[step])
    if len(dates) == 0:
        raise ValueError(f"empty date range: no {step} starts between {first:%Y-%m-%d} and {last:%Y-%m-%d}")
    if len(dates) > MAX_DATES and not force:
        raise ValueError(f"{len(dates):,} dates ({step} steps from {first:%Y-%m-%d} to {last:%Y-%m-%d}) is more than "
                         f"{MAX_DATES:,}: use a longer step or force")
    return [d.strftime("%Y-%m-%d") for d in dates]


@dataclass(frozen=True)
class Window:
    """The incidents of the conflict window before a date (the rows `conflict.recent_incidents` selects): how
    many and their fatalities (0 where unknown)."""

    incidents: int
    fatalities: float


class IncidentWindows:
    """The conflict window before each date, selected from the incidents placed on the grid once."""

    def __init__(self, engine: Engine, grid: Grid):
        self._placed = engine.placed_incidents(grid)

    def before(self, params: AccessParams) -> Window:
        """Incidents dated in (as_of - window, as_of], without cells under their licence floor."""
        if self._placed is None:
            return Window(0, 0.0)
        chosen = self._placed.window(pd.Timestamp(params.as_of), params.conflict.window_days)
        return Window(int(chosen.size), float(self._placed.fatalities[chosen].sum()))


def conflict_state(params: AccessParams, recent: Window) -> str | None:
    """What the friction of `params` depends on beyond the fixed layers: None when no incident weighs on it
    (conflict off, or none in the window `recent`), else the date (weights decay with age)."""
    if params.conflict.mode == "off" or recent.incidents == 0:
        return None
    return params.as_of


def _places(facilities: gpd.GeoDataFrame) -> tuple:
    """The counting places of a set of facilities: what travel time depends on."""
    return tuple(sorted(zip(facilities["id"], np.round(facilities.geometry.x, 7), np.round(facilities.geometry.y, 7))))


class FacilityStates:
    """Facilities as of each date, computed once per distinct set of past events (dates between two events share
    it), with what derives from them: the counting facilities of a mode and the counts by status."""

    def __init__(self, engine: Engine):
        self.dataset = engine.dataset
        self._event_dates = np.sort(pd.to_datetime(self.dataset.events["as_of"]).to_numpy())
        self._cache: dict[tuple, Any] = {}

    def _period(self, date: str) -> int:
        """How many status events took effect by `date`: dates with the same number share their facilities."""
        return int(np.searchsorted(self._event_dates, np.datetime64(date), side="right"))

    def _memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def at(self, kind: str, date: str) -> gpd.GeoDataFrame:
        return self._memo((kind, self._period(date)), lambda: self.dataset.facilities_as_of(kind, date))

    def counting(self, params: AccessParams, date: str) -> gpd.GeoDataFrame:
        """The facilities of `params` (kind, mode, tiers) that count on `date`, and where."""
        key = ("counting", params.kind, params.mode, params.tiers, self._period(date))
        return self._memo(key, lambda: counting(self.at(params.kind, date), mode=params.mode, tiers=params.tiers,
                                                vocabulary=tuple(self.dataset.tiers)))

    def places(self, params: AccessParams, date: str) -> tuple:
        """The counting places of `counting(params, date)`: what travel time depends on."""
        key = ("places", params.kind, params.mode, params.tiers, self._period(date))
        return self._memo(key, lambda: _places(self.counting(params, date)))

    def counts(self, date: str) -> dict[str, int]:
        return self._memo(("counts", self._period(date)), lambda: facility_counts(self, date))


@dataclass
class _State:
    conflict: str | None
    facilities: gpd.GeoDataFrame  # the facilities as of the date (shared by dates between two events)
    places: dict[str, tuple]
    access: dict[str, Access]


class DateWalker:
    """Nominal and actual access date after date, reusing the previous date's answer where it can.

    `incremental=False` computes every date in full with `Engine.access` (the naive reference, and the equality
    tests' answer). `reach`: minutes beyond which nothing is searched (inf and no label there): every time
    within it equals a full search's.
    """

    def __init__(self, engine: Engine, params: AccessParams, *, incremental: bool = True, reach: float = np.inf):
        self.engine, self.params, self.incremental, self.reach = engine, params, incremental, reach
        self.grid: Grid = engine.grid(params.resolution_m)
        self.states = FacilityStates(engine)
        self.windows = IncidentWindows(engine, self.grid)
        self._people: tuple[int, np.ndarray] | None = None  # the year of the last date and its people
        self._sites: dict[tuple, tuple[gpd.GeoDataFrame, np.ndarray]] = {}
        self._last: _State | None = None

    def population(self, date: str) -> np.ndarray:
        """The people of `date`'s year on the grid (one array per year: dates of a year share it)."""
        year = analysis_year(date)
        if self._people is None or self._people[0] != year:
            self._people = (year, self.engine.population(self.grid, date))
        return self._people[1]

    def at(self, date: str, recent: Window | None = None) -> tuple[Access, Access, str]:
        """(nominal, actual, how) on `date`; how is reused, incremental or full. `recent`: the incidents of the
        conflict window before `date`, when the caller has them."""
        engine = self.engine
        params = {mode: replace(self.params, mode=mode, as_of=date) for mode in ("nominal", "actual")}
        if not self.incremental:
            return engine.access(params["nominal"]), engine.access(params["actual"]), FULL
        state = self.states.at(self.params.kind, date)
        recent = self.windows.before(params["actual"]) if recent is None else recent
        conflict = conflict_state(params["actual"], recent)
        population = self.population(date)
        last = self._last
        if last is not None and last.conflict == conflict and last.facilities is state:  # no event since: same minutes
            access = {mode: replace(last.access[mode], params=p, population=population) for mode, p in params.items()}
            self._last = _State(conflict, state, last.places, access)
            return access["nominal"], access["actual"], REUSED
        facilities = {mode: self.states.counting(p, date) for mode, p in params.items()}
        places = {mode: self.states.places(p, date) for mode, p in params.items()}
        access: dict[str, Access] = {}
        if last is not None and last.conflict == conflict:
            for mode in ("nominal", "actual"):
                if last.places[mode] == places[mode]:
                    access[mode] = replace(last.access[mode], params=params[mode], population=population)
                else:
                    update = updated_access(engine, last.access[mode], facilities[mode], max_minutes=self.reach,
                                            sites=self._placed(params[mode], facilities[mode], places[mode]))
                    access[mode] = replace(update, params=params[mode], population=population)
            changed = any(last.places[m] != places[m] for m in places)
            how = INCREMENTAL if changed else REUSED
        else:
            access = self._searched(params, facilities, places, population)
            how = FULL
        self._last = _State(conflict, state, places, access)
        return access["nominal"], access["actual"], how

    def _searched(self, params: dict[str, AccessParams], facilities: dict[str, gpd.GeoDataFrame],
                  places: dict[str, tuple], population: np.ndarray) -> dict[str, Access]:
        """Both modes on the date's friction: nominal by one search (what `Engine.access` computes), actual from
        it by the incremental update (its minutes equal a full search's, as in `Engine.nominal_and_actual`)."""
        engine, grid, nominal = self.engine, self.grid, params["nominal"]
        sited, sites = self._placed(nominal, facilities["nominal"], places["nominal"])
        friction = engine.friction(grid, nominal)
        result = travel_time(engine.surface(grid, nominal), grid.cell_size, sites, neighbours=nominal.neighbours,
                             max_minutes=self.reach)
        minutes, label = engine.onto_banks(grid, nominal, result.minutes, result.label)
        access = {"nominal": Access(nominal, engine.dataset.version, grid, sited, sites, minutes, label, population,
                                    friction.risk)}
        if places["actual"] == places["nominal"]:
            access["actual"] = replace(access["nominal"], params=params["actual"])
        else:
            sited = self._placed(params["actual"], facilities["actual"], places["actual"])
            update = updated_access(engine, access["nominal"], facilities["actual"], max_minutes=self.reach, sites=sited)
            access["actual"] = replace(update, params=params["actual"])
        return access

    def _placed(self, params: AccessParams, facilities: gpd.GeoDataFrame, places: tuple) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        """`Engine.place_sites` of `facilities`, once per set of places: sites depend on the facilities and the
        fixed layers, not on the date's friction (the facilities' other columns are those of the first date with
        these places; the timeline's tables read only the sites)."""
        if places not in self._sites:
            self._sites[places] = self.engine.place_sites(self.grid, facilities, params)
        return self._sites[places]


def facility_counts(states: FacilityStates, date: str) -> dict[str, int]:
    """Courts and prisons by status on `date`, and how many sit away from their seat (relocated)."""
    counts: dict[str, int] = {}
    for kind in ("court", "prison"):
        state = states.at(kind, date)
        by_status = state["status"].value_counts()
        for status in STATUSES:
            counts[f"{kind}s_{status}"] = int(by_status.get(status, 0))
        counts[f"{kind}s_relocated"] = int((state["sitting_name"] != "").sum())
    return counts


def conflict_summary(params: AccessParams, actual: Access, recent: Window) -> dict[str, float]:
    """Incidents and fatalities in the conflict window before the date (`recent`), and people where risk is high."""
    population, risk = actual.population, actual.risk.values()
    total = population.sum()
    return {"incidents_in_window": recent.incidents, "fatalities_in_window": recent.fatalities,
            "people_high_risk": float(population[risk > params.conflict.avoid_risk].sum()),
            "mean_risk": float((population * risk).sum() / total) if total else float("nan")}


def date_rows(engine: Engine, params: AccessParams, dates: Sequence[str], thresholds: tuple[float, ...], *,
              incremental: bool = True, progress: DateProgress | None = None) -> pd.DataFrame:
    """Per date, in order, the rows of its coverage table (one per region and 'All') with the date, how its
    access was obtained, the facility counts and the conflict summary, as one table. Consecutive dates share
    work, and travel time is searched no farther than the largest threshold (nothing beyond it counts)."""
    walker = DateWalker(engine, params, incremental=incremental, reach=max(thresholds))
    columns: dict[str, list] = {}
    coverage: dict[str, Any] = {}
    previous, totals = None, None
    regions = engine.regions(walker.grid)
    for date in dates:
        dated = replace(params, as_of=date)
        recent = walker.windows.before(dated)
        nominal, actual, how = walker.at(date, recent)
        if actual.population is not previous:  # a new year's people
            totals = population_totals(actual.population, regions)
        if not (how == REUSED and coverage and actual.population is previous):  # else: same minutes and people
            coverage = coverage_columns(nominal, actual, regions, thresholds, totals=totals)
        rows = len(coverage["region"])
        extras = {"date": date, "computed": how, **walker.states.counts(date), **conflict_summary(dated, actual, recent)}
        for name, values in [*coverage.items(), *((n, [v] * rows) for n, v in extras.items())]:
            columns.setdefault(name, []).extend(values)
        previous = actual.population
        if progress:
            progress(1)
    return pd.DataFrame(columns)


def assemble(engine: Engine, params: AccessParams, dates: Sequence[str], thresholds: tuple[float, ...], step: str,
             frames: Iterable[pd.DataFrame], execution: dict[str, Any]) -> "AnalysisResult":
    """The timeline result from `date_rows` tables (runs of consecutive dates, in order): `timeline` (one row per
    date, all regions), `regions` (one row per region and date) and `region_outlines` (one polygon per region),
    with the run manifest."""
    from .analysis import AnalysisResult

    long = pd.concat(list(frames), ignore_index=True)
    if list(dict.fromkeys(long["date"])) != list(dates):
        raise RuntimeError("timeline rows are not in the order of the dates asked")  # a sweep bug, never a user error
    coverage_columns = [c for c in long.columns if c.split("_")[0] in ("nominal", "actual", "lost")]
    date_columns = ["date", "computed"] + [c for c in long.columns if c.startswith(("courts_", "prisons_"))] + \
        ["incidents_in_window", "fatalities_in_window", "people_high_risk", "mean_risk"]
    overall = long[long["region"] == ALL][date_columns + ["population"] + coverage_columns].reset_index(drop=True)
    regions = long[long["region"] != ALL][["date", "region", "population"] + coverage_columns].reset_index(drop=True)
    access = {k: v for k, v in _plain(params).items() if k != "as_of"}  # the dates replace as_of
    manifest = run_manifest(engine.dataset, "timeline", {
        "access": access, "thresholds": thresholds, "step": step, "from": dates[0], "to": dates[-1],
        "dates": len(dates), "regions_from": engine.regions(engine.grid(params.resolution_m)).source, **execution})
    return AnalysisResult({"timeline": overall, "regions": regions, "region_outlines": region_outlines(engine, params)},
                          overall, manifest)


def region_outlines(engine: Engine, params: AccessParams) -> gpd.GeoDataFrame:
    """One polygon per region of the coverage tables: the official boundaries when loaded, else the cells
    that take each region (regions from the nearest court seat)."""
    boundaries = engine.dataset.boundaries
    if boundaries is not None:
        return gpd.GeoDataFrame({"region": boundaries["name"]}, geometry=boundaries.geometry.to_crs("EPSG:4326").values,
                                crs="EPSG:4326")
    grid = engine.grid(params.resolution_m)
    regions = engine.regions(grid)
    frame = polygons(grid, regions.index, regions.index >= 0)
    return gpd.GeoDataFrame({"region": [regions.names[v] for v in frame["value"]]}, geometry=frame.geometry.values,
                            crs="EPSG:4326")


def timeline(engine: Engine, params: AccessParams, start: str, end: str, step: str = "month",
             thresholds: Sequence[float] = DEFAULT_THRESHOLDS, *, force: bool = False, incremental: bool = True,
             progress: DateProgress | None = None) -> "AnalysisResult":
    """The timeline in this process (see the module docstring); `sweep.timeline_sweep` runs it on Dask."""
    from .analysis import _thresholds

    thresholds = _thresholds(thresholds)
    dates = timeline_dates(engine.dataset.events, start, end, step, force=force)
    rows = date_rows(engine, params, dates, thresholds, incremental=incremental, progress=progress)
    return assemble(engine, params, dates, thresholds, step, [rows], {"scheduler": "in-process", "incremental": incremental})


def regions_geojson(result: "AnalysisResult") -> dict[str, Any]:
    """The regions as a FeatureCollection, each with its per-date table (`timeline`: a list of rows by date),
    plus the overall per-date table under `summary`."""
    outlines, regions = result.layers["region_outlines"], result.layers["regions"]
    features = []
    for _, row in outlines.iterrows():
        rows = regions[regions["region"] == row["region"]].drop(columns="region")
        features.append({"type": "Feature", "geometry": row.geometry.__geo_interface__,
                         "properties": {"region": row["region"], "timeline": _records(rows)}})
    return {"type": "FeatureCollection", "name": "timeline", "features": features,
            "summary": _records(result.layers["timeline"]), "manifest": result.manifest}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain JSON values (NaN as null)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in clean.to_dict("records")]
