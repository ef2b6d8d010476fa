#!/usr/bin/env bash
# A hot standby of the test primary and a pgbouncer in front of the primary, for the replica and
# pooler tests (test/support/replica.ts starts them when missing; .ci/run starts them before the
# tests). Needs root, Debian's PostgreSQL 15 (pg_createcluster, pg_basebackup) and pgbouncer.
#
#   .ci/replica-and-pooler.sh start [--if-missing]   standby on 5442 streaming from 127.0.0.1:5432,
#                                      pgbouncer (transaction mode) on 6432; idempotent: what already
#                                      runs healthy is kept. Prints the two admin urls.
#   .ci/replica-and-pooler.sh stop [--if-unused]     stops both and removes the standby; with
#                                      --if-unused only when nobody holds the users lock (below)
#   .ci/replica-and-pooler.sh status                 exit 0 when both answer
#
# Users (a test file, .ci/run) hold a shared flock on $USERS_LOCK while they use the servers, so one
# run's "stop --if-unused" never pulls them from under another's. Start and stop are serialised by
# $OP_LOCK. The primary is only touched to allow replication connections from 127.0.0.1 (one
# pg_hba line and a reload); its wal_level (replica) and max_wal_senders already allow streaming.
# No replication slot: a slot left by a killed run would pin WAL on the shared primary for ever;
# a standby that fell too far behind is simply rebuilt by the next start.
set -euo pipefail
cmd=${1:?start|stop|status}
flag=${2:-}

PRIMARY_PORT=${SENSA_PRIMARY_PORT:-5432}
STANDBY_PORT=5442
POOLER_PORT=6432
NAME=sensa_replica
DIR=/tmp/sensa-replica-and-pooler
DATA=/var/lib/postgresql/15/$NAME
CONF=/etc/postgresql/15/$NAME
OP_LOCK=/tmp/sensa-replica-op.lock
USERS_LOCK=/tmp/sensa-replica-users.lock
PRIMARY_HBA=$(psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -XAtqc 'SHOW hba_file' 2>/dev/null || echo /etc/postgresql/15/main/pg_hba.conf)
PSQL=(psql -h 127.0.0.1 -U postgres -d postgres -XAtq)

standby_ok() {
  [[ $("${PSQL[@]}" -p $STANDBY_PORT -c "SELECT pg_is_in_recovery() AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')" 2>/dev/null) == t ]]
}
pooler_ok() { [[ $("${PSQL[@]}" -p $POOLER_PORT -c 'SELECT 1' 2>/dev/null) == 1 ]]; }

start_standby() {
  standby_ok && return 0
  pg_dropcluster --stop 15 $NAME 2>/dev/null || true
  rm -rf "$DATA" && mkdir -p "$DATA" && chown postgres: "$DATA" && chmod 700 "$DATA"
  if ! grep -qE '^host\s+replication\s+postgres\s+127\.0\.0\.1/32' "$PRIMARY_HBA"; then
    printf '# added by sensa-db .ci/replica-and-pooler.sh: the test standby streams from here\nhost replication postgres 127.0.0.1/32 trust\n' >>"$PRIMARY_HBA"
    "${PSQL[@]}" -p "$PRIMARY_PORT" -c 'SELECT pg_reload_conf()' >/dev/null
  fi
  # -R writes standby.signal and primary_conninfo; -X stream copies the WAL the backup needs.
  runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" -R -X stream -c fast
  # The primary's configuration lives in /etc, so the copy has none: pg_createcluster adopts these.
  cat >"$DATA/postgresql.conf" <<EOF
port = $STANDBY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
hot_standby = on
hot_standby_feedback = on
max_connections = 200
shared_buffers = 128MB
EOF
  printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' >"$DATA/pg_hba.conf"
  : >"$DATA/pg_ident.conf"
  chown postgres: "$DATA"/*.conf
  pg_createcluster 15 $NAME -p $STANDBY_PORT -d "$DATA" >/dev/null
  pg_ctlcluster 15 $NAME start 8>&- 9>&-
  for _ in $(seq 1 300); do standby_ok && return 0; sleep 0.1; done
  echo "the standby on $STANDBY_PORT started but does not stream from the primary" >&2
  return 1
}

start_pooler() {
  pooler_ok && return 0
  stop_pooler
  mkdir -p "$DIR" && chown postgres "$DIR"
  # trust: tests authenticate as these roles without passwords; pgbouncer still wants them listed.
  printf '"%s" ""\n' postgres sensa_test_owner sensa_test_app >"$DIR/userlist.txt"
  cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PRIMARY_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $POOLER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
; small on purpose: thousands of client transactions share a handful of server sessions
default_pool_size = 4
max_client_conn = 2000
max_db_connections = 8
; idle server sessions close soon, so a test database can be dropped (WITH FORCE anyway)
server_idle_timeout = 5
ignore_startup_parameters = extra_float_digits,statement_timeout
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
  chown postgres "$DIR"/*
  runuser -u postgres -- pgbouncer -d -q "$DIR/pgbouncer.ini" 8>&- 9>&-
  for _ in $(seq 1 50); do pooler_ok && return 0; sleep 0.1; done
  echo "pgbouncer did not answer on $POOLER_PORT (see $DIR/pgbouncer.log)" >&2
  return 1
}

stop_pooler() {
  local pid
  pid=$(cat "$DIR/pgbouncer.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DIR/pgbouncer.pid"
}

stop_all() {
  stop_pooler
  pg_dropcluster --stop 15 $NAME 2>/dev/null || true
  rm -rf "$DATA" "$DIR"
}

exec 8>"$OP_LOCK"
flock -x 8
case $cmd in
start)
  start_standby
  start_pooler
  echo "postgres://postgres@127.0.0.1:$STANDBY_PORT/postgres"
  echo "postgres://postgres@127.0.0.1:$POOLER_PORT/postgres"
  ;;
stop)
  if [[ $flag == --if-unused ]]; then
    exec 9>"$USERS_LOCK"
    flock -n -x 9 || { echo "still in use by another run: left running"; exit 0; }
  fi
  stop_all
  ;;
status) standby_ok && pooler_ok ;;
*) echo "unknown command $cmd" >&2 && exit 2 ;;
esac
