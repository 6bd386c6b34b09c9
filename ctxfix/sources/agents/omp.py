"""Oh My Pi (`~/.omp/agent/models.yml`), including what `ollama launch omp` writes.

Why: Oh My Pi reaches Ollama as a custom provider on the OpenAI-compatible
`/v1` API, which cannot set num_ctx, and plans with each model's
`contextWindow`. `ollama launch omp` (github:ollama/ollama `cmd/launch/omp.go`,
`writeOMPModelsConfig`, `ompModelConfig`) writes that window from `/api/tags`
`details.context_length` (`cmd/launch/model_inventory.go`): the model's native
context, not what the server serves. On a small GPU it writes 262,144 where
Ollama serves 4,096, and every prompt past 4,096 is truncated (CTX201).

Format (github:ollama/ollama `cmd/launch/omp.go`; can1357/oh-my-pi
`packages/coding-agent/src/config/models-config.ts`, `model-registry.ts`,
`model-discovery.ts`):

- Directory: `$PI_CODING_AGENT_DIR`, else `$PI_CONFIG_DIR/agent` (relative to
  the home directory unless absolute), else `~/.omp/agent`, on every platform
  (`ompAgentDir`; `os.UserHomeDir`, so `%USERPROFILE%` on Windows).
  `models.yml`, YAML.
- `providers.<name>`: `baseUrl`, `api` ("openai-completions",
  "openai-responses", "anthropic-messages", ...), `auth`, `apiKey`,
  `discovery: {type}`, `models[]`: `{id, name, api, baseUrl, input,
  contextWindow, maxTokens}`; a model's `api`/`baseUrl` override the provider's.
- Unset `contextWindow` on a configured model: 128,000; unset `maxTokens`:
  16,384 (`model-registry.ts`, the Pi defaults). Models only *discovered*
  (`discovery: {type: ollama}`: `/api/tags`, then `/api/show` `model_info`
  `*.context_length`, else the `num_ctx` parameter) are not in the file and
  not read here. No request timeout key exists.
- `ollama launch omp` writes `providers.ollama` with `baseUrl`
  `$OLLAMA_HOST/v1`, `api: openai-responses`, `auth: none`,
  `discovery: {type: ollama}` (`ensureOMPProvider`; `ompProviderHealthy` is
  how it recognises its own provider) and one entry per launched model,
  `{id, name, input, contextWindow, maxTokens}`; entries it did not launch are
  kept. It does not rewrite the file on every run: only when it (re)configures
  (another model, `--config`, or a file that drifted from its saved model,
  `cmd/launch/launch.go launchManagedSingleIntegration`), and then it writes
  the native window again. A corrected window survives ordinary launches, so
  it is edited here; the finding says who wrote it.

A binding per model of every provider named "ollama" or whose base URL is on
port 11434. The model id is pinned: `ollama launch omp` runs
`omp --model ollama/<id>` with the model it saved, and rewrites the file when
they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    is_ollama_url,
    to_int,
    to_str,
    with_refs,
)

AGENT = "omp"
FILE_NAMES: tuple[str, ...] = ("models.yml",)

DEFAULT_WINDOW = 128_000
DEFAULT_MAX_TOKENS = 16_384
_OMP_KEYS = frozenset({"baseUrl", "api", "apiKey", "auth", "discovery", "modelOverrides"})


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$PI_CODING_AGENT_DIR/models.yml`, else `<$PI_CONFIG_DIR or ~/.omp>/agent/models.yml`."""
    agent_dir = (env.get("PI_CODING_AGENT_DIR") or "").strip()
    if agent_dir:
        return [Path(agent_dir).expanduser() / "models.yml"]
    config_dir = (env.get("PI_CONFIG_DIR") or "").strip() or ".omp"
    base = Path(config_dir) if Path(config_dir).is_absolute() else home / config_dir
    return [base / "agent" / "models.yml"]


def detect(path: Path, data: Any) -> bool:
    """A `providers` map whose entries use OMP's camelCase keys (`baseUrl`, `api`, ...)."""
    if not isinstance(data, dict):
        return False
    providers = data.get("providers")
    return isinstance(providers, dict) and any(
        isinstance(p, dict) and bool(_OMP_KEYS & p.keys()) for p in providers.values()
    )


def _launch_provider(pid: str, prov: dict) -> bool:
    """The provider `ollama launch omp` writes (`ensureOMPProvider`, `ompProviderHealthy`)."""
    discovery = prov.get("discovery")
    return (
        pid == "ollama"
        and prov.get("api") == "openai-responses"
        and prov.get("auth") == "none"
        and isinstance(discovery, dict)
        and discovery.get("type") == "ollama"
    )


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per model of each Ollama provider."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "yaml")
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []
    for pid, prov in doc.data["providers"].items():
        if not isinstance(prov, dict):
            continue
        models = prov.get("models")
        if models is None:
            continue
        if not isinstance(models, list):
            pos = doc.locate(("providers", pid, "models"))
            where = f"{doc.path}:{pos[0]}:{pos[1]}" if pos else str(doc.path)
            raise CtxfixError(where, "models must be a list of model entries")
        launched = _launch_provider(str(pid), prov)
        for i, m in enumerate(models):
            if not isinstance(m, dict) or to_str(m.get("id")) is None:
                continue
            url = to_str(m.get("baseUrl")) or to_str(prov.get("baseUrl"))
            if pid != "ollama" and not is_ollama_url(url):
                continue
            api = to_str(m.get("api")) or to_str(prov.get("api")) or ""
            base: KeyPath = ("providers", pid, "models", i)
            out.append(_binding(doc, base, m, url, api, launched, suppressed))
    return with_refs(out, doc)


def _binding(
    doc: Any,
    base: KeyPath,
    entry: dict,
    url: str | None,
    api: str,
    launched: bool,
    suppressed: frozenset[str],
) -> AgentBinding:
    model_ref = binding_value(doc, (*base, "id"), to_str)
    assert model_ref is not None
    window_path: KeyPath = (*base, "contextWindow")
    max_path: KeyPath = (*base, "maxTokens")
    window: Sourced[int] | None = binding_value(doc, window_path, to_int)
    if window is None:
        window = default(DEFAULT_WINDOW, "Oh My Pi's default contextWindow", doc, window_path)
    max_tokens: Sourced[int] | None = binding_value(doc, max_path, to_int)
    if max_tokens is None:
        max_tokens = default(DEFAULT_MAX_TOKENS, "Oh My Pi's default maxTokens", doc, max_path)
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(model_ref.value),
        # every OMP API is a compatibility API to Ollama: none carries num_ctx
        api="anthropic" if api == "anthropic-messages" else "openai",
        host=url,
        context_window=window,
        num_ctx=None,
        max_tokens=max_tokens,
        timeout_s=None,
        edit_paths={"model_ref": (*base, "id"), "context_window": window_path},
        format=doc.fmt,
        suppressed=suppressed,
        pinned="`ollama launch omp` and `omp --model ollama/<id>` name this id too",
        written_by="ollama launch" if launched and "contextWindow" in entry else None,
    )
