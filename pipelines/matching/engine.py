"""The match engine: one day of posts (or one file, for `trendtrace identify`) end to end, store → analyse →
vote → resolve → typed rows.

Posts are matched in created_at order, in chunks of CHUNK distinct files, in two passes:
1. against the index as it was before the day (`match_against_index`): read-only, chunk by chunk, so it can
   run as mapped shards of whole chunks on any worker (pipelines/stages/match_shards.py) or in this process;
2. against what the day itself adds (`_match_day`, the one writer): the chunk's earlier files (ref = -1 - qid)
   and the audio indexed by earlier chunks of the day (audio ids from the day's first new id on), each step of
   the cascade gated by what both passes found. A file that matches no sound becomes a new sound and its audio
   joins the index before the next chunk.
At the end of the day the merge pass queries each sound's files again against the whole index. DuckDB is reached
only through pipelines/matching/store.py; what the engine returns (`DayMatches`) the stage writes.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from pipelines import settings
from pipelines.audio.decode import DecodeError, decode_pcm
from pipelines.matching import analyse, earlier_files, presence, recent, speed_estimate, store, vote
from pipelines.matching.analyse import SPEED_VARIANTS
from pipelines.matching.profile import NO_PROFILE, Profile
from pipelines.matching.resolve import Resolver, is_primary
from pipelines.matching.types import (
    DayMatches,
    FirstPass,
    Match,
    MatchOutcome,
    Merge,
    NewIndexAudio,
    NewSound,
    PostSound,
    Query,
    SoundMerge,
)
from pipelines.media_paths import resolve_media

CHUNK = 64  # queries matched together; later chunks see the sounds earlier chunks created
REQUERY_PER_SOUND = 2  # best-matching posts per sound and day queried again in the merge pass


def match_day(con: duckdb.DuckDBPyConnection, day: date, partition: Path,
              profile: Profile = NO_PROFILE, prior: FirstPass | None = None) -> DayMatches:
    """Every post of ingest day `day` with fingerprinted audio matched against the index as of that day (its media
    files in landing `partition`, decoded again for the peak-presence test). Adds the day's new sounds and speed
    copies to the index as it goes (inside the caller's transaction); returns the rows to write.
    `prior` holds the first pass's result (`match_against_index`, run by mapped shards); without
    it the first pass runs here. `profile` (pipelines/matching/profile.py) times each step; off by default.
    DuckDB's memory is capped meanwhile (store.bounded_memory)."""
    with store.bounded_memory(con), store.index_as_of(day):
        return _match_day(con, day, partition, profile, prior)


def match_against_index(con: duckdb.DuckDBPyConnection, audio: pl.DataFrame, start: int, stop: int,
                        partition: Path | None, profile: Profile = NO_PROFILE, day: date | None = None) -> FirstPass:
    """The first pass over the files at positions [start, stop) of day audio rows `audio` (store.day_audio, the
    whole day; `start` a multiple of CHUNK, so the chunks are the day's own) of ingest day `day`: each file's
    verified matches against the indexed audio only, by audio_sha256. A file that an earlier file of the day plays
    as posted skips the speed steps here (`FirstPass.deferred`, earlier_files.py). Reads the index, writes
    nothing: shards of whole chunks give the same result wherever and in whatever order they run."""
    if start % CHUNK:
        raise ValueError(f"a first-pass shard must start on a chunk boundary (CHUNK={CHUNK}), not at {start}")
    out = FirstPass()
    sounds = recent_sounds(con, day)
    with profile.step("earlier_files"):
        earlier = earlier_files.EarlierFiles(audio.slice(0, stop))
    with store.index_as_of(day):
        for offset in range(start, stop, CHUNK):
            with profile.step("day_audio"):
                queries = queries_of(audio.slice(offset, min(CHUNK, stop - offset)), offset, partition)
            held: set[int] = set()
            found = match_chunk(con, queries, profile, chunk_refs=False, recent_of=sounds, defer=earlier.heard,
                                deferred_out=held)
            out.matches.update((q.audio_sha256, found[q.qid]) for q in queries)
            out.deferred.update(q.audio_sha256 for q in queries if q.qid in held)
    return out


def _match_day(con: duckdb.DuckDBPyConnection, day: date, partition: Path, profile: Profile,
               prior: FirstPass | None) -> DayMatches:
    with profile.step("day_audio"):
        audio = store.day_audio(con, day)
    if audio.is_empty():
        return DayMatches(day, files=0)
    if prior is None:
        prior = match_against_index(con, audio, 0, audio.height, partition, profile, day)
    sounds = recent_sounds(con, day)  # for the deferred files' weak step, as the first pass would have asked
    resolver = resolver_as_of(con, day)
    first_new_id = next_id = store.next_audio_id(con)
    out = DayMatches(day, files=audio.height)
    members: dict[str, list[tuple[float, int, Query, str]]] = {}  # sound -> (score, order, file, post)
    for start in range(0, audio.height, CHUNK):
        part = audio.slice(start, CHUNK)
        with profile.step("day_audio"):
            queries = queries_of(part, start, partition)
        known = {q.qid: prior.matches.get(q.audio_sha256, []) for q in queries}  # qids as the first pass numbered
        deferred = {q.qid for q in queries if q.audio_sha256 in prior.deferred}
        today = match_chunk(con, queries, profile, known=known, since_audio_id=first_new_id, deferred=deferred,
                            recent_of=sounds)
        found = {qid: known[qid] + today[qid] for qid in today}
        new_audio: list[NewIndexAudio] = []
        for q, info in zip(queries, part.iter_rows(named=True), strict=False):
            with profile.step("resolve"):
                res = resolver.resolve(q, info["first_post_id"], info["first_at"], found[q.qid])
            if not res.new_sound_id and res.index_as_copy is None:  # the files the merge pass is sure to key
                q.keyed.clear()  # again are a sound's creating file and a speed copy: keep their keys only
            if res.rows and res.outcome != "too_short":
                first = res.rows[0]
                members.setdefault(first.sound_id, []).append(
                    (2.0 if res.new_sound_id else first.score, q.qid, q, info["first_post_id"]))
            post_ids = info["post_ids"]
            for k, post_id in enumerate(post_ids):  # every post carrying this file hears what it holds
                outcome = res.outcome if k == 0 or res.outcome != "new_sound" else "matched"
                detail = res.detail if k == 0 else f"same file as {post_ids[0]}: {res.detail}"
                out.outcomes.append(MatchOutcome(post_id, outcome, detail, day))
                for r in res.rows:
                    method = "identical_file" if (k > 0 and r.method == "origin") else r.method
                    out.post_sounds.append(PostSound.of(r, post_id, method, day))
            out.merges.extend(SoundMerge.of(m, day) for m in res.merges)
            if res.new_sound_id:
                out.sounds.append(NewSound(res.new_sound_id, info["first_post_id"], q.audio_sha256, q.duration_s, day))
                new_audio.append(NewIndexAudio(next_id, q.audio_sha256, res.new_sound_id, int(q.fingerprint.size),
                                               q.peak_frames, q.peak_bins))
                resolver.audio_sound[next_id] = res.new_sound_id
                next_id += 1
            elif res.index_as_copy is not None:  # heard only at another speed: index this copy too
                sound_id, via = res.index_as_copy
                new_audio.append(NewIndexAudio(next_id, q.audio_sha256, sound_id, int(q.fingerprint.size),
                                               q.peak_frames, q.peak_bins, via))
                resolver.add_copy(next_id, sound_id, via)
                next_id += 1
        with profile.step("index_add"):
            store.add_to_index(con, new_audio, day)
    with profile.step("merge"):
        out.merges.extend(SoundMerge.of(m, day) for m in requery_merges(con, resolver, members, profile))
    return out


def recent_sounds(con: duckdb.DuckDBPyConnection, day: date | None) -> Callable[[], recent.RecentSounds]:
    """The weak step's recent sounds as of ingest day `day` (None: after the last day matched), read from the
    index the first time a chunk asks for them, then kept for the day's other chunks."""
    loaded: list[recent.RecentSounds] = []

    def get() -> recent.RecentSounds:
        if not loaded:
            ids = store.recent_audio(con, day, recent.RECENT_DAYS, recent.RECENT_SOUNDS)
            loaded.append(recent.RecentSounds(store.ref_landmarks(con, ids), store.ref_peaks(con, ids)))
        return loaded[0]
    return get


def resolver_as_of(con: duckdb.DuckDBPyConnection, day: date) -> Resolver:
    """The resolution rules' view of the index: the sounds and copies indexed up to `day`, merges, origins."""
    audio_sound, audio_via = {}, {}
    for audio_id, sound_id, copy_s, sound_s, speed, pitch in store.indexed_audio(con, day):
        audio_sound[audio_id] = sound_id
        if speed is not None:
            audio_via[audio_id] = (copy_s, sound_s, speed, pitch)
    merged, origins, durations = {}, {}, {}
    for sound_id, merged_into, origin_at, origin_post_id, duration_s in store.known_sounds(con):
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


def queries_of(frame: pl.DataFrame, offset: int, partition: Path | None = None) -> list[Query]:
    """The day's audio rows (store.day_audio) as queries numbered from `offset`, with their media file if
    `partition` is given."""
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


def match_chunk(con: duckdb.DuckDBPyConnection, queries: list[Query], profile: Profile = NO_PROFILE, *,
                known: dict[int, list[Match]] | None = None, since_audio_id: int = 0,
                chunk_refs: bool = True,
                recent_of: Callable[[], recent.RecentSounds] | None = None,
                defer: Callable[[Query], bool] | None = None, deferred_out: set[int] | None = None,
                deferred: set[int] | None = None) -> dict[int, list[Match]]:
    """Every verified match of a chunk's queries against the indexed audio from id `since_audio_id` on and (if
    `chunk_refs`) the chunk's earlier queries; speed corrections only for queries nothing explains, counting the
    matches `known` already found for them elsewhere (the first pass's). `recent_of` gives the sounds the weak
    step also asks about (recent_sounds; None: only those the triplet keys name). Returns this call's matches
    only.

    First pass: an unexplained query for which `defer` is true skips the speed steps (its qid goes into
    `deferred_out`). Second pass: the `deferred` qids still unexplained take them against the whole index and
    the day (audio id 0 on, with `recent_of`), as the first pass would have; the others against
    `since_audio_id` on, without the recent sounds."""
    known = known or {}
    found: dict[int, list[Match]] = {q.qid: [] for q in queries}

    def explained(q: Query) -> bool:
        return is_primary(known.get(q.qid, []) + found[q.qid], q.duration_s)

    for m in (chromaprint_matches(con, queries, chunk_refs, since_audio_id, profile=profile)
              + landmark_matches(con, queries, queries, chunk_refs=chunk_refs, since_audio_id=since_audio_id,
                                 profile=profile)):
        found[m.qid].append(m)
    unexplained = [q for q in queries if not explained(q)]
    maps: dict[int, np.ndarray | None] = {}  # the peak-presence test's decoded posts, shared by both of its passes
    if unexplained:  # a sound heard only at first, then under a loud voice: is it still there?
        for m in presence_matches(con, unexplained, found, queries, maps=maps, profile=profile):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not explained(q)]
    if defer is not None and unexplained:
        with profile.step("earlier_files"):
            held = {q.qid for q in unexplained if defer(q)}
        if deferred_out is not None:
            deferred_out.update(held)
        unexplained = [q for q in unexplained if q.qid not in held]
    if deferred:
        groups = [([q for q in unexplained if q.qid not in deferred], since_audio_id, None),
                  ([q for q in unexplained if q.qid in deferred], 0, recent_of)]
    else:
        groups = [(unexplained, since_audio_id, recent_of)]
    for group, since, recent_sounds_of in groups:
        if group:
            _speed_steps(con, group, queries, found, explained, chunk_refs, since, maps, profile, recent_sounds_of)
    return found


