#!/usr/bin/env bash
# Make sure a MariaDB server answers on 127.0.0.1:3306 with a `mno_legacy` database and a
# `mno_legacy` user (password `mno_legacy`) for the connector tests (test machines only).
# Installs Debian's package when missing (needs root), starts the server, creates the database.
# Idempotent: run it as often as you like.
set -euo pipefail

DB=${MNO_MARIADB_DATABASE:-mno_legacy}
USER_NAME=${MNO_MARIADB_USER:-mno_legacy}
PASSWORD=${MNO_MARIADB_PASSWORD:-mno_legacy}

ready() {
  mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1
}

if ! command -v mariadbd >/dev/null 2>&1; then
  echo "ensure-mariadb: installing MariaDB from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mariadb-server >/dev/null
fi

if ! ready; then
  conf=/etc/mysql/mariadb.conf.d/99-mno-test.cnf
  if [ ! -f "$conf" ]; then
    # Loopback only, and enough connections for parallel tests.
    printf '[mysqld]\nbind-address = 127.0.0.1\nport = 3306\nmax_connections = 200\n' > "$conf"
  fi
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld 2>/dev/null || true
  if ! service mariadb start >/dev/null 2>&1; then
    # Containers without an init system: start the daemon directly.
    (mysqld_safe >/dev/null 2>&1 &)
  fi
  for _ in $(seq 1 100); do
    ready && break
    sleep 0.2
  done
  ready || { echo "ensure-mariadb: the server did not start" >&2; exit 1; }
fi

mariadb --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$USER_NAME'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
CREATE USER IF NOT EXISTS '$USER_NAME'@'localhost' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB\`.* TO '$USER_NAME'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$DB\`.* TO '$USER_NAME'@'localhost';
FLUSH PRIVILEGES;
SQL
echo "ensure-mariadb: ready on 127.0.0.1:3306 (database $DB, user $USER_NAME)" >&2
