"""Test-wide set-up: Airflow points at a throw-away home (SQLite) so tests never touch a developer's
metadata, and pipelines settings point at per-test folders."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="trendtrace-airflow-"))
ROOT = Path(__file__).resolve().parent.parent
# Must be set before anything imports airflow.
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW_CONFIG"] = str(ROOT / "airflow.cfg")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] = str(_AIRFLOW_HOME / "logs")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("TRENDTRACE_PROGRESS", "0")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.fixture
def pipeline_env(tmp_path, monkeypatch):
    """A fresh landing folder and warehouse file for one test, through the same env vars users set."""
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "warehouse" / "trendtrace.duckdb"
    monkeypatch.setenv("TRENDTRACE_LANDING", str(landing))
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    return landing, warehouse


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata DB, migrated once per test session (about 5 s)."""
    from pipelines.airflow_runner import ensure_metadata_db

    ensure_metadata_db()
    return _AIRFLOW_HOME
