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


#: The PostgreSQL server the store tests create their databases on (.ci/run starts one: bash .ci/postgres start DIR).
TEST_PG_ENV = "GEO_JUSTICE_TEST_PG"
#: A database with PostGIS installed that each test's database is copied from (faster than installing PostGIS).
PG_TEMPLATE = "geo_justice_test_template"


def database_url(server: str, name: str) -> str:
    """`server`'s URL naming the database `name` instead."""
    from urllib.parse import urlsplit, urlunsplit
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the tests' PostgreSQL server. Without one the PostgreSQL tests skip, saying how to get one;
    in CI (CI=true) they fail instead: CI must run them."""
    url = os.environ.get(TEST_PG_ENV)
    reason = None
    if not url:
        reason = (f"no PostgreSQL for the PostgreSQL store tests: set {TEST_PG_ENV} to a server's URL "
                  "(`bash .ci/postgres start DIR` starts a throwaway one with PostGIS and prints it)")
    else:
        try:
            import psycopg
        except ImportError as exc:
            reason = f"{TEST_PG_ENV} is set but psycopg is not installed (pip install -e '.[test]'): {exc}"
    if reason:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(reason)
        pytest.skip(reason)
    with psycopg.connect(url, autocommit=True) as db:
        try:
            db.execute(f"CREATE DATABASE {PG_TEMPLATE}")
        except psycopg.errors.DuplicateDatabase:
            return url
    with psycopg.connect(database_url(url, PG_TEMPLATE), autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


@pytest.fixture()
def postgres_store(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL database (with PostGIS), dropped after the test."""
    import uuid

    import psycopg
    name = f"geo_justice_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}")
    yield database_url(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path) -> str:
    """Where a test's store lives: a new SQLite file, then a new PostgreSQL database (the same test runs on both)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return request.getfixturevalue("postgres_store")
