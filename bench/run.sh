#!/usr/bin/env bash
# `make bench`: a registration rush on this machine, measured side by side. See bench/README.md.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and the venv from `make install`.
# Installs wrk from Debian's packages if it is missing. Sends traffic to 127.0.0.1 only.
# Knobs (environment): BENCH_DB, BENCH_PORT, BENCH_STRIPE_PORT, BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
OUT=bench/out
PGHOST=127.0.0.1
PGPORT=5432
DB=${BENCH_DB:-affinity_bench}
mkdir -p "$OUT"
started=$(date +%s)
export BENCH_STARTED=$started
say() { printf '[bench %3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ -x "$PY" ] || { echo "No $PY: run 'make install' first (make bench does)."; exit 1; }

# --- PostgreSQL and a fresh database -----------------------------------------
if ! pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h "$PGHOST" -p "$PGPORT" -q && break; sleep 1; done
fi
pg_isready -h "$PGHOST" -p "$PGPORT" -q || { echo "PostgreSQL is not answering on $PGHOST:$PGPORT"; exit 1; }
psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
say "fresh database $DB"

# --- production settings, with generated secrets -----------------------------
free_port() {
  "$PY" -c 'import socket,sys; s=socket.socket(); p=int(sys.argv[1])
try: s.bind(("127.0.0.1",p))
except OSError: s.bind(("127.0.0.1",0))
print(s.getsockname()[1])' "$1"
}
PORT=$(free_port "${BENCH_PORT:-8765}")
STRIPE_PORT=$(free_port "${BENCH_STRIPE_PORT:-12111}")
export DJANGO_SETTINGS_MODULE=config.settings.production
DJANGO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
STRIPE_WEBHOOK_SECRET=whsec_bench_$("$PY" -c 'import secrets; print(secrets.token_hex(16))')
export DJANGO_SECRET_KEY STRIPE_WEBHOOK_SECRET
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=False
export DATABASE_URL="postgres://postgres@$PGHOST:$PGPORT/$DB"
export STRIPE_SECRET_KEY=sk_test_bench
export STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT"
export SITE_URL="http://127.0.0.1:$PORT"
export EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
# Every simulated buyer comes from 127.0.0.1; in production they come from many networks. The cap on seats
# one network's unpaid card checkouts may hold would refuse them all after 60, so it is off for the bench
# (tests/registrations/test_network_holds.py covers it).
export CHECKOUT_HOLD_SEATS_PER_NETWORK=0
export BENCH_URL="http://127.0.0.1:$PORT"
export BENCH_GUNICORN_PIDFILE="$OUT/gunicorn.pid"

say "migrate, collectstatic, fill the rush"
timeout 180 "$PY" manage.py migrate --noinput >"$OUT/migrate.log"
timeout 180 "$PY" manage.py collectstatic --noinput --clear >"$OUT/collectstatic.log"
timeout 300 "$PY" bench/fill_rush.py | tee "$OUT/fill.log"

# --- servers ------------------------------------------------------------------
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

"$PY" -m tests.stripe_double --port "$STRIPE_PORT" >"$OUT/stripe_double.log" 2>&1 &
pids+=($!)
rm -f "$BENCH_GUNICORN_PIDFILE"
# The production configuration (gunicorn.conf.py); only the address, pid file and log level differ.
.venv/bin/gunicorn -c gunicorn.conf.py --bind "127.0.0.1:$PORT" \
  --pid "$BENCH_GUNICORN_PIDFILE" --log-level warning >"$OUT/gunicorn.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  "$PY" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$BENCH_URL/healthz/" >/dev/null 2>&1 && break
  sleep 0.2
done
say "gunicorn (gunicorn.conf.py) on $BENCH_URL, Stripe test double on $STRIPE_API_BASE"

# --- measure --------------------------------------------------------------------
timeout 720 "$PY" bench/bench.py
say "done; table in bench/RESULTS.md, raw wrk output in $OUT/"
