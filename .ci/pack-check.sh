#!/usr/bin/env bash
# What a service gets from `npm install @sensa-learn/db`, proven from the packed tarball: it is
# installed into three fresh projects (.ci/consumers/: ESM NodeNext with the newest peers and
# PGlite; CommonJS as NestJS compiles it, with the lowest peers and no PGlite; bundler resolution,
# bundled by esbuild), each type-checked strict without skipLibCheck. Then the README's "Using it
# in a service" runs as written: a scratch PostgreSQL 15 database is migrated with
# `npx sensa-db migrate` from the consumer's node_modules by a non-superuser owner using PG*
# variables (as ECS passes them), `app-login` and `seed` follow, and the README's snippet runs as
# the app login in all three projects, and on the embedded database; the README's drizzle-kit
# config migrates a second database. Needs the server at PGHOST_ADMIN (default 127.0.0.1:5432,
# trust, superuser postgres) with pgvector; creates and drops only sensa_pack_<pid>* objects.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
consumers=$root/.ci/consumers
work=$(mktemp -d "${TMPDIR:-/tmp}/sensa-pack.XXXXXX")
started=$SECONDS

admin_host=${PGHOST_ADMIN:-127.0.0.1} admin_port=${PGPORT_ADMIN:-5432}
run=sensa_pack_$$
owner=${run}_owner app=${run}_app db=$run kitdb=${run}_kit refdb=${run}_ref kitrefdb=${run}_kitref
owner_pw=$(openssl rand -hex 12) app_pw=$(openssl rand -hex 12)
url() { echo "postgres://$1:$2@$admin_host:$admin_port/$3"; }
sql() { env -u PGPASSWORD psql -X -q -v ON_ERROR_STOP=1 -h "$admin_host" -p "$admin_port" -U postgres "$@"; }

cleanup() {
  local code=$?
  local d drops=()
  for d in $db $kitdb $refdb $kitrefdb; do drops+=(-c "DROP DATABASE IF EXISTS $d WITH (FORCE)"); done
  sql -d postgres "${drops[@]}" -c "DROP ROLE IF EXISTS $app" -c "DROP ROLE IF EXISTS $owner" >/dev/null 2>&1 ||
    echo "pack-check: could not drop the databases and roles $run* (drop them by hand)" >&2
  if [ -n "${PACK_CHECK_KEEP:-}" ]; then echo "pack-check: kept $work" >&2; else rm -rf "$work"; fi
  exit $code
}
trap cleanup EXIT

