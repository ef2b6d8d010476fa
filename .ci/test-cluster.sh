#!/usr/bin/env bash
# A throwaway TLS-only PostgreSQL 15 cluster with its own CA, for the connection tests
# (test/support/cluster.ts runs it; never the shared 5432 cluster, which other runs use).
#
#   .ci/test-cluster.sh start NAME PORT   create and start it; prints its directory, which holds
#                                         ca.crt (the CA that signed the server's certificate)
#                                         and other-ca.crt (a CA that did not)
#   .ci/test-cluster.sh restart NAME      fast restart (what a failover looks like to a client)
#   .ci/test-cluster.sh stop NAME         stop and remove it
#
# The server certificate names only DNS:localhost, so connecting to 127.0.0.1 with hostname
# verification fails while verify-ca passes: both modes are tested. pg_hba has hostssl lines only,
# so a connection without TLS is refused. Needs root (Debian's pg_createcluster) and openssl.
set -euo pipefail
cmd=${1:?start|restart|stop} name=${2:?cluster name}
dir=/tmp/sensa-cluster-$name
conf=/etc/postgresql/15/$name

case $cmd in
start)
  port=${3:?port}
  pg_dropcluster --stop 15 "$name" 2>/dev/null || true # left by a killed run
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  quiet() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; }; }
  quiet openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Sensa test CA" -keyout ca.key -out ca.crt
  quiet openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Some other CA" -keyout other-ca.key -out other-ca.crt
  quiet openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
  printf 'subjectAltName=DNS:localhost\n' >san.ext
  quiet openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt
  chown postgres server.key server.crt && chmod 600 server.key && chmod 755 "$dir"
  pg_createcluster 15 "$name" -p "$port" -- --auth=trust >/dev/null
  cat >>"$conf/postgresql.conf" <<EOF
listen_addresses = 'localhost'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
EOF
  printf '%s\n' 'local all postgres peer' 'hostssl all all 127.0.0.1/32 trust' 'hostssl all all ::1/128 trust' >"$conf/pg_hba.conf"
  pg_ctlcluster 15 "$name" start
  echo "$dir"
  ;;
restart) pg_ctlcluster 15 "$name" restart -m fast ;;
stop)
  pg_dropcluster --stop 15 "$name" 2>/dev/null || true
  rm -rf "$dir"
  ;;
*) echo "unknown command $cmd" >&2 && exit 2 ;;
esac
