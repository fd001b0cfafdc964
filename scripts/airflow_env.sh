# Sourced by the Makefile and scripts: Airflow's home, config and DAG folder, all inside the project.
_tt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_tt_root/.airflow}"
export AIRFLOW_CONFIG="$_tt_root/airflow.cfg"
export AIRFLOW__CORE__DAGS_FOLDER="$_tt_root/dags"
# SQLite with a 60 s busy timeout: settings.airflow_sqlite_url says why
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db?timeout=60"
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$AIRFLOW_HOME/logs"
export PATH="$HOME/.local/bin:$PATH"
# Python caches compiled modules (.pyc, in .venv and the project's gitignored __pycache__ folders). Where the shell
# sets PYTHONDONTWRITEBYTECODE (this workplace's machines do), every process compiled every module it imported
# from source again: 8 CPU-s for great_expectations alone (3.7 cached), 3.5 for airflow.sdk (1.7), in each Airflow
# task process, CLI call and test worker. The standalone test took 345 s that way, 205 s cached.
unset PYTHONDONTWRITEBYTECODE
# The api-server and the scheduler sign and check task tokens with one shared secret. It is generated once
# per AIRFLOW_HOME (mode 600), never committed and never printed; set AIRFLOW__API_AUTH__JWT_SECRET to override.
if [ -z "${AIRFLOW__API_AUTH__JWT_SECRET:-}" ]; then
  _tt_secret="$AIRFLOW_HOME/jwt_secret"
  if [ ! -s "$_tt_secret" ]; then
    mkdir -p "$AIRFLOW_HOME"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(64))' > "$_tt_secret")
  fi
  export AIRFLOW__API_AUTH__JWT_SECRET="$(cat "$_tt_secret")"
fi
