#!/usr/bin/env bash
# make demo: set up, build the sample world, run the daily DAG over every one of its days, show what landed,
# with a local webhook receiver (127.0.0.1) standing in for the analysts' alert endpoint.
# Every phase prints its number, the time so far and an estimate of what is left; each ends with its wall and
# CPU time (CPU time is what the phase costs on an idle machine: on a busy one the wall time is far longer).
# Default world: `quick` (7 days, ~440 posts); the full-size one: `make demo DEMO=full` (= DEMO_SCALE=demo DEMO_DAYS=14).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-data/demo}" scale="${2:-quick}" days="${3:-7}" seed="${4:-7}"
t_start=$SECONDS
phases=6
source scripts/airflow_env.sh  # uv on PATH before the set-up looks for it

# Estimates for an idle 2-core machine (see README, "Two commands"), per scale:
#   "world cold s | world warm s | media files | backfill start-up s | s per day | s per media file"
# cold = empty cache (packs downloaded, renders and media made); the backfill model is
#   start-up + days x per-day + files x per-file, and is corrected from the days already run.
declare -A EST=([small]="60 8 90 20 6 0.15" [quick]="130 10 440 20 6 0.20"
                [demo]="720 15 1790 20 8 0.30" [large]="9000 120 50000 20 30 0.5")
read -r est_world_cold est_world_warm est_files est_start est_per_day est_per_file <<<"${EST[$scale]:-720 15 1790 20 8 0.3}"

