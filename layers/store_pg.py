"""The store in PostgreSQL/PostGIS: what layers.store.Store keeps, in a database several service processes share.

The same interface and guarantees as the SQLite store: every write is one transaction (all or nothing), writes
take turns on the one-row data version (so an If-Match is checked against the committed state, never a stale
read), and a store made for another dataset is refused. The schema is created and migrated on first start from
the numbered SQL files in layers/pg_migrations; the table `schema_version` records which ran.

Every write announces the new data version with NOTIFY. A thread per process LISTENs and keeps the version it
knows current, so answering a request needs no query; it also reads the version once a second when nothing
arrives, and while it is not connected every request reads it.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from .catalog import Dataset
from .history import EVENT_COLUMNS
from .store import Conflict, Duplicate, Moved, Snapshot, incident_rows, masked

MIGRATIONS = Path(__file__).with_name("pg_migrations")
#: The NOTIFY channel carrying each new data version (one store per database).
CHANNEL = "geo_justice_store"
#: Advisory lock held while migrating, so processes starting together migrate once.
MIGRATION_LOCK = 0x67656F6A
#: Seconds between reads of the data version when no notification arrives.
POLL = 1.0
INCIDENT_COLUMNS = ("id", "date", "event_type", "sub_event_type", "actor1", "actor2", "fatalities", "geo_precision",
                    "source_dataset")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, SQL) of every migration file, in order; a file is named NNNN_what.sql."""
    return [(int(path.name.split("_", 1)[0]), path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(MIGRATIONS.glob("*.sql"))]


def migrate(db: psycopg.Connection, name: str) -> None:
    """Bring the schema to the newest version in one transaction (DDL is transactional in PostgreSQL: a failed
    migration leaves the schema as it was), one process at a time."""
    known = migrations()
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL, "
                   "applied_at timestamptz NOT NULL DEFAULT now())")
        done = {row[0] for row in db.execute("SELECT version FROM schema_version")}
        if done and max(done) > known[-1][0]:
            raise ValueError(f"{name}: the store's schema is at version {max(done)}, newer than this geo-justice knows "
                             f"({known[-1][0]}); upgrade geo-justice")
        for version, stem, text in known:
            if version in done:
                continue
            try:
                db.execute(text)
                db.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (version, stem))
            except psycopg.errors.InsufficientPrivilege as exc:
                raise ValueError(f"{name}: migration {stem} needs more rights than this user has ({exc.diag.message_primary}); "
                                 "a database owner must run it, or first run CREATE EXTENSION postgis") from None


def plain_json(value: object) -> str:
    """JSON that PostgreSQL accepts: NaN and infinities become null, other objects their text."""
    return json.dumps(json.loads(json.dumps(value, default=str), parse_constant=lambda _: None))


def utc_text(moment: datetime, timespec: str) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec)


