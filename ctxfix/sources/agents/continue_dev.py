"""Continue (VS Code / JetBrains): `config.yaml`, block files, legacy `config.json`.

Why: Continue's Ollama provider always sends its `contextLength` as the
request `num_ctx` on the native API, so the value in this file *is* the
context the model is served with; when unset Continue falls back to its own
default and quietly caps a 256k model. Upstream facts (continuedev/continue):

- `packages/config-yaml/src/schemas/models.ts`: `models[]` with `name`,
  `provider`, `model`, `apiBase`, `defaultCompletionOptions.contextLength`
  and `.maxTokens`, `requestOptions.timeout`.
- `core/llm/llms/Ollama.ts`: `options.num_ctx = this.contextLength` on
  `/api/chat` and `/api/generate`; default `apiBase` `http://localhost:11434/`.
- `core/llm/llms/Ollama.ts` (the Ollama provider): the window is
  `contextLength` when set (`explicitContextLength`); else the `num_ctx`
  line of `/api/show` `parameters`, read with `Number.parseInt(value)`;
  else `DEFAULT_OLLAMA_CONTEXT_LENGTH = 8192` (the class overrides the base
  getter: `this._contextLength ?? DEFAULT_OLLAMA_CONTEXT_LENGTH`). The base
  `DEFAULT_CONTEXT_LENGTH = 32_768` of `core/llm/constants.ts` applies to
  the other providers only. Because Ollama prints parameters with Go's `%v`,
  a num_ctx of 1,048,576 reaches Continue as `1.048576e+06` and
  `Number.parseInt` makes it 1 (resolved in `ctxfix.resolve`).
  DEFAULT_MAX_TOKENS 4,096.
- Docs: `requestOptions.timeout` in seconds, default 7200.
- Legacy `config.json` (JSONC): `models[]` with `title`, `provider`, `model`,
  `apiBase`, `contextLength`, `completionOptions.maxTokens`, `requestOptions`.
- Block files: `.continue/models/*.yaml` have the same `models:` list.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    is_ollama_url,
    is_v1_url,
    location,
    to_float,
    to_int,
    with_refs,
)

AGENT = "continue"
FILE_NAMES: tuple[str, ...] = ("config.yaml", "config.json")
# Block files have arbitrary names; discovery may match these globs relative to a scanned root.
PATH_GLOBS: tuple[str, ...] = (".continue/models/*.yaml", ".continue/models/*.yml")

DEFAULT_CONTEXT_LENGTH = 32768  # core/llm/constants.ts: providers other than Ollama
DEFAULT_OLLAMA_CONTEXT_LENGTH = 8192  # core/llm/llms/Ollama.ts
DEFAULT_MAX_TOKENS = 4096
DEFAULT_TIMEOUT_S = 7200.0
_DEFAULT_HOST = "http://localhost:11434"


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$CONTINUE_GLOBAL_DIR` or `~/.continue`: config.yaml, config.json, models/*.yaml."""
    root = (
        Path(env["CONTINUE_GLOBAL_DIR"]) if env.get("CONTINUE_GLOBAL_DIR") else home / ".continue"
    )
    out = [root / "config.yaml", root / "config.json"]
    models = root / "models"
    if models.is_dir():
        out += sorted(p for p in models.iterdir() if p.suffix in (".yaml", ".yml"))
    return out


def detect(path: Path, data: Any) -> bool:
    """A `models:` list of entries with `provider` (LiteLLM has `model_list`, Goose has neither)."""
    if not isinstance(data, dict) or "model_list" in data:
        return False
    models = data.get("models")
    return isinstance(models, list) and any(
        isinstance(m, dict) and "provider" in m and "model" in m for m in models
    )


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    from ctxfix.edits import load_document

    doc = load_document(path, text)
    if not detect(path, doc.data):
        return []
    legacy = doc.fmt != "yaml"
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []
    for i, m in enumerate(doc.data["models"]):
        if not isinstance(m, dict) or not isinstance(m.get("model"), str):
            continue
        provider = str(m.get("provider", "")).lower()
        base = m.get("apiBase") if isinstance(m.get("apiBase"), str) else None
        if provider != "ollama" and not is_ollama_url(base):
            continue
        native = provider == "ollama" and not is_v1_url(base)
        out.append(_binding(doc, i, m, base, native, legacy, suppressed))
    return with_refs(out, doc)


def _binding(
    doc: Any,
    i: int,
    m: dict[str, Any],
    base: str | None,
    native: bool,
    legacy: bool,
    suppressed: frozenset[str],
) -> AgentBinding:
    mp: KeyPath = ("models", i)
    if legacy:
        ctx_path: KeyPath = (*mp, "contextLength")
        max_path: KeyPath = (*mp, "completionOptions", "maxTokens")
    else:
        ctx_path = (*mp, "defaultCompletionOptions", "contextLength")
        max_path = (*mp, "defaultCompletionOptions", "maxTokens")
    timeout_path: KeyPath = (*mp, "requestOptions", "timeout")

    window = binding_value(doc, ctx_path, to_int)
    from_model = False
    if window is None and native:
        from_model = True  # resolve adopts the model's num_ctx as Continue reads it
        window = default(
            DEFAULT_OLLAMA_CONTEXT_LENGTH,
            "Continue's Ollama default contextLength (core/llm/llms/Ollama.ts)",
            doc,
            ctx_path,
        )
    elif window is None:
        window = default(DEFAULT_CONTEXT_LENGTH, "Continue default contextLength", doc, ctx_path)
    num_ctx: Sourced[int] | None = None
    if native:
        num_ctx = Sourced(window.value, window.source, window.location, note="sent as num_ctx")
    max_tokens = binding_value(doc, max_path, to_int) or default(
        DEFAULT_MAX_TOKENS, "Continue default maxTokens", doc, max_path
    )
    timeout = binding_value(doc, timeout_path, to_float) or default(
        DEFAULT_TIMEOUT_S, "Continue default requestOptions.timeout", doc, timeout_path
    )
    edit_paths: dict[str, KeyPath] = {
        "model_ref": (*mp, "model"),
        "context_window": ctx_path,
        "max_tokens": max_path,
        "timeout": timeout_path,
    }
    if native:
        edit_paths["num_ctx"] = ctx_path
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=Sourced(m["model"], "agent", location(doc, (*mp, "model"))),
        model=canonical(m["model"]),
        api="native" if native else "openai",
        host=base or _DEFAULT_HOST,
        context_window=window,
        num_ctx=num_ctx,
        max_tokens=max_tokens,
        timeout_s=timeout,
        timeout_unit_s=1.0,
        edit_paths=edit_paths,
        format=doc.fmt,
        suppressed=suppressed,
        window_from_model=from_model,
    )
