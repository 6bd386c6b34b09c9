"""Validate a settings mapping against `schemas/settings.schema.json`.

Every problem is reported on its own line with its key path (and, for YAML,
its line and column); the CLI prints them and exits 2.

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
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "settings.schema.json"
CACHE_SUBDIR = "settings-valid"


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _marker(path: Path, cache_dir: Path | None) -> Path | None:
    """The cache marker for this exact settings file and schema; None if unhashable."""
    try:
        from ctxfix.cache import default_cache_dir

        file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        schema_hash = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
        root = default_cache_dir(settings_dir=cache_dir)
    except OSError:
        return None
    return root / CACHE_SUBDIR / f"{file_hash[:32]}-{schema_hash[:32]}"


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


def problems(data: dict[str, Any], path: Path) -> list[str]:
    """One `where: key.path: message` line per schema violation, in key order."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    lines = []
    for e in errors:
        parts = list(e.absolute_path)
        key = _key_path(parts)
        prefix = "tool.ctxfix" if path.name == "pyproject.toml" else ""
        if prefix:
            key = prefix if key == "(top level)" else f"{prefix}.{key}"
        pos = _yaml_position(path, parts)
        where = f"{path}:{pos[0]}:{pos[1]}" if pos else str(path)
        lines.append(f"{where}: {key}: {e.message}")
    return lines


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
    """Raise CtxfixError listing every problem; a cached success skips jsonschema."""
    marker = _usable_marker(path, cache_dir)
    if marker is not None and marker.is_file():
        return
    found = problems(data, path)
    if found:
        # One line per problem. CtxfixError prints as one `ctxfix: error:` line,
        # so continuation lines carry the same prefix themselves.
        raise CtxfixError(
            None,
            f"invalid settings ({len(found)} problem(s)):\nctxfix: error: "
            + "\nctxfix: error: ".join(found),
        )
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
