"""Pi coding agent (`~/.pi/agent/models.json`), including what `ollama launch pi` writes.

Why: Pi reaches Ollama as a custom provider on the OpenAI-compatible `/v1`
API, which cannot set num_ctx, and plans with each model's `contextWindow`.
`ollama launch pi` (github:ollama/ollama `cmd/launch/pi.go`, `createConfig`)
writes that window from `/api/tags` `details.context_length`
(`cmd/launch/model_inventory.go launchModelFromListResponse`): the model's
native context, not what the server serves. On a small GPU it writes 262,144
where Ollama serves 4,096, and every prompt past 4,096 is truncated (CTX201).

Format (verified in badlogic/pi-mono `packages/coding-agent/docs/models.md`,
`src/core/model-registry.ts`, `src/config.ts`):

- Directory: `$PI_CODING_AGENT_DIR`, else `~/.pi/agent` (all platforms;
  `config.ts getAgentDir`). `models.json`, parsed with `JSON.parse`.
- `providers.<name>`: `baseUrl`, `api` ("openai-completions",
  "openai-responses", "anthropic-messages", ...), `apiKey`, `models[]`:
  `{id, name, api, baseUrl, reasoning, input, contextWindow, maxTokens, cost}`;
  a model's `api`/`baseUrl` override the provider's.
- Unset `contextWindow`: 128,000; unset `maxTokens`: 16,384
  (`model-registry.ts parseModels`). No request timeout key exists.
- `ollama launch pi` writes `providers.ollama` (`baseUrl` `$OLLAMA_HOST/v1`,
  `api` "openai-completions", `apiKey` "ollama") and marks its entries with
  `"_launch": true`; it keeps a marked entry that is still selected as it is,
  so a corrected window survives the next launch. It also writes
  `settings.json` `defaultProvider`/`defaultModel`.

A binding per model of every provider named "ollama" or whose base URL is on
port 11434. The model id is pinned: `settings.json` `defaultModel` (another
file) and `pi --model` name it too, so renaming it here would break them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding
from ctxfix.sources.agents import _pi_family

AGENT = "pi"
FILE_NAMES: tuple[str, ...] = ("models.json",)

DEFAULT_WINDOW = 128_000
DEFAULT_MAX_TOKENS = 16_384
LAUNCH_MARKER = "_launch"
_PI_KEYS = frozenset({"baseUrl", "api", "apiKey", "modelOverrides", "authHeader", "compat"})


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$PI_CODING_AGENT_DIR/models.json`, else `~/.pi/agent/models.json`."""
    agent_dir = env.get("PI_CODING_AGENT_DIR")
    base = Path(agent_dir).expanduser() if agent_dir else home / ".pi" / "agent"
    return [base / "models.json"]


def detect(path: Path, data: Any) -> bool:
    """A `providers` map whose entries use Pi's camelCase keys (`baseUrl`, `api`, ...)."""
    return _pi_family.has_provider_keys(data, _PI_KEYS)


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per model of each Ollama provider."""
    return _pi_family.read_pi_layout(
        path,
        text,
        "json",
        detect,
        agent=AGENT,
        title="Pi",
        window=DEFAULT_WINDOW,
        max_tokens=DEFAULT_MAX_TOKENS,
        pinned="Pi's settings.json defaultModel and `pi --model` name this id too",
        launched=lambda pid, prov, entry: entry.get(LAUNCH_MARKER) is True,
    )
