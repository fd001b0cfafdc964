#!/usr/bin/env bash
# make demo: build the sample world, run the daily DAG over every one of its days, show what landed,
# with a local webhook receiver (127.0.0.1) standing in for the analysts' alert endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-data/demo}" scale="${2:-demo}" days="${3:-14}" seed="${4:-7}"
export TRENDTRACE_LANDING="$PWD/$dir/landing"
export TRENDTRACE_WAREHOUSE="${TRENDTRACE_WAREHOUSE:-$PWD/data/warehouse/trendtrace.duckdb}"
port="${DEMO_RECEIVER_PORT:-8765}"

echo "== 1/4 sample world ($scale, $days days, seed $seed) -> $dir"
uv run trendtrace sample-world --out "$dir" --scale "$scale" --days "$days" --seed "$seed"

echo "== 2/4 local webhook receiver on 127.0.0.1:$port -> $dir/received_alerts.jsonl"
received="$dir/received_alerts.jsonl"
rm -f "$received"
export TRENDTRACE_WEBHOOK_URL="http://127.0.0.1:$port/alerts"
TRENDTRACE_WEBHOOK_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export TRENDTRACE_WEBHOOK_SECRET
uv run python -m pipelines.alerts.receiver --port "$port" --out "$received" &
receiver_pid=$!
trap 'kill "$receiver_pid" 2>/dev/null || true' EXIT

echo "== 3/4 the moment_to_movement DAG, one Airflow run per partition day"
uv run trendtrace backfill

echo "== 4/4 what an analyst can query now"
uv run python - "$TRENDTRACE_WAREHOUSE" <<'PY'
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.sql("select count(*) as posts from posts"))
print(con.sql("select rule, count(*) as records from quarantine group by 1 order by 2 desc"))
print(con.sql("select count(*) as fingerprints, round(sum(duration_s) / 60, 1) as audio_minutes from audio_fingerprints"))
PY
echo "-- accuracy against the sample world's hidden truth (trendtrace evaluate)"
uv run trendtrace evaluate --truth "$dir"
uv run trendtrace alerts list
if [ -s "$received" ]; then
  echo "webhook payloads received ($(wc -l < "$received")), first one:"
  head -n 1 "$received"
else
  echo "webhook payloads received this run: none (each crossing is sent once: alerts recorded by an earlier run"
  echo "over this warehouse are not sent again; \`trendtrace alerts list\` shows them, \`make clean\` starts afresh)"
fi
echo "warehouse: $TRENDTRACE_WAREHOUSE (analysts: open $(dirname "$TRENDTRACE_WAREHOUSE")/published/$(basename "$TRENDTRACE_WAREHOUSE") read-only)"
