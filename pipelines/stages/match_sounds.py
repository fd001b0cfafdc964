"""match_sounds: identify every sound inside every post of one ingest day, by its audio (issue 5).

Posts are matched in created_at order, so a post can match sounds from earlier days and from earlier posts
of the same day; a post whose audio matches no sound becomes a new sound and its audio joins the index.
The day's rows are replaced in one transaction (see docs/matching.md for signals, rules and tables).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines import settings, warehouse
from pipelines.matching import index, speed_estimate
from pipelines.matching.search import (
    SPEED_FACTORS,
    SPEED_MODES,
    Match,
    Query,
    chromaprint_matches,
    landmark_matches,
    presence_matches,
)
from pipelines.matching.sounds import Resolver, is_primary
from pipelines.media_paths import resolve_media
from pipelines.runlog import StageResult, stage_run

CHUNK = 64  # queries matched together; later chunks see the sounds earlier chunks created
SPEED_VARIANTS = [(f, m) for m in SPEED_MODES for f in SPEED_FACTORS]
REQUERY_PER_SOUND = 2  # best-matching posts per sound and day queried again in the merge pass


def resolver_as_of(con, day: date) -> Resolver:
    """The resolution rules' view of the index: the sounds and copies indexed up to `day`, merges, origins."""
    audio_sound, audio_via = {}, {}
    for audio_id, sound_id, copy_s, sound_s, speed in warehouse.fetch_rows(con, "match_sounds/audio_sounds", {"day": day}):
        audio_sound[audio_id] = sound_id
        if speed is not None:
            audio_via[audio_id] = (copy_s, sound_s, speed)
    merged, origins, durations = {}, {}, {}
    for sound_id, merged_into, origin_at, origin_post_id, duration_s in con.execute(
            warehouse.sql_text("match_sounds/known_sounds")).fetchall():
        merged[sound_id] = merged_into
        durations[sound_id] = duration_s or 0.0
        if origin_at is not None:
            origins[sound_id] = (origin_at, origin_post_id)
    return Resolver(audio_sound, merged, origins, durations, audio_via)


def _media(partition: Path, media_path: str | None, extensions: tuple[str, ...]) -> Path | None:
    """The post's media file, strictly inside its landing partition (None if it is not there any more)."""
    if not media_path:
        return None
    where = resolve_media(partition, None, media_path, extensions)
    return partition.resolve() / where.path if where.status == "ok" and where.path else None


def _queries(frame: pl.DataFrame, offset: int, partition: Path | None = None) -> list[Query]:
    extensions = settings.contract_settings().media_extensions
    out = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        out.append(Query(
            qid=offset + i,
            audio_sha256=row["audio_sha256"],
            duration_s=float(row["duration_s"]),
            fingerprint=np.asarray(row["fingerprint"] or [], dtype=np.uint32),
            peak_frames=np.asarray(row["peak_frames"] or [], dtype=np.int32),
            peak_bins=np.asarray(row["peak_bins"] or [], dtype=np.int32),
            media=_media(partition, row.get("media_path"), extensions) if partition is not None else None,
        ))
    return out


def match_chunk(con, queries: list[Query]) -> dict[int, list[Match]]:
    """Every verified match of a chunk's queries; speed corrections only for queries nothing explains."""
    found: dict[int, list[Match]] = {q.qid: [] for q in queries}
    for m in chromaprint_matches(con, queries) + landmark_matches(con, queries, queries):
        found[m.qid].append(m)
    unexplained = [q for q in queries if not is_primary(found[q.qid], q.duration_s)]
    maps: dict[int, np.ndarray] = {}  # the peak-presence test's decoded posts, shared by both of its passes
    if unexplained:  # a sound heard only at first, then under a loud voice: is it still there?
        for m in presence_matches(con, unexplained, found, queries, maps=maps):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not is_primary(found[q.qid], q.duration_s)]
    if unexplained:
        for m in landmark_matches(con, unexplained, queries, speeds=SPEED_VARIANTS):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not is_primary(found[q.qid], q.duration_s)]
    if unexplained:  # two speed changes chained (resampled, then time-stretched): factors measured, not preset
        for m in speed_estimate.matches(con, unexplained):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not is_primary(found[q.qid], q.duration_s)]
    if unexplained:  # the same for a speed-changed copy under a voice
        # (not along key shifts: the Match keeps the time speed only, not the pitch factor presence would need)
        speed_methods = ("landmarks_speed_pitch", "landmarks_speed_tempo")
        for m in presence_matches(con, unexplained, found, queries, methods=speed_methods, maps=maps):
            found[m.qid].append(m)
    return found