def _speed_steps(con: duckdb.DuckDBPyConnection, unexplained: list[Query], queries: list[Query],
                 found: dict[int, list[Match]], explained: Callable[[Query], bool], chunk_refs: bool,
                 since_audio_id: int, maps: dict[int, np.ndarray | None], profile: Profile,
                 recent_of: Callable[[], recent.RecentSounds] | None) -> None:
    """match_chunk's steps for the queries nothing explains as posted: the speed presets, measured and scanned
    factors, presence along speed alignments, the weak step; each step only for those still unexplained. Adds to
    `found`."""
    named = pl.DataFrame(schema={"qid": pl.Int32, "ref": pl.Int32})
    if unexplained:
        named_out: list[pl.DataFrame] = []
        for m in landmark_matches(con, unexplained, queries, speeds=SPEED_VARIANTS, chunk_refs=chunk_refs,
                                  since_audio_id=since_audio_id, profile=profile, named_out=named_out):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not explained(q)]
        named = named_out[0] if named_out else named
    if unexplained:  # two speed changes chained (resampled, then time-stretched): factors measured, not preset
        # against the audios the presets' triplet keys named for each query (the cheap evidence: a chained copy
        # still aligns a few triplets at its nearest preset), not every indexed pair
        for m in speed_estimated_matches(con, unexplained, profile, named=named):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not explained(q)]
    if unexplained:  # resampled at a factor no preset is within ~1 % of: scanned, against the same named audios
        for m in resampled_matches(con, unexplained, named, profile):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not explained(q)]
    if unexplained:  # the same for a speed-changed copy under a voice
        # (not along key shifts: the Match keeps the time speed only, not the pitch factor presence would need)
        speed_methods = ("landmarks_speed_pitch", "landmarks_speed_tempo")
        for m in presence_matches(con, unexplained, found, queries, methods=speed_methods, maps=maps,
                                  profile=profile):
            found[m.qid].append(m)
        unexplained = [q for q in unexplained if not explained(q)]
    if unexplained:  # a voice louder than the music: alignments too weak for landmarks, confirmed by peak presence
        for m in weak_presence_matches(con, unexplained, queries, chunk_refs, since_audio_id, maps, profile,
                                       recent_of):
            found[m.qid].append(m)


