"""Kimi Code CLI (`~/.kimi/config.toml`).

Why: Kimi Code CLI reaches Ollama only through a compatibility API (provider
type `openai_legacy` on `/v1`, or `anthropic`), which cannot set num_ctx,
and auto-compacts against each model's `max_context_size`; a size larger
than what Ollama serves means prompts past the served window are truncated
(CTX201), a smaller one compacts away context the model could keep.

Format (verified in MoonshotAI/kimi-cli `src/kimi_cli/config.py` (`Config`,
`LLMProvider`, `LLMModel`), `src/kimi_cli/share.py` and
`docs/en/configuration/config-files.md`, `providers.md`):

- File: `$KIMI_SHARE_DIR/config.toml`, else `~/.kimi/config.toml` (all
  platforms; `share.py get_share_dir`); `kimi --config-file PATH` (TOML or
  JSON) names another one.
- `[providers.<name>]`: `type` (`kimi`, `openai_legacy`, `openai_responses`,
  `anthropic`, `gemini`, `vertexai`), `base_url`, `api_key`.
- `[models.<alias>]`: `provider` (a providers key), `model` (the name sent to
  the API), `max_context_size` (required, no default); `default_model` names
  an alias, so renaming `model` never breaks a reference.
- No request timeout key exists for providers.
- `ollama launch kimi` (github:ollama/ollama `cmd/launch/kimi.go`) writes no
  file: it passes the same shape inline (`kimi --config '<json>'`) with
  `max_context_size` from `/api/show` `<arch>.context_length`, the native
  context; that inline configuration cannot be read here.

A binding per model whose provider's `base_url` is on port 11434.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    to_int,
    to_str,
    with_refs,
)

AGENT = "kimi"
FILE_NAMES: tuple[str, ...] = ("config.toml",)

_PROVIDER_TYPES = frozenset(
    {"kimi", "openai_legacy", "openai_responses", "anthropic", "gemini", "vertexai"}
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$KIMI_SHARE_DIR/config.toml`, else `~/.kimi/config.toml`."""
    share = env.get("KIMI_SHARE_DIR")
    base = Path(share).expanduser() if share else home / ".kimi"
    return [base / "config.toml"]


def detect(path: Path, data: Any) -> bool:
    """Kimi's tables: `models.*` with `max_context_size`, or `providers.*` with a Kimi `type`."""
    if not isinstance(data, dict):
        return False
    models = data.get("models")
    if isinstance(models, dict) and any(
        isinstance(m, dict) and "max_context_size" in m for m in models.values()
    ):
        return True
    providers = data.get("providers")
    return isinstance(providers, dict) and any(
        isinstance(p, dict) and p.get("type") in _PROVIDER_TYPES and "base_url" in p
        for p in providers.values()
    )


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per model served by an Ollama provider."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "json" if path.suffix == ".json" else "toml")
    if not detect(path, doc.data):
        return []
    for table in ("providers", "models"):
        if not isinstance(doc.data.get(table, {}), dict):
            raise CtxfixError(str(location(doc, (table,))), f"{table} must be a table")
    providers = doc.data.get("providers", {})
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []
    for alias, m in doc.data.get("models", {}).items():
        if not isinstance(m, dict) or to_str(m.get("model")) is None:
            continue
        pid = m.get("provider")
        prov = providers.get(pid) if isinstance(pid, str) else None
        url = to_str(prov.get("base_url")) if isinstance(prov, dict) else None
        if not is_ollama_url(url):
            continue
        assert isinstance(prov, dict)
        base: KeyPath = ("models", alias)
        out.append(
            model_binding(
                doc,
                (*base, "model"),
                agent=AGENT,
                suppressed=suppressed,
                edit_paths={"context_window": (*base, "max_context_size")},
                # openai_legacy posts to /v1/chat/completions: no num_ctx either way
                api="anthropic" if prov.get("type") == "anthropic" else "openai",
                host=url,
                context_window=binding_value(doc, (*base, "max_context_size"), to_int),
            )
        )
    return with_refs(out, doc)
