"""The edit vocabulary of post_sounds (pipelines/matching/edits.py): each label from its speed and pitch factors,
the 1 % tolerance, and the cases with no label. The real-audio cases are tests/integration/test_match_edit_labels.py."""

from __future__ import annotations

import pytest

from pipelines.matching.edits import EDITS, edit_of, semitones


@pytest.mark.parametrize(("speed", "pitch", "method", "edit"), [
    (1.0, 1.0, "origin", "original"),
    (1.0, 1.0, "identical_file", "original"),
    (1.0, 1.0, "chromaprint", "as_posted"),
    (1.005, 0.995, "landmarks_speed_estimated", "as_posted"),  # within 1 %: unchanged
    (1.0, 1.0, "landmarks_presence", "under_voice"),
    (1.25, 1.25, "landmarks_presence", "sped_up"),  # a speed change wins over the voice
    (1.25, 1.25, "landmarks", "sped_up"),  # heard plainly through a nightcore copy
    (0.8, 0.8, "landmarks_speed_pitch", "slowed"),
    (1.2, 1.0, "landmarks_speed_tempo", "tempo_up"),
    (0.9, 1.0, "landmarks_speed_tempo", "tempo_down"),
    (1.0, 2 ** (2 / 12), "landmarks_speed_key", "pitch_up"),
    (1.0, 2 ** (-1 / 12), "landmarks_speed_key", "pitch_down"),
    (1.5, 1.25, "landmarks_speed_estimated", "speed_and_pitch"),
    (1.25, 1.2525, "landmarks_speed_estimated", "sped_up"),  # the two factors within 1 % of each other
    (1.25, 1.2, "landmarks_speed_estimated", "speed_and_pitch"),
    (1.25, None, "landmarks", None),  # through a copy whose pitch was not kept
])
def test_each_label_from_its_factors(speed, pitch, method, edit):
    assert edit_of(speed, pitch, method) == edit
    assert edit is None or edit in EDITS


def test_semitones():
    assert semitones(1.25) == 3.86 and semitones(0.85) == -2.81 and semitones(2 ** (2 / 12)) == 2.0
    assert semitones(1.0) == 0.0 and str(semitones(0.99999)) == "0.0"  # never -0.0
    assert semitones(None) is None
