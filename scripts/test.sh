#!/usr/bin/env bash
# `make test`: lint, types, migrations check, then pytest in three passes:
#   1. every non-browser test on PostgreSQL, with Redis and a real Celery worker (when reachable);
#   2. the same tests on the embedded default (SQLite, in-memory channel layer, eager Celery);
#   3. the browser tests (real Chromium) in their own invocation, on PostgreSQL when reachable.
# The first two passes spread their tests over one pytest-xdist worker per core, an idle worker taking
# tests queued for a busy one (--dist worksteal; PYTEST_WORKERS to change
# that; 1 runs them in one process): every worker has its own test database, and the tests
# keep their queues, channel prefixes, ports and files apart (docs/development.md). The browser
# pass runs in one process: two Chromiums and their servers at once made timing-bound checks
# flaky on two cores.
# Under CI=true a missing PostgreSQL, Redis, Chromium or ESConv data is a failure, never a skip.
# Each step's duration is printed after it, and all of them with the total at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
CI_MODE=false
case "${CI:-}" in 1|true|TRUE|yes) CI_MODE=true ;; esac
PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
PG_DB=${TEST_PG_DATABASE:-esc_platform}
REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/9}
failures=()
timings=()
WORKERS=${PYTEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}
PARALLEL=()
if [ "$WORKERS" -gt 1 ] 2>/dev/null; then PARALLEL=(-n "$WORKERS" --dist worksteal); fi

# Microseconds since the epoch (bash 5's EPOCHREALTIME; whole seconds on older shells).
now_us() {
  if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/[.,]/}"; else echo $((SECONDS * 1000000)); fi
}
seconds_since() {  # seconds_since START_US: elapsed seconds with one decimal
  local us=$(( $(now_us) - $1 ))
  printf '%d.%d' $((us / 1000000)) $(((us % 1000000) / 100000))
}
STARTED_US=$(now_us)

step() { echo; echo "=== $* ==="; }
run() {  # run NAME CMD...: record a failure instead of stopping, so one run reports everything
  local name=$1; shift
  local started rc took status=""
  started=$(now_us)
  "$@"
  rc=$?
  took=$(seconds_since "$started")
  if [ $rc -ne 0 ]; then failures+=("$name (exit $rc)"); status=" (failed)"; fi
  echo "--- $name took $took s$status"
  timings+=("$(printf '%8s s  %s%s' "$took" "$name" "$status")")
  return 0
}

port_open() { $BIN/python - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

mkdir -p var
step "ruff"
run "ruff check" $BIN/ruff check .
run "ruff format" $BIN/ruff format --check .
step "mypy"
run "mypy" $BIN/mypy .
step "migrations are complete"
run "makemigrations --check" env SQLITE_PATH=var/check.sqlite3 $BIN/python manage.py makemigrations --check --dry-run

PG_OK=false; REDIS_OK=false
if port_open "$PG_HOST" "$PG_PORT"; then PG_OK=true; fi
if port_open 127.0.0.1 6379; then REDIS_OK=true; fi
echo "PostgreSQL reachable: $PG_OK; Redis reachable: $REDIS_OK; CI: $CI_MODE"
if $CI_MODE && ! $PG_OK; then failures+=("PostgreSQL is not reachable at $PG_HOST:$PG_PORT under CI"); fi
if $CI_MODE && ! $REDIS_OK; then failures+=("Redis is not reachable at 127.0.0.1:6379 under CI"); fi

COMMON_ENV=()
if $REDIS_OK; then COMMON_ENV+=("TEST_REDIS_URL=$REDIS"); fi

if $PG_OK; then
  step "pytest on PostgreSQL + Redis + real Celery worker"
  run "pytest (PostgreSQL)" env "${COMMON_ENV[@]}" \
    DATABASE_URL="postgresql://postgres@$PG_HOST:$PG_PORT/$PG_DB" \
    $BIN/pytest "${PARALLEL[@]}" -m "not browser" -p no:cacheprovider -q --create-db
fi

# Tests marked `once` do not depend on the database (tests/conftest.py, ONCE_MODULES): when the
# PostgreSQL pass ran them, the SQLite pass leaves them out.
SQLITE_MARKS="not browser"
if $PG_OK; then SQLITE_MARKS="not browser and not once"; fi
step "pytest on the embedded default (SQLite, in-memory channel layer, eager Celery)"
run "pytest (SQLite)" env "${COMMON_ENV[@]}" \
  SQLITE_PATH=var/test-run.sqlite3 SQLITE_TEST_PATH=var/test.sqlite3 \
  $BIN/pytest "${PARALLEL[@]}" -m "$SQLITE_MARKS" -p no:cacheprovider -q --create-db

step "browser tests (real Chromium)"
BROWSER_ENV=("${COMMON_ENV[@]}")
if $PG_OK; then
  BROWSER_ENV+=("DATABASE_URL=postgresql://postgres@$PG_HOST:$PG_PORT/${PG_DB}_browser")
else
  BROWSER_ENV+=("SQLITE_PATH=var/browser-run.sqlite3" "SQLITE_TEST_PATH=var/browser-test.sqlite3")
fi
run "pytest (browser)" env "${BROWSER_ENV[@]}" \
  $BIN/pytest -m browser -p no:cacheprovider -q --create-db

step "time taken"
for line in "${timings[@]}"; do echo "$line"; done
printf '%8s s  %s\n' "$(seconds_since "$STARTED_US")" "total"

echo
if [ ${#failures[@]} -ne 0 ]; then
  echo "make test FAILED:"
  for f in "${failures[@]}"; do echo "  - $f"; done
  exit 1
fi
echo "make test passed."
