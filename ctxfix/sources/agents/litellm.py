"""LiteLLM proxy: `config.yaml` with a `model_list`.

Why: a LiteLLM proxy sits between agents and Ollama; its `litellm_params`
decide the API (`ollama_chat/` -> `/api/chat`, `ollama/` -> `/api/generate`,
`openai/` + an Ollama `/v1` base -> OpenAI-compatible), the `num_ctx` sent and
the timeout, and `model_info.max_input_tokens` is the window it advertises to
clients. Upstream facts (BerriAI/litellm docs "Proxy Config.yaml", `litellm/__init__.py`):
`model_list[]: {model_name, litellm_params: {model, api_base, num_ctx,
timeout, stream_timeout, max_tokens}, model_info: {max_input_tokens,
max_output_tokens, max_tokens}}`; `litellm_settings.request_timeout`
(seconds) defaults to 6000. Without `api_base` the `ollama/` and `ollama_chat/`
providers call `http://localhost:11434` (`litellm/llms/ollama/completion/transformation.py`
and `chat/transformation.py`, `get_complete_url`). A `config.yaml` without
`model_list` is another tool's file and yields nothing.
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
    location,
    to_float,
    to_int,
    with_refs,
)

AGENT = "litellm"
FILE_NAMES: tuple[str, ...] = (
    "config.yaml",
    "litellm_config.yaml",
    "litellm.yaml",
    "proxy_config.yaml",
)

DEFAULT_TIMEOUT_S = 6000.0
# no api_base: litellm/llms/ollama/chat/transformation.py `OllamaChatConfig.get_complete_url`
# and completion/transformation.py `OllamaConfig.get_complete_url` use this
_DEFAULT_HOST = "http://localhost:11434"
_NATIVE_PREFIXES = ("ollama_chat/", "ollama/")


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """The proxy has no user-level file; `$CONFIG_FILE_PATH` names one when set."""
    return [Path(env["CONFIG_FILE_PATH"]).expanduser()] if env.get("CONFIG_FILE_PATH") else []


def detect(path: Path, data: Any) -> bool:
    """LiteLLM's config has a `model_list` of entries with `litellm_params`."""
    if not isinstance(data, dict):
        return False
    ml = data.get("model_list")
    return isinstance(ml, list) and any(isinstance(e, dict) and "litellm_params" in e for e in ml)


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    from ctxfix.edits import load_document

    doc = load_document(path, text, fmt="yaml" if path.suffix in (".yaml", ".yml") else None)
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    out = []
    for i, entry in enumerate(doc.data["model_list"]):
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        if not isinstance(params, dict) or not isinstance(params.get("model"), str):
            continue
        model = params["model"]
        base = params.get("api_base")
        base = base if isinstance(base, str) and not base.startswith("os.environ/") else None
        low = model.lower()
        if low.startswith(_NATIVE_PREFIXES):
            api = "native"
        elif is_ollama_url(base):
            api = "openai"
        else:
            continue
        out.append(_binding(doc, i, model, base, api, suppressed))
    return with_refs(out, doc, exclude_keys=("model_name",))


def _binding(
    doc: Any, i: int, model: str, base: str | None, api: str, suppressed: frozenset[str]
) -> AgentBinding:
    lp: KeyPath = ("model_list", i, "litellm_params")
    mi: KeyPath = ("model_list", i, "model_info")
    timeout = (
        binding_value(doc, (*lp, "timeout"), to_float)
        or binding_value(doc, ("litellm_settings", "request_timeout"), to_float)
        or default(DEFAULT_TIMEOUT_S, "LiteLLM default request_timeout", doc, (*lp, "timeout"))
    )
    max_tokens = (
        binding_value(doc, (*lp, "max_tokens"), to_int)
        or binding_value(doc, (*mi, "max_output_tokens"), to_int)
        or binding_value(doc, (*mi, "max_tokens"), to_int)
    )
    name = model.split("/", 1)[1] if "/" in model else model
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=Sourced(model, "agent", location(doc, (*lp, "model"))),
        model=canonical(name),
        api=api,
        host=base or (_DEFAULT_HOST if api == "native" else None),
        context_window=binding_value(doc, (*mi, "max_input_tokens"), to_int),
        num_ctx=binding_value(doc, (*lp, "num_ctx"), to_int),
        max_tokens=max_tokens,
        timeout_s=timeout,
        timeout_unit_s=1.0,
        edit_paths={
            "model_ref": (*lp, "model"),
            "context_window": (*mi, "max_input_tokens"),
            "num_ctx": (*lp, "num_ctx"),
            "max_tokens": (*lp, "max_tokens"),
            "timeout": (*lp, "timeout"),
        },
        format=doc.fmt,
        suppressed=suppressed,
    )
