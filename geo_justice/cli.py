"""The `geo-justice` command line: thin wrappers, one core call per command.

Exit codes: 0 success, 1 user error (a clear message, no traceback), 2 usage error.
"""
from __future__ import annotations

import functools
import gc
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .defaults import (AVOID_RISK, BANDWIDTH_KM, CONFLICT_MODE, CONFLICT_WINDOW_DAYS, DEFAULT_THRESHOLDS,
                       HALF_LIFE_DAYS, OFFROAD_KMH, PENALTY, POINT_LAYERS, RASTER_LAYERS)

if TYPE_CHECKING:
    import pandas as pd

    from .access import AccessParams, Engine
    from .analysis import AnalysisResult

# Commands import what they use inside their function: `geo-justice --help` loads no engine, web or API code.
STARTED = time.perf_counter()
#: The running command's stage profile when --profile is given (one command per process).
PROFILE: list = []
#: What `layers validate --kind` accepts (layers.validate.KINDS, spelled out to keep --help free of the loaders).
LAYER_KINDS = ("barriers", "boundaries", "courts", "crossings", "incidents", "population", "prisons", "roads", "settlements")


class UserError(click.ClickException):
    """Bad input from the user: printed without a traceback, exit code 1."""


class IsoDate(click.ParamType):
    """An option value that must be ISO 8601 (a date, or with `interval` a date/date-time or start/end); a user error otherwise."""

    name = "date"

    def __init__(self, interval: bool = False):
        self.interval = interval

    def convert(self, value, param, ctx):
        from .collections import Interval
        from .dates import iso_date

        option = param.opts[0] if param else "date"
        try:
            if self.interval:
                Interval.parse(value)
                return value
            return iso_date(value, option).isoformat()
        except ValueError as exc:
            what = "a date or a start/end interval" if self.interval else "an ISO 8601 date (YYYY-MM-DD)"
            raise UserError(f"{option}: {value!r} is not {what}: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="geo-justice")
def main() -> None:
    """Access to justice: court and prison layers, travel-time coverage, maps, tiles and routes."""


@main.result_callback()
def finished(*_: object, **__: object) -> None:
    """A command has done its work and what is left lives until exit: keep Python's last garbage collections
    off it (with geopandas, numba and scipy loaded they took about 0.3 s of every command's exit)."""
    gc.freeze()


@main.group()
def layers() -> None:
    """Check and inspect layers."""


@layers.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(LAYER_KINDS), help="What the file holds.")
@click.option("--name-field", default=None, help="Boundaries: the attribute holding each unit's name (default: detected).")
@click.option("--crs", default=None, help="CRS to assume when the file declares none (e.g. EPSG:4326).")
@click.option("--layer", default=None, help="Layer name inside a GeoPackage.")
@click.option("--class-field", default=None, help="Roads: the attribute holding the road class (default 'class'; 'highway' for an OpenStreetMap export).")
@click.option("--speed", "speeds", multiple=True, metavar="CLASS=KMH", help="Roads: the speed of a road class, over the defaults (repeatable).")
@click.option("--study-area", default=None, help="Check positions against this box: west,south,east,north in degrees.")
@click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Check positions against these polygons (a country or its units).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Check positions against this dataset's study area and country (default: the dataset holding FILE, else the embedded one).")
def validate(file: Path, kind: str, name_field: str | None, crs: str | None, layer: str | None,
             class_field: str | None, speeds: tuple[str, ...], study_area: str | None,
             boundaries: Path | None, data_dir: Path | None) -> None:
    """Check FILE as a layer of KIND; print every problem and exit 1 if there is any.

    Positions are checked against --study-area, else --boundaries, else the dataset (--data, or the one whose
    dataset.json is in FILE's folder or above it, else the embedded dataset). A polygon the loader would have to
    repair is a problem here. Courts and prisons are also checked against the dataset's official boundaries: a
    facility whose seat lies outside the region (admin level 1) or cercle (level 2) it names is reported with its
    distance (a warning, not an error).
    """
    from layers.area import find_manifest
    from layers.catalog import load_dataset
    from layers.validate import validate_layer

    if (class_field or speeds) and kind != "roads":
        raise click.UsageError("--class-field and --speed apply to --kind roads only")
    roads = {**({"class_field": class_field} if class_field else {}), **({"speeds_kmh": parse_speeds(speeds)} if speeds else {})}
    area = run_checked(lambda: checking_area(file, study_area, boundaries, data_dir))
    click.echo(f"checking against {area.label}: {area.bbox}")
    reference = run_checked(lambda: load_dataset(data_dir or complete_manifest(find_manifest(file)))) if kind in ("courts", "prisons") else None
    tiers = tuple(reference.tiers) if kind == "courts" else None
    summary, frame = run_checked(lambda: validate_layer(file, kind, area, name_field=name_field, crs=crs, layer=layer,
                                                        roads=roads, tiers=tiers))
    click.echo(summary)
    if reference is not None:
        check_places(frame, reference)


def checking_area(file: Path, study_area: str | None, boundaries: Path | None, data_dir: Path | None):
    """The StudyArea `layers validate` checks positions against (see its help)."""
    from layers.area import boundaries_area, dataset_area, find_manifest, parse_bbox
    from layers.catalog import MANIFEST, embedded_data_dir

    if study_area:
        return parse_bbox(study_area)
    if boundaries:
        return boundaries_area(boundaries)
    folder = Path(data_dir) if data_dir else None
    manifest = (folder if folder.is_file() else folder / MANIFEST) if folder else find_manifest(file) or embedded_data_dir() / MANIFEST
    return dataset_area(manifest)


def complete_manifest(manifest: Path | None) -> Path | None:
    """`manifest` when it names a whole dataset (courts and prisons), else None (the embedded dataset)."""
    if manifest is None:
        return None
    layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", {})
    return manifest if {"courts", "prisons"} <= set(layers) else None


def parse_speeds(items: tuple[str, ...]) -> dict[str, float]:
    """CLASS=KMH pairs from the command line."""
    speeds = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            speeds[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not CLASS=KMH (e.g. primary=60)", param_hint="--speed") from None
    return speeds


def check_places(frame, dataset) -> None:
    """Print each facility whose seat lies outside the region or cercle it names, with the distance."""
    from layers.region_check import describe, region_mismatches

    for level, field_name in ((1, "region"), (2, "cercle")):
        if level not in dataset.admin or field_name not in frame or not (frame[field_name] != "").any():
            continue
        mismatches = region_mismatches(frame, dataset.admin[level], field_name)
        click.echo(f"{field_name} (against admin level {level}): "
                   + ("every seat lies in the unit it names" if mismatches.empty else f"{len(mismatches)} mismatch(es)"))
        for _, row in mismatches.iterrows():
            click.echo(f"  warning: {describe(row)}")


@layers.command("list")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: embedded).")
@click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="As given to the service: official boundaries replacing the dataset's.")
@click.option("--name-field", default="shapeName", show_default=True)
@click.option("--admin-level", type=int, default=None, help="As given to the service: the dataset's boundaries of this level.")
@click.option("--store", default=None,
              help="The service's store, a SQLite file or a postgresql:// URL (default: $GEO_JUSTICE_STORE or "
                   ".geo-justice/store.sqlite when it exists).")