def requery_merges(con, resolver: Resolver, members: dict[str, list[tuple[float, int, Query, str]]]) -> list:
    """End-of-day merge pass: each sound heard as primary today has its creating audio (if created today) and
    its best-matching posts of the day queried again against the whole index (no chunk references), as posted
    and at every speed preset, with the same verification as posts. A sound that failed to match its original
    (a speed copy, a duet's voice over it) and the posts that then matched it are merged back this way."""
    picks: list[tuple[str, str, Query]] = []
    for sound_id in sorted(members, key=lambda s: min(o for _, o, _, _ in members[s])):
        seen: set[str] = set()
        for _, _, q, post_id in sorted(members[sound_id], key=lambda x: (-x[0], x[1])):
            if q.audio_sha256 in seen:
                continue
            seen.add(q.audio_sha256)
            picks.append((sound_id, post_id, q))
            if len(seen) >= REQUERY_PER_SOUND + 1:
                break
    found: dict[int, list[Match]] = {}
    for start in range(0, len(picks), CHUNK):
        queries = [Query(start + i, q.audio_sha256, q.duration_s, q.fingerprint, q.peak_frames, q.peak_bins, q._marks)
                   for i, (_, _, q) in enumerate(picks[start:start + CHUNK])]
        for m in (chromaprint_matches(con, queries, chunk_refs=False)
                  + landmark_matches(con, queries, queries, chunk_refs=False)
                  + landmark_matches(con, queries, queries, speeds=SPEED_VARIANTS, chunk_refs=False)):
            found.setdefault(m.qid, []).append(m)
    checks: dict[str, list[tuple[str, Query, list[Match]]]] = {}
    for i, (sound_id, post_id, q) in enumerate(picks):
        checks.setdefault(sound_id, []).append((post_id, q, found.get(i, [])))
    merges = []
    for sound_id, sound_checks in checks.items():  # in pick order (first posted first): deterministic
        merge = resolver.requery_merge(sound_id, sound_checks)
        if merge is not None:
            merges.append(merge)
    return merges


