"""Qwen Code (`~/.qwen/settings.json`, project `.qwen/settings.json`, JSONC).

Why: Qwen Code reaches Ollama only through the OpenAI-compatible `/v1` API
(auth type "openai"), which cannot set num_ctx; it sizes its output requests
and compaction against `contextWindowSize`, so a window larger than what the
server serves overflows and a smaller one wastes the model.

Format (verified in QwenLM/qwen-code `docs/users/configuration/model-providers.md`
and `packages/core/src/core/tokenLimits.ts`):

- Provider models: `modelProviders.openai[]` entries `{id, name, envKey,
  baseUrl, generationConfig: {timeout (ms), maxRetries, contextWindowSize,
  samplingParams: {max_tokens}}}`. A selected provider model's
  generationConfig is "impermeable": unset fields are NOT inherited from
  `model.generationConfig`.
- Runtime model (no provider entry): `model.name` (or `OPENAI_MODEL`),
  base URL from `security.auth.baseUrl` (deprecated but still read) or
  `OPENAI_BASE_URL`, settable in the file's `env` block;
  limits from `model.generationConfig`.
- Unset `contextWindowSize`: guessed from the model name (tokenLimits.ts:
  e.g. `qwen*` -> 262,144, unknown names -> 200,000 in current releases); the
  table changes between releases, so no default is reported here. Unset
  timeout: not verified, no default reported.

A binding for every `openai` provider entry and the runtime model whose base
URL is on port 11434.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.sources.agents._common import (
    api_for_url,
    binding_value,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "qwen-code"
FILE_NAMES: tuple[str, ...] = ("settings.json",)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`~/.qwen/settings.json`."""
    return [home / ".qwen" / "settings.json"]


def detect(path: Path, data: Any) -> bool:
    """Qwen Code settings: `modelProviders`, `$version`, `security.auth` or a `model` object."""
    if not isinstance(data, dict):
        return False
    if any(k in data for k in ("modelProviders", "$version", "selectedAuthType")):
        return True
    sec = data.get("security")
    if isinstance(sec, dict) and isinstance(sec.get("auth"), dict):
        return True
    model = data.get("model")
    return isinstance(model, dict) and bool({"name", "generationConfig"} & model.keys())


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """Bindings for Ollama-backed provider models and the runtime model."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "jsonc")
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []

    entries = doc.get(("modelProviders", "openai"))
    if entries is not None and not isinstance(entries, list):
        where = str(location(doc, ("modelProviders", "openai")))
        raise CtxfixError(where, "modelProviders.openai must be a list of model entries")
    ids: set[str] = set()
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("id"), str):
            ids.add(entry["id"])
        url = to_str(entry.get("baseUrl"))
        if not is_ollama_url(url) or to_str(entry.get("id")) is None:
            continue
        base: KeyPath = ("modelProviders", "openai", i)
        out.append(_binding(doc, (*base, "id"), url, (*base, "generationConfig"), suppressed))

    name_path: KeyPath = ("model", "name")
    if to_str(doc.get(name_path)) is None:
        name_path = ("env", "OPENAI_MODEL")
    url_path: KeyPath = ("security", "auth", "baseUrl")
    if to_str(doc.get(url_path)) is None:
        url_path = ("env", "OPENAI_BASE_URL")
    name, url = to_str(doc.get(name_path)), to_str(doc.get(url_path))
    if name is not None and name not in ids and is_ollama_url(url):
        out.append(_binding(doc, name_path, url, ("model", "generationConfig"), suppressed))
    return with_refs(out, doc)


def _binding(
    doc: Any, ref_path: KeyPath, url: str | None, gen: KeyPath, suppressed: frozenset[str]
) -> AgentBinding:
    window = (*gen, "contextWindowSize")
    timeout = (*gen, "timeout")
    max_tokens = (*gen, "samplingParams", "max_tokens")
    ms = binding_value(doc, timeout, to_float)
    timeout_s = Sourced(ms.value / 1000.0, ms.source, ms.location) if ms else None
    return model_binding(
        doc,
        ref_path,
        agent=AGENT,
        suppressed=suppressed,
        edit_paths={"context_window": window, "max_tokens": max_tokens, "timeout": timeout},
        api=api_for_url(url),
        host=url,
        context_window=binding_value(doc, window, to_int),
        max_tokens=binding_value(doc, max_tokens, to_int),
        timeout_s=timeout_s,
        timeout_unit_s=0.001,
    )
