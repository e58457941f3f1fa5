"""Shared fixtures, and how the suite stays within 3 minutes on 2 cores (README, "Tests").

Reuse these rather than building your own; they are what keeps the suite fast:

- `dataset` (session): the embedded dataset, loaded once.
- `client` (session): the app on the embedded data (token TOKEN accepted), built once; its result cache is
  shared by every test, so a question another test asked (same parameters) costs nothing. Use it for reads and
  for requests that only compute (analyses, tiles, maps, routes). A test that changes the store (PATCH, uploads,
  saved scenarios) or needs other settings builds its own app on a `tmp_path` store.
- `live_server` (session): one `geo-justice serve` per run on a throwaway store, returned once it has prepared
  the default map (`live_server.process` is its process). Never change data on it (status writes, uploads): a
  write changes the data version every other user of it sees.
- `writable_server` (function): a server of the test's own on an empty store, without the default map, for
  tests that write. Other settings (environment, data): `start_server(..., prepare=False)` in a fixture.
- `browser` (session): Debian's chromium through playwright, launched once (skips where either is absent).
- `adm1`, `adm2` (session): the official boundaries in ../shared/data/mali (skip when absent).

Whole-suite runs are spread over the machine's cores by pytest-xdist (`-n auto --dist loadgroup` in
pyproject.toml; `pytest_xdist_auto_num_workers` below gives 0 workers when only some files are named, so
`pytest tests/test_x.py` runs in one process). Each module stays on one worker (its module fixtures are built
once), and every test that uses `live_server` or `browser` goes to one worker, so a run starts one server and
one browser; the longest groups go to the workers first (LONGEST_FIRST). Tests that share something outside the
process (a database, a fixed file or port) must either name it per worker (os.environ["PYTEST_XDIST_WORKER"])
or carry one `@pytest.mark.xdist_group("name")`. Pick the coarsest grid that still tests the point (5-20 km
cells, toy datasets from tests/toy.py): Mali at 1 km is for the tests whose assertion needs it.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SHARED_MALI = ROOT.parent / "shared" / "data" / "mali"
OUTPUT = ROOT / "tests" / "output"
CHROMIUM = Path("/usr/bin/chromium")
#: The bearer token the test services accept (as the operator's 'writer').
TOKEN = "s3cret-token"
#: Tests using one of these fixtures run on one xdist worker, which then starts one server and one browser.
LIVE_FIXTURES = {"live_server", "browser"}
#: At most this many xdist workers for a whole-suite run (each one loads the dataset and the app again).
MAX_WORKERS = 4


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


@pytest.fixture(scope="session")
def client(dataset, tmp_path_factory):
    """The app on the embedded data, built once per run (see the module's docstring for what not to do with it)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    return TestClient(create_app(dataset.root, tokens=[TOKEN], store=tmp_path_factory.mktemp("store") / "store.sqlite"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer(str):
    """A running service's base URL (a str, e.g. f"{live_server}/conformance"), with its process."""

    process: subprocess.Popen


def start_server(data: Path, store: Path, env: dict[str, str] | None = None, *, prepare: bool = True,
                 ready: bool = False) -> tuple[str, subprocess.Popen]:
    """`geo-justice serve` in its own process on a free loopback port, once it accepts connections (with `ready`:
    once it says the default map is prepared). Without `prepare` it skips preparing the default map."""
    port = free_port()
    command = [sys.executable, "-c", "from geo_justice.cli import main; main()", "serve", "--data", str(data),
               "--port", str(port), "--store", str(store)] + ([] if prepare else ["--no-prepare"])
    process = subprocess.Popen(command, env={**os.environ, "GEO_JUSTICE_TOKENS": f"writer:{TOKEN}", **(env or {})},
                               stderr=subprocess.PIPE if ready else None, text=True)
    said_ready = threading.Event()
    if ready:
        def watch() -> None:  # pass the server's log on, and see it say it is ready
            for line in process.stderr:
                sys.stderr.write(line)
                if "geo-justice: ready" in line or "could not prepare" in line:
                    said_ready.set()
            said_ready.set()  # it stopped: waiting longer is pointless
        threading.Thread(target=watch, daemon=True).start()
    end = time.monotonic() + 600
    while time.monotonic() < end and process.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0 and (not ready or said_ready.wait(end - time.monotonic())):
                if process.poll() is None:
                    return f"http://127.0.0.1:{port}", process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start (exit status {process.poll()})")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def live_server(dataset, tmp_path_factory):
    """One `geo-justice serve` per run, once the default map is prepared (GDAL holds the GIL while it reads, so it
    runs in its own process). Read only."""
    url, process = start_server(dataset.root, tmp_path_factory.mktemp("live") / "store.sqlite", ready=True)
    server = LiveServer(url)
    server.process = process
    try:
        yield server
    finally:
        stop_server(process)


@pytest.fixture()
def writable_server(dataset, tmp_path):
    """A `geo-justice serve` of the test's own on an empty store, for tests that write (no default map prepared)."""
    url, process = start_server(dataset.root, tmp_path / "store.sqlite", prepare=False)
    try:
        yield url
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, launched once per run (skips without /usr/bin/chromium or playwright)."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (CI installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: one worker per core (at most MAX_WORKERS) for the whole suite; none when files are named."""
    whole = all(Path(arg.split("::")[0]).resolve() == TESTS for arg in config.args)
    return min(os.cpu_count() or 1, MAX_WORKERS) if whole else 0


#: The groups that take longest in a whole run (in this order, from `pytest -v --durations=0`: 56, 36, 29, 18, 17,
#: 16, 15, 14, 13 and 11 s on 2026-12-03). They go to the workers first, the rest after them in collection order, so
#: that no worker is left running a long group alone at the end (`--no-loadscope-reorder` in pyproject.toml: xdist
#: would otherwise order groups by their number of tests, and the longest, with few tests, came last).
LONGEST_FIRST = ("live", "tests/test_workers.py", "tests/test_api_writes.py", "tests/test_sweep.py",
                 "tests/test_timeline.py", "tests/test_routes.py", "tests/test_api_hardening.py",
                 "tests/test_openapi_fuzz.py", "tests/test_pyramid.py", "tests/test_maps.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """xdist groups (--dist loadgroup): a module's tests together, every live-server and browser test together;
    a test marked `xdist_group` itself (e.g. tests sharing one database) keeps its group. On xdist workers the
    longest groups come first."""
    group_of = {}
    for item in items:
        marker = item.get_closest_marker("xdist_group")
        if marker is None:
            live = LIVE_FIXTURES & set(getattr(item, "fixturenames", ()))
            marker = pytest.mark.xdist_group("live" if live else item.nodeid.split("::")[0])
            item.add_marker(marker)
        group_of[item] = marker.args[0] if marker.args else marker.kwargs.get("name")
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one process runs everything anyway: keep the modules whole
        rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(group_of[item], len(rank)))


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
    with psycopg.connect(url, autocommit=True) as db:  # xdist workers: one makes the template, the others wait for it
        db.execute("SELECT pg_advisory_lock(hashtext(%s))", (PG_TEMPLATE,))
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_TEMPLATE,)).fetchone():
            db.execute(f"CREATE DATABASE {PG_TEMPLATE}")
            with psycopg.connect(database_url(url, PG_TEMPLATE), autocommit=True) as template:
                template.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        db.execute("SELECT pg_advisory_unlock(hashtext(%s))", (PG_TEMPLATE,))
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
