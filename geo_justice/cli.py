"""The `geo-justice` command line: thin wrappers, one core call per command.

Exit codes: 0 success, 1 user error (a clear message, no traceback), 2 usage error.
"""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
import pandas as pd
from tqdm import tqdm

from layers import LayerError, read_barriers, read_boundaries, read_crossings, read_facilities, read_incidents, read_roads, read_settlements
from layers.catalog import load_dataset
from layers.population import read_population_raster

from . import analysis
from .access import DEFAULT_AS_OF, DEFAULT_THRESHOLDS, AccessParams, Engine, access_params
from .analysis import AnalysisResult
from .conflict import ConflictParams
from .export import atomic_write, write_raster, write_tables
from .friction import FrictionParams
from .route_files import plan_csv, plan_geojson, plan_gpx, plan_text
from .routes import parse_stops, plan_routes, route_request
from .scenarios import read_scenario
from .tiles import LAYERS, TileStyle, export_tiles, tile_range

LAYER_READERS = {
    "courts": lambda path, opts: read_facilities(path, "court", **opts),
    "prisons": lambda path, opts: read_facilities(path, "prison", **opts),
    "incidents": lambda path, opts: read_incidents(path, **opts),
    "boundaries": lambda path, opts: read_boundaries(path, **opts),
    "roads": lambda path, opts: read_roads(path, **opts),
    "barriers": lambda path, opts: read_barriers(path, **opts),
    "crossings": lambda path, opts: read_crossings(path, **opts),
    "settlements": lambda path, opts: read_settlements(path, **opts),
}


class UserError(click.ClickException):
    """Bad input from the user: printed without a traceback, exit code 1."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="geo-justice")
def main() -> None:
    """Access to justice: court and prison layers, travel-time coverage, maps, tiles and routes."""


@main.group()
def layers() -> None:
    """Check and inspect layers."""


@layers.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(sorted(LAYER_READERS) + ["population"]), help="What the file holds.")
@click.option("--name-field", default=None, help="Boundaries: the attribute holding each unit's name.")
@click.option("--crs", default=None, help="CRS to assume when the file declares none (e.g. EPSG:4326).")
@click.option("--layer", default=None, help="Layer name inside a GeoPackage.")
def validate(file: Path, kind: str, name_field: str | None, crs: str | None, layer: str | None) -> None:
    """Check FILE as a layer of KIND; print every problem and exit 1 if there is any."""
    if kind == "population":
        raster = run_checked(lambda: read_population_raster(file, crs=crs))
        click.echo(f"{file.name}: valid population raster, {raster.counts.sum():,.0f} persons")
        return
    opts: dict = {"crs": crs}
    if layer:
        opts["layer"] = layer
    if kind == "boundaries":
        if not name_field:
            raise click.UsageError("--name-field is required with --kind boundaries")
        opts["name_field"] = name_field
    frame = run_checked(lambda: LAYER_READERS[kind](file, opts))
    for note in frame.attrs.get("notes", []):
        click.echo(f"repaired: {note}")
    click.echo(f"{file.name}: valid {kind} layer, {len(frame)} rows")


@layers.command("list")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: embedded).")
def list_layers(data_dir: Path | None) -> None:
    """Load a whole dataset and summarise its layers and versions."""
    dataset = run_checked(lambda: load_dataset(data_dir))
    click.echo(f"{dataset.name} (version {dataset.version})")
    sizes = {"status_history": f"{len(dataset.events)} events", "population": "raster"}
    for name, version in sorted(dataset.versions.items()):
        size = sizes.get(name) or f"{len(getattr(dataset, name))} rows"
        click.echo(f"  {name:<15} {size:<12} {version}")


def access_options(command):
    """The engine's parameters as options shared by every analysis command; builds `params` and `engine`."""
    options = [
        click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder with dataset.json (default: embedded)."),
        click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="Official boundaries for per-region tables (any polygon file)."),
        click.option("--name-field", default="shapeName", show_default=True, help="Attribute naming each boundary unit."),
        click.option("--as-of", default=DEFAULT_AS_OF, show_default=True, help="Date for statuses and the conflict window (YYYY-MM-DD)."),
        click.option("--mode", type=click.Choice(["actual", "nominal"]), default="actual", show_default=True, help="actual: working courts at their sitting place; nominal: all courts at their seat."),
        click.option("--kind", type=click.Choice(["court", "prison"]), default="court", show_default=True),
        click.option("--tiers", default=None, help="Only these tiers, comma-separated (e.g. appeal,tgi)."),
        click.option("--resolution", type=float, default=1000.0, show_default=True, help="Cell size in metres."),
        click.option("--neighbours", type=click.Choice(["8", "16"]), default="16", show_default=True),
        click.option("--offroad-kmh", type=float, default=FrictionParams.offroad_kmh, show_default=True),
        click.option("--conflict", type=click.Choice(["off", "penalty", "avoid"]), default=ConflictParams.mode, show_default=True),
        click.option("--conflict-window", type=int, default=ConflictParams.window_days, show_default=True, help="Days of incidents before --as-of."),
        click.option("--half-life", type=float, default=ConflictParams.half_life_days, show_default=True, help="Days for an incident's weight to halve."),
        click.option("--bandwidth", type=float, default=ConflictParams.bandwidth_km, show_default=True, help="Kernel bandwidth, km."),
        click.option("--penalty", type=float, default=ConflictParams.penalty, show_default=True, help="At most 1+penalty times slower in risky cells."),
        click.option("--avoid-risk", type=float, default=ConflictParams.avoid_risk, show_default=True, help="Avoid mode: impassable above this risk."),
    ]

    @functools.wraps(command)
    def wrapper(data_dir, boundaries, name_field, as_of, mode, kind, tiers, resolution, neighbours, offroad_kmh, conflict,
                conflict_window, half_life, bandwidth, penalty, avoid_risk, **rest):
        def build():
            dataset = load_dataset(data_dir)
            if boundaries:
                dataset = dataset.with_boundaries(boundaries, name_field)
            params = access_params(kind=kind, mode=mode, as_of=as_of, tiers=tiers, resolution_m=resolution,
                                   neighbours=int(neighbours), offroad_kmh=offroad_kmh, conflict=conflict,
                                   conflict_window=conflict_window, half_life=half_life, bandwidth=bandwidth,
                                   penalty=penalty, avoid_risk=avoid_risk)
            return Engine(dataset), params
        engine, params = run_checked(build)
        return command(engine=engine, params=params, **rest)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def run_checked(action):
    """Run `action`, turning bad input (LayerError, ValueError) into a clean user error."""
    try:
        return action()
    except (LayerError, ValueError) as exc:
        raise UserError(str(exc)) from None


