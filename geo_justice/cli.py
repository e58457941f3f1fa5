"""The `geo-justice` command line: thin wrappers, one core call per command.

Exit codes: 0 success, 1 user error (a clear message, no traceback), 2 usage error.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from layers import LayerError, read_barriers, read_boundaries, read_crossings, read_facilities, read_incidents, read_roads, read_settlements
from layers.catalog import load_dataset
from layers.population import read_population_raster

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


def run_checked(action):
    """Run `action`, turning LayerError into a clean user error."""
    try:
        return action()
    except LayerError as exc:
        raise UserError(str(exc)) from None


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
    for name, version in sorted(dataset.versions.items()):
        frame = getattr(dataset, name, None)
        count = f"{len(frame)} rows" if frame is not None and hasattr(frame, "__len__") else "raster"
        click.echo(f"  {name:<15} {count:<12} {version}")


if __name__ == "__main__":
    sys.exit(main())
