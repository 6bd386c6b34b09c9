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

Modules are imported lazily: `claimants()` answers from the FILES table, and
`module()` / `modules()` import on demand.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import PurePath
from types import ModuleType

# module -> (FILE_NAMES, PATH_GLOBS): the names each reader claims, so discovery
# can classify a file without importing 22 readers (~10 ms of a pre-commit hook,
# issue 15); a reader is imported only when a file it claims is found or when
# user-level configs are wanted. Each module's own FILE_NAMES / PATH_GLOBS stay
# the truth: tests/sources/test_agents_index.py requires this copy to equal them.
FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "openclaw": (("openclaw.json", "clawdbot.json", "moltbot.json", "moldbot.json"), ()),
    "continue_dev": (
        ("config.yaml", "config.json"),
        tuple(
            f".continue/{d}/*.{ext}"
            for d in ("models", "configs", "agents", "assistants")
            for ext in ("yaml", "yml")
        ),
    ),
    "aider": ((".aider.model.settings.yml", ".aider.model.metadata.json", ".aider.conf.yml"), ()),
    "opencode": (("opencode.json", "opencode.jsonc"), ()),
    "litellm": (("config.yaml", "litellm_config.yaml", "litellm.yaml", "proxy_config.yaml"), ()),
    "zed": (("settings.json",), ()),
    "codex": (("config.toml", "ollama-launch.config.toml"), ()),
    "openhands": (("config.toml",), ()),
    "goose": (("config.yaml",), ()),
    "qwen_code": (("settings.json",), ()),
    "crush": (("crush.json", ".crush.json", "crushrc", ".crushrc"), ()),
    "cline": (("globalState.json", "providers.json", "state.vscdb"), ()),
    "roo_code": (("roo-code-settings.json",), ()),
    "kilo_code": (("kilo-code-settings.json",), ()),
    "claude_code": (("settings.json", "settings.local.json"), ()),
    "pi": (("models.json",), ()),
    "kimi": (("config.toml",), ()),
    "hermes": (("config.yaml",), ()),
    "omp": (("models.yml",), ()),
    "dsh": (("settings.yaml",), ()),
    "droid": (("settings.json", "settings.local.json", "config.json"), ()),
    "open_webui": (("webui.db",), ()),
}
AGENT_MODULES: tuple[str, ...] = tuple(FILES)


def module(name: str) -> ModuleType | None:
    """The reader module NAME (a key of FILES); None if this install lacks it."""
    try:
        return importlib.import_module(f"ctxfix.sources.agents.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"ctxfix.sources.agents.{name}":
            raise
        return None


def modules() -> Iterator[ModuleType]:
    """Every agent module present, in a stable order."""
    for name in AGENT_MODULES:
        mod = module(name)
        if mod is not None:
            yield mod


def claimants(path: PurePath) -> list[str]:
    """Readers (keys of FILES, in order) that claim PATH by exact name or path-tail glob."""
    low = path.name.lower()
    return [
        name
        for name, (names, globs) in FILES.items()
        if path.name in names or any(_tail_may_match(low, g) and path.match(g) for g in globs)
    ]


def _tail_may_match(low_name: str, glob: str) -> bool:
    """A cheap necessary condition for `path.match(glob)`: a `*.yaml` tail needs a name
    ending in `.yaml` (compared in lower case, so also where matching ignores case).
    pathlib compiles an fnmatch regex per glob: ~2 ms of a pre-commit run (issue 15)."""
    last = glob.rsplit("/", 1)[-1].lower()
    if last.startswith("*") and not any(c in last[1:] for c in "*?["):
        return low_name.endswith(last[1:])
    return True
