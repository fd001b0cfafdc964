"""Resolution rules (pure): turn one post's verified matches into its primary sound, contained sounds and merges.

Rules (docs/matching.md):
- primary: the sound covering most of the post, when it covers >= PRIMARY_COVERAGE of it or leaves less
  than MAX_UNCOVERED_S unexplained (a re-upload, a clip, a duet or voice-over over the sound);
- otherwise the post is the origin of a new sound (id 'snd-' + its post id), and every sound heard in a part
  of it (a stitch's parent) is 'contained';
- two sounds heard over the same part of one post are the same sound, and so are sounds that together make
  up a post none of them explains alone (two trims of one audio): the one whose origin post is later is
  merged into the earlier (ties: smaller sound id), and the merge is recorded with the post that showed it;
- a post with too little signal to identify (a clip under ~3 s, silence) that matched nothing gets no sound;
- end of day (`requery_merge`): a sound's creating audio and its best-matching posts of the day are queried again
  against the whole index with speed variants; if another sound would have been such a post's primary, the two
  are one sound (a re-upload, speed copy or duet whose own match failed, and the posts that then matched it).
"""

from __future__ import annotations

from datetime import datetime

from pipelines.matching.types import Match, Merge, Query, Resolution, Row, Via

PRIMARY_COVERAGE = 0.8
MAX_UNCOVERED_S = 2.0
SAME_PART = 0.5  # overlap (share of the shorter) for two sounds to be heard "over the same part"
WHOLE_SOUND = 0.8  # share of a sound's own audio a post must contain to show it is the same as another
CLEAN_LANDMARK_SCORE = 0.3  # re-encoded copies align ~0.3-0.6 of their landmarks, voice-overs ~0.02-0.2
MIN_ITEMS_TO_INDEX = 16
MIN_LANDMARKS_TO_INDEX = 40


def through(m: Match, via: Via) -> Match:
    """`m`, heard on a copy of a sound, with its reference times carried onto the sound itself (times, speeds and
    pitch factors compose: a post heard plainly on a nightcore copy is itself nightcore relative to the sound)."""
    copy_s, sound_s, speed, copy_pitch = via
    rs = sound_s + (m.ref_start_s - copy_s) * speed
    total = m.speed * speed
    pitch = None if m.pitch is None or copy_pitch is None else round(m.pitch * copy_pitch, 4)
    return Match(m.qid, m.ref, m.post_start_s, m.post_end_s, rs, rs + (m.post_end_s - m.post_start_s) * total,
                 round(total, 4), pitch, m.score, m.method)


def _union_length(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Overlap of two span sets as a share of the shorter one."""
    la, lb = _union_length(a), _union_length(b)
    if min(la, lb) <= 0:
        return 0.0
    both = la + lb - _union_length(a + b)
    return both / min(la, lb)


def coverage(matches: list[Match], duration_s: float) -> tuple[float, float]:
    """(share of the post covered, seconds left uncovered) by `matches`."""
    covered = min(duration_s, _union_length([(m.post_start_s, m.post_end_s) for m in matches]))
    return (covered / duration_s if duration_s > 0 else 0.0), max(0.0, duration_s - covered)


def is_primary(matches: list[Match], duration_s: float) -> bool:
    share, left = coverage(matches, duration_s)
    return bool(matches) and (share >= PRIMARY_COVERAGE or left < MAX_UNCOVERED_S)


def _longest(m: Match) -> tuple[float, float, int, float, float]:
    """Sort key of a sound's dominant match in a post: the longest stretch, then the best score; equal ones (the
    same stretch heard through two indexed audios of one sound) go to the earlier-indexed audio, then the earlier
    place, so the choice never depends on the order the candidate SQL returned them in (reruns agree)."""
    return m.post_end_s - m.post_start_s, m.score, -m.ref, -m.ref_start_s, -m.post_start_s


def _row(sound_id: str, role: str, ms: list[Match], duration_s: float) -> Row:
    """One row for a sound: the hull of its stretches in the post, mapped through the longest stretch."""
    dom = max(ms, key=_longest)
    same = [m for m in ms if m.speed == dom.speed]
    ps = max(0.0, min(m.post_start_s for m in same))
    pe = min(duration_s, max(m.post_end_s for m in same))
    rs = max(0.0, dom.ref_start_s + (ps - dom.post_start_s) * dom.speed)
    re_ = max(rs, dom.ref_start_s + (pe - dom.post_start_s) * dom.speed)
    return Row(sound_id, role, round(ps, 3), round(pe, 3), round(rs, 3), round(re_, 3), dom.speed, dom.pitch,
               round(dom.score, 4), dom.method)


def _heard_whole(sound_id: str, ms: list[Match], durations: dict[str, float]) -> bool:
    """Is (nearly) all of the sound's own audio inside the post? True for a trim or a re-upload of it, false
    for a stitch of it (only its first seconds) or for a sound that merely shares a stretch with the post."""
    total = durations.get(sound_id, 0.0)
    heard = _union_length([(m.ref_start_s, m.ref_end_s) for m in ms])
    return total > 0 and heard >= WHOLE_SOUND * total - MAX_UNCOVERED_S


def _plain(m: Match) -> bool:
    """Heard as posted, without a voice over it: another copy of the same audio will be heard the same way."""
    return m.method == "chromaprint" or (m.method == "landmarks" and m.score >= CLEAN_LANDMARK_SCORE)


def _clean(m: Match) -> bool:
    """Evidence strong enough to merge sounds on: a BER-verified Chromaprint stretch or a landmark stretch
    where a large share of the post's landmarks align (not a voice-over heard through the music)."""
    return m.method == "chromaprint" or m.score >= CLEAN_LANDMARK_SCORE


