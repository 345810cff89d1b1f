#!/usr/bin/env bash
# Bounded load test (issue 5): gunicorn as in production on 127.0.0.1, locust headless from a
# second process, then gunicorn is stopped. Run from the repository root:
#
#   bench/load/run_load_test.sh [USERS] [MEASURE_SECONDS]        (default 50 users, 150 s)
#
# Environment: LOAD_DB (default il2ld_load, a copy of il2ld_bench), PORT (8765), WORKERS
# (4 sync workers, as the Dockerfile), SPAWN_RATE (users/s, default 2), LOAD_WARMUP (s, default 20),
# USER_CLASSES (e.g. "Clinician" for clinicians only; default both), SETUP=0 to skip re-creating the load-test users, OUT (results directory).
set -euo pipefail
cd "$(dirname "$0")/../.."

USERS=${1:-50}
MEASURE=${2:-150}
PORT=${PORT:-8765}
WORKERS=${WORKERS:-4}  # the Dockerfile's and docker-compose's --workers 4
SPAWN_RATE=${SPAWN_RATE:-2}
export LOAD_WARMUP=${LOAD_WARMUP:-20}
OUT=${OUT:-bench/load/results/$(date -u +%Y%m%dT%H%M%SZ)-u$USERS}
mkdir -p "$OUT"

. bench/load/env.sh
.venv/bin/python manage.py collectstatic --noinput -v0 >/dev/null 2>&1
.venv/bin/python manage.py migrate --noinput -v0 2>&1 | grep -v " INFO " || true  # the copy, not il2ld_bench
if [ "${SETUP:-1}" = 1 ]; then .venv/bin/python bench/load/setup_users.py 2>&1 | grep -v " INFO " || true; fi

# CPU of app, database and locust, sampled each second (bench/load/cpu_sampler.py)
rm -f "$OUT/gunicorn.pid"
.venv/bin/python bench/load/cpu_sampler.py "$OUT/cpu.jsonl" "$OUT/gunicorn.pid" "${DATABASE_URL##*/}" "$PORT" &
SAMPLER=$!
# gunicorn as in the Dockerfile (config.wsgi:application, 4 sync workers, default 30 s timeout),
# bound to loopback only.
.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" --workers "$WORKERS" ${THREADS:+--threads "$THREADS"} \
  --access-logfile "$OUT/gunicorn-access.log" --error-logfile "$OUT/gunicorn-error.log" \
  --capture-output --pid "$OUT/gunicorn.pid" --daemon
trap 'kill "$(cat "$OUT/gunicorn.pid")" "$SAMPLER" 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.5; done

RAMP=$(( (USERS + SPAWN_RATE - 1) / SPAWN_RATE ))
RUN_TIME=$(( RAMP + ${LOAD_WARMUP%.*} + MEASURE ))
{
  echo "date_utc=$(date -u +%FT%TZ) users=$USERS measure_s=$MEASURE ramp_s=$RAMP warmup_s=$LOAD_WARMUP"
  echo "nproc=$(nproc) workers=$WORKERS threads=${THREADS:-1} gunicorn_class=sync user_classes=${USER_CLASSES:-Clinician,Pharmacist}"
  echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/environment.txt"

LOAD_SUMMARY="$OUT/summary.json" .venv/bin/locust -f bench/load/locustfile.py --headless \
  --host "http://127.0.0.1:$PORT" --users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "${RUN_TIME}s" \
  --stop-timeout 30 ${USER_CLASSES:-} --csv "$OUT/locust" --only-summary --loglevel WARNING > "$OUT/locust.out" 2>&1 || true

echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/environment.txt"
kill "$SAMPLER" 2>/dev/null || true
# Stop gunicorn: TERM (graceful, 30 s), then KILL if a worker is still busy.
GPID=$(cat "$OUT/gunicorn.pid")
kill "$GPID" 2>/dev/null || true
for _ in $(seq 40); do kill -0 "$GPID" 2>/dev/null || break; sleep 1; done
kill -9 "$GPID" 2>/dev/null || true
trap - EXIT
grep -c '" 5[0-9][0-9] ' "$OUT/gunicorn-access.log" | sed 's/^/gunicorn_5xx=/' >> "$OUT/environment.txt" || true
cat "$OUT/environment.txt"
.venv/bin/python bench/load/report.py "$OUT"