def weak_presence_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], chunk: list[Query],
                          chunk_refs: bool = True, since_audio_id: int = 0,
                          maps: dict[int, np.ndarray | None] | None = None,
                          profile: Profile = NO_PROFILE,
                          recent_of: Callable[[], recent.RecentSounds] | None = None) -> list[Match]:
    """For queries nothing explains: as-posted alignments with too few aligned landmarks to verify
    (vote.MIN_LM_VOTES_WEAK, a stricter runner-up ratio) that the peak-presence test confirms over most of their
    span (presence.confirmed_match), kept only where such a match alone explains the post (a voice up to 6 dB
    louder than the music over the whole post). The indexed audios asked are those the triplet keys name and
    (with `recent_of`) the recent sounds whose pair hashes align with the query's (pipelines/matching/recent.py);
    the recent sounds with the most pair votes are also aligned by single peaks (RecentSounds.candidates), for a
    voice that leaves even fewer pairs."""
    maps = {} if maps is None else maps
    with profile.step("weak_lookup"):
        q_marks = analyse.q_marks(queries, chunk)
        q_triplets = analyse.q_triplets(queries)
        if q_marks is None or q_triplets is None:
            return []
        _, lm_index = store.named_candidates(con, q_triplets, vote.TRIPLET_TOL, since_audio_id)
    peak_seeds: dict[int, list[Match]] = {}
    if recent_of is not None:
        with profile.step("weak_recent"):
            sounds = recent_of()
            named_by_pairs, peak_seeds = sounds.candidates(queries, since_audio_id)
            named = {a for ids in named_by_pairs.values() for a in ids if a >= since_audio_id}
            extra = sorted(named - set(lm_index["audio_id"].unique().to_list()))
            if extra:
                lm_index = pl.concat([lm_index, sounds.rows(extra)])
    with profile.step("weak_lookup"):
        cands = vote.for_queries(store.landmark_candidates(con, q_marks, lm_index, chunk_refs=chunk_refs, weak=True),
                                 queries)
    seeds: dict[int, list[Match]] = {}
    for m in vote.landmark_matches(chunk, cands, vote.MIN_LM_VOTES_WEAK) if not cands.is_empty() else []:
        seeds.setdefault(m.qid, []).append(m)
    by_peaks = {id(m) for found in peak_seeds.values() for m in found}
    for qid, found in peak_seeds.items():  # fewer pairs still: recent audios aligned by single peaks, tried
        seeds.setdefault(qid, []).extend(found)  # after the pair seeds (a pair seed's span may be too short)
    if not seeds:
        return []
    with profile.step("presence_test"):
        stored = store.ref_peaks(con, sorted({m.ref for ms in seeds.values() for m in ms if m.ref >= 0}))
    by_qid = {q.qid: q for q in chunk}
    with profile.step("presence_decode"):
        for q in queries:
            if q.qid in seeds and q.qid not in maps:
                maps[q.qid] = _post_maxima(q) if q.media is not None else None
    out: list[Match] = []
    with profile.step("presence_test"):
        for q in queries:
            if maps.get(q.qid) is None:
                continue
            heard: set[int] = set()
            for m in seeds.get(q.qid, []):
                ref_q = by_qid.get(-1 - m.ref) if m.ref < 0 else None
                ref_peaks = stored.get(m.ref) if m.ref >= 0 else (ref_q.peak_frames, ref_q.peak_bins) if ref_q else None
                from_peaks = id(m) in by_peaks
                if ref_peaks is None or (from_peaks and m.ref in heard):  # a peak seed only where no seed was heard
                    continue
                confirmed = (presence.present_part if from_peaks else presence.confirmed_match)(
                    q, m, maps[q.qid], *ref_peaks)
                if confirmed is not None and is_primary([confirmed], q.duration_s):
                    out.append(confirmed)
                    heard.add(m.ref)
    return out


