-- The store's first schema: what the SQLite store holds, with PostGIS points and spatial indexes.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

-- The data version: one row, raised by every write in the write's own transaction (so writes take turns on it).
CREATE TABLE revision (one boolean PRIMARY KEY DEFAULT true CHECK (one), value bigint NOT NULL);
INSERT INTO revision VALUES (true, 0);

-- Append-only status events; `sitting` is the place a facility sits away from its seat (NULL: no such place).
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_id text NOT NULL,
    as_of date NOT NULL,
    status text NOT NULL,
    sitting_name text NOT NULL,
    sitting geometry(Point, 4326),
    source text NOT NULL,
    note text NOT NULL);
CREATE INDEX events_facility ON events (facility_id);
CREATE INDEX events_sitting ON events USING gist (sitting);

-- Who changed what, when, and the state before and after.
CREATE TABLE audit (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    who text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    before jsonb,
    after jsonb);
CREATE INDEX audit_target ON audit (target);

-- Incidents added through the API (ACLED or UCDP schema), in upload order.
CREATE TABLE incidents (
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id text PRIMARY KEY,
    date date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text,
    actor1 text,
    actor2 text,
    fatalities integer,
    geo_precision integer,
    source_dataset text NOT NULL,
    geom geometry(Point, 4326) NOT NULL);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX incidents_date ON incidents (date);

-- Documents kept as submitted (JSON text), under their content ids.
CREATE TABLE route_plans (id text PRIMARY KEY, request text NOT NULL, plan text NOT NULL, saved_at timestamptz NOT NULL);
CREATE TABLE scenarios (
    id text PRIMARY KEY, name text NOT NULL, description text NOT NULL, spec text NOT NULL, saved_by text NOT NULL,
    saved_at timestamptz NOT NULL);