fmt() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }
times_file="$(mktemp)"
trap 'rm -f "$times_file"' EXIT
cpu_now() { # CPU=user+sys seconds of this script's finished children; `times` must run in this shell, not a subshell
  times > "$times_file"
  CPU=$(tail -n 1 "$times_file" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%d", t }')
}
phase() { # phase N "title" SECONDS_LEFT_FROM_HERE
  echo "== $1/$phases $2   [$(fmt $((SECONDS - t_start))) elapsed, ~$(fmt "$3") left]"
  cpu_now
  p_wall=$SECONDS p_cpu=$CPU
}
phase_end() { cpu_now; echo "   $1 in $((SECONDS - p_wall)) s (CPU $((CPU - p_cpu)) s)${2:-}"; }
backfill_est() { awk -v a="$est_start" -v d="$days" -v b="$est_per_day" -v f="$1" -v c="$est_per_file" \
  'BEGIN { printf "%d", a + d * b + f * c }'; }
setup_est() { # apt packages (~280 MB, mostly the 120 MB soundfont) are most of a fresh set-up
  if command -v ffmpeg >/dev/null && command -v fluidsynth >/dev/null && command -v espeak-ng >/dev/null \
     && [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; then echo 15; else echo 110; fi
}
world_est() { # cold unless an earlier build of this scale left its world.json and a render cache
  local cache="${TRENDTRACE_CACHE:-$PWD/data/cache}"
  if [ -d "$cache/renders" ] && [ -f "$dir/truth/world.json" ] && grep -q "\"scale\": \"$scale\"" "$dir/truth/world.json"; then
    echo "$est_world_warm"
  else
    echo "$est_world_cold"
  fi
}
tail_est=20  # summary queries, evaluate, alerts

w_est=$(world_est) b_est=$(backfill_est "$est_files")
phase 1 "set-up (apt packages, uv, locked venv, Airflow metadata DB)" $(($(setup_est) + w_est + b_est + tail_est))
bash scripts/setup.sh
source scripts/airflow_env.sh
phase_end "set-up done"

export TRENDTRACE_LANDING="$PWD/$dir/landing"
export TRENDTRACE_WAREHOUSE="${TRENDTRACE_WAREHOUSE:-$PWD/data/warehouse/trendtrace.duckdb}"
port="${DEMO_RECEIVER_PORT:-8765}"

phase 2 "sample world ($scale, $days days, seed $seed) -> $dir (cache ${TRENDTRACE_CACHE:-data/cache}; ~$(fmt "$w_est"))" \
  $((w_est + b_est + tail_est))
uv run trendtrace sample-world --out "$dir" --scale "$scale" --days "$days" --seed "$seed"
phase_end "sample world built" "$(python3 - "$dir" <<'PY'
import json, sys
t = json.load(open(f"{sys.argv[1]}/build_timings.json"))
c = json.load(open(f"{sys.argv[1]}/truth/world.json"))["counts"]
parts = ", ".join(f"{k.removeprefix('sources_')} {v:.0f} s" for k, v in t.items()
                  if k not in ("total", "media_cpu_s", "sources"))
print(f": {c['posts_exported']} posts, {c['media_files']} media files; {parts} (media CPU {t.get('media_cpu_s', 0):.0f} s)")
PY
)"

# A warehouse holds the days it was run over: after switching worlds (scale, days or seed), days the new world
# lacks would linger from the old one and spoil the evaluation. The default warehouse starts afresh then.
world_id="$scale/$days/$seed"
marker="$(dirname "$TRENDTRACE_WAREHOUSE")/.demo_world"
if [ -f "$TRENDTRACE_WAREHOUSE" ] && [ "$(cat "$marker" 2>/dev/null)" != "$world_id" ]; then
  if [ "$TRENDTRACE_WAREHOUSE" = "$PWD/data/warehouse/trendtrace.duckdb" ]; then
    echo "   the demo warehouse holds another world ($(cat "$marker" 2>/dev/null || echo unknown)): starting it afresh"
    rm -rf "$PWD/data/warehouse"
  else
    echo "   note: $TRENDTRACE_WAREHOUSE may hold days of another world (was: $(cat "$marker" 2>/dev/null || echo unknown))"
  fi
fi
mkdir -p "$(dirname "$TRENDTRACE_WAREHOUSE")"
echo "$world_id" > "$marker"

files=$(find "$TRENDTRACE_LANDING" -path '*/media/*' -type f | wc -l)
b_est=$(backfill_est "$files")
phase 3 "local webhook receiver on 127.0.0.1:$port -> $dir/received_alerts.jsonl" $((b_est + tail_est))
received="$dir/received_alerts.jsonl"
rm -f "$received"
export TRENDTRACE_WEBHOOK_URL="http://127.0.0.1:$port/alerts"
TRENDTRACE_WEBHOOK_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export TRENDTRACE_WEBHOOK_SECRET
uv run python -m pipelines.alerts.receiver --port "$port" --out "$received" &
receiver_pid=$!
watch_pid=""
trap 'kill "$receiver_pid" 2>/dev/null || true; [ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || true; rm -f "$times_file"' EXIT

phase 4 "the moment_to_movement DAG, one Airflow run per partition day ($days days, $files media files, ~$(fmt "$b_est"))" \
  $((b_est + tail_est))
# Per-day progress: a watcher reads Airflow's metadata DB (SQLite, read-only) while `trendtrace backfill` runs,
# prints each finished day with its time and match_sounds' share, and re-estimates what is left: the model
# (start-up + per day + per media file) scaled by how the finished days compared with it (a busy machine).
python3 - "$AIRFLOW_HOME/airflow.db" "$TRENDTRACE_LANDING" "$est_start" "$est_per_day" "$est_per_file" \
  "$t_start" "$SECONDS" "$tail_est" <<'PY' &
import os, sqlite3, sys, time
db, landing = sys.argv[1], sys.argv[2]
start, per_day, per_file = map(float, sys.argv[3:6])
t0, now, tail = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
offset = time.monotonic() - now  # bash's $SECONDS on this clock
days = sorted(d[3:] for d in os.listdir(landing) if d.startswith("dt="))
files = {d: len(os.listdir(os.path.join(landing, f"dt={d}", "media"))) if os.path.isdir(os.path.join(landing, f"dt={d}", "media")) else 0 for d in days}
model = {d: per_day + per_file * files[d] + (start if i == 0 else 0.0) for i, d in enumerate(days)}
fmt = lambda s: f"{int(s) // 60}:{int(s) % 60:02d}"
tty = sys.stdout.isatty()
cr = "\r\033[K" if tty else ""

def q(sql, *a):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute(sql, a).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return None

first_id = ((q("select max(id) from dag_run") or [(None,)])[0][0]) or 0
begin = last = time.monotonic()
done, spent, n = [], 0.0, len(days)
while len(done) < n:
    time.sleep(2)
    rows = q("select id, run_id, substr(logical_date, 1, 10), state from dag_run where dag_id = 'moment_to_movement' "
             "and id > ? order by id", first_id)
    if rows is None:
        continue
    finished = [r for r in rows if r[3] in ("success", "failed")]
    for _, run_id, day, state in finished[len(done):]:
        t = time.monotonic()
        took, last = t - last, t
        done.append(day)
        spent += took
        ms = q("select sum(duration) from task_instance where dag_id = 'moment_to_movement' and run_id = ? "
               "and task_id = 'match_sounds'", run_id)
        ms_s = f", match_sounds {ms[0][0]:.0f} s" if ms and ms[0][0] else ""
        factor = spent / max(sum(model.get(d, per_day) for d in done), 1e-6)
        left = factor * sum(v for d, v in model.items() if d not in done)
        print(f"{cr}   day {len(done)}/{n} {day} ({files.get(day, 0)} files) {state} in {took:.0f} s{ms_s}   "
              f"[backfill {fmt(t - begin)}, ~{fmt(left)} left; demo {fmt(t - offset - t0)}, ~{fmt(left + tail)} left]",
              flush=True)
    if tty and len(done) < n:
        running = [r for r in rows if r[3] not in ("success", "failed")]
        task = ""
        if running:
            tis = q("select task_id from task_instance where dag_id = 'moment_to_movement' and run_id = ? "
                    "and state = 'running'", running[-1][1])
            task = ", ".join(sorted({x[0] for x in tis or []}))
        print(f"{cr}   day {len(done) + 1}/{n}: {task or 'starting'} ({time.monotonic() - last:.0f} s)", end="", flush=True)
PY
watch_pid=$!
uv run trendtrace backfill
sleep 3  # let the watcher print the last day
kill "$watch_pid" 2>/dev/null || true
watch_pid=""
phase_end "backfill done" " (estimate was ~$b_est s on an idle machine)"

phase 5 "what an analyst can query now" $tail_est
uv run python - "$TRENDTRACE_WAREHOUSE" <<'PY'
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.sql("select count(*) as posts from posts"))
print(con.sql("select rule, count(*) as records from quarantine group by 1 order by 2 desc"))
print(con.sql("select count(*) as fingerprints, round(sum(duration_s) / 60, 1) as audio_minutes from audio_fingerprints"))
PY

phase 6 "accuracy against the sample world's hidden truth (trendtrace evaluate), alerts" $((tail_est / 2))
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
cpu_now
echo "== done in $(fmt $((SECONDS - t_start))) (CPU $CPU s; $scale world, $days days; full size: make demo DEMO=full)"
