"""Shared fixtures: the embedded dataset and, when present, the official Mali boundaries in ../shared/data."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MALI = ROOT.parent / "shared" / "data" / "mali"
OUTPUT = ROOT / "tests" / "output"
#: The bearer token the test services accept (as the operator's 'writer').
TOKEN = "s3cret-token"


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data: Path, store: Path, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen]:
    """`geo-justice serve` in its own process on a free loopback port, once it accepts connections."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", "from geo_justice.cli import main; main()", "serve",
                                "--data", str(data), "--port", str(port), "--store", str(store)],
                               env={**os.environ, "GEO_JUSTICE_TOKENS": f"writer:{TOKEN}", **(env or {})})
    for _ in range(300):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}", process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


@pytest.fixture(scope="module")
def live_server(dataset, tmp_path_factory):
    """`geo-justice serve` in its own process on a free loopback port (GDAL holds the GIL while it reads)."""
    url, process = start_server(dataset.root, tmp_path_factory.mktemp("live") / "store.sqlite")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
