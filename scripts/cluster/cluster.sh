#!/usr/bin/env bash
# A real multi-process Airflow on this machine: PostgreSQL (metadata DB), Redis (Celery broker), api-server,
# scheduler, dag-processor, triggerer (runs the landing watcher of fresh alerts, docs/alerts.md) and two Celery workers (queue `default`, and `warehouse` with concurrency 1: every
# task that opens the DuckDB file runs there, DuckDB has one writer). Everything listens on 127.0.0.1 on ports
# picked free at start, and every file (data, logs, pid files, secrets, the env file) lives in $CLUSTER_DIR
# (default <repo>/.cluster). Nothing is written to /etc and no system service is enabled.
#
#   scripts/cluster/cluster.sh up       start what is not running (no-op when all is up)
#   scripts/cluster/cluster.sh down     stop everything this folder started (no-op when down)
#   scripts/cluster/cluster.sh status   one line per component
#   scripts/cluster/cluster.sh env      print the path of the env file clients source (mode 600: it holds secrets)
#
# TRENDTRACE_* variables set when the cluster starts (landing zone, warehouse, shard sizes, alert channels, ...)
# are recorded in the env file and given to every component. Defaults: the demo landing zone and data/warehouse.
# CLUSTER_HEARTBEAT_TIMEOUT_S: seconds without a task heartbeat before the scheduler fails (and retries) the task, for
# a worker that died mid-task ([scheduler] task_instance_heartbeat_timeout, default 300).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER_DIR="$(mkdir -p "${CLUSTER_DIR:-$ROOT/.cluster}" && cd "${CLUSTER_DIR:-$ROOT/.cluster}" && pwd)"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
AIRFLOW="$ROOT/.venv/bin/airflow"
ENV_FILE="$CLUSTER_DIR/env"
LOGS="$CLUSTER_DIR/logs"
RUN="$CLUSTER_DIR/run"
SECRETS="$CLUSTER_DIR/secrets"
# name, command line; workers do not serve logs over HTTP: everything shares this machine's log folder
COMPONENTS=(api-server scheduler dag-processor triggerer worker-default worker-warehouse)
STARTED=()  # the components the current round of `up` started

