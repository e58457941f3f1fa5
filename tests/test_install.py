"""A non-editable install carries the embedded dataset: built as a wheel, installed into a folder of its
own and run from another working directory, `geo-justice layers list` and `coverage` find their data."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built as a wheel (no build isolation, no dependencies) and installed with --target.

    It is built from a copy of the tracked tree, so nothing is written into the repository."""
    base = tmp_path_factory.mktemp("install")
    source, wheels, target = base / "source", base / "wheels", base / "site"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "output",
                                                                "__pycache__", ".geo-justice"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)], check=True,
                   cwd=base, capture_output=True)
    wheel, = wheels.glob("geo_justice-*.whl")
    subprocess.run(pip + ["install", "--no-deps", "--no-index", "--target", str(target), str(wheel)], check=True,
                   capture_output=True)
    return target


def run(installed: Path, cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GEO_JUSTICE_DATA", "PYTHONPATH")}
    # numba keeps its compiled kernels beside their sources, so the installed copy would compile them all again
    # (about 10 s); on the 20 km grid the kernels run as Python in a second, with the same answers (the compiled
    # kernels are what every other test runs)
    env["NUMBA_DISABLE_JIT"] = "1"
    code = ("import sys; sys.path.insert(0, sys.argv.pop(1)); import geo_justice, layers; "
            "assert geo_justice.__file__.startswith(sys.path[0]), geo_justice.__file__; "
            "from geo_justice.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, str(installed), *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_package_is_installed(installed):
    packages = {p.parent.relative_to(ROOT).as_posix().replace("/", ".") for p in ROOT.glob("*/**/__init__.py")
                if not p.relative_to(ROOT).parts[0] in ("tests", "bench", ".venv", "build")}
    missing = [p for p in packages if not (installed / p.replace(".", "/") / "__init__.py").is_file()]
    assert not missing, f"packages left out of the wheel (list them in pyproject.toml): {missing}"


def test_the_wheel_and_the_command_give_one_version(installed, tmp_path):
    """The wheel's metadata (pyproject reads the version from geo_justice/__init__.py) and `--version` agree."""
    from importlib.metadata import PathDistribution

    dist_info, = installed.glob("geo_justice-*.dist-info")
    version = PathDistribution(dist_info).version
    assert version and run(installed, tmp_path, "--version").strip() == f"geo-justice, version {version}"


def test_installed_wheel_finds_its_data_from_any_directory(installed, tmp_path):
    assert (installed / "geo_justice" / "data" / "dataset.json").is_file()
    listing = run(installed, tmp_path, "layers", "list")
    assert "courts" in listing and "56 rows" in listing and "population_figures" in listing
    report = run(installed, tmp_path, "coverage", "--resolution", "20000", "--threshold", "120")
    official = gpd.read_file(ROOT / "data" / "boundaries" / "geoBoundaries-MLI-ADM1_simplified.geojson")["shapeName"]
    rows = {line.split()[0] for line in report.splitlines() if line.strip()}
    assert set(official) <= rows
    assert "Head counts: people, 2023 estimate" in report
