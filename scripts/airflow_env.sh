# Sourced by the Makefile and scripts: Airflow's home, config and DAG folder, all inside the project.
_tt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_tt_root/.airflow}"
export AIRFLOW_CONFIG="$_tt_root/airflow.cfg"
export AIRFLOW__CORE__DAGS_FOLDER="$_tt_root/dags"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$AIRFLOW_HOME/logs"
export PATH="$HOME/.local/bin:$PATH"
