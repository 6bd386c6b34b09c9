"""Hermes Agent (`~/.hermes/config.yaml`, Nous Research).

Why: Hermes talks to Ollama as a custom OpenAI-compatible endpoint (`/v1`).
It plans and compresses against `model.context_length`, and it puts a
num_ctx (`model.ollama_num_ctx`, else the model's maximum from `/api/show`
capped by `context_length`) into `extra_body.options.num_ctx` of
`/v1/chat/completions`, which Ollama's OpenAI-compatible API ignores
(NousResearch/hermes-agent issue 43900): the model runs at what the server
serves, often the default, while Hermes believes it has the window.

Format (verified in NousResearch/hermes-agent `agent/agent_init_ollama.py`
(`_configure_ollama_num_ctx`), `website/docs/user-guide/configuration.md`
("Provider Timeouts"), `website/docs/guides/local-ollama-setup.md`, and
github:ollama/ollama `cmd/launch/hermes.go`):

- File: `$HERMES_HOME/config.yaml`, else `~/.hermes/config.yaml`; on Windows
  `%LOCALAPPDATA%\\hermes\\config.yaml` (`cmd/launch/hermes.go hermesHomePath`).
- `model`: `default` (the model name), `provider` ("custom", or
  "ollama-launch" as `ollama launch hermes` writes it), `base_url`
  (`http://localhost:11434/v1`), `api_key`, `context_length` (the window; it
  also caps the detected num_ctx), `ollama_num_ctx` (explicit num_ctx, wins;
  the compressor is clamped to it when smaller, `_clamp_compressor_to_ollama_num_ctx`,
  so the window Hermes plans with is the smaller of the two).
- Timeouts: `providers.<id>.models.<model>.timeout_seconds` >
  `providers.<id>.request_timeout_seconds` > `HERMES_API_TIMEOUT` (default
  1800 s).
- `ollama launch hermes` writes `model.provider/default/base_url/api_key` and
  `providers.ollama-launch` but no `context_length`.
- Unset `context_length`: Hermes probes the model's maximum from `/api/show`
  and plans with it, so the binding plans with the model's native context
  (`window_native`): the case `ollama launch hermes` writes, and CTX201 when
  Ollama serves less.

A binding for `model.default` when `model.base_url` is on port 11434.
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
    default,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "hermes"
FILE_NAMES: tuple[str, ...] = ("config.yaml",)

DEFAULT_TIMEOUT_S = 1800.0  # HERMES_API_TIMEOUT default (configuration.md, Provider Timeouts)
# top-level sections only Hermes' config.yaml has (with a `model` mapping)
_HERMES_KEYS = frozenset(
    {
        "toolsets",
        "terminal",
        "platforms",
        "custom_providers",
        "fallback_providers",
        "compression",
        "delegation",
        "auxiliary",
        "mcp_servers",
    }
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$HERMES_HOME/config.yaml`, else `~/.hermes/config.yaml` (and the Windows home)."""
    hermes_home = env.get("HERMES_HOME")
    if hermes_home:
        return [Path(hermes_home).expanduser() / "config.yaml"]
    paths = [home / ".hermes" / "config.yaml"]
    local = env.get("LOCALAPPDATA")
    if local:
        paths.append(Path(local) / "hermes" / "config.yaml")
    return paths


def detect(path: Path, data: Any) -> bool:
    """A `model` mapping with `default`/`base_url`, beside Hermes' own sections (or in
    a `.hermes/` directory)."""
    if not isinstance(data, dict):
        return False
    model = data.get("model")
    if not isinstance(model, dict) or not ({"default", "base_url"} & model.keys()):
        return False
    return bool(_HERMES_KEYS & data.keys()) or path.parent.name in (".hermes", "hermes")


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """The binding of the default model when its base URL is an Ollama server."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "yaml")
    if not detect(path, doc.data):
        return []
    model = doc.data["model"]
    url = to_str(model.get("base_url"))
    name = to_str(model.get("default"))
    if not is_ollama_url(url) or name is None:
        return []
    providers = doc.data.get("providers")
    if providers is not None and not isinstance(providers, dict):
        raise CtxfixError(str(location(doc, ("providers",))), "providers must be a mapping")

    provider = to_str(model.get("provider")) or "custom"
    timeout_path, timeout = _timeout(doc, provider, name)
    window_path: KeyPath = ("model", "context_length")
    num_ctx_path: KeyPath = ("model", "ollama_num_ctx")
    window = binding_value(doc, window_path, to_int)
    num_ctx = binding_value(doc, num_ctx_path, to_int)
    # the compressor is clamped to a smaller num_ctx (`_clamp_compressor_to_ollama_num_ctx`)
    if num_ctx is not None and (window is None or num_ctx.value < window.value):
        window, window_path = num_ctx, num_ctx_path
    binding = model_binding(
        doc,
        ("model", "default"),
        agent=AGENT,
        suppressed=inline_ignores(doc.text),
        edit_paths={
            "context_window": window_path,
            "num_ctx": num_ctx_path,
            "timeout": timeout_path,
        },
        # extra_body.options.num_ctx on /v1/chat/completions: ignored by Ollama
        api=api_for_url(url),
        host=url,
        context_window=window,
        num_ctx=num_ctx,
        timeout_s=timeout,
        window_native=window is None,
    )
    return with_refs([binding], doc)


def _timeout(doc: Any, provider: str, model: str) -> tuple[KeyPath, Sourced[float]]:
    """The request timeout that applies (model > provider > HERMES_API_TIMEOUT default)."""
    per_model: KeyPath = ("providers", provider, "models", model, "timeout_seconds")
    per_provider: KeyPath = ("providers", provider, "request_timeout_seconds")
    for p in (per_model, per_provider):
        value = binding_value(doc, p, to_float)
        if value is not None:
            return p, value
    return per_provider, default(
        DEFAULT_TIMEOUT_S, "Hermes' HERMES_API_TIMEOUT default, 1800 s", doc, per_provider
    )
