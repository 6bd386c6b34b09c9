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

from ctxfix.facts import AgentBinding
from ctxfix.sources.agents import _pi_family

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
    return _pi_family.has_provider_keys(data, _OMP_KEYS)


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
    return _pi_family.read_pi_layout(
        path,
        text,
        "yaml",
        detect,
        agent=AGENT,
        title="Oh My Pi",
        window=DEFAULT_WINDOW,
        max_tokens=DEFAULT_MAX_TOKENS,
        pinned="`ollama launch omp` and `omp --model ollama/<id>` name this id too",
        launched=lambda pid, prov, entry: _launch_provider(str(pid), prov),
    )
