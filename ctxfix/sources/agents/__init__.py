"""Agent config readers: one module per agent format.

Each module defines:

    AGENT: str                      # "openclaw"
    FILE_NAMES: tuple[str, ...]     # project-level names to look for in scanned paths
    def user_paths(env: Mapping[str, str], home: Path) -> list[Path]
        # user-level config files (may not exist), honouring the agent's env vars
    def detect(path: Path, data: Any) -> bool
        # content check: is this parsed document really this agent's config?
        # (a config.yaml that is not LiteLLM's must not produce findings)
    def read(path: Path, text: str | None = None) -> list[AgentBinding]
        # parse and return bindings; CtxfixError("path:line:col", reason) on
        # malformed input; [] when detect() says it is another tool's file.
    def merge(bindings, files, env, home) -> list[AgentBinding]   # optional
        # after every file is read: an agent that merges its files (Crush)
        # drops what a later file overrides; `files` are that agent's files found.

Modules are imported lazily by `modules()`; discovery asks each one.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

AGENT_MODULES: tuple[str, ...] = (
    "openclaw",
    "continue_dev",
    "aider",
    "opencode",
    "litellm",
    "zed",
    "codex",
    "openhands",
    "goose",
    "qwen_code",
    "crush",
    "cline",
    "roo_code",
    "kilo_code",
    "claude_code",
    "pi",
    "kimi",
    "hermes",
    "omp",
    "dsh",
    "droid",
    "open_webui",
)


def modules() -> Iterator[ModuleType]:
    """Every agent module present, in a stable order."""
    for name in AGENT_MODULES:
        try:
            yield importlib.import_module(f"ctxfix.sources.agents.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ctxfix.sources.agents.{name}":
                raise
