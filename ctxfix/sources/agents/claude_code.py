"""Claude Code against Ollama's Anthropic-compatible API (`.claude/settings.json` `env`).

Why: Claude Code speaks only the Anthropic Messages API. Pointed at Ollama
(`ANTHROPIC_BASE_URL=http://localhost:11434`, as `ollama launch claude` and
Ollama's `docs/integrations/claude-code.mdx` do) it posts to `/v1/messages`,
and Ollama's translation (`anthropic/anthropic.go FromMessagesRequest`) maps
`max_tokens` to `num_predict` and temperature/top_p/top_k/stop, but nothing
to `num_ctx`: the served context is the model definition's or the server
default. Claude Code meanwhile plans and auto-compacts against the window it
assumes for a model it does not know, 200,000 tokens (ollama/ollama issue
15013: Claude Code assumed 200k while Ollama served 32,768), so prompts past
the served window are silently truncated (CTX201).

Format (verified in the Claude Code docs, code.claude.com/docs/en/settings and
/en/env-vars, and anthropics/claude-code `CHANGELOG.md`):

- Files, later overriding earlier: `~/.claude/settings.json` (or
  `$CLAUDE_CONFIG_DIR/settings.json`; on Windows `%USERPROFILE%\\.claude`),
  project `.claude/settings.json`, project-local `.claude/settings.local.json`;
  managed `managed-settings.json` above all (not read: users cannot edit it).
  Plain JSON.
- `env`: variables applied to every session, all string values:
  `ANTHROPIC_BASE_URL` (the API endpoint; only on an Ollama host is this an
  Ollama binding), `ANTHROPIC_MODEL`, `ANTHROPIC_DEFAULT_OPUS_MODEL`,
  `ANTHROPIC_DEFAULT_SONNET_MODEL`, `ANTHROPIC_DEFAULT_HAIKU_MODEL`,
  `ANTHROPIC_DEFAULT_MODEL` (CHANGELOG: sets the model new sessions start on),
  `CLAUDE_CODE_SUBAGENT_MODEL`, deprecated `ANTHROPIC_SMALL_FAST_MODEL`
  (`ollama launch claude` sets the three DEFAULT_* and SUBAGENT to the chosen
  model: `cmd/launch/claude.go modelEnvVars`);
  `CLAUDE_CODE_AUTO_COMPACT_WINDOW` ("the context capacity in tokens used for
  auto-compaction calculations. Defaults to the model's context window: 200K
  for standard models ... capped at the model's actual context window"; `ollama
  launch` sets it only for cloud models); `API_TIMEOUT_MS` (request timeout, ms).
- Top-level `model`: a model id or an alias (code.claude.com/docs/en/model-config,
  "Model aliases": `default`, `best`, `fable`, `sonnet`, `opus`, `haiku`,
  `sonnet[1m]`, `opus[1m]`, `opusplan`; CHANGELOG.md: `/model fable`); `opus`,
  `sonnet`, `haiku` and `opusplan` resolve through the DEFAULT_* variables
  above. An alias names no Ollama model, so it makes no binding (`[1m]` is
  accepted after any of them).
- An unset window: the assumed 200,000 (reported as a default, located at the
  `env` block); it is also the ceiling, so CTX202 (window below native) is not
  reported against it. An unset `API_TIMEOUT_MS`: no documented default is
  relied on, the timeout stays unset.

One binding per distinct Ollama model the file names, in a file whose `env`
sets `ANTHROPIC_BASE_URL` to an Ollama host (port 11434; a base URL set only
in the shell or in another file is not seen). Every `env` value must stay a
string, so ctxfix changes `CLAUDE_CODE_AUTO_COMPACT_WINDOW` / `API_TIMEOUT_MS`
only where the file writes them (apply keeps the quotes) and never inserts
them: it says what to set instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Location, Sourced, format_key_path
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    schema_names,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "claude-code"
# generic names (Zed and Qwen Code have a settings.json too): detect() checks the content
FILE_NAMES: tuple[str, ...] = ("settings.json", "settings.local.json")

ASSUMED_WINDOW = 200_000
WINDOW_ENV = "CLAUDE_CODE_AUTO_COMPACT_WINDOW"
TIMEOUT_ENV = "API_TIMEOUT_MS"

# Where a settings file names a model Claude Code sends, in the order it prefers them.
MODEL_PATHS: tuple[KeyPath, ...] = (
    ("env", "ANTHROPIC_MODEL"),
    ("model",),
    ("env", "ANTHROPIC_DEFAULT_MODEL"),
    ("env", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
    ("env", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
    ("env", "ANTHROPIC_DEFAULT_HAIKU_MODEL"),
    ("env", "CLAUDE_CODE_SUBAGENT_MODEL"),
    ("env", "ANTHROPIC_SMALL_FAST_MODEL"),
)
# model-config "Model aliases" (see the module docstring)
_ALIAS = re.compile(r"(?i)^(opus|sonnet|haiku|opusplan|default|best|fable)(\[1m\])?$")


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json` (all platforms)."""
    config_dir = env.get("CLAUDE_CONFIG_DIR")
    base = Path(config_dir).expanduser() if config_dir else home / ".claude"
    return [base / "settings.json"]


