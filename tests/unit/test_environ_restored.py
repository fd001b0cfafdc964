"""settings.environ_restored: a run's settings set in a process that goes on are put back as they were."""

from __future__ import annotations

import os

import pytest

from pipelines.settings import environ_restored


def test_keys_set_inside_are_put_back_or_removed_even_when_the_body_raises(monkeypatch):
    monkeypatch.setenv("TT_TEST_KEPT", "before")
    monkeypatch.delenv("TT_TEST_NEW", raising=False)

    def failing_run() -> None:
        with environ_restored("TT_TEST_KEPT", "TT_TEST_NEW"):
            os.environ["TT_TEST_KEPT"] = "inside"
            os.environ["TT_TEST_NEW"] = "inside"
            os.environ["TT_TEST_UNLISTED"] = "inside"
            raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):
        failing_run()
    assert os.environ["TT_TEST_KEPT"] == "before"
    assert "TT_TEST_NEW" not in os.environ
    assert os.environ.pop("TT_TEST_UNLISTED") == "inside"  # only the listed keys are restored


def test_a_key_removed_inside_comes_back(monkeypatch):
    monkeypatch.setenv("TT_TEST_KEPT", "before")
    with environ_restored("TT_TEST_KEPT"):
        del os.environ["TT_TEST_KEPT"]
    assert os.environ["TT_TEST_KEPT"] == "before"
