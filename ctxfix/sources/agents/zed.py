"""Zed: `settings.json` (JSONC), user-level and per project (`.zed/settings.json`).

Why: Zed talks to Ollama's native `/api/chat` and sends its context length
as `num_ctx` on every request, defaulting to 4096 when nothing is set: a
256k model is silently served 4k. Upstream facts (zed-industries/zed
`docs/src/ai/use-a-local-model.md`,
`crates/language_models/src/provider/ollama.rs`):

- `language_models.ollama.api_url` (default `http://localhost:11434`),
  `auto_discover`, `context_window` (all Ollama models),
  `available_models[]: {name, display_name, max_tokens, keep_alive,
  supports_tools, supports_thinking, supports_images}` where `max_tokens` is
  "the Context Length parameter to the model (aka num_ctx)".
- "Zed requests to Ollama include context length as the num_ctx parameter.
  By default, Zed uses 4096 tokens."
- The selected model: `agent.default_model: {provider, model}`.
- No request timeout setting is documented for Ollama.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.names import canonical
from ctxfix.records import replace
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    location,
    to_int,
    with_refs,
)

AGENT = "zed"
FILE_NAMES: tuple[str, ...] = ("settings.json",)

DEFAULT_NUM_CTX = 4096
_DEFAULT_HOST = "http://localhost:11434"
_OLLAMA: KeyPath = ("language_models", "ollama")
_MODEL_SLOTS = (
    "default_model",
    "inline_assistant_model",
    "commit_message_model",
    "thread_summary_model",
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$XDG_CONFIG_HOME/zed/settings.json` (or `~/.config/zed/settings.json`)."""
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return [xdg / "zed" / "settings.json"]


def detect(path: Path, data: Any) -> bool:
    """Zed settings: a `language_models` mapping, or an `agent`/`assistant` block with a
    `default_model` (VS Code's settings.json uses dotted keys; Qwen Code's uses
    `modelProviders`)."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("language_models"), dict):
        return True
    for key in ("agent", "assistant"):
        block = data.get(key)
        if isinstance(block, dict) and isinstance(block.get("default_model"), dict):
            return True
    return False


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    from ctxfix.edits import load_document

    doc = load_document(path, text)
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    api_url = doc.get((*_OLLAMA, "api_url"))
    host = api_url if isinstance(api_url, str) else _DEFAULT_HOST
    global_ctx = binding_value(doc, (*_OLLAMA, "context_window"), to_int)

    out: list[AgentBinding] = []
    listed: set[str] = set()
    models = doc.get((*_OLLAMA, "available_models"))
    for i, m in enumerate(models if isinstance(models, list) else []):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            continue
        listed.add(canonical(m["name"]))
        mp: KeyPath = (*_OLLAMA, "available_models", i)
        per_model = binding_value(doc, (*mp, "max_tokens"), to_int)
        if global_ctx is not None:
            window, ctx_path = global_ctx, (*_OLLAMA, "context_window")
        elif per_model is not None:
            window, ctx_path = per_model, (*mp, "max_tokens")
        else:
            ctx_path = (*mp, "max_tokens")
            window = default(DEFAULT_NUM_CTX, "Zed default num_ctx", doc, ctx_path)
        ref = Sourced(m["name"], "agent", location(doc, (*mp, "name")))
        out.append(_binding(doc, ref, (*mp, "name"), host, window, ctx_path, suppressed))

    for block in ("agent", "assistant"):
        for slot in _MODEL_SLOTS:
            sel = doc.get((block, slot))
            if not (isinstance(sel, dict) and str(sel.get("provider", "")).lower() == "ollama"):
                continue
            name = sel.get("model")
            if not isinstance(name, str) or canonical(name) in listed:
                continue
            listed.add(canonical(name))
            ctx_path = (*_OLLAMA, "context_window")
            window = global_ctx or default(DEFAULT_NUM_CTX, "Zed default num_ctx", doc, ctx_path)
            ref = Sourced(name, "agent", location(doc, (block, slot, "model")))
            b = _binding(doc, ref, (block, slot, "model"), host, window, ctx_path, suppressed)
            if global_ctx is None:
                # `language_models.ollama.context_window` is one window for every Ollama
                # model and overrides each `available_models[].max_tokens`
                # (crates/settings_content/src/language_model.rs, docs/src/ai/
                # llm-providers.md): inserting it to fix one model would cap the
                # others. The fix is an `available_models` entry, which the editor
                # cannot append: say so instead of writing.
                paths = {k: v for k, v in b.edit_paths.items() if k == "model_ref"}
                b = replace(b, edit_paths=paths)
            out.append(b)
    return with_refs(out, doc)


def _binding(
    doc: Any,
    ref: Sourced[str],
    ref_path: KeyPath,
    host: str,
    window: Sourced[int],
    ctx_path: KeyPath,
    suppressed: frozenset[str],
) -> AgentBinding:
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=ref,
        model=canonical(ref.value),
        api="native",
        host=host,
        context_window=window,
        num_ctx=Sourced(window.value, window.source, window.location, note="sent as num_ctx"),
        max_tokens=None,
        timeout_s=None,
        edit_paths={"model_ref": ref_path, "context_window": ctx_path, "num_ctx": ctx_path},
        format=doc.fmt,
        suppressed=suppressed,
    )