def detect(path: Path, data: Any) -> bool:
    """Claude Code settings: its schema URL, an `env` block with ANTHROPIC_*/CLAUDE_CODE_*
    variables, or any JSON object in a `.claude/` directory."""
    if not isinstance(data, dict):
        return False
    if schema_names(data, "claude-code-settings"):
        return True
    env = data.get("env")
    if isinstance(env, dict) and any(
        isinstance(k, str) and k.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) for k in env
    ):
        return True
    return path.parent.name == ".claude"


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per Ollama model named in a settings file whose base URL is Ollama's."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "json")
    if not detect(path, doc.data):
        return []
    env = doc.get(("env",))
    if env is None:
        return []
    if not isinstance(env, dict):
        raise CtxfixError(
            str(location(doc, ("env",))), "env must be an object of environment variables"
        )
    url = to_str(env.get("ANTHROPIC_BASE_URL"))
    if not is_ollama_url(url):
        return []
    suppressed = inline_ignores(doc.text)

    window_path: KeyPath = ("env", WINDOW_ENV)
    window = binding_value(doc, window_path, to_int)
    if window is None:
        pos = doc.locate_key(("env",))
        line, col = pos if pos is not None else (None, None)
        window = Sourced(
            ASSUMED_WINDOW,
            "default",
            Location(str(doc.path), line, col, key=format_key_path(window_path)),
            note=f"Claude Code assumes 200K for a model it does not know; {WINDOW_ENV} is unset",
        )
    timeout_path: KeyPath = ("env", TIMEOUT_ENV)
    ms = binding_value(doc, timeout_path, to_float)
    timeout = Sourced(ms.value / 1000.0, ms.source, ms.location) if ms else None

    edit_paths: dict[str, KeyPath] = {}
    if window.source == "agent":  # written as a string: apply keeps it one
        edit_paths["context_window"] = window_path
    else:
        # 200K is also the most Claude Code uses for a model it does not know (the
        # variable is "capped at the model's actual context window"): a model that
        # could serve more is not a window the user can raise (CTX202)
        suppressed = suppressed | {"CTX202"}
    if timeout is not None:
        edit_paths["timeout"] = timeout_path

    out: list[AgentBinding] = []
    seen: set[str] = set()
    for ref_path in MODEL_PATHS:
        raw = to_str(doc.get(ref_path))
        if raw is None or _ALIAS.match(raw.strip()):
            continue
        model = canonical(raw)
        if model in seen:
            continue
        seen.add(model)
        out.append(
            model_binding(
                doc,
                ref_path,
                agent=AGENT,
                suppressed=suppressed,
                edit_paths=edit_paths,
                api="anthropic",
                host=url,
                context_window=window,
                timeout_s=timeout,
                timeout_unit_s=0.001,
            )
        )
    return with_refs(out, doc)
