"""Alert rules: config validation names the file and key; crossings (levels, hysteresis episodes, floors,
stage changes, scopes) computed by the SQL in sql/alerts/cross_*.sql on a real DuckDB file."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from pipelines import warehouse
from pipelines.alerts import crossings, rules
from pipelines.alerts.rules import AlertConfigError

D0 = date(2024, 3, 1)
NOW = datetime(2024, 4, 1, 12, 0)


# ---- config validation ---------------------------------------------------------------------------


def test_shipped_config_loads_with_every_kind():
    config = rules.load(rules.DEFAULT_CONFIG)
    assert {r.kind for r in config.rules} == set(rules.KINDS)
    growth = next(r for r in config.rules if r.kind == "growth")
    assert growth.exit < growth.enter and growth.floor >= 1
    assert config.delivery.attempts_per_run >= 1


def _write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
    return path


GOOD_GROWTH = {"name": "g", "kind": "growth", "enter": 3.0, "exit": 1.5, "min_creators_7d": 20}


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"rules": [{"name": "c", "kind": "cumulative_creators", "levles": [10]}]}, "rules[0] (c).levles"),
        ({"rules": [{"name": "c", "kind": "cumulative_creators"}]}, "rules[0] (c).levels"),
        ({"rules": [{"name": "c", "kind": "cumulative_creators", "levels": [10, "x"]}]}, "rules[0] (c).levels[1]"),
        ({"rules": [{"name": "c", "kind": "cumulative_creators", "levels": [10, 10]}]}, "rules[0] (c).levels"),
        ({"rules": [{"name": "k", "kind": "velocity"}]}, "rules[0] (k).kind"),
        ({"rules": [{**GOOD_GROWTH, "exit": 3.0}]}, "rules[0] (g).exit"),
        ({"rules": [{**GOOD_GROWTH, "enter": "high"}]}, "rules[0] (g).enter"),
        ({"rules": [{k: v for k, v in GOOD_GROWTH.items() if k != "min_creators_7d"}]}, "rules[0] (g).min_creators_7d"),
        ({"rules": [{"name": "z", "kind": "robust_z", "enter": 4, "exit": 2, "min_new_creators": 0}]},
         "rules[0] (z).min_new_creators"),
        ({"rules": [{"name": "s", "kind": "stage_change", "to": ["viral"]}]}, "rules[0] (s).to"),
        ({"rules": [{**GOOD_GROWTH, "scope": {"title_matches": "([unclosed"}}]}, "rules[0] (g).scope.title_matches"),
        ({"rules": [{**GOOD_GROWTH, "scope": {"sound_id": ["a"]}}]}, "rules[0] (g).scope.sound_id"),
        ({"rules": [GOOD_GROWTH, GOOD_GROWTH]}, "rules[1].name"),
        ({"rules": [GOOD_GROWTH], "delivery": {"retries": 3}}, "delivery.retries"),
        ({"rules": [GOOD_GROWTH], "delivery": {"attempts_per_run": 0}}, "delivery.attempts_per_run"),
        ({"rules": []}, "rules"),
        ({"rule": [GOOD_GROWTH]}, "rule"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, doc, key):
    path = _write(tmp_path, doc)
    with pytest.raises(AlertConfigError) as err:
        rules.load(path)
    assert str(path) in str(err.value)
    assert f": {key}" in str(err.value), str(err.value)


def test_invalid_yaml_and_missing_file_name_the_file(tmp_path):
    path = _write(tmp_path, "rules: [\n  - name: x\n    kind: growth\n  bad")
    with pytest.raises(AlertConfigError, match="not valid YAML") as err:
        rules.load(path)
    assert str(path) in str(err.value)
    with pytest.raises(AlertConfigError, match="not found"):
        rules.load(tmp_path / "missing.yaml")


def test_config_path_follows_environment(tmp_path, monkeypatch):
    path = _write(tmp_path, {"rules": [GOOD_GROWTH], "delivery": {"backoff_s": 0.01}})
    monkeypatch.setenv(rules.ENV_ALERTS_CONFIG, str(path))
    config = rules.load()
    assert config.path == path and config.delivery.backoff_s == 0.01
    assert config.rules[0] == rules.Rule(name="g", kind="growth", enter=3.0, exit=1.5, floor=20)


# ---- crossings on a real warehouse ---------------------------------------------------------------


@pytest.fixture
def con(tmp_path):
    c = warehouse.connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


def add_sound(con, sound_id: str, title: str, new_creators: list[int], *, growth=None, z=None, stages=None):
    """sound_daily rows from day D0, counters consistent with `new_creators`; growth_7d and robust_z as
    given (the adoption stage computes them; here they are the input under test)."""
    con.execute(
        "INSERT INTO sounds (sound_id, origin_post_id, first_seen_at, title, duration_s, n_posts, merged_into) "
        "VALUES (?, ?, ?, ?, 15.0, ?, NULL)",
        [sound_id, f"{sound_id}-p0", datetime.combine(D0, datetime.min.time()), title, sum(new_creators)],
    )
    cum = 0
    for i, n in enumerate(new_creators):
        cum += n
        con.execute(
            "INSERT INTO sound_daily (sound_id, day, new_posts, new_creators, cum_posts, cum_creators, growth_7d, "
            "robust_z, stage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sound_id, D0 + timedelta(i), n + 1, n, cum + i, cum, growth[i] if growth else None,
             z[i] if z else None, stages[i] if stages else "moment"],
        )
    if stages:
        previous = None
        for i, stage in enumerate(stages):
            if stage != previous:
                con.execute("INSERT INTO sound_stage_changes VALUES (?, ?, ?, ?)",
                            [sound_id, D0 + timedelta(i), previous, stage])
            previous = stage


def crossed(con, rule: rules.Rule, day: date) -> list[tuple]:
    crossings.record_crossings(con, (rule,), day, "test", NOW)
    return con.execute(
        "SELECT sound_id, level, day, value FROM alerts WHERE rule = ? ORDER BY sound_id, level", [rule.name]
    ).fetchall()


def d(i: int) -> date:
    return D0 + timedelta(i)


def ymd(i: int) -> int:
    """An episode's level: the yyyymmdd of the day it started."""
    return int(d(i).strftime("%Y%m%d"))


