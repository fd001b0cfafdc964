"""link_lineage's audio switches (docs/lineage.md, "Settings"): audio-only claims are off unless asked for,
the environment wins over config/trendtrace.yaml, and a value that is not on/off is an error naming the key."""

from __future__ import annotations

import pytest
import yaml

from pipelines import settings


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "trendtrace.yaml"
    monkeypatch.delenv(settings.ENV_LINEAGE_AUDIO, raising=False)
    monkeypatch.delenv(settings.ENV_LINEAGE_AUDIO_ONLY, raising=False)

    def write(lineage: dict | None):
        path.write_text(yaml.safe_dump({} if lineage is None else {"lineage": lineage}), encoding="utf-8")
        settings._config.cache_clear()

    monkeypatch.setattr(settings, "CONFIG_FILE", path)
    yield write
    settings._config.cache_clear()


def test_the_shipped_config_grades_claims_and_makes_no_audio_only_claims():
    settings._config.cache_clear()
    assert settings._config()["lineage"] == {"audio": True, "audio_only": False}


def test_without_a_lineage_section_audio_only_claims_are_off(config):
    config(None)
    assert settings.lineage_settings() == settings.LineageSettings(audio=True, audio_only=False)


def test_config_and_environment(config, monkeypatch):
    config({"audio_only": True})
    assert settings.lineage_settings().audio_only
    monkeypatch.setenv(settings.ENV_LINEAGE_AUDIO_ONLY, "0")
    assert not settings.lineage_settings().audio_only
    monkeypatch.setenv(settings.ENV_LINEAGE_AUDIO_ONLY, "1")
    monkeypatch.setenv(settings.ENV_LINEAGE_AUDIO, "off")  # no audio at all: no audio-only claims either
    assert settings.lineage_settings() == settings.LineageSettings(audio=False, audio_only=False)


def test_a_value_that_is_not_on_or_off_names_the_key(config, monkeypatch):
    config({"audio_only": "maybe"})
    with pytest.raises(ValueError, match=r"lineage\.audio_only \(or TRENDTRACE_LINEAGE_AUDIO_ONLY\).*'maybe'"):
        settings.lineage_settings()