log() { echo "cluster: $*"; }
die() { echo "cluster: $*" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user that Debian's package creates.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

started_at() {  # started_at PID: the process's start time in clock ticks since boot (empty off Linux)
  [ -r "/proc/$1/stat" ] && sed -E 's/^.*\) //' "/proc/$1/stat" | cut -d' ' -f20 || true
}

proc_state() {  # proc_state PID: R, S, D, Z, ... (empty off Linux)
  [ -r "/proc/$1/stat" ] && sed -E 's/^.*\) //' "/proc/$1/stat" | cut -d' ' -f1 || true
}

remember() {  # remember NAME PID: its pid file, and its start time so that a reused pid is not taken for it
  echo "$2" >"$RUN/$1.pid"
  started_at "$2" >"$RUN/$1.start"
}

alive() {  # alive NAME: its pid file names a live process, the one this script started (not a reused pid)
  local f="$RUN/$1.pid" pid
  [ -s "$f" ] || return 1
  pid="$(cat "$f")"
  kill -0 "$pid" 2>/dev/null || return 1
  # a component killed (SIGKILL, OOM) whose parent has not reaped it yet is a zombie: dead, so `up` starts it again
  [ "$(proc_state "$pid")" != Z ] || return 1
  [ -s "$RUN/$1.start" ] || return 0
  [ "$(started_at "$pid")" = "$(cat "$RUN/$1.start")" ]
}

free_ports() {  # free_ports N: N distinct free TCP ports on 127.0.0.1
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

secret() {  # secret NAME: a random token generated once per cluster folder (mode 600), never printed
  local f="$SECRETS/$1"
  if [ ! -s "$f" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' >"$f")
  fi
  cat "$f"
}

pg_running() { [ -f "$CLUSTER_DIR/pg/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg" status >/dev/null 2>&1; }
redis_running() { alive redis; }

anything_running() {
  pg_running && return 0
  redis_running && return 0
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" && return 0; done
  return 1
}

write_env() {  # ports are picked afresh whenever nothing is running (a port free last time may be taken now)
  local pg_port redis_port api_port log_port trig_port
  read -r pg_port redis_port api_port log_port trig_port <<<"$(free_ports 5)"
  local pg_pw redis_pw jwt
  pg_pw="$(secret pg_password)"; redis_pw="$(secret redis_password)"; jwt="$(secret jwt_secret)"
  local landing="${TRENDTRACE_LANDING:-$ROOT/data/demo/landing}"
  local warehouse="${TRENDTRACE_WAREHOUSE:-$ROOT/data/warehouse/trendtrace.duckdb}"
  local db="postgresql+psycopg2://airflow:$pg_pw@127.0.0.1:$pg_port/airflow"
  (
    umask 077
    {
      echo "# written by scripts/cluster/cluster.sh up: source it to talk to this cluster (holds secrets)"
      echo "export CLUSTER_DIR='$CLUSTER_DIR'"
      echo "export CLUSTER_PG_PORT=$pg_port CLUSTER_REDIS_PORT=$redis_port CLUSTER_API_PORT=$api_port"
      echo "export AIRFLOW_HOME='$CLUSTER_DIR/airflow'"
      echo "export AIRFLOW_CONFIG='$ROOT/airflow.cfg'"
      echo "export AIRFLOW__CORE__DAGS_FOLDER='$ROOT/dags'"
      echo "export AIRFLOW__CORE__EXECUTOR=CeleryExecutor"
      echo "export AIRFLOW__CORE__LOAD_EXAMPLES=False"
      echo "export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN='$db'"
      echo "export AIRFLOW__CELERY__BROKER_URL='redis://:$redis_pw@127.0.0.1:$redis_port/0'"
      echo "export AIRFLOW__CELERY__RESULT_BACKEND='db+postgresql+psycopg2://airflow:$pg_pw@127.0.0.1:$pg_port/airflow'"
      echo "export AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=$api_port"
      echo "export AIRFLOW__API__BASE_URL='http://127.0.0.1:$api_port'"
      echo "export AIRFLOW__CORE__EXECUTION_API_SERVER_URL='http://127.0.0.1:$api_port/execution/'"
      echo "export AIRFLOW__API_AUTH__JWT_SECRET='$jwt'"
      echo "export AIRFLOW__LOGGING__BASE_LOG_FOLDER='$LOGS/airflow'"
      echo "export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=$log_port"
      echo "export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=$trig_port"
      echo "export TRENDTRACE_LANDING='$landing'"
      echo "export TRENDTRACE_WAREHOUSE='$warehouse'"
      echo "export TRENDTRACE_WAREHOUSE_QUEUE=warehouse"
      # how long the scheduler waits for a running task's heartbeat before it fails the task (its retry follows):
      # Airflow's default is 300 s; the fault tests (tests/cluster/test_cluster_faults.py) set it low
      if [ -n "${CLUSTER_HEARTBEAT_TIMEOUT_S:-}" ]; then
        echo "export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=$CLUSTER_HEARTBEAT_TIMEOUT_S"
      fi
      # every other TRENDTRACE_* setting of the shell that started the cluster (shard sizes, alert channels, ...)
      env | grep -E '^TRENDTRACE_[A-Z_]+=' | grep -vE '^TRENDTRACE_(LANDING|WAREHOUSE|WAREHOUSE_QUEUE)=' \
        | while IFS='=' read -r k v; do printf 'export %s=%q\n' "$k" "$v"; done || true
    } >"$ENV_FILE"
  )
}

start_postgres() {
  pg_running && return 0
  local pw_file
  if [ ! -s "$CLUSTER_DIR/pg/PG_VERSION" ]; then
    log "initdb $CLUSTER_DIR/pg"
    mkdir -p "$CLUSTER_DIR/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$CLUSTER_DIR/pg"
    pw_file="$(mktemp)"  # initdb reads the superuser's password from a file its user can read; removed at once
    secret pg_password >"$pw_file"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pw_file"
    as_pg "$PG_BIN/initdb" -D "$CLUSTER_DIR/pg" -U airflow --pwfile="$pw_file" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log" 2>&1 || { rm -f "$pw_file"; cat "$LOGS/initdb.log"; exit 1; }
    rm -f "$pw_file"
  fi
  mkdir -p "$RUN/pg"
  touch "$LOGS/postgres.log"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$RUN/pg" "$LOGS/postgres.log"
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg" -l "$LOGS/postgres.log" -w -t 60 start \
    -o "-c port=$CLUSTER_PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$RUN/pg -c max_connections=200" \
    >/dev/null || { tail -20 "$LOGS/postgres.log"; die "PostgreSQL did not start"; }
  # the metadata database, once (credentials through the environment, never on a command line)
  if ! PGPASSWORD="$(secret pg_password)" "$PG_BIN/psql" -h 127.0.0.1 -p "$CLUSTER_PG_PORT" -U airflow -d postgres \
       -tAc "SELECT 1 FROM pg_database WHERE datname = 'airflow'" | grep -q 1; then
    PGPASSWORD="$(secret pg_password)" "$PG_BIN/createdb" -h 127.0.0.1 -p "$CLUSTER_PG_PORT" -U airflow airflow
  fi
  log "PostgreSQL on 127.0.0.1:$CLUSTER_PG_PORT"
}

start_redis() {
  redis_running && return 0
  mkdir -p "$CLUSTER_DIR/redis"
  (
    umask 077
    cat >"$CLUSTER_DIR/redis.conf" <<EOF
bind 127.0.0.1
port $CLUSTER_REDIS_PORT
requirepass $(secret redis_password)
daemonize yes
pidfile $RUN/redis.pid
logfile $LOGS/redis.log
dir $CLUSTER_DIR/redis
save ""
appendonly no
EOF
  )
  redis-server "$CLUSTER_DIR/redis.conf"
  local i
  for i in $(seq 1 50); do
    REDISCLI_AUTH="$(secret redis_password)" redis-cli -h 127.0.0.1 -p "$CLUSTER_REDIS_PORT" ping 2>/dev/null \
      | grep -q PONG && { remember redis "$(cat "$RUN/redis.pid")"; log "Redis on 127.0.0.1:$CLUSTER_REDIS_PORT"; return 0; }
    sleep 0.2
  done
  tail -20 "$LOGS/redis.log"; die "Redis did not start"
}

migrate() {
  mkdir -p "$AIRFLOW_HOME"
  if [ ! -f "$AIRFLOW_HOME/.migrated" ] || [ "$ROOT/uv.lock" -nt "$AIRFLOW_HOME/.migrated" ]; then
    log "airflow db migrate (PostgreSQL)"
    "$AIRFLOW" db migrate >"$LOGS/migrate.log" 2>&1 || { tail -30 "$LOGS/migrate.log"; die "airflow db migrate failed"; }
    touch "$AIRFLOW_HOME/.migrated"
  fi
}

start_component() {  # start_component NAME: in its own session (pid = process group id), logs to logs/NAME.log
  local name="$1"
  alive "$name" && return 0
  local cmd
  case "$name" in
    api-server) cmd=("$AIRFLOW" api-server --host 127.0.0.1 --port "$CLUSTER_API_PORT" --workers 1) ;;
    scheduler) cmd=("$AIRFLOW" scheduler) ;;
    dag-processor) cmd=("$AIRFLOW" dag-processor) ;;
    triggerer) cmd=("$AIRFLOW" triggerer) ;;  # asset watchers (fresh alerts) and deferred tasks
    worker-default) cmd=("$AIRFLOW" celery worker --queues default --concurrency 2 --skip-serve-logs
                         --celery-hostname "default@%h-$CLUSTER_API_PORT") ;;
    worker-warehouse) cmd=("$AIRFLOW" celery worker --queues warehouse --concurrency 1 --skip-serve-logs
                           --celery-hostname "warehouse@%h-$CLUSTER_API_PORT") ;;
    *) die "unknown component $name" ;;
  esac
  setsid "${cmd[@]}" >>"$LOGS/$name.log" 2>&1 </dev/null &
  remember "$name" $!
  STARTED+=("$name")
}

