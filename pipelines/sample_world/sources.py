"""Real music from Debian's free game-music packs, fetched once into the cache (no system install).

`apt-get download` + `dpkg-deb -x` run inside the cache; `.pk3` archives (zip) are unpacked with zipfile;
only the audio tracks are kept and catalogued (title, album, duration) so later builds never touch apt.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

AUDIO_EXT = (".ogg", ".opus")

# package -> album, artist, licence (from the package's debian/copyright) and where its tracks live
PACKS: dict[str, dict] = {
    "singularity-music": {
        "album": "Endgame: Singularity",
        "artist": "Max McCracken",
        "licence": "CC-BY-SA-3.0",
        "glob": "usr/share/games/singularity/music/**/*",
    },
    "wesnoth-1.16-music": {
        "album": "The Battle for Wesnoth",
        "artist": "Wesnoth composers",
        "licence": "GPL-2+",
        "glob": "usr/share/games/wesnoth/1.16/data/core/music/*",
    },
    "warzone2100-music": {
        "album": "Warzone 2100",
        "artist": "Warzone 2100 composers",
        "licence": "CC-BY-SA-3.0 or GPL-2+ (per album licence.txt)",
        "glob": "usr/share/games/warzone2100/music/**/*",
    },
    "nexuiz-music": {
        "album": "Nexuiz",
        "artist": "Nexuiz composers",
        "licence": "GPL-2+",
        "glob": "usr/share/games/nexuiz/data/*.pk3",
    },
    "ufoai-music": {
        "album": "UFO: Alien Invasion",
        "artist": "UFO:AI composers",
        "licence": "GPL-2+ / CC-BY-SA-3.0 / CC-BY-3.0 (per file, see debian/copyright)",
        "glob": "usr/share/games/ufoai/base/*.pk3",
    },
}

# Tracks that are (near-)copies of another track in the packs: as separate "sounds" they would make the
# ground truth claim two sounds where the audio is one, so they are left out.
EXCLUDE = {
    "warzone2100-music": ("track3_enhanced.opus", "menu_enhanced.opus"),
    "wesnoth-1.16-music": ("frantic-old.ogg",),
}
MIN_TRACK_S = 20.0


@dataclass(frozen=True, slots=True)
class Track:
    """One real audio file in the cache."""

    package: str
    version: str
    licence: str
    album: str
    artist: str
    title: str
    path: str  # relative to the cache dir
    duration_s: float


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise concurrent builds that share one cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def probe_duration(path: Path) -> float:
    """Container duration in seconds (ffprobe)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip() or 0.0)


def _title(stem: str) -> str:
    s = re.sub(r"[-_]+", " ", stem).strip()
    s = re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", s)
    return " ".join(w if w.isupper() else w.capitalize() for w in s.split())


def _download(pkg: str, debs: Path) -> Path:
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{pkg}_*.deb"))
    if not found:
        res = subprocess.run(["apt-get", "download", pkg], cwd=debs, capture_output=True, text=True)
        found = sorted(debs.glob(f"{pkg}_*.deb"))
        if res.returncode != 0 or not found:
            raise RuntimeError(
                f"could not fetch Debian package {pkg} with `apt-get download` (is apt configured and the "
                f"network reachable?): {res.stderr.strip()[-400:]}"
            )
    return found[-1]


def _warzone_titles(root: Path) -> dict[str, tuple[str, str]]:
    titles = {}
    for album in root.glob("usr/share/games/warzone2100/music/albums/*/album.json"):
        meta = json.loads(album.read_text())
        for tr in meta.get("tracks", []):
            titles[tr["filename"]] = (tr.get("title") or tr["filename"], meta.get("title", ""))
    return titles


def ensure_pack(pkg: str, cache_dir: Path) -> list[Track]:
    """Fetch, unpack and catalogue one pack (once); returns its tracks, longest-lived state in the cache."""
    meta = PACKS[pkg]
    dest = cache_dir / "sources" / pkg
    catalog = dest / "catalog.json"
    with _locked(cache_dir / "sources" / f".{pkg}.lock"):
        if catalog.exists():
            return [Track(**t) for t in json.loads(catalog.read_text())]
        deb = _download(pkg, cache_dir / "debs")
        version = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        files_dir = dest / "files"
        if files_dir.exists():
            shutil.rmtree(files_dir)
        files_dir.mkdir(parents=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            root = Path(tmp)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            wz_titles = _warzone_titles(root)
            for doc in root.glob("usr/share/doc/*/copyright"):
                shutil.copy(doc, dest / "copyright")
            found: list[tuple[Path, str]] = []
            for p in sorted(root.glob(meta["glob"])):
                if p.suffix == ".pk3":
                    with zipfile.ZipFile(p) as z:
                        for name in sorted(z.namelist()):
                            if name.lower().endswith(AUDIO_EXT):
                                target = files_dir / Path(name).name
                                target.write_bytes(z.read(name))
                                found.append((target, Path(name).name))
                elif p.suffix.lower() in AUDIO_EXT:
                    sub = p.parent.name if p.parent.name not in ("music",) else ""
                    target = files_dir / (f"{sub}__{p.name}" if sub else p.name)
                    shutil.copy(p, target)
                    found.append((target, p.name))
        tracks = []
        for target, name in found:
            if name in EXCLUDE.get(pkg, ()):
                target.unlink()
                continue
            dur = probe_duration(target)
            if dur < MIN_TRACK_S:
                target.unlink()
                continue
            title, album = wz_titles.get(name, (_title(Path(name).stem), meta["album"]))
            if pkg == "warzone2100-music" and album and album != meta["album"]:
                album = f"Warzone 2100: {album}"
            tracks.append(
                Track(pkg, version, meta["licence"], album, meta["artist"], title,
                      str(target.relative_to(cache_dir)), round(dur, 3))
            )
        catalog.write_text(json.dumps([asdict(t) for t in tracks], indent=1))
        deb.unlink()  # the unpacked tracks are the cache; the .deb is not needed again
        return tracks


def ensure_packs(packs: tuple[str, ...], cache_dir: Path) -> list[Track]:
    """All tracks of the given packs, fetching the missing ones."""
    out: list[Track] = []
    for pkg in packs:
        out.extend(ensure_pack(pkg, cache_dir))
    return out