def with_progress(action):
    """Run `action(progress)` with a bar over the engine's stages."""
    with tqdm(desc="computing", unit=" step", leave=False, file=sys.stderr, disable=None) as bar:
        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update()
        return run_checked(lambda: action(progress))


def export(result: AnalysisResult, output: Path | None, raster: Callable[[], tuple] | None = None,
           nodata: float = -1.0) -> None:
    """Write the result to `output` (by suffix) with its manifest beside it; `raster` makes (grid, values,
    description) for a .tif, only when one is asked for."""
    if output is None:
        return
    if output.suffix.lower() in (".tif", ".tiff"):
        if raster is None:
            raise UserError(f"{output.name}: this command has no raster output; use .gpkg, .geojson or .csv")
        grid, values, description = raster()
        run_checked(lambda: write_raster(output, grid, values, result.manifest, nodata=nodata, description=description))
    else:
        run_checked(lambda: write_tables(output, result.layers, result.manifest))
    click.echo(f"wrote {output} (manifest: {output.name}.manifest.json)")


def echo_table(frame: pd.DataFrame) -> None:
    """Shares as percentages, other numbers as whole counts."""
    formatters = {c: (lambda v: f"{v:.1%}") if "share" in c else (lambda v: f"{v:,.0f}")
                  for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    click.echo(frame.to_string(index=False, formatters=formatters))


OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="Write the result: .gpkg, .geojson, .csv (or .tif where a raster fits).")
THRESHOLDS = click.option("--threshold", "thresholds", type=float, multiple=True, help="Minutes (repeatable; default 30, 60, 120, 240).")


@main.command()
@access_options
@THRESHOLDS
@OUTPUT
def coverage(engine: Engine, params: AccessParams, thresholds: tuple[float, ...], output: Path | None) -> None:
    """Share of population within T minutes of a counting court: nominal vs actual, overall and per region."""
    result = with_progress(lambda p: analysis.coverage(engine, params, thresholds or DEFAULT_THRESHOLDS, p))
    table = result.summary
    columns = ["region", "population"] + [c for c in table.columns if c.startswith(("nominal_share_", "actual_share_"))]
    click.echo(f"Coverage as of {params.as_of} ({params.kind}s, conflict {params.conflict.mode}, "
               f"{params.resolution_m:g} m cells, regions from {result.manifest['parameters']['regions_from']}):")
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
    result = with_progress(lambda p: analysis.catchment_areas(engine, params, thresholds or DEFAULT_THRESHOLDS, p))
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
    result = with_progress(lambda p: analysis.access_gaps(engine, params, threshold, min_population, min_density, p))
    echo_table(result.summary[["rank", "name", "population", "unreachable", "area_km2", "mean_minutes"]].head(15))
    export(result, output)