def test_cumulative_levels_fire_once_each_even_when_crossed_together(con):
    add_sound(con, "s1", "song", [4, 3, 5, 120, 0, 900])
    rule = rules.Rule(name="creators", kind="cumulative_creators", levels=(10, 100, 1000, 10000))
    assert crossed(con, rule, d(5)) == [
        ("s1", 10, d(2), 12.0), ("s1", 100, d(3), 132.0), ("s1", 1000, d(5), 1032.0),
    ]
    assert crossings.record_crossings(con, (rule,), d(5), "rerun", NOW) == []


def test_growth_hysteresis_dips_do_not_refire_and_a_new_episode_does(con):
    # enter >= 3 with >= 20 creators in 7 days; exit < 1.5
    growth = [None, 1.0, 3.5, 2.0, 1.6, 3.8, 1.2, 1.3, 4.0, 5.0]
    add_sound(con, "s1", "song", [10] * 10, growth=growth)
    rule = rules.Rule(name="g", kind="growth", enter=3.0, exit=1.5, floor=20)
    # day 2 enters; days 3-5 dip to 2.0/1.6 and re-cross 3.8 without leaving (never < 1.5): no new alert;
    # day 6 drops below exit; day 8 starts episode 2
    assert crossed(con, rule, d(9)) == [("s1", ymd(2), d(2), 3.5), ("s1", ymd(8), d(8), 4.0)]


def test_growth_needs_the_volume_floor(con):
    add_sound(con, "tiny", "song", [1, 0, 0, 0, 0, 0, 0, 1, 3], growth=[None] * 7 + [1.0, 4.0])
    add_sound(con, "big", "song", [5, 5, 5, 5, 5, 5, 5, 5, 15], growth=[None] * 7 + [1.0, 4.0])
    rule = rules.Rule(name="g", kind="growth", enter=3.0, exit=1.5, floor=20)
    # tiny: ratio 4 but 5 creators in the last 7 days; big: 45
    assert crossed(con, rule, d(8)) == [("big", ymd(8), d(8), 4.0)]


def test_robust_z_episodes_and_floor_on_the_day(con):
    add_sound(con, "s1", "song", [2, 2, 9, 2, 9, 2, 8, 3], z=[None, 0.0, 5.0, 2.5, 6.0, 1.0, 4.5, 4.0])
    add_sound(con, "s2", "song", [1, 1, 2], z=[None, 0.0, 9.0])  # z high, only 2 new creators
    rule = rules.Rule(name="z", kind="robust_z", enter=4.0, exit=2.0, floor=5)
    assert crossed(con, rule, d(7)) == [("s1", ymd(2), d(2), 5.0), ("s1", ymd(6), d(6), 4.5)]