def list_layers(data_dir: Path | None, boundaries: Path | None, name_field: str, admin_level: int | None,
                store: str | None) -> None:
    """Load a whole dataset and summarise its layers and versions.

    The version printed is the one the service, its tiles and every run manifest cite for the same data,
    boundaries and store."""
    from layers.catalog import load_dataset

    dataset = run_checked(lambda: with_store(with_boundaries(load_dataset(data_dir), boundaries, name_field, admin_level), store))
    click.echo(f"{dataset.name} (version {dataset.version})")
    sizes = {"status_history": f"{len(dataset.events)} events", "population": "raster", "boundaries": "in use",
             "population_figures": f"{len(dataset.population_figures) if dataset.population_figures is not None else 0} rows",
             "store": "writes"}
    for name, version in sorted(dataset.versions.items()):
        frame = dataset.basemap.get(name.partition(".")[2]) if name.startswith("basemap.") else (
            dataset.admin.get(int(name[5:])) if name.startswith("admin") else getattr(dataset, name, None))
        size = sizes.get(name) or f"{len(frame)} rows"
        click.echo(f"  {name:<18} {size:<12} {version}")
    for note in dataset.notes:
        click.echo(f"note: {note}")


def with_boundaries(dataset, boundaries: Path | None, name_field: str, admin_level: int | None):
    """The dataset with the per-region boundaries asked for: a file (--boundaries) or an admin level of its own."""
    if boundaries:
        return dataset.with_boundaries(boundaries, name_field)
    if admin_level is not None:
        return dataset.with_admin_level(admin_level)
    return dataset


def access_options(command):
    """The engine's parameters as options shared by every analysis command; builds `params` and `engine`."""
    options = [
        click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder with dataset.json (default: embedded)."),
        click.option("--admin-level", type=int, default=None, help="Per-region tables by the dataset's official boundaries of this level: 1 regions (default), 2 cercles."),
        click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="Other boundaries for per-region tables (any polygon file); overrides --admin-level."),
        click.option("--name-field", default=None, help="Attribute naming each boundary unit (default: detected, e.g. shapeName, ADM1_FR, NAME_1)."),
        click.option("--as-of", type=IsoDate(), default=None, help="Date for statuses, the conflict window and the people's year (YYYY-MM-DD; default: the dataset's as_of)."),
        click.option("--mode", type=click.Choice(["actual", "nominal"]), default="actual", show_default=True, help="actual: working courts at their sitting place; nominal: all courts at their seat."),
        click.option("--kind", type=click.Choice(["court", "prison"]), default="court", show_default=True),
        click.option("--tiers", default=None, help="Only these tiers, comma-separated (e.g. appeal,tgi)."),
        click.option("--resolution", type=float, default=1000.0, show_default=True, help="Cell size in metres."),
        click.option("--neighbours", type=click.Choice(["8", "16"]), default="16", show_default=True),
        click.option("--offroad-kmh", type=float, default=OFFROAD_KMH, show_default=True),
        click.option("--conflict", type=click.Choice(["off", "penalty", "avoid"]), default=CONFLICT_MODE, show_default=True),
        click.option("--conflict-window", type=int, default=CONFLICT_WINDOW_DAYS, show_default=True, help="Days of incidents before --as-of."),
        click.option("--half-life", type=float, default=HALF_LIFE_DAYS, show_default=True, help="Days for an incident's weight to halve."),
        click.option("--bandwidth", type=float, default=BANDWIDTH_KM, show_default=True, help="Kernel bandwidth, km."),
        click.option("--penalty", type=float, default=PENALTY, show_default=True, help="At most 1+penalty times slower in risky cells."),
        click.option("--avoid-risk", type=float, default=AVOID_RISK, show_default=True, help="Avoid mode: impassable above this risk."),
        click.option("--profile", is_flag=True, help="Print each stage's time and memory to stderr at the end."),
    ]

    @functools.wraps(command)
    def wrapper(data_dir, admin_level, boundaries, name_field, as_of, mode, kind, tiers, resolution, neighbours, offroad_kmh,
                conflict, conflict_window, half_life, bandwidth, penalty, avoid_risk, profile, **rest):
        if profile:
            from .profiling import StageProfile

            PROFILE.append(StageProfile(_start=STARTED))
            PROFILE[0]("start-up (imports)")
            PROFILE[0]("loading the dataset")

        def build():
            from layers.catalog import load_dataset

            from .access import Engine, access_params

            dataset = with_boundaries(load_dataset(data_dir), boundaries, name_field, admin_level)
            params = access_params(kind=kind, mode=mode, as_of=as_of or dataset.default_as_of, tiers=tiers, resolution_m=resolution,
                                   neighbours=int(neighbours), offroad_kmh=offroad_kmh, conflict=conflict,
                                   conflict_window=conflict_window, half_life=half_life, bandwidth=bandwidth,
                                   penalty=penalty, avoid_risk=avoid_risk)
            return Engine(dataset), params
        engine, params = run_checked(build)
        if not profile:
            return command(engine=engine, params=params, **rest)
        try:
            return command(engine=engine, params=params, **rest)
        finally:
            PROFILE[0].finish()
            click.echo(PROFILE.pop().table(), err=True)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def run_checked(action):
    """Run `action`, turning bad input (LayerError, ValueError) into a clean user error."""
    from layers.errors import LayerError

    try:
        return action()
    except (LayerError, ValueError) as exc:
        raise UserError(str(exc)) from None


def with_progress(action):
    """Run `action(progress)` with a bar over the engine's stages."""
    from tqdm import tqdm

    with tqdm(desc="computing", unit=" step", leave=False, file=sys.stderr, disable=None) as bar:
        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update()
            if PROFILE:
                PROFILE[0](stage)
        result = run_checked(lambda: action(progress))
    if PROFILE:
        PROFILE[0]("output")
    return result