def run(day: date, run_id: str = "cli") -> StageResult:
    with stage_run("match_sounds", day, run_id) as (con, result), warehouse.transaction(con):
        warehouse.run_sql(con, "match_sounds/reset_day", {"day": day})
        index.add_missing_candidate_index(con)  # a warehouse indexed before the triplet lookup existed
        warehouse.run_sql(con, "match_sounds/refresh_sounds")  # merge state without this day's merges
        audio = con.sql(warehouse.sql_text("match_sounds/day_audio"), params={"day": day}).pl()
        if audio.is_empty():
            warehouse.run_sql(con, "match_sounds/refresh_sounds")
            result.status = "no_data"
            result.message = "no posts with fingerprinted audio on this day"
            return result
        resolver = resolver_as_of(con, day)
        next_id = index.next_audio_id(con)
        rows, sounds, merges, outcomes = [], [], [], []
        members: dict[str, list[tuple[float, int, Query, str]]] = {}  # sound -> (score, order, file, post)
        for start in range(0, audio.height, CHUNK):
            part = audio.slice(start, CHUNK)
            queries = _queries(part, start, settings.partition_dir(day))
            found = match_chunk(con, queries)
            new_audio: list[index.NewIndexAudio] = []
            for q, info in zip(queries, part.iter_rows(named=True)):
                res = resolver.resolve(q, info["first_post_id"], info["first_at"], found[q.qid])
                if res.rows and res.outcome != "too_short":
                    first = res.rows[0]
                    members.setdefault(first.sound_id, []).append(
                        (2.0 if res.new_sound_id else first.score, q.qid, q, info["first_post_id"]))
                post_ids = info["post_ids"]
                for k, post_id in enumerate(post_ids):
                    outcome = res.outcome if k == 0 or res.outcome != "new_sound" else "matched"
                    detail = res.detail if k == 0 else f"same file as {post_ids[0]}: {res.detail}"
                    outcomes.append((post_id, outcome, detail, day))
                    for r in res.rows:
                        method = "identical_file" if (k > 0 and r.method == "origin") else r.method
                        rows.append((post_id, r.sound_id, r.role, r.post_start_s, r.post_end_s, r.sound_start_s,
                                     r.sound_end_s, r.speed, r.score, method, r.sound_id, day))
                merges.extend((m.sound_id, m.into_sound_id, m.via_post_id, m.score, m.method, m.reason, day)
                              for m in res.merges)
                if res.new_sound_id:
                    sounds.append((res.new_sound_id, info["first_post_id"], q.audio_sha256, q.duration_s, day))
                    new_audio.append(index.NewIndexAudio(next_id, q.audio_sha256, res.new_sound_id,
                                                         int(q.fingerprint.size), q.peak_frames, q.peak_bins))
                    resolver.audio_sound[next_id] = res.new_sound_id
                    next_id += 1
                elif res.index_as_copy is not None:  # heard only at another speed: index this copy too
                    sound_id, via = res.index_as_copy
                    new_audio.append(index.NewIndexAudio(next_id, q.audio_sha256, sound_id, int(q.fingerprint.size),
                                                         q.peak_frames, q.peak_bins, via))
                    resolver.add_copy(next_id, sound_id, via)
                    next_id += 1
            index.add(con, new_audio, day)
        merges.extend((m.sound_id, m.into_sound_id, m.via_post_id, m.score, m.method, m.reason, day)
                      for m in requery_merges(con, resolver, members))
        frames = {
            "new_sounds": pl.DataFrame(sounds, orient="row", schema={
                "sound_id": pl.String, "created_post_id": pl.String, "audio_sha256": pl.String,
                "duration_s": pl.Float64, "created_day": pl.Date}),
            "new_post_sounds": pl.DataFrame(rows, orient="row", schema={
                "post_id": pl.String, "sound_id": pl.String, "role": pl.String, "post_start_s": pl.Float64,
                "post_end_s": pl.Float64, "sound_start_s": pl.Float64, "sound_end_s": pl.Float64,
                "speed": pl.Float64, "score": pl.Float64, "method": pl.String, "matched_sound_id": pl.String,
                "ingest_day": pl.Date}).drop("sound_id"),
            "new_merges": pl.DataFrame(merges, orient="row", schema={
                "sound_id": pl.String, "into_sound_id": pl.String, "via_post_id": pl.String, "score": pl.Float64,
                "method": pl.String, "reason": pl.String, "day": pl.Date}),
            "new_outcomes": pl.DataFrame(outcomes, orient="row", schema={
                "post_id": pl.String, "outcome": pl.String, "detail": pl.String, "ingest_day": pl.Date}),
        }
        warehouse.run_sql(con, "match_sounds/insert_results", frames=frames)
        warehouse.run_sql(con, "match_sounds/refresh_sounds")
        n_posts = len(outcomes)
        n_matched = sum(1 for o in outcomes if o[1] == "matched")
        result.rows_in = n_posts
        result.rows_out = len(rows)
        result.message = (f"{n_posts} posts ({audio.height} distinct files): {n_matched} matched a known sound, "
                          f"{len(sounds)} new sounds, {n_posts - n_matched - len(sounds)} too short; "
                          f"{len(merges)} merges")
        return result
