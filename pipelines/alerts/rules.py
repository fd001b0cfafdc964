"""config/alerts.yaml → validated rules and delivery settings.

A typo in a threshold must stop the run with a message naming the file and the key, not silently
disable an alert; so every key is checked, unknown keys included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import ADOPTION_STAGES, PROJECT_ROOT

ENV_ALERTS_CONFIG = "TRENDTRACE_ALERTS_CONFIG"
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "alerts.yaml"

KINDS = ("cumulative_creators", "growth", "robust_z", "stage_change")
_SCOPE_KEYS = {"sound_ids", "title_matches"}
_KIND_KEYS: dict[str, set[str]] = {
    "cumulative_creators": {"levels"},
    "growth": {"enter", "exit", "min_creators_7d"},
    "robust_z": {"enter", "exit", "min_new_creators"},
    "stage_change": {"to"},
}
_COMMON_KEYS = {"name", "kind", "scope", "description"}
_DELIVERY_DEFAULTS: dict[str, float | int] = {
    "timeout_s": 10.0,
    "attempts_per_run": 3,
    "backoff_s": 2.0,
    "backoff_factor": 2.0,
    "max_attempts": 30,
    "top_cascades": 3,
}


class AlertConfigError(ValueError):
    """A problem in the alerts config; the message names the file and the key."""


@dataclass(frozen=True)
class Scope:
    """Which sounds a rule watches: all (both None), a list of ids, titles matching a regex, or both."""

    sound_ids: tuple[str, ...] | None = None
    title_matches: str | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    scope: Scope = field(default_factory=Scope)
    levels: tuple[int, ...] = ()  # cumulative_creators
    enter: float | None = None  # growth, robust_z
    exit: float | None = None
    floor: int | None = None  # growth: min_creators_7d; robust_z: min_new_creators
    adoption_stages: tuple[str, ...] = ()  # stage_change: the adoption stages (`to`) that alert
    description: str = ""


@dataclass(frozen=True)
class Delivery:
    """Retry policy: attempts_per_run tries with backoff inside one run; after max_attempts in total the
    alert is marked failed. top_cascades: how many cascades the payload lists."""

    timeout_s: float = 10.0
    attempts_per_run: int = 3
    backoff_s: float = 2.0
    backoff_factor: float = 2.0
    max_attempts: int = 30
    top_cascades: int = 3
    report: str = ""  # path or URL template ({sound_id}); empty: the published warehouse


@dataclass(frozen=True)
class AlertConfig:
    path: Path
    rules: tuple[Rule, ...]
    delivery: Delivery


def config_path() -> Path:
    return Path(os.environ.get(ENV_ALERTS_CONFIG) or DEFAULT_CONFIG).expanduser().resolve()


def load(path: Path | None = None) -> AlertConfig:
    """Read and validate the alerts config (TRENDTRACE_ALERTS_CONFIG or config/alerts.yaml)."""
    path = Path(path) if path else config_path()
    if not path.exists():
        raise AlertConfigError(f"{path}: alerts config not found (set {ENV_ALERTS_CONFIG} or create it)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AlertConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse(data, path)


def parse(data: Any, path: Path) -> AlertConfig:
    """Validate an already-parsed document; `path` is only used in error messages."""
    if not isinstance(data, dict):
        raise AlertConfigError(f"{path}: expected a mapping with 'rules' (and optional 'delivery') at top level")
    _no_unknown(path, "", data, {"rules", "delivery"})
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise AlertConfigError(f"{path}: rules: expected a non-empty list of rules")
    rules = tuple(_rule(path, i, r) for i, r in enumerate(raw_rules))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.name in seen:
            raise AlertConfigError(f"{path}: rules[{i}].name: duplicate rule name {rule.name!r}")
        seen.add(rule.name)
    return AlertConfig(path=path, rules=rules, delivery=_delivery(path, data.get("delivery") or {}))


def _no_unknown(path: Path, where: str, mapping: dict, allowed: set[str]) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise AlertConfigError(
            f"{path}: {where}{unknown[0]}: unknown key (allowed here: {', '.join(sorted(allowed))})"
        )


def _number(path: Path, where: str, value: Any, *, integer: bool = False, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise AlertConfigError(f"{path}: {where}: expected {'an integer' if integer else 'a number'}, got {value!r}")
    if minimum is not None and value < minimum:
        raise AlertConfigError(f"{path}: {where}: must be >= {minimum}, got {value!r}")
    return value


def _rule(path: Path, i: int, raw: Any) -> Rule:
    where = f"rules[{i}]"
    if not isinstance(raw, dict):
        raise AlertConfigError(f"{path}: {where}: expected a mapping, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AlertConfigError(f"{path}: {where}.name: required, a non-empty string")
    where = f"rules[{i}] ({name})"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise AlertConfigError(f"{path}: {where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    _no_unknown(path, f"{where}.", raw, _COMMON_KEYS | _KIND_KEYS[kind])
    for key in _KIND_KEYS[kind]:
        if key not in raw:
            raise AlertConfigError(f"{path}: {where}.{key}: required for kind {kind}")
    scope = _scope(path, f"{where}.scope", raw.get("scope"))
    common = {"name": name, "kind": kind, "scope": scope, "description": str(raw.get("description") or "")}

    if kind == "cumulative_creators":
        levels = raw["levels"]
        if not isinstance(levels, list) or not levels:
            raise AlertConfigError(f"{path}: {where}.levels: expected a non-empty list of integers")
        values = [int(_number(path, f"{where}.levels[{j}]", v, integer=True, minimum=1)) for j, v in enumerate(levels)]
        if len(set(values)) != len(values):
            raise AlertConfigError(f"{path}: {where}.levels: duplicate level in {values}")
        return Rule(levels=tuple(sorted(values)), **common)
    if kind == "stage_change":
        to = raw["to"]
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not to or any(s not in ADOPTION_STAGES for s in to):
            raise AlertConfigError(
                f"{path}: {where}.to: expected adoption stages among {', '.join(ADOPTION_STAGES)}, got {raw['to']!r}"
            )
        return Rule(adoption_stages=tuple(to), **common)

    enter = _number(path, f"{where}.enter", raw["enter"], minimum=0)
    exit_ = _number(path, f"{where}.exit", raw["exit"], minimum=0)
    if exit_ >= enter:
        raise AlertConfigError(f"{path}: {where}.exit: must be below enter ({enter}) for hysteresis, got {exit_}")
    floor_key = "min_creators_7d" if kind == "growth" else "min_new_creators"
    floor = int(_number(path, f"{where}.{floor_key}", raw[floor_key], integer=True, minimum=1))
    return Rule(enter=float(enter), exit=float(exit_), floor=floor, **common)


def _scope(path: Path, where: str, raw: Any) -> Scope:
    if raw is None or raw == "all":
        return Scope()
    if not isinstance(raw, dict):
        raise AlertConfigError(f"{path}: {where}: expected 'all' or a mapping with sound_ids and/or title_matches")
    _no_unknown(path, f"{where}.", raw, _SCOPE_KEYS)
    ids = raw.get("sound_ids")
    if ids is not None and (not isinstance(ids, list) or not ids or not all(isinstance(s, str) and s for s in ids)):
        raise AlertConfigError(f"{path}: {where}.sound_ids: expected a non-empty list of sound id strings")
    pattern = raw.get("title_matches")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise AlertConfigError(f"{path}: {where}.title_matches: expected a regular expression string")
        import duckdb  # here, not at import: the DAG file imports this module through the notifier

        try:  # DuckDB's own regex engine (RE2) decides, not Python's re
            duckdb.connect().execute("SELECT regexp_matches('', $p)", {"p": pattern}).fetchall()
        except duckdb.Error as exc:
            raise AlertConfigError(f"{path}: {where}.title_matches: invalid regular expression: {exc}") from exc
    return Scope(sound_ids=tuple(ids) if ids else None, title_matches=pattern)


def _delivery(path: Path, raw: Any) -> Delivery:
    if not isinstance(raw, dict):
        raise AlertConfigError(f"{path}: delivery: expected a mapping")
    _no_unknown(path, "delivery.", raw, set(_DELIVERY_DEFAULTS) | {"report"})
    values: dict[str, Any] = {}
    for key, default in _DELIVERY_DEFAULTS.items():
        integer = isinstance(default, int)
        minimum = 1 if key in ("attempts_per_run", "max_attempts") else 0
        if key == "timeout_s":
            minimum = 0.01
        elif key == "backoff_factor":
            minimum = 1
        v = _number(path, f"delivery.{key}", raw.get(key, default), integer=integer, minimum=minimum)
        values[key] = int(v) if integer else float(v)
    report = raw.get("report", "")
    if report is not None and not isinstance(report, str):
        raise AlertConfigError(f"{path}: delivery.report: expected a path or URL template string")
    return Delivery(report=report or "", **values)