wait_api() {
  local i
  for i in $(seq 1 180); do
    curl -fsS "http://127.0.0.1:$CLUSTER_API_PORT/api/v2/monitor/health" >/dev/null 2>&1 && return 0
    alive api-server || { tail -30 "$LOGS/api-server.log"; die "api-server exited"; }
    sleep 1
  done
  tail -30 "$LOGS/api-server.log"; die "api-server not healthy after 180 s"
}

up() {
  local t0=$SECONDS
  [ -x "$AIRFLOW" ] || die "no $AIRFLOW: run make setup first"
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then die "no postgres user (apt-get install postgresql)"; fi
  mkdir -p "$LOGS" "$RUN" "$SECRETS"
  chmod 700 "$SECRETS"
  # the postgres user must reach its data dir: the folder is world-traversable, its secrets are not
  chmod 755 "$CLUSTER_DIR"
  if [ -n "${CLUSTER_HEARTBEAT_TIMEOUT_S:-}" ] && ! [[ "$CLUSTER_HEARTBEAT_TIMEOUT_S" =~ ^[1-9][0-9]*$ ]]; then
    die "CLUSTER_HEARTBEAT_TIMEOUT_S must be a whole number of seconds, not '$CLUSTER_HEARTBEAT_TIMEOUT_S'"
  fi
  if ! anything_running; then write_env; fi
  [ -s "$ENV_FILE" ] || die "parts of a cluster run from $CLUSTER_DIR but $ENV_FILE is missing: run down first"
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  local all_up=1 c
  pg_running && redis_running || all_up=0
  for c in "${COMPONENTS[@]}"; do alive "$c" || all_up=0; done
  if [ "$all_up" -eq 1 ]; then log "already up (api http://127.0.0.1:$CLUSTER_API_PORT)"; return 0; fi
  start_postgres
  start_redis
  migrate
  # A component still running when `up` began may exit while it runs: one that lost the database (PostgreSQL
  # stopped and started again) takes a while to shut down (the triggerer: longer than the scheduler). Such a late
  # exit is started again; a component this `up` started that exits is a start-up failure.
  local round late
  for round in 1 2 3; do
    STARTED=()
    for c in "${COMPONENTS[@]}"; do start_component "$c"; done
    wait_api
    sleep 2  # a component that dies on start-up (bad config, port taken) does so within a second or two
    late=()
    for c in "${COMPONENTS[@]}"; do
      alive "$c" && continue
      [[ " ${STARTED[*]} " == *" $c "* ]] && { tail -30 "$LOGS/$c.log"; die "$c exited"; }
      late+=("$c")
    done
    [ "${#late[@]}" -eq 0 ] && break
    log "${late[*]} exited while up ran (round $round): starting again"
  done
  [ "${#late[@]}" -eq 0 ] || die "${late[*]} kept exiting"
  log "up in $((SECONDS - t0)) s: api http://127.0.0.1:$CLUSTER_API_PORT, logs $LOGS, env $ENV_FILE"
}

