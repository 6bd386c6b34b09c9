"""Aider: `.aider.model.settings.yml`, `.aider.model.metadata.json`, `.aider.conf.yml`.

Why: Aider spreads one model's settings over three files, looked up in the
home directory, the git root and the current directory (later wins). The
request `num_ctx` lives in the settings file, the declared window in the
metadata file, the timeout in the conf file. Upstream facts (Aider-AI/aider
`aider/models.py`, `aider/website/docs/llms/ollama.md`,
`docs/config/adv-model-settings.md`):

- settings: a YAML list of `{name, extra_params: {num_ctx, ...}}`; the special
  name `aider/extra_params` applies to every model (the model's own wins).
  `extra_params` go into the litellm call, so `extra_params.timeout` beats
  `--timeout`.
- When no `num_ctx` is set, Aider sizes it per request:
  `int(token_count(messages) * 1.25) + 8192` (no fixed number to report).
- metadata: litellm format keyed by full model name: `max_input_tokens`,
  `max_output_tokens`, `max_tokens`.
- conf: `model`, `weak-model`, `editor-model`, `timeout` (s; default
  `request_timeout = 600`), `set-env` (e.g. `OLLAMA_API_BASE=...`).
- `ollama_chat/` uses `/api/chat`, `ollama/` uses `/api/generate`: both
  native, both honour `num_ctx`.
- Server: `OLLAMA_API_BASE` (the Ollama guide sets it), else litellm's default
  `http://localhost:11434` (BerriAI/litellm `litellm/llms/ollama/chat/transformation.py`
  and `completion/transformation.py`, `get_complete_url`).

A binding is anchored in one file (settings, else metadata, else conf: the
first of the same directory that names the model); values from the sibling
files are joined with their own locations, and `edit_paths` only name keys in
the anchor file. Reading each of the three files therefore yields each model
once.
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
    key_location,
    location,
    to_float,
    to_int,
    with_refs,
)

AGENT = "aider"
SETTINGS = ".aider.model.settings.yml"
METADATA = ".aider.model.metadata.json"
CONF = ".aider.conf.yml"
FILE_NAMES: tuple[str, ...] = (SETTINGS, METADATA, CONF)

DEFAULT_TIMEOUT_S = 600.0
# Aider sets no Ollama address: `OLLAMA_API_BASE` (aider/website/docs/llms/ollama.md) is read by
# litellm, whose default is this (BerriAI/litellm litellm/llms/ollama/chat/transformation.py
# `OllamaChatConfig.get_complete_url`, completion/transformation.py `OllamaConfig.get_complete_url`)
_DEFAULT_HOST = "http://localhost:11434"
_ALL = "aider/extra_params"
_CONF_MODEL_KEYS = ("model", "weak-model", "editor-model")


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """The home-directory copies (git root and cwd are project files found by discovery)."""
    return [home / name for name in FILE_NAMES]


def _is_ollama(name: Any) -> bool:
    return isinstance(name, str) and name.lower().startswith(("ollama/", "ollama_chat/"))


def detect(path: Path, data: Any) -> bool:
    """Content check by file role: settings are a list of `name` entries, metadata a dict of
    dicts, conf a dict of aider options."""
    if path.name == SETTINGS or (isinstance(data, list) and path.name.endswith((".yml", ".yaml"))):
        return isinstance(data, list) and all(isinstance(e, dict) and "name" in e for e in data)
    if path.name == METADATA:
        return isinstance(data, dict) and all(isinstance(v, dict) for v in data.values())
    return isinstance(data, dict)


class _Files:
    """The three files of one directory, parsed lazily (None when absent or not Aider's)."""

    def __init__(self, anchor: Path, doc: Any) -> None:
        self.dir = anchor.parent
        self.docs: dict[str, Any] = {anchor.name: doc}

    def get(self, name: str) -> Any:
        if name not in self.docs:
            from ctxfix.edits import load_document

            p = self.dir / name
            doc = load_document(p) if p.is_file() else None
            self.docs[name] = doc if doc is not None and detect(p, doc.data) else None
        return self.docs[name]

    def settings_index(self, model: str) -> int | None:
        doc = self.get(SETTINGS)
        if doc is None:
            return None
        found = None
        for i, e in enumerate(doc.data):
            if str(e.get("name", "")).lower() == model.lower():
                found = i
        return found

    def metadata_key(self, model: str) -> str | None:
        doc = self.get(METADATA)
        if doc is None:
            return None
        return next((k for k in doc.data if k.lower() == model.lower()), None)


def _names_in(name: str, doc: Any) -> list[tuple[str, KeyPath]]:
    """Ollama model names this file mentions, with the path of each mention."""
    if name == SETTINGS:
        return [
            (e["name"], (i, "name")) for i, e in enumerate(doc.data) if _is_ollama(e.get("name"))
        ]
    if name == METADATA:
        return [(k, (k,)) for k in doc.data if _is_ollama(k)]
    return [(doc.data[k], (k,)) for k in _CONF_MODEL_KEYS if _is_ollama(doc.data.get(k))]


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    from ctxfix.edits import load_document

    doc = load_document(path, text, fmt="json" if path.name.endswith(".json") else "yaml")
    if not detect(path, doc.data):
        return []
    role = (
        path.name if path.name in FILE_NAMES else (SETTINGS if isinstance(doc.data, list) else CONF)
    )
    files = _Files(path, doc)
    files.docs[role] = doc
    out: list[AgentBinding] = []
    seen: set[str] = set()
    for model, ref_path in _names_in(role, doc):
        key = model.lower()
        if key in seen:
            continue
        seen.add(key)
        # Anchor: settings > metadata > conf within this directory.
        if role != SETTINGS and files.settings_index(model) is not None:
            continue
        if role == CONF and files.metadata_key(model) is not None:
            continue
        out.append(_binding(files, role, doc, model, ref_path))
    return with_refs(out, doc)


def _binding(files: _Files, role: str, doc: Any, model: str, ref_path: KeyPath) -> AgentBinding:
    settings, metadata, conf = files.get(SETTINGS), files.get(METADATA), files.get(CONF)
    edit_paths: dict[str, KeyPath] = {"model_ref": ref_path}

    num_ctx: Sourced[int] | None = None
    timeout: Sourced[float] | None = None
    host: str | None = None
    idx = files.settings_index(model)
    all_idx = files.settings_index(_ALL)
    if settings is not None:
        for i in (idx, all_idx):
            if i is None:
                continue
            num_ctx = num_ctx or binding_value(settings, (i, "extra_params", "num_ctx"), to_int)
            timeout = timeout or binding_value(settings, (i, "extra_params", "timeout"), to_float)
            base = settings.get((i, "extra_params", "api_base"))
            host = host or (base if isinstance(base, str) else None)
    if role == SETTINGS and idx is not None:
        edit_paths["num_ctx"] = (idx, "extra_params", "num_ctx")
        edit_paths["timeout"] = (idx, "extra_params", "timeout")

    window: Sourced[int] | None = None
    max_tokens: Sourced[int] | None = None
    mkey = files.metadata_key(model)
    if metadata is not None and mkey is not None:
        window = binding_value(metadata, (mkey, "max_input_tokens"), to_int)
        max_tokens = binding_value(metadata, (mkey, "max_output_tokens"), to_int) or binding_value(
            metadata, (mkey, "max_tokens"), to_int
        )
        if role == METADATA:
            edit_paths["context_window"] = (mkey, "max_input_tokens")
            edit_paths["max_tokens"] = (
                (mkey, "max_output_tokens")
                if metadata.get((mkey, "max_output_tokens"))
                else (mkey, "max_tokens")
            )

    if conf is not None:
        timeout = timeout or binding_value(conf, ("timeout",), to_float)
        host = host or _env_host(conf.data.get("set-env"))
        if role == CONF:
            edit_paths["timeout"] = ("timeout",)
    if timeout is None:
        where = (conf, ("timeout",)) if conf is not None else (None, None)
        timeout = default(DEFAULT_TIMEOUT_S, "Aider default request timeout", *where)

    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=Sourced(
            model,
            "agent",
            key_location(doc, ref_path) if role == METADATA else location(doc, ref_path),
        ),
        model=canonical(model),
        api="native",
        host=host or _DEFAULT_HOST,
        context_window=window,
        num_ctx=num_ctx,
        # No num_ctx anywhere: Aider sizes it per request (models.py send_completion:
        # int(tokens * 1.25) + 8192), so the model serves up to its native context.
        num_ctx_auto=num_ctx is None,
        max_tokens=max_tokens,
        timeout_s=timeout,
        timeout_unit_s=1.0,
        edit_paths=edit_paths,
        format=doc.fmt,
        suppressed=inline_ignores(doc.text),
        # `.aider.model.settings.yml` entries match the model chosen elsewhere
        # (`--model`, .aider.conf.yml) by name: renaming one file orphans the other
        pinned=(
            "aider matches .aider.model.settings.yml entries to --model by name; "
            "repoint both by hand"
            if role in (SETTINGS, METADATA)
            else None
        ),
    )


def _env_host(set_env: Any) -> str | None:
    """OLLAMA_API_BASE from `set-env` (a list of `NAME=value` or a mapping)."""
    items: list[tuple[str, Any]] = []
    if isinstance(set_env, dict):
        items = list(set_env.items())
    elif isinstance(set_env, list):
        items = [tuple(s.split("=", 1)) for s in set_env if isinstance(s, str) and "=" in s]  # type: ignore[misc]
    for k, v in items:
        if str(k).strip() == "OLLAMA_API_BASE" and isinstance(v, str):
            return v.strip()
    return None
