# Sourced by the Makefile and scripts: Airflow's home, config and DAG folder, all inside the project.
_tt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_tt_root/.airflow}"
export AIRFLOW_CONFIG="$_tt_root/airflow.cfg"
export AIRFLOW__CORE__DAGS_FOLDER="$_tt_root/dags"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$AIRFLOW_HOME/logs"
export PATH="$HOME/.local/bin:$PATH"
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
