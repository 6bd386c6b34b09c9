"""Codex CLI (`$CODEX_HOME/config.toml`, default `~/.codex/config.toml`).

Why: Codex talks to Ollama only through the OpenAI-compatible `/v1` API, so
it never sends num_ctx; whatever window it plans with (`model_context_window`)
must match what the server already serves, and its stream idle timeout must
cover the prefill of that window.

Format (verified in openai/codex `docs/config.md`,
`codex-rs/core/src/model_provider_info.rs`, `config_profile.rs`):

- root keys `model`, `model_provider` (default "openai"),
  `model_context_window`, `model_max_output_tokens`, `profile`;
- `[model_providers.<id>]`: `name`, `base_url` (Codex appends
  `/chat/completions` or `/responses`), `wire_api`, `stream_idle_timeout_ms`
  (ms, default 300000), `request_max_retries`;
- `[profiles.<name>]` with their own `model`, `model_provider`,
  `model_context_window`, `model_max_output_tokens`; unset keys fall back to
  the root.
- Built-in providers: "openai", "ollama" (`http://localhost:11434/v1`, or
  `$CODEX_OSS_BASE_URL` / `$CODEX_OSS_PORT`) and "lmstudio". Current releases
  merge user tables with `entry(key).or_insert(...)`, so a user
  `[model_providers.ollama]` table does NOT replace the built-in one: its
  `base_url` and `stream_idle_timeout_ms` are only honoured by older releases.
  The binding still reports what the file says, with a note.
- No documented window for Ollama model names (Codex's table only knows
  OpenAI slugs such as "gpt-oss-20b"), so an unset window stays unset.

One binding for the root settings and one per profile whose effective
provider is Ollama (provider id "ollama" or a base URL on port 11434).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Location, Sourced, format_key_path
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    is_ollama_url,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "codex"
FILE_NAMES: tuple[str, ...] = ("config.toml",)

BUILTIN_OLLAMA_URL = "http://localhost:11434/v1"
DEFAULT_IDLE_TIMEOUT_MS = 300_000

# Root keys only Codex's config.toml has (a Cargo or OpenHands config has none).
_CODEX_KEYS = frozenset(
    {
        "model_provider",
        "model_providers",
        "profiles",
        "profile",
        "model_context_window",
        "model_max_output_tokens",
        "model_auto_compact_token_limit",
        "model_reasoning_effort",
        "model_reasoning_summary",
        "approval_policy",
        "sandbox_mode",
        "oss_provider",
    }
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$CODEX_HOME/config.toml`, else `~/.codex/config.toml`."""
    codex_home = env.get("CODEX_HOME")
    base = Path(codex_home).expanduser() if codex_home else home / ".codex"
    return [base / "config.toml"]


def detect(path: Path, data: Any) -> bool:
    """A TOML table with Codex-only root keys (or a bare `model` in a `.codex/` dir)."""
    if not isinstance(data, dict):
        return False
    if _CODEX_KEYS & data.keys():
        return True
    return path.parent.name == ".codex" and isinstance(data.get("model"), str)


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """Bindings for the root settings and each profile that use an Ollama provider."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "toml")
    if not detect(path, doc.data):
        return []
    data = doc.data
    providers = data.get("model_providers")
    if providers is not None and not isinstance(providers, dict):
        raise CtxfixError(_where(doc, ("model_providers",)), "model_providers must be a table")
    profiles = data.get("profiles")
    if profiles is not None and not isinstance(profiles, dict):
        raise CtxfixError(_where(doc, ("profiles",)), "profiles must be a table")
    suppressed = inline_ignores(doc.text)

    out: list[AgentBinding] = []
    root = _binding(doc, None, suppressed)
    if root is not None:
        out.append(root)
    for name, prof in (profiles or {}).items():
        if isinstance(prof, dict):
            b = _binding(doc, name, suppressed)
            if b is not None:
                out.append(b)
    return with_refs(out, doc)


def _where(doc: Any, path: KeyPath) -> str:
    pos = doc.locate(path)
    return f"{doc.path}:{pos[0]}:{pos[1]}" if pos else str(doc.path)


def _pick(doc: Any, profile: str | None, key: str) -> tuple[KeyPath, Any]:
    """(path, value) of `key` in the profile when set there, else at the root."""
    if profile is not None:
        p: KeyPath = ("profiles", profile, key)
        if doc.get(p) is not None:
            return p, doc.get(p)
    return (key,), doc.get((key,))


def _binding(doc: Any, profile: str | None, suppressed: frozenset[str]) -> AgentBinding | None:
    model_path, model = _pick(doc, profile, "model")
    prov_path, provider_id = _pick(doc, profile, "model_provider")
    if to_str(model) is None:
        return None
    provider_id = provider_id if isinstance(provider_id, str) else "openai"
    table = doc.get(("model_providers", provider_id))
    table = table if isinstance(table, dict) else None
    user_url = to_str(table.get("base_url")) if table else None
    if provider_id != "ollama" and not is_ollama_url(user_url):
        return None

    note = ""
    if provider_id == "ollama" and table is not None:
        note = (
            "current Codex keeps its built-in 'ollama' provider and ignores a user "
            "[model_providers.ollama] table; use another provider id for this to apply"
        )
    host = user_url or BUILTIN_OLLAMA_URL

    model_ref = binding_value(doc, model_path, to_str)
    assert model_ref is not None
    prefix: KeyPath = ("profiles", profile) if profile is not None else ()
    window_path, _ = _pick(doc, profile, "model_context_window")
    max_path, _ = _pick(doc, profile, "model_max_output_tokens")

    edit_paths: dict[str, KeyPath] = {
        "model_ref": model_path,
        "context_window": (*prefix, "model_context_window"),
        "max_tokens": (*prefix, "model_max_output_tokens"),
    }
    timeout: Sourced[float] | None
    if table is not None:
        tpath: KeyPath = ("model_providers", provider_id, "stream_idle_timeout_ms")
        edit_paths["timeout"] = tpath
        ms = binding_value(doc, tpath, to_float)
        if ms is not None:
            timeout = Sourced(ms.value / 1000.0, "agent", ms.location, note=note)
        else:
            timeout = Sourced(
                DEFAULT_IDLE_TIMEOUT_MS / 1000.0,
                "default",
                Location(str(doc.path), key=format_key_path(tpath)),
                note="Codex stream_idle_timeout_ms default 300000 ms",
            )
    else:
        timeout = Sourced(
            DEFAULT_IDLE_TIMEOUT_MS / 1000.0,
            "default",
            Location(str(doc.path), key=format_key_path(prov_path)),
            note="built-in 'ollama' provider: stream_idle_timeout_ms default 300000 ms, "
            "not configurable (define a provider with another id to change it)",
        )

    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(model_ref.value),
        api="openai",
        host=host,
        context_window=binding_value(doc, window_path, to_int),
        num_ctx=None,
        max_tokens=binding_value(doc, max_path, to_int),
        timeout_s=timeout,
        timeout_unit_s=0.001,
        edit_paths=edit_paths,
        format="toml",
        suppressed=suppressed,
    )
