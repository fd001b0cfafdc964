#!/usr/bin/env bash
# One-shot set-up for a fresh Debian 12 machine: system packages, uv, the venv, Airflow's metadata DB.
# Idempotent: every step checks before it acts, so `make demo` and `make test` can both call it.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libchromaprint1 libchromaprint-tools ffmpeg espeak-ng fluidsynth fluid-soundfont-gm chromium fonts-liberation
  postgresql redis-server)  # the last two: make cluster (a private PostgreSQL and Redis, never started as services)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -q
  # no Recommends: fluidsynth would pull in qsynth with Qt 6, GTK and systemd (~130 packages, ~80 MB) for nothing
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
fi

export PATH="$HOME/.local/bin:$PATH"  # where `pip install --user` puts uv: found there on the next run too
if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
fi

uv sync --quiet

# Airflow lives inside the project: SQLite metadata, the repo's airflow.cfg, our dags/ folder.
source scripts/airflow_env.sh
mkdir -p "$AIRFLOW_HOME"
if [ ! -f "$AIRFLOW_HOME/.migrated" ] || [ uv.lock -nt "$AIRFLOW_HOME/.migrated" ]; then
  echo "setup: initialising Airflow metadata in $AIRFLOW_HOME"
  uv run --quiet airflow db migrate >"$AIRFLOW_HOME/migrate.log" 2>&1 || { tail -30 "$AIRFLOW_HOME/migrate.log"; exit 1; }
  touch "$AIRFLOW_HOME/.migrated"
fi
