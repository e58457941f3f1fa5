#!/bin/sh
# Once, on the database host (Debian: apt-get install postgresql postgresql-15-postgis-3):
# a role and a database for geo-justice, with PostGIS. The service creates and migrates its tables.
set -eu
sudo -u postgres createuser geo_justice
sudo -u postgres createdb --owner geo_justice geo_justice
sudo -u postgres psql --dbname geo_justice --command 'CREATE EXTENSION IF NOT EXISTS postgis'
# Local connections by peer/ident or a password in ~/.pgpass; for another host, add a line to pg_hba.conf, e.g.
#   host  geo_justice  geo_justice  10.0.0.0/24  scram-sha-256
