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
- `core/llm/index.ts` (`BaseLLM` constructor): unset `maxTokens` is
  `DEFAULT_MAX_TOKENS = 4096` (`core/llm/constants.ts`) unless
  `@continuedev/llm-info` `findLlmInfo` knows the model's
  `maxCompletionTokens` (then min(that, contextLength / 4)); its Ollama
  entries (`packages/llm-info/src/providers/os.ts`) give none, so 4096 unless
  an Ollama tag also matches another provider's entry (not modelled).
- `requestOptions.timeout` in seconds, default 7200: `packages/fetch/src/getAgentOptions.ts`
  (`TIMEOUT = 7200`, `(requestOptions?.timeout ?? TIMEOUT) * 1000`);
  `docs/reference/json-reference.mdx` (`requestOptions`: "default: 7200 seconds").
- Legacy `config.json` (JSONC): `models[]` with `title`, `provider`, `model`,
  `apiBase`, `contextLength`, `completionOptions.maxTokens`, `requestOptions`.
- Block files: `.continue/models/*.yaml` have the same `models:` list.
- Local configs (`core/config/ConfigHandler.ts`, `core/config/loadLocalAssistants.ts`
  `getAllDotContinueDefinitionFiles`): every `*.yaml`/`*.yml` under
  `.continue/configs/`, `.continue/agents/` and the older `.continue/assistants/`,
  both in `~/.continue` and in each workspace folder, is a whole config (Continue's
  Ollama guide writes `~/.continue/configs/config.yaml`).