def requery_merges(con: duckdb.DuckDBPyConnection, resolver: Resolver,
                   members: dict[str, list[tuple[float, int, Query, str]]],
                   profile: Profile = NO_PROFILE) -> list[Merge]:
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
        queries = [q.with_qid(start + i) for i, (_, _, q) in enumerate(picks[start:start + CHUNK])]
        # every pick at the speed presets too (their keys as the day computed them, Query.keyed): skipping the
        # presets for picks heard whole as posted made 23 merges instead of 28 on the bench's 1,000-post day
        # (docs/matching.md, issue 17)
        for m in (chromaprint_matches(con, queries, chunk_refs=False, profile=profile)
                  + landmark_matches(con, queries, queries, chunk_refs=False, profile=profile)
                  + landmark_matches(con, queries, queries, speeds=SPEED_VARIANTS, chunk_refs=False,
                                     profile=profile)):
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


def chromaprint_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], chunk_refs: bool = True,
                        since_audio_id: int = 0, profile: Profile = NO_PROFILE) -> list[Match]:
    """Offset voting on 24-bit item keys, then BER spans along each candidate alignment (against the indexed audio
    from id `since_audio_id` on and, if `chunk_refs`, the chunk's earlier queries)."""
    with profile.step("cp_lookup"):
        q_items = analyse.q_items(queries)
        if q_items is None:
            return []
        cands = store.chromaprint_candidates(con, q_items, chunk_refs, since_audio_id)
    if cands.is_empty():
        return []
    with profile.step("cp_verify"):
        ref_fps = store.ref_fingerprints(con, sorted({r for r in cands["ref"].to_list() if r >= 0}))
        return vote.chromaprint_matches(queries, cands, ref_fps)


