"""DeepSeek Harness as `ollama launch dsh` runs it (`~/.ollama/launch/dsh/settings.yaml`).

Why: `ollama launch dsh` (github:ollama/ollama `cmd/launch/deepseek_harness.go`)
starts `dsh web --patch ~/.ollama/launch/dsh/ollama.cordis.yml`, a patch that
points DeepSeek Harness's settings at `settings.yaml` beside it. That file
routes the Harness's `llm-pi-ai` adapter to Ollama's OpenAI-compatible `/v1`
API, which cannot set num_ctx, with a `contextWindow` per model taken from
`/api/tags` `details.context_length` (`deepSeekHarnessModelConfigs`;
`cmd/launch/model_inventory.go`): the model's native context, not what the
server serves. On a small GPU it writes 262,144 where Ollama serves 4,096, and
every prompt past 4,096 is truncated (CTX201).

Format (github:ollama/ollama `cmd/launch/deepseek_harness.go`
`applyDeepSeekHarnessSettings`, `deepSeekHarnessConfigDir`):

- File: `<home>/.ollama/launch/dsh/settings.yaml` on every platform
  (`os.UserHomeDir`, so `%USERPROFILE%` on Windows), YAML, owned by
  `ollama launch`: the user's own `DSH_HOME` settings are not touched.
- `agent-default-model: {provider: ollama, model}` selects the model;
  `llm-pi-ai.providers.ollama`: `displayName`, `apiKeyEnv`
  (`OLLAMA_LAUNCH_DSH_API_KEY`, how launch recognises its provider in
  `deepSeekHarnessProviderHealthy`), `api: openai-completions`, `baseURL`
  `$OLLAMA_HOST/v1`, `models[]`: `{id, name, input, contextWindow, maxTokens}`
  (`contextWindow` only when `/api/tags` gave one); `web-search-deepseek.model`
  names the model again when launch manages web search.
- No default window for an unset `contextWindow` is cited here, so an unset
  window stays unset; no timeout key is written.
- Launch rewrites the file only when it (re)configures (another model,
  `--config`, or a file that drifted from its saved model,
  `cmd/launch/launch.go launchManagedSingleIntegration`), and then replaces
  `models` with the native windows again. A corrected window survives ordinary
  launches, so it is edited here; the finding says who wrote it.

A binding per model of every provider named "ollama" or whose `baseURL` is on
port 11434. The model id is pinned: launch keeps the model it launched in its
own config and rewrites this file when they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.sources.agents import _pi_family
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    is_ollama_url,
    to_int,
    to_str,
    with_refs,
)

AGENT = "dsh"
FILE_NAMES: tuple[str, ...] = ("settings.yaml",)

ADAPTER = "llm-pi-ai"
LAUNCH_API_KEY_ENV = "OLLAMA_LAUNCH_DSH_API_KEY"  # deepSeekHarnessAPIKeyEnv


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`~/.ollama/launch/dsh/settings.yaml` (`deepSeekHarnessSettingsPath`)."""
    return [home / ".ollama" / "launch" / "dsh" / "settings.yaml"]


def detect(path: Path, data: Any) -> bool:
    """A mapping whose `llm-pi-ai` holds a `providers` map."""
    if not isinstance(data, dict):
        return False
    adapter = data.get(ADAPTER)
    return isinstance(adapter, dict) and isinstance(adapter.get("providers"), dict)


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per model of each Ollama provider of the `llm-pi-ai` adapter."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "yaml")
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []
    for pid, prov, models in _pi_family.provider_models(doc, (ADAPTER, "providers")):
        url = to_str(prov.get("baseURL"))
        if pid != "ollama" and not is_ollama_url(url):
            continue
        launched = pid == "ollama" and prov.get("apiKeyEnv") == LAUNCH_API_KEY_ENV
        for i, m in _pi_family.model_entries(models):
            base: KeyPath = (ADAPTER, "providers", pid, "models", i)
            out.append(_binding(doc, base, m, url, launched, suppressed))
    return with_refs(out, doc)


def _binding(
    doc: Any, base: KeyPath, entry: dict, url: str | None, launched: bool, suppressed: frozenset
) -> AgentBinding:
    window: Sourced[int] | None = binding_value(doc, (*base, "contextWindow"), to_int)
    return _pi_family.binding(
        doc,
        base,
        agent=AGENT,
        api="openai",  # openai-completions on $OLLAMA_HOST/v1: no num_ctx
        url=url,
        window=window,
        max_tokens=binding_value(doc, (*base, "maxTokens"), to_int),
        suppressed=suppressed,
        pinned="ollama launch dsh keeps the model it launched and rewrites this file "
        "when they differ",
        launched=launched and window is not None,
    )
