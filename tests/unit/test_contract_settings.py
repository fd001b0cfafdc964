"""The posts contract's time limit (docs/landing.md, "Collections of any age"): a partition is its collection
day, so only the future beyond clock skew is refused, and a config that still sets the retired lower limit is
an error naming the file and the key, never silently ignored."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import yaml

from pipelines import settings
from pipelines.stages.validate import latest_created_at


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "trendtrace.yaml"

    def write(contracts: dict):
        path.write_text(yaml.safe_dump({"contracts": contracts}), encoding="utf-8")
        settings._config.cache_clear()

    monkeypatch.setattr(settings, "CONFIG_FILE", path)
    yield write
    settings._config.cache_clear()


def test_the_latest_accepted_time_is_the_end_of_the_day_plus_the_skew(config):
    config({"early_arrival_days": 1})
    assert latest_created_at(date(2024, 3, 1), settings.contract_settings()) == datetime(2024, 3, 2, 23, 59, 59,
                                                                                           999999)
    config({"early_arrival_days": 0})
    assert latest_created_at(date(2024, 3, 1), settings.contract_settings()) == datetime(2024, 3, 1, 23, 59, 59,
                                                                                           999999)


def test_the_retired_late_arrival_limit_is_refused_by_name(config):
    config({"late_arrival_days": 2, "early_arrival_days": 1})
    with pytest.raises(ValueError, match=r"trendtrace\.yaml: contracts\.late_arrival_days is no longer a setting"):
        settings.contract_settings()