def landmark_candidates(con: duckdb.DuckDBPyConnection, queries: list[Query],
                        speeds: list[tuple[float, str]] | None = None,
                        q_triplets: pl.DataFrame | None = None) -> pl.DataFrame:
    """`lm_index(hash, audio_id, t)`: the pairs of the indexed audios that the queries' triplet keys point to, as
    posted or (with `speeds`) mapped back by each speed preset, as their pair hashes are."""
    q_triplets = analyse.q_triplets(queries, speeds) if q_triplets is None else q_triplets
    if q_triplets is None:
        return pl.DataFrame(schema={"hash": pl.UInt32, "audio_id": pl.Int32, "t": pl.Int32})
    return store.candidate_pairs(con, q_triplets, vote.TRIPLET_TOL if speeds is None else vote.TRIPLET_TOL_SPEED)


def landmark_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], chunk: list[Query],
                     speeds: list[tuple[float, str]] | None = None, chunk_refs: bool = True,
                     since_audio_id: int = 0, profile: Profile = NO_PROFILE,
                     named_out: list[pl.DataFrame] | None = None) -> list[Match]:
    """Offset voting on landmark hashes of `queries` (as posted, or at each of `speeds`), then clusters of
    aligned landmarks become spans. `chunk` supplies the earlier same-chunk queries as references (unless
    `chunk_refs` is false: the index only); indexed audio is read from id `since_audio_id` on. `named_out`, if
    given, receives the (qid, ref) frame of the indexed audios each query's triplet keys named."""
    step = "lm" if speeds is None else "speed"
    with profile.step(f"{step}_keys"):
        q_marks = analyse.q_marks(queries, chunk, speeds)
        if q_marks is None:
            return []
        q_triplets = analyse.q_triplets(queries, speeds)
    with profile.step(f"{step}_pairs"):
        if q_triplets is None:
            named, lm_index = pl.DataFrame(schema={"qid": pl.Int32, "ref": pl.Int32}), landmark_candidates(con, [])
        else:
            named, lm_index = store.named_candidates(
                con, q_triplets, vote.TRIPLET_TOL if speeds is None else vote.TRIPLET_TOL_SPEED, since_audio_id)
        if named_out is not None:
            named_out.append(named)
    with profile.step(f"{step}_lookup"):
        heads = store.stitch_candidates(con, q_marks, lm_index, chunk_refs) if speeds is None else None
    stitch_head: list[Match] = []
    if heads is not None:
        with profile.step(f"{step}_vote"):
            stitch_head = vote.stitch_head_matches(queries, chunk, heads)
    with profile.step(f"{step}_lookup"):
        cands = store.landmark_candidates(con, q_marks, lm_index, speed=speeds is not None, chunk_refs=chunk_refs)
    if cands.is_empty():
        return stitch_head
    with profile.step(f"{step}_vote"):
        cands = vote.for_queries(cands, queries, speed=speeds is not None)
        if speeds is None:
            return vote.landmark_matches(chunk, cands) + stitch_head
        ref_marks = store.ref_landmarks(con, sorted({r for r in cands["ref"].to_list() if r >= 0}))
        return vote.speed_matches(chunk, cands, speeds, ref_marks)


