"""The match engine's per-step timer (pipelines/matching/profile.py): what it records, never how long (no timing
asserts)."""

from pipelines.matching.profile import NO_PROFILE, Profile


def test_steps_nest_as_self_times_and_merge_steps_are_kept_apart():
    p = Profile()
    with p.step("cp_lookup"):
        pass
    with p.step("merge"), p.step("cp_lookup"):
        pass
    with p.step("cp_lookup"), p.step("inner"):
        pass
    assert p.calls == {"cp_lookup": 2, "merge/cp_lookup": 1, "merge": 1, "inner": 1}
    assert all(v >= 0.0 for v in p.self_s.values())


def test_step_records_even_when_the_step_raises():
    p = Profile()
    try:
        with p.step("resolve"):
            raise ValueError("x")
    except ValueError:
        pass
    assert p.calls == {"resolve": 1}


def test_no_profile_records_nothing_and_passes_exceptions():
    with NO_PROFILE.step("anything"):
        pass
    NO_PROFILE.add("x", 1.0)
    assert not NO_PROFILE.enabled
    try:
        with NO_PROFILE.step("resolve"):
            raise KeyError("k")
    except KeyError:
        pass
    else:
        raise AssertionError("exception swallowed")