class PostgresStore:
    """A PostgreSQL/PostGIS database; threads share one connection pool."""

    def __init__(self, url: str, base: Dataset, *, pool_size: int = 8):
        self.url, self.name = url, masked(url)
        try:
            with psycopg.connect(url, autocommit=True) as db:
                migrate(db, self.name)
                db.execute("INSERT INTO meta VALUES ('base_name', %s), ('created', %s) ON CONFLICT DO NOTHING",
                           (base.name, utc_text(datetime.now(timezone.utc), "seconds")))
                made_for = db.execute("SELECT value FROM meta WHERE key = 'base_name'").fetchone()[0]
        except psycopg.OperationalError as exc:
            raise ValueError(f"{self.name}: cannot reach the PostgreSQL store ({str(exc).strip()})") from None
        if made_for != base.name:
            raise ValueError(f"{self.name}: this store holds changes to dataset {made_for!r}, not {base.name!r}; "
                             "name another store (--store) for this dataset")
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, name="geo-justice-store")
        self._known, self._lock = 0, threading.Lock()
        self._listening, self._closed = threading.Event(), threading.Event()
        self._listener = threading.Thread(target=self._listen, name="geo-justice-store-listener", daemon=True)
        self._listener.start()

    def close(self) -> None:
        """Stop listening and close the pool's connections."""
        self._closed.set()
        try:  # wakes the listener now, not at the end of its POLL (a revision already known: no one learns anything)
            with self._pool.connection() as db:
                db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(self._known)))
        except psycopg.Error:
            pass
        self._listener.join(timeout=2 * POLL)
        self._pool.close()

    # -- the data version -------------------------------------------------------------------------------------
    def _seen(self, revision: int) -> int:
        with self._lock:
            self._known = max(self._known, revision)
            return self._known

    def _listen(self) -> None:
        """Keep `_known` current from NOTIFY (and a read each POLL seconds); reconnect after a failure."""
        while not self._closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as db:
                    db.execute(f"LISTEN {CHANNEL}")
                    self._seen(db.execute("SELECT value FROM revision").fetchone()[0])
                    self._listening.set()
                    while not self._closed.is_set():
                        arrived = False
                        for note in db.notifies(timeout=POLL):
                            self._seen(int(note.payload))
                            arrived = True
                        if not arrived:
                            self._seen(db.execute("SELECT value FROM revision").fetchone()[0])
            except psycopg.Error:
                pass
            finally:
                self._listening.clear()
            self._closed.wait(POLL)

    def revision(self) -> int:
        """Grows with every write (the number of events and incidents written)."""
        if self._listening.is_set():
            return self._known
        with self._pool.connection() as db:
            return self._seen(db.execute("SELECT value FROM revision").fetchone()[0])

    @staticmethod
    def _take_turn(db: psycopg.Connection, rows: int) -> int:
        """Raise the data version by `rows` and hold its row lock until commit: writers take turns here."""
        return db.execute("UPDATE revision SET value = value + %s RETURNING value", (rows,)).fetchone()[0]

    # -- writes -----------------------------------------------------------------------------------------------
    def facility_revision(self, facility_id: str) -> int:
        with self._pool.connection() as db:
            return db.execute("SELECT count(*) FROM events WHERE facility_id = %s", (facility_id,)).fetchone()[0]

    def append_event(self, event: dict, who: str, *, expected_revision: int | None, before: dict,
                     based_on: int | None = None) -> int:
        """Append a status event and its audit record; Conflict if the facility changed since `expected_revision`,
        Moved if it changed since `based_on` (the revision `before` was read at).

        Returns the facility's new revision.
        """
        with self._pool.connection() as db:
            revision = self._take_turn(db, 1)  # waits for any write in progress: the counts below are committed ones
            current = db.execute("SELECT count(*) FROM events WHERE facility_id = %s", (event["facility_id"],)).fetchone()[0]
            if expected_revision is not None and current != expected_revision:
                self._seen(revision - 1)
                raise Conflict(f"facility {event['facility_id']} is at revision {current}, not {expected_revision}")
            if based_on is not None and current != based_on:
                self._seen(revision - 1)  # so the caller's next snapshot includes the write that came first
                raise Moved(f"facility {event['facility_id']} is at revision {current}, not {based_on}")
            db.execute("INSERT INTO events (facility_id, as_of, status, sitting_name, sitting, source, note) VALUES "
                       "(%(facility_id)s, %(as_of)s, %(status)s, %(sitting_name)s, "
                       "ST_SetSRID(ST_MakePoint(%(sitting_lon)s::float8, %(sitting_lat)s::float8), 4326), %(source)s, %(note)s)",
                       event)
            self._audit(db, who, "status event", event["facility_id"], before, event)
            db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(revision)))
        self._seen(revision)
        return current + 1

    def add_incidents(self, incidents: gpd.GeoDataFrame, who: str) -> None:
        """Insert every row or none (a repeated id rolls the whole upload back with Duplicate)."""
        rows = incident_rows(incidents)
        try:
            with self._pool.connection() as db:
                revision = self._take_turn(db, len(rows))
                with db.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}, geom) VALUES "
                                       "(%s, %s, %s, %s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", rows)
                self._audit(db, who, "incidents added", f"{len(rows)} incidents", None, {"ids": [r[0] for r in rows]})
                db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(revision)))
        except psycopg.errors.UniqueViolation as exc:
            raise Duplicate(f"field 'id': {exc.diag.message_detail or exc}") from None
        self._seen(revision)

    @staticmethod
    def _audit(db: psycopg.Connection, who: str, action: str, target: str, before: dict | None, after: dict | None) -> None:
        db.execute("INSERT INTO audit (at, who, action, target, before, after) VALUES (%s, %s, %s, %s, %s, %s)",
                   (datetime.now(timezone.utc), who, action, target, plain_json(before), plain_json(after)))

    # -- reads ------------------------------------------------------------------------------------------------
    def events(self) -> pd.DataFrame:
        with self._pool.connection() as db:
            return self._events(db)

    @staticmethod
    def _events(db: psycopg.Connection) -> pd.DataFrame:
        rows = db.execute("SELECT facility_id, as_of, status, sitting_name, ST_X(sitting), ST_Y(sitting), source, note "
                          "FROM events ORDER BY seq").fetchall()
        frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        return frame.astype({"sitting_lon": float, "sitting_lat": float})

    def audit(self, target: str | None = None) -> pd.DataFrame:
        """Audit records as the SQLite store gives them: `at` as ISO text, `before` and `after` as JSON text."""
        where, args = ("WHERE target = %s", (target,)) if target else ("", ())
        with self._pool.connection() as db:
            rows = db.execute(f"SELECT seq, at, who, action, target, before::text, after::text FROM audit {where} ORDER BY seq",
                              args).fetchall()
        frame = pd.DataFrame(rows, columns=["seq", "at", "who", "action", "target", "before", "after"])
        frame["at"] = [utc_text(at, "microseconds") for at in frame["at"]]
        return frame

    def incidents(self) -> gpd.GeoDataFrame:
        with self._pool.connection() as db:
            return self._incidents(db)

    @staticmethod
    def _incidents(db: psycopg.Connection) -> gpd.GeoDataFrame:
        rows = db.execute(f"SELECT {', '.join(INCIDENT_COLUMNS)}, ST_X(geom), ST_Y(geom) FROM incidents ORDER BY seq").fetchall()
        frame = pd.DataFrame(rows, columns=[*INCIDENT_COLUMNS, "lon", "lat"])
        frame["date"] = pd.to_datetime(frame["date"])
        for column in ("fatalities", "geo_precision"):
            frame[column] = frame[column].astype("Int64")
        geometry = gpd.points_from_xy(frame.pop("lon").astype(float), frame.pop("lat").astype(float), crs="EPSG:4326")
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def snapshot(self) -> Snapshot:
        """Everything the store holds, read in one repeatable-read transaction: no write can fall between its parts."""
        with self._pool.connection() as db:
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            revision = db.execute("SELECT value FROM revision").fetchone()[0]
            events, incidents = self._events(db), self._incidents(db)
        self._seen(revision)
        counts = events["facility_id"].value_counts()
        return Snapshot(revision, events, incidents, {str(k): int(v) for k, v in counts.items()})

    def apply(self, base: Dataset) -> Dataset:
        """The base dataset with the store's events and incidents; its version names the store's revision once
        anything was written."""
        return self.snapshot().apply(base)

    # -- scenarios and route plans ----------------------------------------------------------------------------
    def save_scenario(self, key: str, spec: dict, who: str) -> None:
        """Keep a scenario (as submitted) under its content id; saving the same one again changes nothing."""
        with self._pool.connection() as db:
            db.execute("INSERT INTO scenarios VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                       (key, str(spec.get("name", "")), str(spec.get("description", "")), json.dumps(spec), who,
                        datetime.now(timezone.utc)))

    def scenarios(self) -> pd.DataFrame:
        with self._pool.connection() as db:
            rows = db.execute("SELECT id, name, description, saved_by, saved_at FROM scenarios ORDER BY saved_at, id").fetchall()
        frame = pd.DataFrame(rows, columns=["id", "name", "description", "saved_by", "saved_at"])
        frame["saved_at"] = [utc_text(at, "seconds") for at in frame["saved_at"]]
        return frame

    def scenario(self, key: str) -> dict | None:
        with self._pool.connection() as db:
            row = db.execute("SELECT spec FROM scenarios WHERE id = %s", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_route_plan(self, key: str, request: dict, plan: dict) -> None:
        """Keep a route plan (its request and its solved form) under its content id."""
        with self._pool.connection() as db:
            db.execute("INSERT INTO route_plans VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                       (key, json.dumps(request), json.dumps(plan), datetime.now(timezone.utc)))

    def route_plan(self, key: str) -> dict | None:
        with self._pool.connection() as db:
            row = db.execute("SELECT plan FROM route_plans WHERE id = %s", (key,)).fetchone()
        return None if row is None else json.loads(row[0])