def export(result: AnalysisResult, output: Path | None, raster: Callable[[], tuple] | None = None,
           nodata: float = -1.0) -> None:
    """Write the result to `output` (by suffix) with its manifest beside it; `raster` makes (grid, values,
    description) for a .tif, only when one is asked for."""
    if output is None:
        return
    from .export import write_raster, write_tables

    if output.suffix.lower() in (".tif", ".tiff"):
        if raster is None:
            raise UserError(f"{output.name}: this command has no raster output; use .gpkg, .geojson or .csv")
        grid, values, description = raster()
        run_checked(lambda: write_raster(output, grid, values, result.manifest, nodata=nodata, description=description))
    else:
        run_checked(lambda: write_tables(output, result.layers, result.manifest))
    click.echo(f"wrote {output} (manifest: {output.name}.manifest.json)")


def echo_people(result: AnalysisResult) -> None:
    """The year and source of the people every head count counts, and any warning about them."""
    people = result.manifest.get("population")
    if people:
        click.echo(f"Head counts: {people['label']}")
        for warning in people["warnings"]:
            click.echo(f"warning: {warning}")


def echo_table(frame: pd.DataFrame) -> None:
    """Shares as percentages, other numbers as whole counts."""
    import pandas as pd

    formatters = {c: (lambda v: f"{v:.1%}") if "share" in c else (lambda v: f"{v:,.0f}")
                  for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    click.echo(frame.to_string(index=False, formatters=formatters))


OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="Write the result: .gpkg, .geojson, .csv (or .tif where a raster fits).")
def lang_option(what: str):
    """--lang: the language (French by default) of `what`."""
    return click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help=f"Language of {what}.")


def map_option(help: str):
    """--map: a self-contained HTML map written to this path."""
    return click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help)


THRESHOLDS = click.option("--threshold", "thresholds", type=float, multiple=True, help="Minutes (repeatable; default 30, 60, 120, 240).")


@main.command()
@access_options
@THRESHOLDS
@OUTPUT
def coverage(engine: Engine, params: AccessParams, thresholds: tuple[float, ...], output: Path | None) -> None:
    """Share of population within T minutes of a counting court: nominal vs actual, overall and per region."""
    from . import analysis

    result = with_progress(lambda p: analysis.coverage(engine, params, thresholds or DEFAULT_THRESHOLDS, p,
                                                       with_isochrones=output is not None))
    table = result.summary
    columns = ["region", "population"] + [c for c in table.columns if c.startswith(("nominal_share_", "actual_share_"))]
    click.echo(f"Coverage as of {params.as_of} ({params.kind}s, conflict {params.conflict.mode}, "
               f"{params.resolution_m:g} m cells, regions from {result.manifest['parameters']['regions_from']}):")
    echo_people(result)
    echo_table(table[columns])
    click.echo("\nPeople who lost access through closure or relocation (nominal - actual), by threshold (minutes):")
    echo_table(table[["region"] + [c for c in table.columns if c.startswith("lost_")]])
    export(result, output, lambda: (engine.grid(params.resolution_m), engine.access(params).minutes,
                                    f"travel time (minutes) to the nearest {params.mode} {params.kind}"))


@main.command()
@access_options
@THRESHOLDS
@OUTPUT
def catchments(engine: Engine, params: AccessParams, thresholds: tuple[float, ...], output: Path | None) -> None:
    """One catchment per counting facility with its population and travel times."""
    from . import analysis

    result = with_progress(lambda p: analysis.catchment_areas(engine, params, thresholds or DEFAULT_THRESHOLDS, p))
    echo_people(result)
    echo_table(result.summary[["name", "tier", "region", "population", "area_km2", "median_minutes", "p90_minutes"]].head(15))
    export(result, output, lambda: (engine.grid(params.resolution_m), engine.access(params).label.astype(float),
                                    "label of the nearest counting facility"))


@main.command()
@access_options
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes beyond which people are in a gap.")
@click.option("--min-population", type=float, default=1000.0, show_default=True, help="Smallest hotspot, persons.")
@click.option("--min-density", type=float, default=20.0, show_default=True, help="Persons per km² for a cell to join a hotspot.")
@OUTPUT
def gaps(engine: Engine, params: AccessParams, threshold: float, min_population: float, min_density: float,
         output: Path | None) -> None:
    """Access-gap hotspots: connected settled areas of people beyond the threshold, ranked."""
    from . import analysis

    result = with_progress(lambda p: analysis.access_gaps(engine, params, threshold, min_population, min_density, p))
    echo_people(result)
    echo_table(result.summary[["rank", "name", "population", "unreachable", "area_km2", "mean_minutes"]].head(15))
    export(result, output)


@main.command()
@access_options
@click.option("--radius", type=float, default=50.0, show_default=True, help="km around each facility.")
@click.option("--days", type=int, default=365, show_default=True, help="Days before --as-of.")
@click.option("--chain-threshold", type=float, default=240.0, show_default=True, help="Minutes to the nearest working prison with room.")
@OUTPUT
def exposure(engine: Engine, params: AccessParams, radius: float, days: int, chain_threshold: float, output: Path | None) -> None:
    """Incidents near each counting facility; courts far from a working prison."""
    from . import analysis

    result = with_progress(lambda p: analysis.exposure(engine, params, radius, days, chain_threshold, p))
    echo_table(result.summary.sort_values("incidents", ascending=False).head(15))
    chain = result.layers["justice_chain_gap"]
    click.echo(f"\nCourts more than {chain_threshold:g} minutes from a working prison with room: {len(chain)}")
    if len(chain):
        echo_table(chain)
    export(result, output)


@main.command()
@access_options
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes within which a court can serve a person.")
@click.option("--order", type=click.Choice(["capacity", "priority", "population"]), default="capacity", show_default=True,
              help="Processing order: largest capacity first, --priority ids first, or most people within reach first.")
@click.option("--priority", default=None, help="Facility ids processed first, comma-separated (with --order priority).")
@click.option("--persons-per-case", type=float, default=200.0, show_default=True,
              help="Persons one case a year serves (assumed: 5 cases per 1,000 persons a year).")
@click.option("--cases-per-judge", type=float, default=300.0, show_default=True, help="Cases a judge handles a year (assumed).")
@click.option("--cases-per-hearing", type=float, default=5.0, show_default=True,
              help="Cases a hearing session handles (UN study: 28 mobile sessions, about 140 cases).")
@click.option("--scenario", "scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Apply a scenario (JSON) first, e.g. two more judges at a court.")
@map_option("Write a self-contained HTML map of the served catchments.")
@lang_option("the map")
@click.option("--surface", type=click.Choice(["served", "2sfca", "e2sfca"]), default="served", show_default=True,
              help="The per-cell layer a .tif output holds.")