stop_group() {  # stop_group NAME: TERM its process group, KILL it after 30 s
  local name="$1" pid i
  alive "$name" || { rm -f "$RUN/$name.pid"; return 0; }
  pid="$(cat "$RUN/$name.pid")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid" "$RUN/$name.start"
}

down() {
  local stopped=0 c i
  # workers first (no new task starts), then the servers, then the broker and the database
  for c in worker-default worker-warehouse scheduler triggerer dag-processor api-server; do
    alive "$c" && { stopped=1; stop_group "$c"; }
    rm -f "$RUN/$c.pid" "$RUN/$c.start"
  done
  if redis_running; then
    stopped=1
    local pid; pid="$(cat "$RUN/redis.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$RUN/redis.pid" "$RUN/redis.start"
  fi
  if pg_running; then
    stopped=1
    as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg" -m fast -w -t 60 stop >/dev/null
  fi
  if [ "$stopped" -eq 1 ]; then log "down (state kept in $CLUSTER_DIR)"; else log "already down"; fi
}

status() {
  local c rc=0
  if pg_running; then echo "postgres         up"; else echo "postgres         down"; rc=1; fi
  if redis_running; then echo "redis            up"; else echo "redis            down"; rc=1; fi
  for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then printf '%-16s up (pid %s)\n' "$c" "$(cat "$RUN/$c.pid")"
    else printf '%-16s down\n' "$c"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "$ENV_FILE" ;;
  *) die "usage: $0 up|down|status|env" ;;
esac
