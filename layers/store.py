"""The persistent store: append-only status events, audit records and added incidents, in one SQLite file
(or, with a postgresql:// URL, in PostgreSQL/PostGIS: layers.store_pg; `open_store` chooses).

The embedded or supplied dataset stays read-only; the store holds what was written through the API.
Every write is one transaction: a bad row or a crash leaves the store as it was.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from .catalog import Dataset
from .history import EVENT_COLUMNS, combine_events

if TYPE_CHECKING:
    from .store_pg import PostgresStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, facility_id TEXT NOT NULL, as_of TEXT NOT NULL, status TEXT NOT NULL,
    sitting_name TEXT NOT NULL, sitting_lon REAL, sitting_lat REAL, source TEXT NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, before TEXT, after TEXT);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, date TEXT NOT NULL, event_type TEXT NOT NULL, sub_event_type TEXT, actor1 TEXT, actor2 TEXT,
    fatalities INTEGER, geo_precision INTEGER, source_dataset TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS route_plans (
    id TEXT PRIMARY KEY, request TEXT NOT NULL, plan TEXT NOT NULL, saved_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, spec TEXT NOT NULL, saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL);
"""


class Conflict(Exception):
    """The write was based on a state that has changed since (a stale ETag)."""


class Moved(Exception):
    """The facility changed after the snapshot the write read its `before` from: read again and retry."""


class Duplicate(ValueError):
    """An added row's id is already in the store (or twice in the upload); nothing was added."""


@dataclass(frozen=True)
class Snapshot:
    """One committed version of the store: what it adds to the base dataset, read in one transaction."""

    revision: int                       # grows with every write
    events: pd.DataFrame
    incidents: gpd.GeoDataFrame
    facility_revisions: dict[str, int]  # status events written per facility

    def apply(self, base: Dataset) -> Dataset:
        """The base dataset with these events and incidents; its version names the revision once anything was
        written (an empty store leaves the version as `geo-justice layers list` prints it)."""
        events = combine_events(base.events, self.events)
        incidents = base.incidents
        if not self.incidents.empty:
            incidents = self.incidents if incidents is None else gpd.GeoDataFrame(
                pd.concat([incidents, self.incidents[incidents.columns]], ignore_index=True), geometry="geometry", crs="EPSG:4326")
        versions = {**base.versions, "store": f"r{self.revision}"} if self.revision else base.versions
        return replace(base, events=events, incidents=incidents, versions=versions)


