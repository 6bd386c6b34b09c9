"""OpenHands (`config.toml`, `[llm]` and named `[llm.<name>]` groups).

Why: OpenHands calls models through litellm. With `model = "ollama/<tag>"`
(or `ollama_chat/`) litellm uses Ollama's native API and sends no num_ctx
unless `completion_kwargs` carries one, so the server's num_ctx decides the
window while OpenHands condenses history against `max_input_tokens`; with
`openai/<tag>` and a `/v1` base URL it is the OpenAI-compatible API. Either
way the two numbers must agree.

Format (verified in All-Hands-AI/OpenHands `config.template.toml`,
`openhands/core/config/llm_config.py`, `openhands/llm/llm.py`, and the
"Custom LLM Configurations" docs):

- `[llm]`: `model`, `base_url` (older releases: `ollama_base_url`),
  `max_input_tokens`, `max_output_tokens`, `timeout` (seconds, passed to
  litellm), `api_key` (never reported);
- `[llm.<name>]` groups inherit every key from `[llm]` and override some;
  agents pick one with `[agent.<Agent>] llm_config = "<name>"`.
- Unset `max_input_tokens`/`max_output_tokens`: OpenHands asks litellm for
  model info and falls back to 4096 each (llm.py `init_model_info`); litellm
  has no info for most Ollama tags, so 4096 is reported as the default.
- Unset `timeout` (`llm_config.py`: `timeout: int | None = Field(default=None)`):
  `llm.py` passes `timeout=self.config.timeout` to `litellm.completion`, whose
  "TIMEOUT LOGIC" (BerriAI/litellm `litellm/main.py` `completion`) is
  `timeout or kwargs.get("request_timeout", 600) or 600`: 600 s (also for 0).
  The module-level `litellm.request_timeout = 6000` (what the LiteLLM proxy's
  `litellm_settings.request_timeout` sets) does not enter this fallback.
- No `base_url`: litellm's `ollama/`/`ollama_chat/` providers call
  `http://localhost:11434` (`litellm/llms/ollama/completion/transformation.py` and
  `chat/transformation.py`, `get_complete_url`).
- The file lives where OpenHands is started (or `--config-file`); there is no
  documented user-level config.toml, so `user_paths` is empty.
- `completion_kwargs` (`llm_config.py`: "Custom kwargs to pass to
  litellm.completion"; `llm.py` does `kwargs.update(config.completion_kwargs)`):
  `completion_kwargs = { num_ctx = 65536 }` makes litellm's `ollama/` and
  `ollama_chat/` providers send `options.num_ctx` on the native API (then it is
  what is served); with `openai/` on a `/v1` base URL it reaches Ollama's
  OpenAI-compatible API, which ignores it. A `[llm.<name>]` group that writes
  its own `completion_kwargs` replaces the whole `[llm]` table (the merge is
  `{**base, **group}`), so ctxfix writes num_ctx into a group only where the
  group already has its own table or `[llm]`'s holds nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    api_for_url,
    binding_value,
    default,
    inline_ignores,
    is_ollama_url,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "openhands"
FILE_NAMES: tuple[str, ...] = ("config.toml",)

DEFAULT_TOKENS = 4096
DEFAULT_TIMEOUT_S = 600.0  # litellm/main.py completion(): `timeout or ... or 600`

_NATIVE_PREFIXES = ("ollama_chat/", "ollama/")
_COMPARED = (
    "model",
    "base_url",
    "ollama_base_url",
    "max_input_tokens",
    "max_output_tokens",
    "timeout",
    "completion_kwargs",
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """None: OpenHands reads config.toml from the working directory only."""
    return []


def detect(path: Path, data: Any) -> bool:
    """A TOML document with an `[llm]` table, or OpenHands' `[core]` next to its siblings."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("llm"), dict):
        return True
    return isinstance(data.get("core"), dict) and any(
        isinstance(data.get(k), dict) for k in ("agent", "sandbox", "security")
    )


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per LLM group (base `[llm]` first) that points at Ollama."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "toml")
    if not detect(path, doc.data):
        return []
    llm = doc.data.get("llm")
    if not isinstance(llm, dict):
        return []
    suppressed = inline_ignores(doc.text)
    base = {k: v for k, v in llm.items() if not isinstance(v, dict)}

    out: list[AgentBinding] = []
    b = _binding(doc, None, base, suppressed)
    if b is not None:
        out.append(b)
    for name, group in llm.items():
        if not isinstance(group, dict):
            continue
        eff = {**base, **group}
        if all(eff.get(k) == base.get(k) for k in _COMPARED) and b is not None:
            continue  # same model and limits as [llm]: nothing new to judge
        gb = _binding(doc, name, eff, suppressed)
        if gb is not None:
            out.append(gb)
    return with_refs(out, doc)