@main.command()
@access_options
@click.option("--radius", type=float, default=50.0, show_default=True, help="km around each facility.")
@click.option("--days", type=int, default=365, show_default=True, help="Days before --as-of.")
@click.option("--chain-threshold", type=float, default=240.0, show_default=True, help="Minutes to the nearest working prison.")
@OUTPUT
def exposure(engine: Engine, params: AccessParams, radius: float, days: int, chain_threshold: float, output: Path | None) -> None:
    """Incidents near each counting facility; courts far from a working prison."""
    result = with_progress(lambda p: analysis.exposure(engine, params, radius, days, chain_threshold, p))
    echo_table(result.summary.sort_values("incidents", ascending=False).head(15))
    chain = result.layers["justice_chain_gap"]
    click.echo(f"\nCourts more than {chain_threshold:g} minutes from a working prison: {len(chain)}")
    if len(chain):
        echo_table(chain)
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
    change = run_checked(lambda: read_scenario(file, engine.dataset))
    result = with_progress(lambda p: analysis.scenario(engine, change, params, thresholds or DEFAULT_THRESHOLDS, p))
    table = result.summary
    click.echo(f"Scenario '{change.name}' ({len(change.changes)} changes) against the data as of {params.as_of}:")
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
    changes = [run_checked(lambda f=f: read_scenario(f, engine.dataset)) for f in files]
    result = with_progress(lambda p: analysis.compare(engine, changes, params, thresholds or DEFAULT_THRESHOLDS, p))
    table = result.summary
    click.echo(f"Net change in persons within each threshold, as of {params.as_of}:")
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
@OUTPUT
def site(engine: Engine, params: AccessParams, k: int, threshold: float, candidates: str | None, grid_km: float | None,
         fixed: str | None, max_risk: float | None, weighting: str, min_density: float, region_weights: tuple[str, ...],
         exact: bool, output: Path | None) -> None:
    """Choose K sites (new courts or mobile hearing points) that bring the most people within the threshold."""
    def names(text: str | None) -> list[str] | None:
        return [n.strip() for n in text.split(",") if n.strip()] if text else None

    def weight(text: str) -> tuple[str, float]:
        region, _, value = text.rpartition("=")
        try:
            return region.strip(), float(value)
        except ValueError:
            raise UserError(f"--region-weight {text!r}: expected REGION=NUMBER") from None
    weights = dict(weight(w) for w in region_weights) or None
    result = with_progress(lambda p: analysis.siting(
        engine, params, k, threshold, candidates=names(candidates), grid_km=grid_km, fixed=names(fixed) or (),
        max_risk=max_risk, weighting=weighting, region_weights=weights, min_density=min_density, solve_exactly=exact,
        progress=p))
    echo_table(result.layers["sites"].drop(columns="geometry"))
    row = result.summary.iloc[0]
    click.echo(f"\n{row['covered_weight']:,.0f} of {row['uncovered_weight']:,.0f} people beyond {threshold:g} min brought within it; "
               f"the greedy choice is proven to reach at least {row['proven_ratio']:.1%} of the optimum")
    if row["exact_optimum"] is not None and pd.notna(row["exact_optimum"]):
        click.echo(f"exact optimum {row['exact_optimum']:,.0f} (gap {row['gap_to_optimum']:.2%})")
    export(result, output)


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: embedded).")
@click.option("--boundaries", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--name-field", default="shapeName", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite store of writes (default: $GEO_JUSTICE_STORE or .geo-justice/store.sqlite); created once, then reused.")
def serve(data_dir: Path | None, boundaries: Path | None, name_field: str, host: str, port: int, store: Path | None) -> None:
    """Start the HTTP service (OGC API - Features, analyses, writes); tokens from $GEO_JUSTICE_TOKENS (name:token,...)."""
    import uvicorn

    from api.app import create_app  # the entry point is the one place the core names the API

    app = run_checked(lambda: create_app(data_dir, boundaries=boundaries, name_field=name_field, store=store))
    click.echo(f"geo-justice on http://{host}:{port}/ (API docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Dataset folder (default: embedded).")
