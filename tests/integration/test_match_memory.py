"""match_sounds caps DuckDB's memory while it matches a day (pipelines/matching/store.py `bounded_memory`), on a
real warehouse file, and gives the connection its default back afterwards (the stage's writes, other stages)."""

from __future__ import annotations

from pipelines import warehouse
from pipelines.matching import store


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_day_matches_under_the_memory_limit_and_restores_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("TRENDTRACE_MATCH_MEMORY", raising=False)
    con = warehouse.connect(tmp_path / "w.duckdb")
    default = _limit(con)
    with store.bounded_memory(con):
        assert _limit(con) == "1.8 GiB"  # 2GB = 2e9 bytes, as DuckDB prints it
    assert _limit(con) == default != "1.8 GiB"
    monkeypatch.setenv("TRENDTRACE_MATCH_MEMORY", "512MB")
    with store.bounded_memory(con):
        assert _limit(con) == "488.2 MiB"
    assert _limit(con) == default
    con.close()