- Blocks used by reference (`packages/config-yaml/src/schemas/index.ts`,
  `load/unroll.ts`, `interfaces/slugs.ts`, `registryClient.ts`): a `models[]` entry
  `{uses, with, override}`. `uses` starting with `.` or `/`, `~` or `file://` is a
  local block file (relative paths: the current directory first, then the
  config's directory, which is what ctxfix uses); the first entry of the block's
  `models:` is taken and `override` replaces its top-level keys (a shallow merge,
  `mergeOverrides`). Anything else is a hub slug (`owner/name`), fetched from the
  Continue Hub: ctxfix reads nothing offline and says so. `with` inputs
  (`${{ inputs.x }}`) are not rendered.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import AgentBinding, KeyPath, ModelRef, Slot, Sourced, format_key_path
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
_CONFIG_DIRS = ("configs", "agents", "assistants")  # whole configs (loadLocalAssistants.ts)
PATH_GLOBS: tuple[str, ...] = tuple(
    f".continue/{d}/*.{ext}" for d in ("models", *_CONFIG_DIRS) for ext in ("yaml", "yml")
)

DEFAULT_CONTEXT_LENGTH = 32768  # core/llm/constants.ts: providers other than Ollama
DEFAULT_OLLAMA_CONTEXT_LENGTH = 8192  # core/llm/llms/Ollama.ts
DEFAULT_MAX_TOKENS = 4096  # core/llm/constants.ts (used by core/llm/index.ts BaseLLM)
DEFAULT_TIMEOUT_S = 7200.0  # packages/fetch/src/getAgentOptions.ts TIMEOUT
_DEFAULT_HOST = "http://localhost:11434"


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$CONTINUE_GLOBAL_DIR` or `~/.continue`: config.yaml, config.json, models/*.yaml,
    and every YAML file under configs/, agents/ and assistants/ (walked, like Continue)."""
    root = (
        Path(env["CONTINUE_GLOBAL_DIR"]) if env.get("CONTINUE_GLOBAL_DIR") else home / ".continue"
    )
    out = [root / "config.yaml", root / "config.json"]
    models = root / "models"
    if models.is_dir():
        out += sorted(p for p in models.iterdir() if p.suffix in (".yaml", ".yml"))
    for name in _CONFIG_DIRS:
        d = root / name
        if d.is_dir():
            # an unreadable subdirectory is not fatal here: reading reports files
            with contextlib.suppress(OSError):
                out += sorted(p for p in d.rglob("*") if p.suffix in (".yaml", ".yml"))
    return out


def detect(path: Path, data: Any) -> bool:
    """A `models:` list of entries with `provider` (LiteLLM has `model_list`, Goose has neither)."""
    if not isinstance(data, dict) or "model_list" in data:
        return False
    models = data.get("models")
    return isinstance(models, list) and any(
        isinstance(m, dict)
        and (("provider" in m and "model" in m) or isinstance(m.get("uses"), str))
        for m in models
    )


Locator = Callable[[KeyPath], tuple[Any, KeyPath]]
"""Where a model setting lives: tail (`("requestOptions", "timeout")`) -> (document, path)."""


def read(
    path: Path, text: str | None = None, notes: list[Warning_] | None = None
) -> list[AgentBinding]:
    """Bindings of every Ollama model; `notes` collects what cannot be read (hub blocks)."""
    from ctxfix.edits import load_document

    doc = load_document(path, text)
    if not detect(path, doc.data):
        return []
    legacy = doc.fmt != "yaml"
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []
    own: list[AgentBinding] = []
    for i, m in enumerate(doc.data["models"]):
        if isinstance(m, dict) and isinstance(m.get("uses"), str) and not legacy:
            b = _uses_binding(doc, i, m, suppressed, notes)
            if b is not None:
                out.append(b)
            continue
        if not isinstance(m, dict) or not isinstance(m.get("model"), str):
            continue
        provider = str(m.get("provider", "")).lower()
        base = m.get("apiBase") if isinstance(m.get("apiBase"), str) else None
        if provider != "ollama" and not is_ollama_url(base):
            continue
        native = provider == "ollama" and not is_v1_url(base)

        def here(tail: KeyPath, i: int = i) -> tuple[Any, KeyPath]:
            return doc, ("models", i, *tail)

        own.append(_binding(doc, here, m, base, native, legacy, suppressed))
    return with_refs(own, doc) + out


def _block_path(ref: str, config: Path) -> Path | None:
    """The local file a `uses:` names (decodePackageIdentifier), None for a hub slug."""
    if ref.startswith("file://"):
        return Path(unquote(urlsplit(ref).path))
    if ref.startswith("~"):
        return Path(ref).expanduser()
    if ref.startswith((".", "/")):
        p = Path(ref)
        return p if p.is_absolute() else Path(os.path.normpath(config.parent / p))
    return None


def _uses_binding(
    doc: Any,
    i: int,
    entry: dict[str, Any],
    suppressed: frozenset[str],
    notes: list[Warning_] | None,
) -> AgentBinding | None:
    """A `models[i]: {uses: ./block.yaml, override: {...}}` entry, read from both files.

    Each setting is located where Continue takes it from: under `override` when
    its top-level key is there, else in the block's first model. The binding
    belongs to the file that holds the window; settings written in the other
    file are read but not edited (the reason is recorded in `pinned`/`manual`).
    """
    from ctxfix.edits import load_document

    ref = entry["uses"]
    where = f"{doc.path}: models[{i}].uses {ref}"
    block_path = _block_path(ref, Path(doc.path))
    if block_path is None:
        if notes is not None:
            notes.append(
                Warning_(
                    f"{doc.path}",
                    f"models[{i}] uses the hub block {ref!r}, which ctxfix cannot read offline; "
                    "its model, window and timeout are not checked",
                )
            )
        return None
    try:
        block = load_document(block_path)
    except CtxfixError as exc:
        if notes is not None:
            notes.append(Warning_(where, f"block not read: {exc}"))
        return None
    bm = block.get(("models", 0))
    if not isinstance(bm, dict):
        if notes is not None:
            notes.append(Warning_(where, f"{block_path} has no models: entry"))
        return None
    override = entry.get("override") if isinstance(entry.get("override"), dict) else {}
    m = {**bm, **override}  # mergeOverrides: top-level keys replaced
    if not isinstance(m.get("model"), str):
        return None
    provider = str(m.get("provider", "")).lower()
    base = m.get("apiBase") if isinstance(m.get("apiBase"), str) else None
    if provider != "ollama" and not is_ollama_url(base):
        return None
    native = provider == "ollama" and not is_v1_url(base)

    def at(tail: KeyPath) -> tuple[Any, KeyPath]:
        if tail[0] in override:
            return doc, ("models", i, "override", *tail)
        return block, ("models", 0, *tail)

    b = _binding(
        at(_CTX_TAIL)[0], at, m, base, native, False, suppressed | inline_ignores(block.text)
    )
    mdoc, mpath = at(("model",))
    if mdoc is not at(_CTX_TAIL)[0]:
        from ctxfix.records import replace

        b = replace(b, pinned=f"the model is named in {mdoc.path} ({format_key_path(mpath)})")
    return b


_CTX_TAIL: KeyPath = ("defaultCompletionOptions", "contextLength")


def _binding(
    doc: Any,
    at: Locator,
    m: dict[str, Any],
    base: str | None,
    native: bool,
    legacy: bool,
    suppressed: frozenset[str],
) -> AgentBinding:
    """One binding; `doc` is the file it belongs to, `at` finds each setting.

    A setting that `at` puts in another file is read from there but gets no
    edit path: ctxfix edits one file per binding.
    """
    if legacy:
        ctx_tail: KeyPath = ("contextLength",)
        max_tail: KeyPath = ("completionOptions", "maxTokens")
    else:
        ctx_tail = _CTX_TAIL
        max_tail = ("defaultCompletionOptions", "maxTokens")
    timeout_tail: KeyPath = ("requestOptions", "timeout")
    ctx_doc, ctx_path = at(ctx_tail)
    max_doc, max_path = at(max_tail)
    timeout_doc, timeout_path = at(timeout_tail)
    ref_doc, ref_path = at(("model",))

    window = binding_value(ctx_doc, ctx_path, to_int)
    from_model = False
    if window is None and native:
        from_model = True  # resolve adopts the model's num_ctx as Continue reads it
        window = default(
            DEFAULT_OLLAMA_CONTEXT_LENGTH,
            "Continue's Ollama default contextLength (core/llm/llms/Ollama.ts)",
            ctx_doc,
            ctx_path,
        )
    elif window is None:
        window = default(
            DEFAULT_CONTEXT_LENGTH, "Continue default contextLength", ctx_doc, ctx_path
        )
    num_ctx: Sourced[int] | None = None
    if native:
        num_ctx = Sourced(window.value, window.source, window.location, note="sent as num_ctx")
    max_tokens = binding_value(max_doc, max_path, to_int) or default(
        DEFAULT_MAX_TOKENS, "Continue default maxTokens", max_doc, max_path
    )
    timeout = binding_value(timeout_doc, timeout_path, to_float) or default(
        DEFAULT_TIMEOUT_S, "Continue default requestOptions.timeout", timeout_doc, timeout_path
    )
    slots = {
        Slot.MODEL_REF: (ref_doc, ref_path),
        Slot.CONTEXT_WINDOW: (ctx_doc, ctx_path),
        Slot.MAX_TOKENS: (max_doc, max_path),
        Slot.TIMEOUT: (timeout_doc, timeout_path),
    }
    if native:
        slots[Slot.NUM_CTX] = (ctx_doc, ctx_path)
    edit_paths: dict[str, KeyPath] = {k: p for k, (d, p) in slots.items() if d is doc}
    refs = (ModelRef(ref_path, m["model"]),) if ref_doc is doc else ()
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=Sourced(m["model"], "agent", location(ref_doc, ref_path)),
        refs=refs,
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