@OUTPUT
def capacity(engine: Engine, params: AccessParams, threshold: float, order: str, priority: str | None,
             persons_per_case: float, cases_per_judge: float, cases_per_hearing: float, scenario_file: Path | None,
             map_path: Path | None, lang: str, surface: str, output: Path | None) -> None:
    """Who courts can serve within the threshold given their capacity (AccessMod's geographic coverage), per region
    and court, with the 2SFCA / E2SFCA accessibility index."""
    import numpy as np

    from .capacity import CapacityParams
    from .capacity_analysis import capacity as capacity_coverage
    from .scenarios import read_scenario

    cap = run_checked(lambda: CapacityParams(
        threshold=threshold, order=order, priority=tuple(p.strip() for p in (priority or "").split(",") if p.strip()),
        persons_per_case=persons_per_case, cases_per_judge=cases_per_judge, cases_per_hearing=cases_per_hearing))
    change = run_checked(lambda: read_scenario(scenario_file, engine.dataset)) if scenario_file else None
    result = with_progress(lambda p: capacity_coverage(engine, params, cap, scenario=change, progress=p))
    regions = result.summary
    click.echo(f"Persons served within {threshold:g} min by courts with limited capacity, as of {params.as_of} "
               f"(order: {order}; {persons_per_case:g} persons per case a year, {cases_per_judge:g} cases per judge"
               + (f"; scenario '{change.name}'" if change else "") + "):")
    echo_table(regions[["region", "population", "served", "over_capacity", "out_of_reach", "served_share",
                        "over_capacity_share", "out_of_reach_share"]])
    click.echo("\nAccessibility index (cases a year per 1,000 persons, population-weighted mean):")
    click.echo(regions[["region", "2sfca_per_1000", "e2sfca_per_1000"]].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    courts = result.layers["facilities"]
    click.echo("\nCourts that filled up, with the people still in their reach at that point (a later court may serve them):")
    full = courts[courts["left_in_reach"] > 0.5].sort_values("left_in_reach", ascending=False)
    echo_table(full[["order", "name", "region", "capacity_basis", "capacity_persons", "within_reach", "served", "left_in_reach"]].head(10))
    if map_path:
        from web.capacity_maps import capacity_map
        from web.maps import page
        write_page(map_path, run_checked(lambda: page(capacity_map(engine, params, result, lang=lang), self_contained=True)))
    described = {"served": "persons served per cell", "2sfca": "2SFCA index (cases a year per 1,000 persons)",
                 "e2sfca": "E2SFCA index (cases a year per 1,000 persons)"}
    export(result, output, lambda: (*result.surfaces[surface], described[surface]), nodata=np.nan)


@main.command()
@access_options
@click.option("--threshold", type=float, default=480.0, show_default=True,
              help="Minutes from a court to a prison with room beyond which the chain is broken (8 hours).")
@click.option("--min-room", type=float, default=1.0, show_default=True, help="Free places a prison needs to count as having room.")
@click.option("--unknown-room", type=click.Choice(["count", "skip"]), default="count", show_default=True,
              help="Prisons missing capacity or detainees: count them as having room, or leave them out.")
@click.option("--detainees-per-100k", type=float, default=18.9, show_default=True,
              help="Expected detainees per 100,000 persons, for the transfer burden (default from the UN study's 628).")
@click.option("--scenario", "scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Apply a scenario (JSON) first, e.g. a prison's capacity.")
@map_option("Write a self-contained HTML map of the chain.")
@lang_option("the map")
@OUTPUT
def chain(engine: Engine, params: AccessParams, threshold: float, min_room: float, unknown_room: str,
          detainees_per_100k: float, scenario_file: Path | None, map_path: Path | None, lang: str, output: Path | None) -> None:
    """The justice chain: each court's nearest working prison with room, prison occupancy and the detainee
    transfer burden per region."""
    from .capacity_analysis import chain as justice_chain
    from .scenarios import read_scenario

    change = run_checked(lambda: read_scenario(scenario_file, engine.dataset)) if scenario_file else None
    result = with_progress(lambda p: justice_chain(engine, params, threshold=threshold, min_room=min_room,
                                                   unknown_room=unknown_room, detainees_per_100k=detainees_per_100k,
                                                   scenario=change, progress=p))
    table = result.summary
    far = table[table["far"]]
    click.echo(f"Courts more than {threshold:g} minutes ({threshold / 60:g} h) from a working prison with room, "
               f"as of {params.as_of}: {len(far)} of {len(table)}")
    hours = far.assign(hours_to_prison_with_room=far["minutes_to_prison_with_room"] / 60)
    click.echo(hours[["name", "region", "nearest_prison_with_room", "hours_to_prison_with_room", "passed_over"]]
               .to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    prisons = result.layers["prisons"]
    click.echo("\nPrisons (occupancy = detainees / capacity; a figure's source is in the export):")
    click.echo(prisons[prisons["working"]][["name", "region", "capacity", "detainees", "room", "occupancy", "overcrowded",
                                            "has_room"]].to_string(index=False, na_rep="unknown", float_format=lambda v: f"{v:,.0f}",
                                                                           formatters={"occupancy": lambda v: f"{v:.0%}"}))
    click.echo(f"\nDetainee transfer burden per region ({detainees_per_100k:g} expected detainees per 100,000 persons x "
               "minutes from their court to its prison with room):")
    echo_table(result.layers["regions"])
    if map_path:
        from web.capacity_maps import chain_map
        from web.maps import page
        write_page(map_path, run_checked(lambda: page(chain_map(engine, params, result, lang=lang), self_contained=True)))
    export(result, output)


@main.group()
def scenario() -> None:
    """What-if scenarios: changes applied on top of the data, never written into it."""


@scenario.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@access_options
@THRESHOLDS
@OUTPUT
def scenario_run(file: Path, engine: Engine, params: AccessParams, thresholds: tuple[float, ...], output: Path | None) -> None:
    """Evaluate the scenario in FILE (JSON) against the data: people gaining and losing access, per region and court."""
    import numpy as np

    from . import analysis
    from .scenarios import read_scenario

    change = run_checked(lambda: read_scenario(file, engine.dataset))
    result = with_progress(lambda p: analysis.scenario(engine, change, params, thresholds or DEFAULT_THRESHOLDS, p))
    table = result.summary
    click.echo(f"Scenario '{change.name}' ({len(change.changes)} changes) against the data as of {params.as_of}:")
    echo_people(result)
    echo_table(table[["region", "population"] + [c for c in table.columns if c.startswith(("gained_", "lost_"))]])
    if change.mobile:
        click.echo("\nTime-averaged persons within each threshold (mobile hearings weighted by how often they sit):")
        echo_table(table[["region"] + [c for c in table.columns if c.startswith("time_averaged_")]])
    facilities = result.layers["facilities"]
    click.echo("\nCourts whose catchment changes most:")
    echo_table(facilities[facilities["change"] != 0].head(10))
    export(result, output, lambda: (*analysis.minutes_saved(engine, change, params),
                                    "minutes saved by the scenario (negative: lost)"), nodata=np.nan)


@scenario.command("compare")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@access_options
@THRESHOLDS
@OUTPUT
def scenario_compare(files: tuple[Path, ...], engine: Engine, params: AccessParams, thresholds: tuple[float, ...],
                     output: Path | None) -> None:
    """Several scenarios side by side: people gaining and losing access, per scenario and region."""
    from . import analysis
    from .scenarios import read_scenario

    changes = [run_checked(lambda f=f: read_scenario(f, engine.dataset)) for f in files]
    result = with_progress(lambda p: analysis.compare(engine, changes, params, thresholds or DEFAULT_THRESHOLDS, p))
    table = result.summary
    click.echo(f"Net change in persons within each threshold, as of {params.as_of}:")
    echo_people(result)
    echo_table(table[["scenario", "region"] + [c for c in table.columns if c.startswith("net_")]])
    export(result, output)


@main.command()
@access_options
@click.option("--k", type=int, required=True, help="New sites to choose.")
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes within which people count as served.")
@click.option("--candidates", default=None, help="Candidate places, comma-separated (default: every town of the settlements layer).")
@click.option("--grid-km", type=float, default=None, help="Candidates on a lattice every this many km instead of towns.")
@click.option("--fixed", default=None, help="Places chosen whatever happens, comma-separated.")
@click.option("--max-risk", type=float, default=None, help="Leave out candidates whose risk is above this.")
@click.option("--weighting", type=click.Choice(["population", "gap"]), default="population", show_default=True,
              help="gap: only settled cells (--min-density) count, as in gap hotspots.")
@click.option("--min-density", type=float, default=20.0, show_default=True)
@click.option("--region-weight", "region_weights", multiple=True, metavar="REGION=W",
              help="Multiply a region's people by W (repeatable), e.g. Tombouctou=2.")
@click.option("--exact", is_flag=True, help="Also solve exactly (integer program) and report the greedy's gap.")
@click.option("--capacity", "site_judges", type=float, default=None, metavar="JUDGES",
              help="Sites and courts have capacities: each new site has JUDGES judges and serves the nearest people "
                   "today's courts leave unserved, up to its capacity.")
@click.option("--persons-per-case", type=float, default=200.0, show_default=True, help="With --capacity: persons one case a year serves.")
@click.option("--cases-per-judge", type=float, default=300.0, show_default=True, help="With --capacity: cases a judge handles a year.")
@OUTPUT
def site(engine: Engine, params: AccessParams, k: int, threshold: float, candidates: str | None, grid_km: float | None,
         fixed: str | None, max_risk: float | None, weighting: str, min_density: float, region_weights: tuple[str, ...],
         exact: bool, site_judges: float | None, persons_per_case: float, cases_per_judge: float, output: Path | None) -> None:
    """Choose K sites (new courts or mobile hearing points) that bring the most people within the threshold."""
    import pandas as pd

    from . import analysis

    def names(text: str | None) -> list[str] | None:
        return [n.strip() for n in text.split(",") if n.strip()] if text else None

    def weight(text: str) -> tuple[str, float]:
        region, _, value = text.rpartition("=")
        try:
            return region.strip(), float(value)
        except ValueError:
            raise UserError(f"--region-weight {text!r}: expected REGION=NUMBER") from None
    weights = dict(weight(w) for w in region_weights) or None
    capacity = None
    if site_judges is not None:
        from .capacity import CapacityParams
        capacity = run_checked(lambda: CapacityParams(threshold=threshold, persons_per_case=persons_per_case,
                                                      cases_per_judge=cases_per_judge))
    result = with_progress(lambda p: analysis.siting(
        engine, params, k, threshold, candidates=names(candidates), grid_km=grid_km, fixed=names(fixed) or (),
        max_risk=max_risk, weighting=weighting, region_weights=weights, min_density=min_density, solve_exactly=exact,
        progress=p, site_judges=site_judges, capacity=capacity))
    echo_table(result.layers["sites"].drop(columns="geometry"))
    echo_people(result)
    row = result.summary.iloc[0]
    if site_judges is not None:
        click.echo(f"\n{row['covered_weight']:,.0f} of the {row['unserved_weight']:,.0f} people today's courts leave unserved "
                   f"(over capacity or beyond {threshold:g} min) served by {k} new sites of {site_judges:g} judges "
                   f"({row['site_capacity_persons']:,.0f} persons each); no optimality guarantee with capacities")
        export(result, output)
        return
    click.echo(f"\n{row['covered_weight']:,.0f} of {row['uncovered_weight']:,.0f} people beyond {threshold:g} min brought within it; "
               f"the greedy choice is proven to reach at least {row['proven_ratio']:.1%} of the optimum")
    if row["exact_optimum"] is not None and pd.notna(row["exact_optimum"]):
        click.echo(f"exact optimum {row['exact_optimum']:,.0f} (gap {row['gap_to_optimum']:.2%})")
    export(result, output)


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: embedded).")
@click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--name-field", default=None, help="Attribute naming each boundary unit (default: detected).")
@click.option("--admin-level", type=int, default=None, help="Per-region tables by the dataset's boundaries of this level (default 1).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--store", default=None,
              help="Store of writes: a SQLite file or a postgresql://user@host/db URL (default: $GEO_JUSTICE_STORE or "
                   ".geo-justice/store.sqlite); created once, then reused.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Service processes sharing the port and the store (each holds the dataset and its own answer cache).")
@click.option("--prepare/--no-prepare", default=True, show_default=True,
              help="Compute the default map in the background from start-up (--no-prepare: on its first request).")
def serve(data_dir: Path | None, boundaries: Path | None, name_field: str, admin_level: int | None, host: str, port: int,
          store: str | None, workers: int, prepare: bool) -> None:
    """Start the HTTP service (OGC API - Features, analyses, writes); tokens from $GEO_JUSTICE_TOKENS (name:token,...)."""
    if workers > 1:
        from api.workers import serve_workers  # the entry point is the one place the core names the API

        click.echo(f"geo-justice on http://{host}:{port}/ (API docs at /docs) with {workers} workers"
                   + ("; each prepares the default map, 'ready' follows on stderr" if prepare else ""))
        settings = {"data": data_dir and str(data_dir), "boundaries": boundaries and str(boundaries),
                    "name_field": name_field, "admin_level": admin_level, "store": store, "prepare": prepare}
        if not serve_workers(settings, host, port, workers):
            raise UserError("the workers could not start (the reason is above)")
        return
    from api.app import create_app  # the entry point is the one place the core names the API
    from api.server import serve as run_server

    app = run_checked(lambda: create_app(data_dir, boundaries=boundaries, name_field=name_field,
                                         admin_level=admin_level, store=store, prepare=prepare))
    click.echo(f"geo-justice on http://{host}:{port}/ (API docs at /docs)"
               + ("; preparing the default map, 'ready' follows on stderr" if prepare else ""))
    run_server(app, host, port)


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: embedded).")
@click.option("--depot", "depots", multiple=True, required=True, help="Town the teams leave from and return to (repeatable).")
@click.option("--stops", required=True, help="Towns, comma-separated; Town:days:priority sets hearing days and priority.")
@click.option("--teams", type=int, default=1, show_default=True, help="Teams based at each depot.")
@click.option("--days", "max_days", type=int, default=10, show_default=True, help="Most days per circuit.")
@click.option("--start", type=IsoDate(), required=True, help="First day of the circuits (YYYY-MM-DD); also the conflict layer's date.")
@click.option("--drive-hours", type=float, default=8.0, show_default=True, help="Most driving hours per day (driving by day only).")
@click.option("--hearing-days", type=int, default=1, show_default=True, help="Hearing days per stop unless the stop says.")
@click.option("--risk", type=click.Choice(["avoid", "penalise", "ignore"]), default="penalise", show_default=True)
@click.option("--risk-level", type=float, default=AVOID_RISK, show_default=True, help="avoid: impassable above this risk.")
@click.option("--penalty", type=float, default=PENALTY, show_default=True, help="At most 1+penalty times slower in risky cells.")
@click.option("--resolution", type=float, default=1000.0, show_default=True, help="Cell size in metres.")
@click.option("--seconds", type=float, default=None, help="Solver time limit (default: by the number of stops).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="GeoJSON of the plan.")
@click.option("--gpx", type=click.Path(dir_okay=False, path_type=Path), default=None, help="GPX 1.1 of the plan.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="CSV itinerary.")
@map_option("HTML map (Folium).")
def route(data_dir: Path | None, depots: tuple[str, ...], stops: str, teams: int, max_days: int, start: str,
          drive_hours: float, hearing_days: int, risk: str, risk_level: float, penalty: float, resolution: float,
          seconds: float | None, output: Path | None, gpx: Path | None, csv_path: Path | None, map_path: Path | None) -> None:
    """Plan mobile-hearing circuits from depots through towns, by day, away from recent incidents."""
    from layers.catalog import load_dataset

    from .access import Engine
    from .export import atomic_write
    from .route_files import plan_csv, plan_geojson, plan_gpx, plan_text
    from .routes import parse_stops, plan_routes, route_request
    loaded = []

    def plan():
        dataset = load_dataset(data_dir)
        loaded.append(dataset)
        request = route_request(dataset, list(depots), parse_stops(stops), hearing_days=hearing_days, risk=risk,
                                risk_level=risk_level, penalty=penalty, start=start, teams=teams, max_days=max_days,
                                max_drive_hours=drive_hours, resolution_m=resolution, solver_seconds=seconds)
        return plan_routes(Engine(dataset), request)

    result = run_checked(plan)
    click.echo(plan_text(result))
    writers = {output: lambda: json.dumps(plan_geojson(result), ensure_ascii=False), gpx: lambda: plan_gpx(result),
               csv_path: lambda: plan_csv(result)}
    if map_path:
        from web.maps import page
        from web.route_map import route_map
        writers[map_path] = lambda: page(route_map(result, loaded[0]), self_contained=True)
    for path, text in writers.items():
        if path is not None:
            atomic_write(path, lambda target, text=text: target.write_text(text(), encoding="utf-8"))
            click.echo(f"wrote {path}")


@main.group("map")
def map_group() -> None:
    """Maps as self-contained HTML files (Leaflet inlined: they open with no network)."""


@map_group.command("coverage")
@access_options
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes: the coverage layer and gap hotspots.")
@lang_option("labels and legends")
@click.option("--incidents", "window", type=IsoDate(interval=True), default=None,
              help="Incidents shown: a date or start/end interval (default: the conflict window before --as-of).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .html file to write.")
def map_coverage(engine: Engine, params: AccessParams, threshold: float, lang: str, window: str | None, output: Path) -> None:
    """Travel time, coverage, courts by status, relocations, prisons, incidents, catchments and gaps on one map."""
    from web.maps import coverage_map, page  # like `serve`, the command line is where the core names the web layer

    from .collections import Interval

    def build() -> str:
        interval = Interval.parse(window) if window else None
        return page(coverage_map(engine, params, threshold=threshold, lang=lang, window=interval), self_contained=True)
    write_page(output, run_checked(build))


@map_group.command("scenario")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@access_options
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes: who gains or loses access within it.")
@lang_option("labels and legends")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .html file to write.")
def map_scenario(file: Path, engine: Engine, params: AccessParams, threshold: float, lang: str, output: Path) -> None:
    """Where the scenario in FILE changes access, and its courts with their catchment change."""
    from web.maps import page, scenario_map

    from .scenarios import read_scenario

    def build() -> str:
        change = read_scenario(file, engine.dataset)
        return page(scenario_map(engine, params, change, threshold=threshold, lang=lang), self_contained=True)
    write_page(output, run_checked(build))


@map_group.command("timeline")
@access_options
@click.option("--from", "start", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last date (YYYY-MM-DD).")
@click.option("--step", default="month", show_default=True, help="day, week, month, quarter or year.")
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes: regions coloured by coverage within it.")
@lang_option("labels and legends")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .html file to write.")
def map_timeline(engine: Engine, params: AccessParams, start: str, end: str, step: str, threshold: float, lang: str,
                 output: Path) -> None:
    """Coverage per region and courts by status, date by date, with a time slider."""
    from web.timeline import map_page

    from .timeline import timeline as run

    def build() -> str:
        result = run(engine, params, start, end, step, (threshold,))
        return map_page(engine, result, lang=lang, threshold=threshold)
    write_page(output, run_checked(build))


def write_page(output: Path, text: str) -> None:
    from .export import atomic_write

    atomic_write(output, lambda target: target.write_text(text, encoding="utf-8"))
    click.echo(f"wrote {output} ({len(text) / 1e6:.1f} MB, self-contained)")


@main.group()
def tiles() -> None:
    """XYZ tiles to host without the service."""


def zoom_range(text: str) -> list[int]:
    """'4-10' or '7' as a list of zooms; UserError naming --zoom when bad."""
    low, _, high = text.partition("-")
    try:
        zooms = list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise UserError(f"--zoom must be a zoom or a range like 4-10, not {text!r}") from None
    if not zooms or zooms[0] < 0 or zooms[-1] > 18:
        raise UserError(f"--zoom must be within 0-18, low to high, not {text!r}")
    return zooms


@tiles.command("export")
@access_options
@click.option("--layer", "layer_names", multiple=True, type=click.Choice(RASTER_LAYERS + POINT_LAYERS),
              help="A layer to export (repeatable; default: every layer for a folder; one for a file).")
@click.option("--zoom", default="4-10", show_default=True, help="Zoom or range of zooms, e.g. 4-10.")
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes (coverage layer).")
@click.option("--pmtiles", is_flag=True, help="Folder: also write each layer as {version}/{layer}.pmtiles.")
@click.option("--store", default=None,
              help="The service's store, whose writes the tiles show (default: $GEO_JUSTICE_STORE or "
                   ".geo-justice/store.sqlite when it exists).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="A folder: the root of a versioned pyramid ({version}/{layer}/{z}/{x}/{y}.png, manifest, "
                   "latest.json); or one layer's .mbtiles or .pmtiles file.")
def tiles_export(engine: Engine, params: AccessParams, layer_names: tuple[str, ...], zoom: str, threshold: float,
                 pmtiles: bool, store: str | None, output: Path) -> None:
    """Render tiles over the country, as the service serves them to anyone: a pyramid per data version that a
    static host or CDN can serve (empty tiles skipped), or one layer's MBTiles or PMTiles file.

    Written aside and moved into place at the end: nothing half-written on an error or Ctrl-C. A version folder
    that exists already is left as it is (run it after every write: only a new data version is rendered)."""
    from tqdm import tqdm

    from .access import Engine
    from .licence_floors import public_dataset
    from .tiles import LAYERS, TileStyle, export_tiles, tile_range

    zooms = zoom_range(zoom)
    archive = output.suffix.lower() in (".mbtiles", ".pmtiles")
    if archive and len(layer_names) != 1:
        raise click.UsageError(f"{output.name}: an archive file holds one layer: give exactly one --layer")
    if archive and pmtiles:
        raise click.UsageError("--pmtiles adds archives to a pyramid folder; for one file, use -o FILE.pmtiles")
    engine = Engine(run_checked(lambda: public_dataset(with_store(engine.dataset, store))))  # public, as served
    signal.signal(signal.SIGTERM, interrupt)  # a service manager's stop cleans up as Ctrl-C does
    styles = run_checked(lambda: [TileStyle(layer, params, threshold) for layer in layer_names or LAYERS])
    total = sum(len(run_checked(lambda: tile_range(engine, style, zooms))) for style in styles)
    with tqdm(total=total, desc="tiles", unit=" tiles", file=sys.stderr, disable=None) as bar:
        if archive:
            from .pyramid import export_pmtiles

            write = export_pmtiles if output.suffix.lower() == ".pmtiles" else export_tiles
            count = run_checked(lambda: write(engine, styles[0], zooms, output, bar.update))
            click.echo(f"wrote {count} tiles of {total} ({styles[0].layer}, zoom {zooms[0]}-{zooms[-1]}, "
                       f"{styles[0].version(engine.dataset.version)}) to {output}")
            return
        from .pyramid import export_pyramid

        result = run_checked(lambda: export_pyramid(engine, styles, zooms, output, pmtiles=pmtiles, progress=bar.update))
    if result.written:
        click.echo(f"wrote {result.manifest['tile_count']} tiles of {total} ({', '.join(s.layer for s in styles)}, "
                   f"zoom {zooms[0]}-{zooms[-1]}) to {result.folder}")
    else:
        click.echo(f"{result.folder} is already written (version {result.version}); nothing to do")
    click.echo(f"{output / 'latest.json'} points at {result.version}")


def interrupt(signum: int, frame) -> None:
    """SIGTERM handler: raise KeyboardInterrupt, so that what is being written aside is removed."""
    raise KeyboardInterrupt(f"signal {signum}")


def with_store(dataset, store: str | None):
    """The dataset with the writes of the service's store (a SQLite file or a PostgreSQL URL), as `serve` would see
    them; the dataset alone when no store was named and the default file is absent."""
    import os

    from layers.store import POSTGRES_SCHEMES, open_store

    where = store or os.environ.get("GEO_JUSTICE_STORE") or Path(".geo-justice") / "store.sqlite"
    if not (str(where).startswith(POSTGRES_SCHEMES) or Path(where).is_file()):
        if store:
            raise ValueError(f"--store {store}: no store there (the service creates it on first start)")
        return dataset
    opened = open_store(where, dataset)
    try:
        return opened.apply(dataset)
    finally:
        opened.close()


def scheduling(command):
    """--workers N (a local Dask cluster) or --scheduler ADDRESS (an existing one); neither: in this process."""
    command = click.option("--scheduler", default=None, metavar="ADDRESS",
                           help="Run the tasks on this Dask scheduler, e.g. tcp://host:8786 (workers must read the same paths).")(command)
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help="Run the tasks on a local Dask cluster of this many worker processes.")(command)


def dataset_spec(ctx: click.Context):
    """The dataset of the command's --data/--boundaries/--name-field/--admin-level (paths made absolute, so a Dask
    worker can read them): a worker builds the same dataset as this process (`with_boundaries`)."""
    from .sweep import DatasetSpec

    data, boundaries = ctx.params.get("data_dir"), ctx.params.get("boundaries")
    return DatasetSpec(str(Path(data).resolve()) if data else None, str(Path(boundaries).resolve()) if boundaries else None,
                       ctx.params.get("name_field"), ctx.params.get("admin_level"))


def run_sweep(action, total: int, unit: str):
    """Run `action(progress)` with a bar over `total` units; a failed task is a user error naming it."""
    from tqdm import tqdm

    from .sweep import SweepError

    with tqdm(total=total, desc="sweep", unit=f" {unit}", file=sys.stderr, disable=None) as bar:
        try:
            return run_checked(lambda: action(bar.update))
        except SweepError as exc:
            raise UserError(str(exc)) from None


TIMELINE_SUFFIXES = (".csv", ".gpkg", ".geojson", ".html", ".png", ".svg")


@main.command()
@access_options
@click.option("--from", "start", required=True, help="First date (YYYY-MM-DD), on or after the first status event.")
@click.option("--to", "end", required=True, help="Last date (YYYY-MM-DD).")
@click.option("--step", default="month", show_default=True, help="day, week, month, quarter or year.")
@THRESHOLDS
@click.option("--force", is_flag=True, help="Allow more than 1,000 dates.")
@click.option("--region", "regions", multiple=True, help="Chart this region too (repeatable).")
@lang_option("charts")
@scheduling
@click.option("-o", "--output", "outputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the timeline (repeatable): .csv, .gpkg, .geojson, .html (interactive chart), .png or .svg (chart).")
def timeline(engine: Engine, params: AccessParams, start: str, end: str, step: str, thresholds: tuple[float, ...],
             force: bool, regions: tuple[str, ...], lang: str, workers: int | None, scheduler: str | None,
             outputs: tuple[Path, ...]) -> None:
    """Coverage, facilities by status and conflict, date by date (both modes; --as-of and --mode are not used)."""
    from .sweep import timeline_sweep
    from .timeline import timeline_dates

    for path in outputs:
        if path.suffix.lower() not in TIMELINE_SUFFIXES:
            raise UserError(f"{path.name}: use one of {', '.join(TIMELINE_SUFFIXES)}")
    dates = run_checked(lambda: timeline_dates(engine.dataset.events, start, end, step, force=force))
    if regions:  # before any work: a misspelt region must not cost a timeline
        known = run_checked(lambda: engine.regions(engine.grid(params.resolution_m)).names)
        unknown = sorted(set(regions) - set(known))
        if unknown:
            raise UserError(f"--region {unknown[0]!r}: not a region; regions are {', '.join(known)}")
    spec = dataset_spec(click.get_current_context())
    result = run_sweep(lambda p: timeline_sweep(spec, params, start, end, step, thresholds or DEFAULT_THRESHOLDS,
                                                force=force, engines={spec: engine}, scheduler=scheduler,
                                                workers=workers, progress=p), len(dates), "dates")
    table = result.summary
    shares = [c for c in table.columns if c.startswith(("nominal_share_", "actual_share_"))]
    click.echo(f"Timeline {dates[0]} to {dates[-1]} ({len(dates)} dates, {params.kind}s, conflict {params.conflict.mode}, "
               f"{params.resolution_m:g} m cells):")
    echo_table(table[["date", "courts_operational", "courts_partial", "courts_closed", "courts_relocated"] + shares
                     + ["incidents_in_window"]])
    click.echo("dates: " + ", ".join(f"{n} {how}" for how, n in table["computed"].value_counts().items()))
    for path in outputs:
        suffix = path.suffix.lower()
        if suffix in (".csv", ".gpkg"):
            export(result, path)
            continue
        from web.timeline import chart_image, chart_page  # the command line is where the core names the web layer

        from .export import atomic_write, manifest_path
        from .manifest import manifest_json
        from .timeline import regions_geojson
        writers = {".geojson": lambda: json.dumps(regions_geojson(result), ensure_ascii=False, allow_nan=False, default=str),
                   ".html": lambda: chart_page(result, lang=lang, regions=regions),
                   ".png": lambda: chart_image(result, "png", lang=lang, regions=regions),
                   ".svg": lambda: chart_image(result, "svg", lang=lang, regions=regions)}
        content = run_checked(writers[suffix])
        data = content if isinstance(content, bytes) else content.encode()
        atomic_write(path, lambda target: target.write_bytes(data))
        atomic_write(manifest_path(path), lambda target: target.write_text(manifest_json(result.manifest), encoding="utf-8"))
        click.echo(f"wrote {path} (manifest: {path.name}.manifest.json)")


@main.command()
@access_options
@click.option("--dataset", "datasets", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Another dataset folder to sweep (repeatable; --data is the first).")
@click.option("--scenario", "scenarios", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A scenario file (repeatable): each gives its coverage delta instead of plain coverage.")
@click.option("--date", "dates", multiple=True, help="A date (repeatable; default: --as-of).")
@click.option("--from", "start", default=None, help="With --to and --step: every date of a range.")
@click.option("--to", "end", default=None)
@click.option("--step", default="year", show_default=True, help="day, week, month, quarter or year.")
@THRESHOLDS
@click.option("--force", is_flag=True, help="Allow more than 1,000 dates.")
@scheduling
@OUTPUT
def sweep(engine: Engine, params: AccessParams, datasets: tuple[Path, ...], scenarios: tuple[Path, ...],
          dates: tuple[str, ...], start: str | None, end: str | None, step: str, thresholds: tuple[float, ...], force: bool,
          workers: int | None, scheduler: str | None, output: Path | None) -> None:
    """Coverage (or scenario deltas) for every dataset x scenario file x date, in one table, on Dask if asked."""
    from dataclasses import replace as with_

    from .manifest import run_manifest
    from .sweep import sweep as run
    from .timeline import timeline_dates

    if (start is None) != (end is None):
        raise click.UsageError("--from and --to go together")
    asked = list(dates) + (run_checked(lambda: timeline_dates(engine.dataset.events, start, end, step, force=force))
                           if start else [])
    asked = [run_checked(lambda d=d: with_(params, as_of=d).as_of) for d in asked] or [params.as_of]
    first = dataset_spec(click.get_current_context())
    specs = [first] + [with_(first, data=str(d.resolve())) for d in datasets]
    paths = [str(p.resolve()) for p in scenarios]
    total = len(specs) * max(1, len(paths)) * len(asked)
    table = run_sweep(lambda p: run(specs, params, asked, paths, thresholds or DEFAULT_THRESHOLDS, engines={first: engine},
                                    scheduler=scheduler, workers=workers, progress=p), total, "tasks")
    shown = [c for c in table.columns if c.startswith(("actual_share_", "net_"))]
    echo_table(table[table["region"] == "All"][["dataset", "scenario", "as_of"] + shown])
    if output is not None:
        manifest = run_manifest(engine.dataset, "sweep", {
            "access": params, "datasets": [s.label for s in specs], "scenarios": [Path(p).name for p in paths],
            "dates": asked, "scheduler": scheduler or (f"LocalCluster of {workers} workers" if workers else "in-process")})
        from .export import write_tables

        run_checked(lambda: write_tables(output, {"sweep": table}, manifest))
        click.echo(f"wrote {output} (manifest: {output.name}.manifest.json)")


if __name__ == "__main__":
    sys.exit(main())