step() { printf -- '--- pack-check: %s (%ss)\n' "$*" "$((SECONDS - started))"; }
install() { npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@"; }
kib() { du -sck "$@" 2>/dev/null | tail -n 1 | cut -f1; }
# Run with no database in the environment but what the caller passes (ECS-style PG* variables).
clean_env() { env -u DATABASE_URL -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE -u PGSSLMODE -u NODE_ENV "$@"; }
as_owner() { clean_env PGHOST="$admin_host" PGPORT="$admin_port" PGDATABASE="$db" PGUSER="$owner" PGPASSWORD="$owner_pw" "$@"; }
as_app() {
  clean_env PGHOST="$admin_host" PGPORT="$admin_port" PGDATABASE="$db" PGUSER="$app" PGPASSWORD="$app_pw" \
    OWNER_DATABASE_URL="$(url "$owner" "$owner_pw" "$db")" SNIPPET_FIXTURE="$work/fixture.json" "$@"
}

step "npm pack"
if ! (cd "$root" && npm pack --pack-destination "$work" >"$work/pack.out" 2>"$work/pack.err"); then
  tail -n 40 "$work/pack.out" "$work/pack.err" >&2
  echo "pack-check: npm pack failed (it builds first: npm run build)" >&2
  exit 1
fi
tarball=$work/$(tail -n 1 "$work/pack.out")
files=$(tar -tzf "$tarball" | wc -l)

step "install the tarball into the ESM, CommonJS and bundler projects"
for name in esm cjs bundler; do
  cp -r "$consumers/$name" "$work/$name"
  mkdir -p "$work/$name/src"
  cp "$consumers/shared/"*.ts "$work/$name/src/"
  node "$consumers/readme-snippet.mjs" "$root/README.md" "$work/$name" "${name/bundler/esm}" server
done
cp "$consumers/esm/api-embedded.ts" "$work/esm/src/"
node "$consumers/readme-snippet.mjs" "$root/README.md" "$work/esm" esm embedded
# The three installs are independent; npm's cache is shared and safe to use concurrently.
(cd "$work/esm" && install "$tarball" @electric-sql/pglite@0.5.14 @electric-sql/pglite-pgvector@0.0.15) &
(cd "$work/cjs" && install "$tarball" drizzle-orm@0.45.0 pg@8.11.0 zod@4.2.0 @types/pg@8.11.0) &
(cd "$work/bundler" && install "$tarball") &
wait -n && wait -n && wait -n

prod=$(cd "$work/esm" && npm ls --omit=dev --all --parseable | tail -n +2)
with_embedded=$(kib $prod)
without_embedded=$(kib $(grep -v '/@electric-sql/' <<<"$prod"))
versions() { (cd "$work/$1" && node -e 'console.log(`  ${process.argv[1]}:`, process.argv.slice(2).map((p) => `${p} ${require(`./node_modules/${p}/package.json`).version}`).join(", "))' "$@"); }
for name in esm cjs bundler; do versions "$name" drizzle-orm pg zod @types/pg; done
if [ -e "$work/cjs/node_modules/@electric-sql/pglite" ]; then echo "PGlite was installed without being asked for" >&2; exit 1; fi

step "type-check, strict, without skipLibCheck (errors in other packages' .d.ts listed, not fatal: see typecheck.mjs)"
# Four tsc runs over drizzle-orm's ~600 declaration files: in parallel, each to its own log.
checks=("esm -p ." "cjs -p ." "cjs -p tsconfig.nodenext.json" "bundler -p .")
pids=()
for i in "${!checks[@]}"; do
  read -r project args <<<"${checks[$i]}"
  (cd "$work/$project" && node "$consumers/typecheck.mjs" $args) >"$work/tsc-$i.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  sed "s/^/  ${checks[$i]%% *}: /" "$work/tsc-$i.log" | tail -n 30
done
[ $failed = 0 ] || { echo "pack-check: type errors (above)" >&2; exit 1; }
(cd "$work/bundler" &&
  npx esbuild src/readme-snippet-server.ts --bundle --splitting --format=esm --platform=node --target=node20 --log-level=warning \
    --external:pg-native --external:@aws-sdk/rds-signer --external:@electric-sql/* --outdir=dist --out-extension:.js=.mjs \
    --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);")

step "PostgreSQL: a database owned by a non-superuser, extensions created by a superuser (as on RDS)"
sql -d postgres -c "CREATE ROLE $owner LOGIN PASSWORD '$owner_pw' NOSUPERUSER NOBYPASSRLS CREATEROLE CREATEDB" \
  -c "CREATE DATABASE $db OWNER $owner" -c "CREATE DATABASE $kitdb OWNER $owner" \
  -c "CREATE DATABASE $refdb OWNER $owner" -c "CREATE DATABASE $kitrefdb OWNER $owner"
# On RDS the owner (rds_superuser) may create vector, so `verify` makes its own scratch reference;
# here only a superuser may, so verify gets empty databases with the extensions (--reference-url).
for d in $db $kitdb $refdb $kitrefdb; do sql -d "$d" -c 'CREATE EXTENSION "uuid-ossp"' -c "CREATE EXTENSION vector" -c "CREATE EXTENSION pg_trgm"; done

step "npx sensa-db migrate, app-login, seed, status, verify from node_modules, as the owner with PG* variables"
cd "$work/cjs"
as_owner npx sensa-db migrate
as_owner APP_DB_USER="$app" APP_DB_PASSWORD="$app_pw" npx sensa-db app-login
as_owner npx sensa-db seed --users 5 >/dev/null
as_owner npx sensa-db status | tail -n 1
as_owner npx sensa-db verify --reference-url "$(url "$owner" "$owner_pw" "$refdb")"
as_owner SNIPPET_FIXTURE="$work/fixture.json" node dist/setup.js

step "the README snippet as the app login: ESM, CommonJS (require of ESM), bundled"
(cd "$work/esm" && as_app node dist/readme-snippet-server.js)
(cd "$work/cjs" && as_app node dist/readme-snippet-server.js)
(cd "$work/bundler" && as_app node dist/readme-snippet-server.mjs)

step "the README snippet on the embedded database (createTestDb)"
(cd "$work/esm" && clean_env node dist/readme-snippet-embedded.js)

step "the README's drizzle-kit config migrates a second database; sensa-db finds it current"
(cd "$work/esm" && clean_env DATABASE_URL="$(url "$owner" "$owner_pw" "$kitdb")" sh -c \
  'npx drizzle-kit migrate >/dev/null && npx sensa-db status | tail -n 1 && npx sensa-db verify --reference-url "$0"' "$(url "$owner" "$owner_pw" "$kitrefdb")")
via=$(sql -d "$kitdb" -tAc "SELECT string_agg(DISTINCT applied_via, ',') FROM migrations_log")
[ "$via" = drizzle-kit ] || { echo "migrations_log.applied_via is '$via', expected drizzle-kit" >&2; exit 1; }

step "the CLI with no database configured: refuses in production; elsewhere, without PGlite, fails naming it"
cd "$work/cjs"
if out=$(clean_env NODE_ENV=production npx sensa-db status 2>&1); then echo "sensa-db ran with no database in production" >&2; exit 1; fi
grep -q "refusing" <<<"$out" || { echo "unexpected: $out" >&2; exit 1; }
echo "  production: $(tail -n 1 <<<"$out")"
if out=$(clean_env npx sensa-db status 2>&1); then echo "sensa-db status ran embedded without PGlite installed" >&2; exit 1; fi
grep -q "@electric-sql/pglite" <<<"$out" || { echo "unexpected: $out" >&2; exit 1; }
echo "  no PGlite: $(tail -n 1 <<<"$out")"

printf -- '--- pack-check: ok in %ss: %s, %s KiB packed (%s files); installed %s KiB without the embedded peers, %s KiB with them\n' \
  "$((SECONDS - started))" "$(basename "$tarball")" "$(kib "$tarball")" "$files" "$without_embedded" "$with_embedded"
