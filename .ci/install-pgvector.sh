#!/usr/bin/env bash
# Installs pgvector into this machine's PostgreSQL 15 and makes sure the server runs.
#
# Debian bookworm ships no pgvector package, so we build Debian trixie's *source* package with
# PGXS against postgresql-server-dev-15. The trixie source list lives in a private apt directory
# (Dir::Etc::SourceList, Dir::State::Lists, Dir::Cache) so /etc/apt is never touched and the
# machine's own package selection cannot drift to trixie.
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
work=${PGVECTOR_BUILD_DIR:-/tmp/sensa-pgvector}

log() { printf '[install-pgvector] %s\n' "$*"; }

start_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL $PG_MAJOR"
    pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

if [ -f "/usr/share/postgresql/$PG_MAJOR/extension/vector.control" ]; then
  log "pgvector already installed: $(grep default_version "/usr/share/postgresql/$PG_MAJOR/extension/vector.control")"
  start_postgres
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s "postgresql-server-dev-$PG_MAJOR" >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null; then
  log "installing build dependencies"
  apt-get update -qq
  apt-get install -y -qq "postgresql-server-dev-$PG_MAJOR" dpkg-dev make gcc >/dev/null
fi

mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
cat > "$work/sources.list" <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
LIST
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=-"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "APT::Sandbox::User=root"
)
log "fetching trixie's pgvector source package"
apt-get "${apt_private[@]}" update -qq
(cd "$work/src" && apt-get "${apt_private[@]}" source -qq --download-only pgvector \
  && dpkg-source -x --no-check ./pgvector_*.dsc pgvector >/dev/null)

log "building with PGXS against PostgreSQL $PG_MAJOR"
pg_config_bin="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
make -s -C "$work/src/pgvector" PG_CONFIG="$pg_config_bin" OPTFLAGS="" >/dev/null
make -s -C "$work/src/pgvector" PG_CONFIG="$pg_config_bin" install >/dev/null
log "installed: $(grep default_version "/usr/share/postgresql/$PG_MAJOR/extension/vector.control")"
start_postgres
