#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 with a `test` database that the
# `postgres` role reaches without a password from loopback (test machines only).
# Installs Debian's package when missing (needs root), starts the cluster, creates the database.
set -euo pipefail

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  ready=1
else
  ready=0
fi

if [ "$ready" = 0 ]; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
    pg_createcluster "$version" main >/dev/null
  fi
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q '^# mno-test' "$hba"; then
    # Loopback trust for the test role: this script is for developer and CI machines only.
    sed -i '1i # mno-test\nhost all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  fi
  conf=/etc/postgresql/$version/main/postgresql.conf
  if ! grep -q '^# mno-test' "$conf"; then
    printf '\n# mno-test\nmax_connections = 200\nlisten_addresses = '"'"'127.0.0.1'"'"'\n' >> "$conf"
  fi
  pg_ctlcluster "$version" main start || pg_ctlcluster "$version" main restart
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.2
  done
fi

if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "create database test" >/dev/null
fi
echo "ensure-postgres: ready on 127.0.0.1:5432" >&2