def test_stage_changes_fire_once_per_stage_entered_upwards(con):
    stages = ["moment", "spark", "trend", "spark", "trend", "movement", "trend", "movement"]
    add_sound(con, "s1", "song", [1, 2, 30, 1, 25, 60, 5, 30], stages=stages)
    add_sound(con, "s2", "song", [40], stages=["trend"])  # first day straight into trend
    rule = rules.Rule(name="stage", kind="stage_change", adoption_stages=("trend", "movement"))
    got = crossed(con, rule, d(7))
    assert [(s, lvl, day) for s, lvl, day, _ in got] == [("s1", 3, d(2)), ("s1", 4, d(5)), ("s2", 3, d(0))]
    labels = [r[0] for r in con.execute("SELECT label FROM alerts ORDER BY sound_id, level").fetchall()]
    assert labels == ["stage spark -> trend", "stage trend -> movement", "stage (new) -> trend"]


def test_scope_by_ids_and_by_title(con):
    add_sound(con, "a", "original sound - dancer", [20])
    add_sound(con, "b", "Dancer Anthem (sped up)", [20])
    add_sound(con, "c", "lofi beats", [20])
    by_title = rules.Rule(name="t", kind="cumulative_creators", levels=(10,),
                          scope=rules.Scope(title_matches="dancer"))
    by_ids = rules.Rule(name="i", kind="cumulative_creators", levels=(10,), scope=rules.Scope(sound_ids=("c", "zz")))
    assert [r[0] for r in crossed(con, by_title, d(0))] == ["a", "b"]
    assert [r[0] for r in crossed(con, by_ids, d(0))] == ["c"]


def test_backfill_in_order_equals_one_late_run(tmp_path):
    """Running day by day gives the same alerts (same keys and crossing days) as running only the last day."""
    config = rules.load(rules.DEFAULT_CONFIG)
    results = []
    for name, days in (("daily", [d(i) for i in range(12)]), ("late", [d(11)])):
        c = warehouse.connect(tmp_path / f"{name}.duckdb")
        add_sound(c, "s1", "song", [1, 2, 3, 9, 30, 60, 10, 0, 0, 0, 5, 200],
                  growth=[None, None, 2.0, 4.0, 5.0, 4.0, 3.0, 1.0, 0.5, 0.2, 0.4, 6.0],
                  z=[None] * 7 + [0.0, 0.0, 0.0, 1.0, 9.0],
                  stages=["moment", "spark", "spark", "spark", "trend", "trend", "trend", "spark", "spark",
                          "spark", "spark", "movement"])
        for day in days:
            crossings.record_crossings(c, config.rules, day, "run", NOW)
        results.append(c.execute("SELECT sound_id, rule, level, day FROM alerts ORDER BY ALL").fetchall())
        c.close()
    assert results[0] == results[1]
    assert ("s1", "growth_7d", ymd(11), d(11)) in results[0]  # a second growth episode after the fall


def test_an_episode_revealed_by_posts_collected_later_fires_once_with_its_true_day(con):
    """Posts of any age: a later collection rewrites a sound's history (sound_daily) before a recorded episode.
    The earlier episode fires with its own day; the recorded one neither moves nor fires again, also when the
    rewrite moves its start one day earlier."""
    rule = rules.Rule(name="g", kind="growth", enter=3.0, exit=1.5, floor=20)
    add_sound(con, "s1", "song", [10] * 10, growth=[None, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0, 5.0])
    assert crossed(con, rule, d(9)) == [("s1", ymd(8), d(8), 4.0)]
    # the back-dated posts: an episode on days 2-4 (exit on day 5), and day 7 now already above enter
    con.execute("DELETE FROM sound_daily; DELETE FROM sounds")
    add_sound(con, "s1", "song", [10] * 10, growth=[None, 1.0, 3.5, 3.2, 2.0, 1.0, 1.0, 3.1, 4.0, 5.0])
    assert crossed(con, rule, d(9)) == [("s1", ymd(2), d(2), 3.5), ("s1", ymd(8), d(8), 4.0)]
    assert crossings.record_crossings(con, (rule,), d(9), "rerun", NOW) == []