def presence_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], found: dict[int, list[Match]],
                     chunk: list[Query], methods: tuple[str, ...] = ("landmarks",),
                     maps: dict[int, np.ndarray | None] | None = None, profile: Profile = NO_PROFILE) -> list[Match]:
    """For queries nothing explains yet: each landmark alignment found by `methods` (as posted, or
    landmarks_speed_pitch / _tempo) grown over the windows where the reference's peaks are still present in the
    post (a sound under a voice as loud as it, docs/matching.md). The post's file is decoded again for this
    (Query.media), only for these queries and once per `maps` cache; a file that cannot be read here keeps its
    matches as they were."""
    maps = {} if maps is None else maps
    todo = presence.alignments_to_grow(queries, found, methods)
    if not todo:
        return []
    with profile.step("presence_test"):
        stored = store.ref_peaks(con, sorted({m.ref for _, ms in todo for m in ms if m.ref >= 0}))
    by_qid = {q.qid: q for q in chunk}
    with profile.step("presence_decode"):  # decoding and dense maxima, the posts in parallel (order-free)
        missing = [q for q, _ in todo if q.qid not in maps]
        if len(missing) > 1 and settings.workers() > 1:
            with ThreadPoolExecutor(max_workers=min(settings.workers(), len(missing))) as pool:
                maps.update(zip((q.qid for q in missing), pool.map(_post_maxima, missing), strict=False))
        else:
            maps.update((q.qid, _post_maxima(q)) for q in missing)
    out: list[Match] = []
    for q, candidates in todo:
        if maps[q.qid] is None:  # the file cannot be read here: its matches stay as they were
            continue
        for m in candidates:
            ref_q = by_qid.get(-1 - m.ref) if m.ref < 0 else None
            ref_peaks = stored.get(m.ref) if m.ref >= 0 else (ref_q.peak_frames, ref_q.peak_bins) if ref_q else None
            if ref_peaks is None:
                continue
            with profile.step("presence_test"):
                grown = presence.grown_match(q, m, maps[q.qid], *ref_peaks)
            if grown is not None:
                out.append(grown)
    return out


