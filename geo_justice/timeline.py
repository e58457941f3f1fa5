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
from .coverage import ALL, coverage_table
from .dates import iso_date
from .facilities import counting
from .grid import Grid, polygons
from .licence_floors import above_floor
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


class IncidentWindows:
    """The incidents of the conflict window before a date, the rows `conflict.recent_incidents` selects, without
    their geometry (what the per-date summary and the reuse test need), sliced from one date-sorted table."""

    def __init__(self, engine: Engine):
        incidents = engine.dataset.incidents
        frame = (pd.DataFrame({"date": pd.to_datetime([]), "fatalities": []}) if incidents is None
                 else pd.DataFrame(incidents.drop(columns=incidents.geometry.name)))
        self._frame = frame.sort_values("date", kind="stable").reset_index(drop=True)
        self._dates = self._frame["date"].to_numpy()

    def before(self, params: AccessParams) -> pd.DataFrame:
        """Incidents dated in (as_of - window, as_of], without cells under their licence floor."""
        end = pd.Timestamp(params.as_of)
        start = end - pd.Timedelta(days=params.conflict.window_days)
        first, last = np.searchsorted(self._dates, [start.to_datetime64(), end.to_datetime64()], side="right")
        return above_floor(self._frame.iloc[first:last])


def conflict_state(params: AccessParams, recent: pd.DataFrame) -> str | None:
    """What the friction of `params` depends on beyond the fixed layers: None when no incident weighs on it
    (conflict off, or none in the window `recent`), else the date (weights decay with age)."""
    if params.conflict.mode == "off" or recent.empty:
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
    tests' answer).
    """

    def __init__(self, engine: Engine, params: AccessParams, *, incremental: bool = True,
                 states: FacilityStates | None = None, windows: IncidentWindows | None = None):
        self.engine, self.params, self.incremental = engine, params, incremental
        self.states = states or FacilityStates(engine)
        self.windows = windows or IncidentWindows(engine)
        self.grid: Grid = engine.grid(params.resolution_m)
        self._people: tuple[int, np.ndarray] | None = None  # the year of the last date and its people
        self._sites: dict[tuple, tuple[gpd.GeoDataFrame, np.ndarray]] = {}
        self._last: _State | None = None

    def population(self, date: str) -> np.ndarray:
        """The people of `date`'s year on the grid (one array per year: dates of a year share it)."""
        year = analysis_year(date)
        if self._people is None or self._people[0] != year:
            self._people = (year, self.engine.population(self.grid, date))
        return self._people[1]

    def at(self, date: str, recent: pd.DataFrame | None = None) -> tuple[Access, Access, str]:
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
        places = {mode: _places(f) for mode, f in facilities.items()}
        access: dict[str, Access] = {}
        if last is not None and last.conflict == conflict:
            for mode in ("nominal", "actual"):
                if last.places[mode] == places[mode]:
                    access[mode] = replace(last.access[mode], params=params[mode], population=population)
                else:
                    access[mode] = replace(updated_access(engine, last.access[mode], facilities[mode]), params=params[mode],
                                           population=population)
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
        key = ("nominal", places["nominal"])
        if key not in self._sites:  # sites depend on the facilities and the fixed layers, not on the date's friction
            self._sites[key] = engine.place_sites(grid, facilities["nominal"], nominal)
        sited, sites = self._sites[key]
        friction = engine.friction(grid, nominal)
        result = travel_time(engine.surface(grid, nominal), grid.cell_size, sites, neighbours=nominal.neighbours)
        minutes, label = engine.onto_banks(grid, nominal, result.minutes, result.label)
        access = {"nominal": Access(nominal, engine.dataset.version, grid, sited, sites, minutes, label, population,
                                    friction.risk)}
        access["actual"] = (replace(access["nominal"], params=params["actual"]) if places["actual"] == places["nominal"]
                            else replace(updated_access(engine, access["nominal"], facilities["actual"]),
                                         params=params["actual"]))
        return access


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


def conflict_summary(params: AccessParams, actual: Access, recent: pd.DataFrame) -> dict[str, float]:
    """Incidents and fatalities in the conflict window before the date (`recent`), and people where risk is high."""
    population, risk = actual.population, actual.risk.values()
    total = population.sum()
    return {"incidents_in_window": int(len(recent)), "fatalities_in_window": float(recent["fatalities"].fillna(0).sum()),
            "people_high_risk": float(population[risk > params.conflict.avoid_risk].sum()),
            "mean_risk": float((population * risk).sum() / total) if total else float("nan")}


def date_rows(engine: Engine, params: AccessParams, dates: Sequence[str], thresholds: tuple[float, ...], *,
              incremental: bool = True, progress: DateProgress | None = None) -> list[pd.DataFrame]:
    """Per date, in order: the coverage table (one row per region and 'All') with the date, how its access
    was obtained, the facility counts and the conflict summary. Consecutive dates share work."""
    states, windows = FacilityStates(engine), IncidentWindows(engine)
    walker = DateWalker(engine, params, incremental=incremental, states=states, windows=windows)
    out: list[pd.DataFrame] = []
    previous = None
    regions = engine.regions(walker.grid)
    coverage_columns: list[str] = []
    for date in dates:
        dated = replace(params, as_of=date)
        recent = windows.before(dated)
        nominal, actual, how = walker.at(date, recent)
        if how == REUSED and out and actual.population is previous:  # same minutes, same people: same coverage
            table = out[-1][coverage_columns]
        else:
            table = coverage_table(nominal, actual, regions, thresholds)
            coverage_columns = list(table.columns)
        extras = {"date": date, "computed": how, **states.counts(date), **conflict_summary(dated, actual, recent)}
        out.append(_with_columns(table, extras))
        previous = actual.population
        if progress:
            progress(1)
    return out


def _with_columns(table: pd.DataFrame, values: dict[str, Any]) -> pd.DataFrame:
    """`table` with one more column per value, the value on every row (as `assign` gives, built in one go)."""
    columns = {name: table[name].to_numpy() for name in table.columns}
    columns.update({name: np.full(len(table), value) for name, value in values.items()})
    return pd.DataFrame(columns)


def assemble(engine: Engine, params: AccessParams, dates: Sequence[str], thresholds: tuple[float, ...], step: str,
             frames: Iterable[pd.DataFrame], execution: dict[str, Any]) -> "AnalysisResult":
    """The timeline result from per-date frames: `timeline` (one row per date, all regions), `regions`
    (one row per region and date) and `region_outlines` (one polygon per region), with the run manifest."""
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
    frames = date_rows(engine, params, dates, thresholds, incremental=incremental, progress=progress)
    return assemble(engine, params, dates, thresholds, step, frames, {"scheduler": "in-process", "incremental": incremental})


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
