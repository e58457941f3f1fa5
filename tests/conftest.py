"""Shared fixtures: the embedded dataset and, when present, the official Mali boundaries in ../shared/data."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MALI = ROOT.parent / "shared" / "data" / "mali"
OUTPUT = ROOT / "tests" / "output"


def shared_file(name: str) -> Path:
    path = SHARED_MALI / name
    if not path.is_file():
        pytest.skip(f"official boundaries not available: {path} is absent (../shared/data/mali beside the repository)")
    return path


@pytest.fixture(scope="session")
def dataset():
    from layers import load_dataset
    return load_dataset(ROOT / "data")


@pytest.fixture(scope="session")
def adm1() -> Path:
    return shared_file("geoBoundaries-MLI-ADM1_simplified.geojson")


@pytest.fixture(scope="session")
def adm2() -> Path:
    return shared_file("geoBoundaries-MLI-ADM2_simplified.geojson")
