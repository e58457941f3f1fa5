"""The store on SQLite and on PostgreSQL/PostGIS: the same writes give the same data, If-Match holds under
concurrent writers, a bad upload adds nothing, and the PostgreSQL schema is versioned and spatially indexed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from layers.store import Conflict, Duplicate, Store, open_store

from .conftest import ROOT, TEST_PG_ENV

EVENTS = [  # a closure, a move away from the seat, a reopening, a return to the seat (as the API writes them)
    {"facility_id": "ml-tgi-gao", "as_of": "2023-12-01", "status": "closed", "sitting_name": "", "sitting_lon": None,
     "sitting_lat": None, "source": "test: court attacked", "note": ""},
    {"facility_id": "ml-tgi-gao", "as_of": "2024-01-15", "status": "partial", "sitting_name": "Ansongo",
     "sitting_lon": 0.5017, "sitting_lat": 15.6597, "source": "test: sits in Ansongo", "note": "temporary"},
    {"facility_id": "ml-ti-bourem", "as_of": "2024-02-01", "status": "operational", "sitting_name": "", "sitting_lon": None,
     "sitting_lat": None, "source": "test", "note": ""},
    {"facility_id": "ml-tgi-gao", "as_of": "2024-03-01", "status": "", "sitting_name": "seat", "sitting_lon": None,
     "sitting_lat": None, "source": "test: back at the seat", "note": ""},
]


def some_incidents(dataset, prefix: str, rows: int = 25):
    """Rows of the embedded incidents under new ids, one with fatalities and precision unknown."""
    frame = dataset.incidents.iloc[:rows].copy()
    frame["id"] = [f"{prefix}{i}" for i in range(rows)]
    frame["fatalities"] = frame["fatalities"].astype("Int64")
    frame["geo_precision"] = frame["geo_precision"].astype("Int64")
    frame.loc[frame.index[0], ["fatalities", "geo_precision"]] = pd.NA
    return frame


def write_everything(store, dataset) -> None:
    for i, event in enumerate(EVENTS):
        store.append_event(event, "clerk", expected_revision=None, before={"step": i, "capacity": float("nan")})
    store.add_incidents(some_incidents(dataset, "T"), "analyst")
    store.save_scenario("s1", {"name": "reopen Gao", "description": "d", "changes": [1, 2]}, "planner")
    store.save_route_plan("p1", {"depots": ["Gao"]}, {"days": 3, "stops": ["Bourem"]})


@pytest.fixture()
def postgres(dataset, postgres_store):
    store = open_store(postgres_store, dataset)
    yield store
    store.close()


def test_postgres_holds_what_sqlite_holds(dataset, postgres, tmp_path):
    """The same writes into both stores: the same events, incidents (points), revisions, audit, documents, and
    the same dataset once applied (SQLite is the reference)."""
    sqlite = Store(tmp_path / "store.sqlite", dataset)
    for store in (sqlite, postgres):
        write_everything(store, dataset)
    ours, reference = postgres.snapshot(), sqlite.snapshot()
    assert ours.revision == reference.revision == len(EVENTS) + 25
    assert ours.facility_revisions == reference.facility_revisions == {"ml-tgi-gao": 3, "ml-ti-bourem": 1}
    pd.testing.assert_frame_equal(ours.events, reference.events, check_dtype=False)
    pd.testing.assert_frame_equal(ours.incidents.drop(columns="geometry"), reference.incidents.drop(columns="geometry"),
                                  check_dtype=False)
    assert ours.incidents.geometry.geom_equals_exact(reference.incidents.geometry, tolerance=1e-12).all()
    applied, expected = postgres.apply(dataset), sqlite.apply(dataset)
    assert applied.version == expected.version
    today = applied.facilities_as_of("court", "2024-02-15").set_index("id")
    assert today.loc["ml-tgi-gao", "status"] == "partial" and today.loc["ml-tgi-gao", "sitting_name"] == "Ansongo"
    pd.testing.assert_frame_equal(today, expected.facilities_as_of("court", "2024-02-15").set_index("id"))
    loads = lambda text: json.loads(text, parse_constant=lambda _: None)  # noqa: E731  (SQLite keeps NaN, PostgreSQL null)
    parsed = lambda frame: [(r.who, r.action, r.target, loads(r.before), loads(r.after)) for r in frame.itertuples()]  # noqa: E731
    assert parsed(postgres.audit()) == parsed(sqlite.audit())
    assert json.loads(postgres.audit("ml-tgi-gao")["before"].iloc[0]) == {"step": 0, "capacity": None}
    assert postgres.scenario("s1") == sqlite.scenario("s1") and postgres.scenario("nope") is None
    assert postgres.route_plan("p1") == sqlite.route_plan("p1") == {"days": 3, "stops": ["Bourem"]}
    assert postgres.scenarios()[["id", "name", "saved_by"]].equals(sqlite.scenarios()[["id", "name", "saved_by"]])


def test_if_match_under_concurrent_writers(dataset, store_location):
    """Twelve writers each send the If-Match of revision 0, then of revision 1: exactly one wins each round, the
    others get Conflict, and the store holds two events and two audit records."""
    store = open_store(store_location, dataset)
    try:
        event = dict(EVENTS[2])

        def write(i: int, expected: int) -> bool:
            try:
                store.append_event({**event, "source": f"writer {i}"}, f"w{i}", expected_revision=expected, before={})
                return True
            except Conflict:
                return False
        for expected in (0, 1):
            barrier = threading.Barrier(12)
            with ThreadPoolExecutor(12) as pool:
                won = list(pool.map(lambda i: barrier.wait() is None or write(i, expected), range(12)))
            assert sum(won) == 1
        assert store.facility_revision("ml-ti-bourem") == 2 and store.revision() == 2
        assert len(store.audit("ml-ti-bourem")) == 2
    finally:
        store.close()


def test_an_upload_with_a_known_id_adds_nothing(dataset, store_location):
    store = open_store(store_location, dataset)
    try:
        store.add_incidents(some_incidents(dataset, "A", 5), "analyst")
        again = some_incidents(dataset, "B", 5)
        again.loc[again.index[3], "id"] = "A2"
        with pytest.raises(Duplicate, match="A2|UNIQUE"):
            store.add_incidents(again, "analyst")
        assert store.revision() == 5 and sorted(store.incidents()["id"]) == [f"A{i}" for i in range(5)]
        assert len(store.audit()) == 1
    finally:
        store.close()


def test_postgres_schema_is_versioned_and_spatially_indexed(dataset, postgres_store):
    """Three processes' worth of first starts at once migrate once; points are PostGIS geometries in WGS 84 with
    GiST indexes; a schema newer than the code is refused."""
    import psycopg

    with ThreadPoolExecutor(3) as pool:
        stores = list(pool.map(lambda _: open_store(postgres_store, dataset), range(3)))
    for store in stores:
        store.close()
    with psycopg.connect(postgres_store, autocommit=True) as db:
        assert db.execute("SELECT version, name FROM schema_version").fetchall() == [(1, "0001_store")]
        columns = db.execute("SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns ORDER BY 1").fetchall()
        assert columns == [("events", "sitting", 4326, "POINT"), ("incidents", "geom", 4326, "POINT")]
        indexes = db.execute("SELECT indexdef FROM pg_indexes WHERE indexdef LIKE '%USING gist%' ORDER BY 1").fetchall()
        assert [i[0].split(" ON ")[1] for i in indexes] == ["public.events USING gist (sitting)", "public.incidents USING gist (geom)"]
        db.execute("INSERT INTO schema_version (version, name) VALUES (99, '0099_future')")
    with pytest.raises(ValueError, match="schema is at version 99, newer than this geo-justice knows"):
        open_store(postgres_store, dataset)


def test_an_unreachable_postgres_store_is_a_clear_error(dataset):
    with pytest.raises(ValueError, match=r"postgresql://clerk:\*\*\*@/nowhere.*cannot reach the PostgreSQL store"):
        open_store("postgresql://clerk:secret@/nowhere?host=/nonexistent-socket-dir", dataset)


def test_the_test_server_has_postgis(postgres_store):
    import psycopg
    with psycopg.connect(postgres_store) as db:
        assert db.execute("SELECT ST_AsText(ST_MakePoint(-4, 12.65))").fetchone()[0] == "POINT(-4 12.65)"


def test_without_postgres_the_tests_fail_in_ci():
    """Without PostgreSQL the PostgreSQL tests skip with the reason for a developer, but fail in CI (CI=true)."""
    env = {k: v for k, v in os.environ.items() if k not in (TEST_PG_ENV, "CI")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rsE",
                          "tests/test_store.py::test_the_test_server_has_postgis"],
                         cwd=ROOT, env={**env, "CI": "true"}, capture_output=True, text=True, timeout=300)
    assert f"no PostgreSQL for the PostgreSQL store tests: set {TEST_PG_ENV}" in run.stdout, run.stdout
    assert "1 error" in run.stdout.splitlines()[-1] and run.returncode == 1, run.stdout