#: URL schemes that name a PostgreSQL store (anything else is a SQLite file path).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def masked(url: str) -> str:
    """A store URL fit to print: its password replaced by ***."""
    return re.sub(r"(password=)[^&\s]*", r"\1***", re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1:***@", url))


def open_store(where: str | Path, base: Dataset) -> Store | PostgresStore:
    """The store `where` names, created on first use: a postgresql:// URL (PostGIS, shared by several service
    processes and hosts) or the path of a SQLite file (one host)."""
    if str(where).startswith(POSTGRES_SCHEMES):
        try:
            from .store_pg import PostgresStore
        except ImportError as exc:
            raise ValueError(f"{masked(str(where))}: a PostgreSQL store needs psycopg and psycopg_pool "
                             f"(pip install 'geo-justice[postgres]'): {exc}") from None
        return PostgresStore(str(where), base)
    return Store(where, base)


def incident_rows(incidents: gpd.GeoDataFrame) -> list[tuple]:
    """Uploaded incidents as the stores' rows: id, date, event and sub-event type, actors, fatalities, geo
    precision, source dataset, longitude, latitude (None where a number is missing)."""
    return [(r.id, r.date.strftime("%Y-%m-%d"), r.event_type, r.sub_event_type, r.actor1, r.actor2,
             None if pd.isna(r.fatalities) else int(r.fatalities), None if pd.isna(r.geo_precision) else int(r.geo_precision),
             r.source_dataset, r.geometry.x, r.geometry.y) for r in incidents.itertuples()]


class Store:
    """One SQLite file; each method opens its own connection, so threads may share a Store. `revision` keeps one
    watching connection per thread and counts again only when SQLite's `data_version` says another connection
    (this process's writes included) has committed since."""

    def __init__(self, path: str | Path, base: Dataset):
        self.path = Path(path)
        self._watch = threading.local()
        self._watchers: list[sqlite3.Connection] = []
        self._watchers_lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('base_name', ?), ('created', ?)",
                       (base.name, datetime.now(timezone.utc).isoformat(timespec="seconds")))
            made_for = db.execute("SELECT value FROM meta WHERE key = 'base_name'").fetchone()[0]
        if made_for != base.name:
            raise ValueError(f"{self.path}: this store holds changes to dataset {made_for!r}, not {base.name!r}; "
                             "name another store (--store) for this dataset")

    def close(self) -> None:
        """Close the connections `revision` watches with (every other method closes its own); a later call opens
        new ones."""
        with self._watchers_lock:
            for db in self._watchers:
                db.close()
            self._watchers.clear()
            self._watch = threading.local()

    @contextmanager
    def _connect(self, write: bool = False):
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            if write:
                db.execute("BEGIN IMMEDIATE")  # one writer at a time, whole transaction or nothing
            yield db
            if write:
                db.execute("COMMIT")
        except BaseException:
            if write:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def revision(self) -> int:
        """Grows with every write."""
        watch = self._watch
        if not hasattr(watch, "db"):
            watch.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            watch.version, watch.revision = None, 0
            with self._watchers_lock:
                self._watchers.append(watch.db)
        version = watch.db.execute("PRAGMA data_version").fetchone()[0]
        if version != watch.version:  # a commit since the last count (or the first call): count again
            watch.revision = watch.db.execute(
                "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM incidents)").fetchone()[0]
            watch.version = version
        return watch.revision

    def facility_revision(self, facility_id: str) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM events WHERE facility_id = ?", (facility_id,)).fetchone()[0]

    def append_event(self, event: dict, who: str, *, expected_revision: int | None, before: dict,
                     based_on: int | None = None) -> int:
        """Append a status event and its audit record; Conflict if the facility changed since `expected_revision`,
        Moved if it changed since `based_on` (the revision `before` was read at).

        Returns the facility's new revision.
        """
        with self._connect(write=True) as db:
            current = db.execute("SELECT COUNT(*) FROM events WHERE facility_id = ?", (event["facility_id"],)).fetchone()[0]
            if expected_revision is not None and current != expected_revision:
                raise Conflict(f"facility {event['facility_id']} is at revision {current}, not {expected_revision}")
            if based_on is not None and current != based_on:
                raise Moved(f"facility {event['facility_id']} is at revision {current}, not {based_on}")
            db.execute("INSERT INTO events (facility_id, as_of, status, sitting_name, sitting_lon, sitting_lat, source, note)"
                       " VALUES (:facility_id, :as_of, :status, :sitting_name, :sitting_lon, :sitting_lat, :source, :note)", event)
            self._audit(db, who, "status event", event["facility_id"], before, event)
            return current + 1

    def add_incidents(self, incidents: gpd.GeoDataFrame, who: str) -> None:
        """Insert every row or none (a repeated id rolls the whole upload back with Duplicate)."""
        rows = incident_rows(incidents)
        try:
            with self._connect(write=True) as db:
                db.executemany("INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._audit(db, who, "incidents added", f"{len(rows)} incidents", None, {"ids": [r[0] for r in rows]})
        except sqlite3.IntegrityError as exc:
            raise Duplicate(str(exc)) from None

    @staticmethod
    def _audit(db: sqlite3.Connection, who: str, action: str, target: str, before: dict | None, after: dict | None) -> None:
        db.execute("INSERT INTO audit (at, who, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                   (datetime.now(timezone.utc).isoformat(timespec="microseconds"), who, action, target,
                    json.dumps(before, default=str), json.dumps(after, default=str)))

    def events(self) -> pd.DataFrame:
        with self._connect() as db:
            return self._events(db)

    @staticmethod
    def _events(db: sqlite3.Connection) -> pd.DataFrame:
        frame = pd.read_sql_query("SELECT * FROM events ORDER BY seq", db)
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        return frame[list(EVENT_COLUMNS)]

    def audit(self, target: str | None = None) -> pd.DataFrame:
        with self._connect() as db:
            query, args = ("SELECT * FROM audit WHERE target = ? ORDER BY seq", (target,)) if target else ("SELECT * FROM audit ORDER BY seq", ())
            return pd.read_sql_query(query, db, params=args)

    def incidents(self) -> gpd.GeoDataFrame:
        with self._connect() as db:
            return self._incidents(db)

    @staticmethod
    def _incidents(db: sqlite3.Connection) -> gpd.GeoDataFrame:
        frame = pd.read_sql_query("SELECT * FROM incidents ORDER BY rowid", db)
        frame["date"] = pd.to_datetime(frame["date"])
        for column in ("fatalities", "geo_precision"):
            frame[column] = frame[column].astype("Int64")
        geometry = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"), crs="EPSG:4326")
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def snapshot(self) -> Snapshot:
        """Everything the store holds, read in one transaction: no write can fall between its parts."""
        with self._connect() as db:
            db.execute("BEGIN")
            events, incidents = self._events(db), self._incidents(db)
            db.execute("COMMIT")
        counts = events["facility_id"].value_counts()
        return Snapshot(len(events) + len(incidents), events, incidents, {str(k): int(v) for k, v in counts.items()})

    def apply(self, base: Dataset) -> Dataset:
        """The base dataset with the store's events and incidents; its version names the store's revision once
        anything was written."""
        return self.snapshot().apply(base)

    def save_scenario(self, key: str, spec: dict, who: str) -> None:
        """Keep a scenario (as submitted) under its content id; saving the same one again changes nothing."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._connect(write=True) as db:
            db.execute("INSERT OR IGNORE INTO scenarios VALUES (?, ?, ?, ?, ?, ?)",
                       (key, str(spec.get("name", "")), str(spec.get("description", "")), json.dumps(spec), who, now))

    def scenarios(self) -> pd.DataFrame:
        with self._connect() as db:
            return pd.read_sql("SELECT id, name, description, saved_by, saved_at FROM scenarios ORDER BY saved_at, id", db)

    def scenario(self, key: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT spec FROM scenarios WHERE id = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def save_route_plan(self, key: str, request: dict, plan: dict) -> None:
        """Keep a route plan (its request and its solved form) under its content id."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._connect(write=True) as db:
            db.execute("INSERT OR IGNORE INTO route_plans VALUES (?, ?, ?, ?)", (key, json.dumps(request), json.dumps(plan), now))

    def route_plan(self, key: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT plan FROM route_plans WHERE id = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])