class Resolver:
    """Sequential state over one day: which audio is which sound, merges, origins (created_at order)."""

    def __init__(self, audio_sound: dict[int, str], merged_into: dict[str, str | None],
                 origins: dict[str, tuple[datetime, str]], durations: dict[str, float] | None = None,
                 audio_via: dict[int, Via] | None = None) -> None:
        self.audio_sound = dict(audio_sound)
        self.audio_via = dict(audio_via or {})  # indexed copies of a sound (not its own audio): how they play it
        self.durations = dict(durations or {})  # seconds of indexed audio per sound
        self.merged_into = dict(merged_into)
        self.origins = dict(origins)
        self.chunk_sound: dict[int, str] = {}  # qid -> sound it created (same-day references)
        self.chunk_heard: dict[int, tuple[str, Via]] = {}  # qid -> sound it matched, and how (its primary match)

    def canonical(self, sound_id: str) -> str:
        seen = 0
        while (nxt := self.merged_into.get(sound_id)) and seen < 64:
            sound_id, seen = nxt, seen + 1
        return sound_id

    def _sound_of(self, m: Match) -> tuple[str, Match] | None:
        """The sound `m` heard, and `m` with its reference times on that sound's audio. The reference is a
        sound's own audio, an indexed copy of a sound, or an earlier post of the chunk: the sound that post
        created, or the sound it matched. Through a copy, the match is carried onto the sound (`through`)."""
        if m.ref >= 0:
            sound = self.audio_sound.get(m.ref)
            via = self.audio_via.get(m.ref)
        elif (k := -1 - m.ref) in self.chunk_sound:
            sound, via = self.chunk_sound[k], None
        else:
            sound, via = self.chunk_heard.get(k, (None, None))
        if sound is None:
            return None
        if via is None:
            return sound, m
        # the peak-presence test asks whether all of the reference's peaks are in the post; a copy's peaks
        # include what the copy added (a voice), so through a copy it says nothing about the sound
        return None if m.method == "landmarks_presence" else (sound, through(m, via))

    def add_copy(self, audio_id: int, sound_id: str, via: Via) -> None:
        """Indexed audio `audio_id` is a copy of `sound_id` (see Resolution.index_as_copy)."""
        self.audio_sound[audio_id] = sound_id
        self.audio_via[audio_id] = via

    def _order(self, sound_id: str) -> tuple:
        return (0, self.origins[sound_id], sound_id) if sound_id in self.origins else (1, sound_id)

    def requery_other(self, sound_id: str, q: Query, matches: list[Match]) -> tuple[str, Match] | None:
        """`q` (audio `sound_id` is primary for) matched again against the index only: the other sound that
        covers it as the primary rule requires, with its longest match, if any."""
        mine = self.canonical(sound_id)
        by_canon: dict[str, list[Match]] = {}
        for m in matches:
            heard = self._sound_of(m) if m.ref >= 0 else None
            if heard is not None and (c := self.canonical(heard[0])) != mine:
                by_canon.setdefault(c, []).append(heard[1])
        capable = [c for c, ms in by_canon.items() if is_primary(ms, q.duration_s)]
        if not capable:
            return None
        other = max(capable, key=lambda c: (coverage(by_canon[c], q.duration_s)[0],
                                            max(m.score for m in by_canon[c]), c))
        return other, max(by_canon[other], key=_longest)

    def requery_merge(self, sound_id: str, checks: list[tuple[str, Query, list[Match]]]) -> Merge | None:
        """A sound is the same as another when most of its re-queried files (its creating audio, its best posts of
        the day: `checks` of (post id, file, matches)) are covered by that other sound; a mixture's post (a duet
        over another track) is covered by both, but the sound's other files are not. Later origin into earlier."""
        mine = self.canonical(sound_id)
        votes: dict[str, list[tuple[str, Match]]] = {}
        for post_id, q, matches in checks:
            hit = self.requery_other(mine, q, matches)
            if hit is not None:
                votes.setdefault(hit[0], []).append((post_id, hit[1]))
        if not votes:
            return None
        other = max(votes, key=lambda c: (len(votes[c]), c))
        if 2 * len(votes[other]) <= len(checks):
            return None
        a, b = sorted((mine, other), key=self._order)
        via, best = votes[other][0]
        self.merged_into[b] = a
        if b in self.origins:
            self.origins[a] = min(self.origins.get(a, self.origins[b]), self.origins[b])
        return Merge(b, a, via, round(best.score, 4), best.method,
                     f"{len(votes[other])} of {len(checks)} files of {mine} queried again against the index "
                     f"(first: post {via}, {best.method}) are {other}; {b} has the later origin")

    def resolve(self, q: Query, first_post_id: str, first_at: datetime, matches: list[Match]) -> Resolution:
        by_canon: dict[str, list[tuple[str, Match]]] = {}
        for m in matches:
            if (heard := self._sound_of(m)) is not None:
                by_canon.setdefault(self.canonical(heard[0]), []).append(heard)
        spans = {c: [(m.post_start_s, m.post_end_s) for _, m in pairs] for c, pairs in by_canon.items()}
        capable = [c for c, pairs in by_canon.items() if is_primary([m for _, m in pairs], q.duration_s)]
        key = (first_at, first_post_id)
        merges: list[Merge] = []
        clean = {c: [m for _, m in pairs if _clean(m)] for c, pairs in by_canon.items()}
        whole = {c: any(_heard_whole(s, [m for s2, m in pairs if s2 == s and _clean(m)], self.durations)
                        for s in {s for s, _ in pairs}) for c, pairs in by_canon.items()}
        pieces = [c for c in by_canon if clean[c] and whole[c]]
        if (not capable and len(pieces) > 1 and _union_length([(m.post_start_s, m.post_end_s) for c in pieces
                                                               for m in clean[c]]) >= q.duration_s - MAX_UNCOVERED_S
                and all(_overlap([(m.post_start_s, m.post_end_s) for m in clean[a]],
                                 [(m.post_start_s, m.post_end_s) for m in clean[b]]) < SAME_PART
                        for a in pieces for b in pieces if a < b)):
            # pieces of one audio: each sound is a clean trim of this post, one after the other, and together
            # they explain all of it
            target = min(pieces, key=lambda c: (self.origins.get(c, key), c))
            for other in sorted(c for c in pieces if c != target):
                score = max(m.score for _, m in by_canon[other])
                method = max(by_canon[other], key=lambda p: p[1].score)[1].method
                merges.append(Merge(other, target, first_post_id, round(score, 4), method,
                                    f"post {first_post_id} is {target} and {other} one after the other: "
                                    f"both are trims of its audio; {other} has the later origin"))
                self.merged_into[other] = target
                by_canon[target].extend(by_canon.pop(other))
                spans[target] += spans.pop(other)
            capable = [target]
        if capable:
            best = max(capable, key=lambda c: (coverage([m for _, m in by_canon[c]], q.duration_s)[0],
                                                max(m.score for _, m in by_canon[c]), c))
            res = Resolution("matched", "", merges=merges)
            for other in sorted(capable):
                if self.canonical(other) == self.canonical(best):
                    continue
                # only Chromaprint hears one sound at a time: two of its matches over the same part mean the
                # two sounds share that audio; landmarks also hear each part of a mixture (music + voice)
                cp_best = [(m.post_start_s, m.post_end_s) for _, m in by_canon[best] if m.method == "chromaprint"]
                cp_other = [(m.post_start_s, m.post_end_s) for _, m in by_canon[other] if m.method == "chromaprint"]
                if other == best or _overlap(cp_best, cp_other) < SAME_PART:
                    continue
                # and one of them must be inside the post whole (a re-upload or trim of the other), not
                # merely share a stretch with it (a stitch shares its parent's first seconds)
                if not any(_heard_whole(s, [m for s2, m in by_canon[c] if s2 == s and m.method == "chromaprint"],
                                        self.durations)
                           for c in (best, other) for s in {s for s, _ in by_canon[c]}):
                    continue
                a, b = sorted((best, other), key=lambda c: (self.origins.get(c, key), c))
                score = min(max(m.score for _, m in by_canon[best]), max(m.score for _, m in by_canon[other]))
                method = max(by_canon[other], key=lambda p: p[1].score)[1].method
                res.merges.append(Merge(b, a, first_post_id, round(score, 4), method,
                                        f"post {first_post_id} matched both sounds over the same part; "
                                        f"{b} has the later origin"))
                self.merged_into[b] = a
                by_canon.setdefault(a, []).extend(by_canon.pop(b) if b != best else by_canon[best])
                spans[a] = spans.get(a, []) + spans[b]
                best = a
            best_pairs = by_canon[best]
            dominant_sound, dom = max(best_pairs, key=lambda p: _longest(p[1]))
            res.rows.append(_row(dominant_sound, "primary", [m for s, m in best_pairs if s == dominant_sound],
                                 q.duration_s))
            # what later posts may hear this post as: a plain copy of the sound, or the sound at another speed
            # (its own audio). A voice-over is not: a post sharing only its voice would be heard as the sound
            changed_speed = dom.method.startswith("landmarks_speed")
            if _plain(dom) or changed_speed:
                self.chunk_heard[q.qid] = (dominant_sound, (dom.post_start_s, dom.ref_start_s, dom.speed,
                                                            dom.pitch))
            if changed_speed:
                res.index_as_copy = (dominant_sound, self.chunk_heard[q.qid][1])
            res.detail = f"primary {best} by {res.rows[0].method} (score {res.rows[0].score:.2f})"
            self.origins[best] = min(self.origins.get(best, key), key)
            # other sounds heard too: a stitch's parent, or the other half of a mixture (landmarks hear both)
            contained = [c for c in by_canon if c != best and self.canonical(c) != best]
        else:
            if not by_canon and q.fingerprint.size < MIN_ITEMS_TO_INDEX and q.marks[0].size < MIN_LANDMARKS_TO_INDEX:
                return Resolution("too_short", f"{q.duration_s:.1f} s, {q.fingerprint.size} fingerprint items and "
                                  f"{q.marks[0].size} landmarks: too little signal to identify or index")
            sid = f"snd-{first_post_id}"
            res = Resolution("new_sound", f"origin of {sid}", new_sound_id=sid)
            res.rows.append(Row(sid, "primary", 0.0, round(q.duration_s, 3), 0.0, round(q.duration_s, 3),
                                1.0, 1.0, 1.0, "origin"))
            self.chunk_sound[q.qid] = sid
            self.origins[sid] = key
            self.durations[sid] = q.duration_s
            contained = list(by_canon)
        for c in sorted(contained):
            pairs = by_canon[c]
            dom_sound = max(pairs, key=lambda p: _longest(p[1]))[0]
            res.rows.append(_row(dom_sound, "contained", [m for s, m in pairs if s == dom_sound], q.duration_s))
        if len(res.rows) > 1:
            res.detail += "; contains " + ", ".join(self.canonical(r.sound_id) for r in res.rows[1:])
        return res