def _post_maxima(q: Query) -> np.ndarray | None:
    """presence.dense_maxima of the post's file decoded again (None if it cannot be read)."""
    try:
        return presence.dense_maxima(decode_pcm(q.media, max_seconds=q.duration_s + 1.0))
    except (DecodeError, OSError):
        return None


def resampled_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], named: pl.DataFrame,
                      profile: Profile = NO_PROFILE) -> list[Match]:
    """Verified matches of `queries` at a resampling factor scanned from 0.7 to 1.5 (speed_estimate.
    resampled_matches) against the indexed audios `named(qid, ref)` names for each (the presets' triplet keys)."""
    named = named.filter(pl.col("qid").is_in([q.qid for q in queries]))
    if named.is_empty():
        return []
    with profile.step("resampled_scan"):
        ref_marks = store.ref_landmarks(con, sorted(set(named["ref"].to_list())))
        return speed_estimate.resampled_matches(queries, named, ref_marks)


def speed_estimated_matches(con: duckdb.DuckDBPyConnection, queries: list[Query],
                            profile: Profile = NO_PROFILE, named: pl.DataFrame | None = None) -> list[Match]:
    """Verified matches of `queries` at measured (time, pitch) factors (speed_estimate.py) against the indexed
    audios `named(qid, ref)` names for each (the engine: those the speed presets' triplet keys named), or with
    `named` None against every indexed pair (the reference, linear in the index)."""
    if named is not None:
        named = named.filter(pl.col("qid").is_in([q.qid for q in queries]))
        if named.is_empty():
            return []
        queries = [q for q in queries if q.qid in set(named["qid"].to_list())]
    with profile.step("speed_est_lookup"):
        cands = store.speed_estimate_candidates(con, speed_estimate.q_pairs(queries), named)
    if cands.is_empty():
        return []
    with profile.step("speed_est_verify"):
        ref_marks = store.ref_landmarks(con, sorted(set(cands["ref"].to_list())))
        return speed_estimate.verified(queries, cands, ref_marks)
