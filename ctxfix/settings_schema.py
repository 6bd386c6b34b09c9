"""Validate a settings mapping against `schemas/settings.schema.json`.

A bad settings file is one `ctxfix: error:` line (the project's bad-input
standard): the first problem with its key path (and, for YAML, its line and
column), then how many more there are and their key paths; exit 2. Sizes
(`memory`, `vram`) are parsed here too, so a file is only cached as valid
when every value in it can be used.

Why a validation cache: ctxfix runs in pre-commit on every commit, and
importing jsonschema alone costs ~150 ms here, more than the rest of an
offline scan. A settings file that validated once validates again as long
as neither it nor the schema changed, so a successful validation is recorded
as an empty marker file named by sha256(settings file bytes) + sha256(schema
bytes) in the user cache dir (`$CTXFIX_CACHE_DIR` or the platformdirs user
cache); the marker holds the parsed settings as JSON, so a hit skips the
YAML parse too (`cached_settings`) and never imports jsonschema. Failures are never
cached. Cache trouble (read-only dir) only means no caching. Numbers in
bench/RESULTS.md ("Settings validation cache").
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ctxfix.digest import sha256_hex
from ctxfix.errors import CtxfixError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "settings.schema.json"
CACHE_SUBDIR = "settings-valid"


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


CHECKS_VERSION = 2
"""Bumped when `_check_sizes` checks more: a file cached as valid by the older
checks is validated again (the schema's hash alone would not change)."""


def _marker(path: Path, cache_dir: Path | None) -> Path | None:
    """The cache marker for this exact settings file and schema; None if unhashable."""
    try:
        from ctxfix.cache import default_cache_dir

        file_hash = sha256_hex(path.read_bytes())
        schema_hash = sha256_hex(SCHEMA_PATH.read_bytes())
        root = default_cache_dir(settings_dir=cache_dir)
    except OSError:
        return None
    return root / CACHE_SUBDIR / f"{file_hash[:32]}-{schema_hash[:32]}-{CHECKS_VERSION}"


def _key_path(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out or "(top level)"


def _yaml_position(path: Path, parts: list[Any]) -> tuple[int, int] | None:
    """1-based line/col of the key at `parts` in a YAML settings file (errors only)."""
    if not parts or path.suffix not in (".yaml", ".yml"):
        return None
    try:
        from ruamel.yaml import YAML

        node = YAML().load(path.read_text(encoding="utf-8"))
        pos = None
        for p in parts:
            pos = node.lc.item(p) if isinstance(p, int) else node.lc.key(p)
            node = node[p]
        return (pos[0] + 1, pos[1] + 1) if pos else None
    except Exception:  # a position is a nicety; the key path is the message
        return None


def _violations(data: dict[str, Any], path: Path) -> list[tuple[str, str, str]]:
    """(where, key.path, message) per schema violation, in key order."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for e in errors:
        parts = list(e.absolute_path)
        out.append((_where(path, parts), _display_key(path, parts), e.message))
    return out


def _where(path: Path, parts: list[Any]) -> str:
    pos = _yaml_position(path, parts)
    return f"{path}:{pos[0]}:{pos[1]}" if pos else str(path)


def _display_key(path: Path, parts: list[Any]) -> str:
    key = _key_path(parts)
    if path.name == "pyproject.toml":
        return "tool.ctxfix" if key == "(top level)" else f"tool.ctxfix.{key}"
    return key


def _check_sizes(data: dict[str, Any], path: Path) -> None:
    """What the schema cannot say: `memory`/`vram`/`reserve` parse as sizes (it says
    "string or integer"), `since` as a duration or date, and the seconds and rates
    are finite and usable (YAML's `.inf`/`.nan` and TOML's `inf`/`nan` are numbers
    above any minimum; a timeout above a day overflows, see check_positive)."""
    from ctxfix.budget import parse_size
    from ctxfix.settings import MAX_SERVER_TIMEOUT, check_positive

    for key, maximum in (("server_timeout", MAX_SERVER_TIMEOUT), ("prefill_tps", None)):
        if key in data:
            check_positive(
                data[key], f"{_where(path, [key])}: {_display_key(path, [key])}", maximum
            )

    for key in ("memory", "vram", "reserve"):
        if key in data:
            parse_size(data[key], where=f"{_where(path, [key])}: {_display_key(path, [key])}")
    if "since" in data:  # "string" is all the schema can say; 7d, 24h or a date
        from ctxfix.sources.server_log import parse_since

        parse_since(
            data["since"], where=f"{_where(path, ['since'])}: {_display_key(path, ['since'])}"
        )


def _usable_marker(path: Path, cache_dir: Path | None) -> Path | None:
    if os.environ.get("CTXFIX_NO_SETTINGS_CACHE"):
        return None
    return _marker(path, cache_dir)


def cached_settings(path: Path, *, cache_dir: Path | None = None) -> dict[str, Any] | None:
    """The parsed, validated settings of this exact file from the cache, else None.

    A hit skips both the YAML/TOML parse (ruamel.yaml's import is most of
    what remains after jsonschema) and the validation.
    """
    marker = _usable_marker(path, cache_dir)
    if marker is None:
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def validate(data: dict[str, Any], path: Path, *, cache_dir: Path | None = None) -> None:
    """Raise a CtxfixError with one `file:line:col: key.path: message` line per
    problem; a cached success skips jsonschema."""
    marker = _usable_marker(path, cache_dir)
    if marker is not None and marker.is_file():
        return
    found = _violations(data, path)
    if found:
        where, key, msg = found[0]
        also = tuple((w, f"{k}: {m}") for w, k, m in found[1:])
        raise CtxfixError(where, f"{key}: {msg}", also)
    _check_sizes(data, path)
    if marker is not None:
        _store(marker, data)


def _store(marker: Path, data: dict[str, Any]) -> None:
    """Record a validated file (its parsed data as JSON); atomic, best effort."""
    try:
        text = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError):  # not JSON-shaped (YAML dates...): cache validity only
        text = ""
    with contextlib.suppress(OSError):
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, marker)