@click.option("--depot", "depots", multiple=True, required=True, help="Town the teams leave from and return to (repeatable).")
@click.option("--stops", required=True, help="Towns, comma-separated; Town:days:priority sets hearing days and priority.")
@click.option("--teams", type=int, default=1, show_default=True, help="Teams based at each depot.")
@click.option("--days", "max_days", type=int, default=10, show_default=True, help="Most days per circuit.")
@click.option("--start", required=True, help="First day of the circuits (YYYY-MM-DD); also the conflict layer's date.")
@click.option("--drive-hours", type=float, default=8.0, show_default=True, help="Most driving hours per day (driving by day only).")
@click.option("--hearing-days", type=int, default=1, show_default=True, help="Hearing days per stop unless the stop says.")
@click.option("--risk", type=click.Choice(["avoid", "penalise", "ignore"]), default="penalise", show_default=True)
@click.option("--risk-level", type=float, default=ConflictParams.avoid_risk, show_default=True, help="avoid: impassable above this risk.")
@click.option("--penalty", type=float, default=ConflictParams.penalty, show_default=True, help="At most 1+penalty times slower in risky cells.")
@click.option("--resolution", type=float, default=1000.0, show_default=True, help="Cell size in metres.")
@click.option("--seconds", type=float, default=None, help="Solver time limit (default: by the number of stops).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="GeoJSON of the plan.")
@click.option("--gpx", type=click.Path(dir_okay=False, path_type=Path), default=None, help="GPX 1.1 of the plan.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="CSV itinerary.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="HTML map (Folium).")
def route(data_dir: Path | None, depots: tuple[str, ...], stops: str, teams: int, max_days: int, start: str,
          drive_hours: float, hearing_days: int, risk: str, risk_level: float, penalty: float, resolution: float,
          seconds: float | None, output: Path | None, gpx: Path | None, csv_path: Path | None, map_path: Path | None) -> None:
    """Plan mobile-hearing circuits from depots through towns, by day, away from recent incidents."""
    def plan():
        dataset = load_dataset(data_dir)
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
        writers[map_path] = lambda: page(route_map(result), self_contained=True)
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
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help="Language of labels and legends.")
@click.option("--incidents", "window", default=None,
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
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help="Language of labels and legends.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .html file to write.")
def map_scenario(file: Path, engine: Engine, params: AccessParams, threshold: float, lang: str, output: Path) -> None:
    """Where the scenario in FILE changes access, and its courts with their catchment change."""
    from web.maps import page, scenario_map

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
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help="Language of labels and legends.")
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
@click.option("--layer", type=click.Choice(LAYERS), required=True, help="The layer to export.")
@click.option("--zoom", default="4-10", show_default=True, help="Zoom or range of zooms, e.g. 4-10.")
@click.option("--threshold", type=float, default=120.0, show_default=True, help="Minutes (coverage layer).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="An .mbtiles file, or a folder to fill with z/x/y.png.")
def tiles_export(engine: Engine, params: AccessParams, layer: str, zoom: str, threshold: float, output: Path) -> None:
    """Render a layer's tiles over the study area into MBTiles or a z/x/y folder (empty tiles skipped)."""
    zooms = zoom_range(zoom)
    style = run_checked(lambda: TileStyle(layer, params, threshold))
    total = len(run_checked(lambda: tile_range(engine, style, zooms)))
    with tqdm(total=total, desc="tiles", unit=" tiles", file=sys.stderr, disable=None) as bar:
        count = run_checked(lambda: export_tiles(engine, style, zooms, output, bar.update))
    click.echo(f"wrote {count} tiles of {total} ({layer}, zoom {zooms[0]}-{zooms[-1]}, {style.version(engine.dataset.version)}) to {output}")


def scheduling(command):
    """--workers N (a local Dask cluster) or --scheduler ADDRESS (an existing one); neither: in this process."""
    command = click.option("--scheduler", default=None, metavar="ADDRESS",
                           help="Run the tasks on this Dask scheduler, e.g. tcp://host:8786 (workers must read the same paths).")(command)
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help="Run the tasks on a local Dask cluster of this many worker processes.")(command)


def dataset_spec(ctx: click.Context):
    """The dataset of the command's --data/--boundaries/--name-field, as absolute paths a Dask worker can read."""
    from .sweep import DatasetSpec

    data, boundaries = ctx.params.get("data_dir"), ctx.params.get("boundaries")
    return DatasetSpec(str(Path(data).resolve()) if data else None, str(Path(boundaries).resolve()) if boundaries else None,
                       ctx.params.get("name_field") or "shapeName")


def run_sweep(action, total: int, unit: str):
    """Run `action(progress)` with a bar over `total` units; a failed task is a user error naming it."""
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
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True, help="Language of charts.")
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

        from .export import manifest_path
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
        run_checked(lambda: write_tables(output, {"sweep": table}, manifest))
        click.echo(f"wrote {output} (manifest: {output.name}.manifest.json)")


if __name__ == "__main__":
    sys.exit(main())