def _path(doc: Any, group: str | None, key: str) -> KeyPath:
    """Where `key` is written for this group: its own table, else inherited from [llm]."""
    if group is not None and doc.get(("llm", group, key)) is not None:
        return ("llm", group, key)
    return ("llm", key)


def _binding(
    doc: Any, group: str | None, eff: dict[str, Any], suppressed: frozenset[str]
) -> AgentBinding | None:
    model = to_str(eff.get("model"))
    if model is None:
        return None
    url = to_str(eff.get("base_url")) or to_str(eff.get("ollama_base_url"))
    low = model.lower()
    prefix = low.split("/", 1)[0] if "/" in low else ""
    native = low.startswith(_NATIVE_PREFIXES)
    if not native and not (is_ollama_url(url) and prefix in ("", "openai")):
        return None

    own: KeyPath = ("llm", group) if group is not None else ("llm",)
    model_ref = binding_value(doc, _path(doc, group, "model"), to_str)
    assert model_ref is not None
    name = model.split("/", 1)[1] if prefix in ("ollama", "ollama_chat", "openai") else model

    window = binding_value(doc, _path(doc, group, "max_input_tokens"), to_int)
    if window is None:
        window = default(
            DEFAULT_TOKENS,
            "OpenHands falls back to 4096 input tokens when litellm has no model info",
            doc,
            (*own, "max_input_tokens"),
        )
    max_tokens = binding_value(doc, _path(doc, group, "max_output_tokens"), to_int)
    if max_tokens is None:
        max_tokens = default(
            DEFAULT_TOKENS,
            "OpenHands falls back to 4096 output tokens when litellm has no model info",
            doc,
            (*own, "max_output_tokens"),
        )
    timeout = binding_value(doc, _path(doc, group, "timeout"), to_float)
    if timeout is None or timeout.value <= 0:
        timeout = default(
            DEFAULT_TIMEOUT_S,
            "timeout unset: litellm.completion default 600 s",
            doc,
            (*own, "timeout"),
        )
    if native:
        api = "native"
        host = url or "http://localhost:11434"
    else:
        api = api_for_url(url)
        host = url
    ck_path = _path(doc, group, "completion_kwargs")
    num_ctx = binding_value(doc, (*ck_path, "num_ctx"), to_int)
    edit_paths: dict[str, KeyPath] = {
        "model_ref": _path(doc, group, "model"),
        "context_window": (*own, "max_input_tokens"),
        "max_tokens": (*own, "max_output_tokens"),
        "timeout": (*own, "timeout"),
    }
    inherited = ck_path[:-1] != own
    base_ck = doc.get(("llm", "completion_kwargs"))
    if num_ctx is not None and (
        not inherited or (isinstance(base_ck, dict) and set(base_ck) == {"num_ctx"})
    ):
        # a group's own table replaces [llm]'s: writing one must not drop other kwargs
        edit_paths["num_ctx"] = (*own, "completion_kwargs", "num_ctx")
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(name),
        api=api,
        host=host,
        context_window=window,
        num_ctx=num_ctx,
        max_tokens=max_tokens,
        timeout_s=timeout,
        timeout_unit_s=1.0,
        edit_paths=edit_paths,
        format="toml",
        suppressed=suppressed,
    )
