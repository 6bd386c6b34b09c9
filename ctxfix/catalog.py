"""Offline catalog of Ollama library model geometry (ctxfix/catalog.yaml).

Why: a repository's `FROM qwen3-coder:30b` must resolve in CI, where no model
store or server exists, so the native context and KV geometry of popular
library models ship with ctxfix. Native context from the catalog ranks below
a GGUF header and a server's model_info (see ctxfix.resolve).

Why a tiny reader instead of a YAML library: the catalog is consulted during
`ctxfix scan`, which runs in pre-commit and must start fast; importing
ruamel.yaml and parsing costs tens of milliseconds. The file is kept to a
small YAML subset that `_read_subset` reads directly; anything outside it
falls back to ruamel.yaml, so the file stays valid, ordinary YAML either way.
Loaded once per process, on first use.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry
from ctxfix.names import DEFAULT_HOST, DEFAULT_NAMESPACE, split_name, strip_provider
from ctxfix.records import record

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")

_GEOMETRY_INTS = (
    "context_length",
    "block_count",
    "embedding_length",
    "head_count",
    "key_length",
    "value_length",
    "sliding_window",
    "expert_count",
    "expert_used_count",
    "nextn_predict_layers",
)


@record(frozen=True)
class CatalogEntry:
    """One catalog row: a library model, the tag patterns it covers, its geometry."""

    model: str
    tags: tuple[str, ...]
    geometry: Geometry
    weights_bytes: int | None
    source: str
    notes: str = ""

    def matches(self, model: str, tag: str) -> bool:
        if model.lower() != self.model.lower():
            return False
        t = tag.lower()
        return any(fnmatch.fnmatchcase(t, p.lower()) for p in self.tags)


_entries: list[CatalogEntry] | None = None


def entries() -> list[CatalogEntry]:
    """Every catalog entry, in file order (loaded once per process)."""
    global _entries
    if _entries is None:
        _entries = [_entry(row, i) for i, row in enumerate(load_raw()["models"])]
    return _entries


def lookup(name: str) -> CatalogEntry | None:
    """The entry for an Ollama model name in any form, or None.

    `qwen3-coder:30b`, `ollama/Qwen3-Coder:30B`, `registry.ollama.ai/library/qwen3-coder:30b`
    all match; a tag no pattern covers (`30b-v-128k`), another namespace or
    another host (`hf.co/...`) does not: their geometry is unknown here.
    """
    host, namespace, model, tag = split_name(strip_provider(name))
    if host.lower() != DEFAULT_HOST or namespace.lower() != DEFAULT_NAMESPACE:
        return None
    for entry in entries():
        if entry.matches(model, tag):
            return entry
    return None


def load_raw(path: Path = CATALOG_PATH) -> dict[str, Any]:
    """The catalog file as plain data (fast subset reader, ruamel.yaml fallback)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CtxfixError(str(path), f"cannot read catalog: {exc.strerror or exc}") from None
    try:
        return _read_subset(text)
    except _Unsupported:
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)


def _entry(row: dict[str, Any], index: int) -> CatalogEntry:
    try:
        geo: dict[str, Any] = {k: row.get(k) for k in _GEOMETRY_INTS}
        blocks = row.get("block_count")
        kv = row.get("head_count_kv")
        if kv is not None and blocks:
            geo["head_count_kv"] = (kv,) * blocks
        pattern = row.get("swa_layers")
        if pattern and blocks:
            geo["sliding_window_pattern"] = tuple(
                pattern[i % len(pattern)] == "S" for i in range(blocks)
            )
        return CatalogEntry(
            model=row["model"],
            tags=tuple(row["tags"]),
            geometry=Geometry(arch=row["arch"], **geo),
            weights_bytes=row.get("weights_bytes"),
            source=row.get("source", ""),
            notes=row.get("notes", ""),
        )
    except (KeyError, TypeError) as exc:
        raise CtxfixError(str(CATALOG_PATH), f"models[{index}]: bad entry ({exc})") from None


# ---- the YAML subset reader --------------------------------------------------------


class _Unsupported(Exception):
    """The text uses YAML outside the subset; the caller falls back to ruamel.yaml."""


_KEY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?$")
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_PLAIN_RE = re.compile(r"[A-Za-z0-9/.][^#]*")  # no indicator first char, no comment
_SPECIAL_PLAIN = re.compile(r"(?i)(?:y|n|yes|no|on|off|~|[-+]?\.(?:inf|nan)|[-+]?[0-9].*)")


def _scalar(raw: str) -> Any:
    s = raw.strip()
    if s in ("null", "~"):
        return None
    if s in ("true", "false"):
        return s == "true"
    if _INT_RE.fullmatch(s):
        return int(s)
    if s.startswith(("[", '"')):
        try:
            value = json.loads(s)
        except ValueError:
            raise _Unsupported(s) from None
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise _Unsupported(s)
        return value
    if ": " in s or " #" in s or s.endswith(":") or not _PLAIN_RE.fullmatch(s):
        raise _Unsupported(s)
    if _SPECIAL_PLAIN.fullmatch(s):
        raise _Unsupported(s)  # floats, YAML 1.1 booleans, dates: let YAML decide
    return s


def _read_subset(text: str) -> dict[str, Any]:
    """Top-level `key: scalar` and one `key:` holding a list of flat mappings."""
    out: dict[str, Any] = {}
    items: list[dict[str, Any]] | None = None
    current: dict[str, Any] | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "\t" in raw:
            raise _Unsupported("tab")
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0:
            m = _KEY_RE.fullmatch(stripped)
            if not m:
                raise _Unsupported(raw)
            key, value = m.group(1), m.group(2)
            if value is None or value.strip() == "":
                items = []
                out[key] = items
                current = None
            else:
                out[key] = _scalar(value)
                items = None
            continue
        if items is None:
            raise _Unsupported(raw)
        if stripped.startswith("- "):
            if indent != 2:
                raise _Unsupported(raw)
            current = {}
            items.append(current)
            stripped = stripped[2:]
        elif current is None or indent != 4:
            raise _Unsupported(raw)
        m = _KEY_RE.fullmatch(stripped)
        if not m or m.group(2) is None or m.group(1) in current:
            raise _Unsupported(raw)
        current[m.group(1)] = _scalar(m.group(2))
    return out
