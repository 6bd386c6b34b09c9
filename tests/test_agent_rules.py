"""Every agent x every agent rule that can fire on it: the real CLI against the Ollama double.

Why: issue 4 is done when "every agent has fixtures and tests for each rule
that can fire on it". Each case below runs `python -m ctxfix scan <config>
--host <double> --no-user --no-store --isolated --format json --prefill-tps 400`
and checks the finding a user would see (code, agent, model, the numbers in
`data`, the file and line it points at), then runs the same config with the
fix applied and checks the rule is silent for that binding. Configs are the
committed fixtures when they already exercise the rule, else copies in tmp
dirs with small textual edits (`fire`); the fix is an edit on top (`fix`).
One double serves one store for the module; one CLI run per agent scans all
of that agent's cases at once (findings are told apart by file).

The store (served by the double, Ollama 0.12.3, default num_ctx 4096):
  qwen3-coder:30b         native 262,144, no num_ctx  -> serves 4,096
  qwen3-coder:30b-v-128k  native 262,144, num_ctx 131,072
  qwen3-coder:30b-262k    native 262,144, num_ctx 262,144
  qwen3.5:9b              native 262,144, no num_ctx
  devstral:24b            native 131,072, no num_ctx  -> serves 4,096
  devstral:latest, llama3.3:70b, gpt-oss:20b, gemma3:27b
                          native 131,072, num_ctx 131,072
  llama3.1:8b, deepseek-r1:7b  native 131,072, no num_ctx
  qwen2.5-coder:32b       native 32,768, num_ctx 32,768
  qwen2.5-coder:7b        native 32,768, no num_ctx

Which rule can fire on which agent (from each reader in ctxfix/sources/agents
and the upstream facts in its docstring):

  agent      CTX201 CTX202 CTX203 CTX204 CTX301
  openclaw   yes    yes    yes    yes    yes
  continue   yes    yes    yes    no     yes
  aider      yes    yes    yes    no     yes
  litellm    yes    yes    yes    yes    yes
  opencode   yes    yes    yes    yes    yes
  zed        yes    yes    yes    no     no
  codex      yes    yes    yes    no     yes
  openhands  yes    yes    yes    yes    yes
  goose      yes    yes    yes    yes    yes
  qwen-code  yes    yes    yes    no     yes
  crush      yes    yes    yes    no     no
  cline      yes    yes    yes    no     yes
  roo-code   yes    no     yes    no     no
  kilo-code  yes    no     yes    no     no
  claude-code yes   yes    yes    no     yes
  pi         yes    yes    yes    no     no
  kimi       yes    yes    yes    no     no
  hermes     yes    yes    yes    yes    yes
  omp        yes    yes    yes    no     no
  dsh        yes    yes    yes    no     no
  droid      no     no     yes    no     no
  open-webui no     yes    yes    no     no

  CTX201/CTX202/CTX203 can fire on every agent: each declares a window (or
  has a documented default one) and names a model. Where the agent sends its
  window as num_ctx on the native API (Continue's ollama provider, Zed,
  OpenClaw contextTokens), CTX201 fires only when the window exceeds the
  native context (Ollama >= 0.9.3 clamps the request).
  CTX204 (num_ctx on /v1) cannot fire on:
    continue  - the ollama provider always uses /api/chat; the openai provider
                sends no num_ctx (there is no key for it).
    aider     - `ollama/` and `ollama_chat/` are both native (/api/generate,
                /api/chat); other prefixes are not Ollama bindings.
    zed       - the Ollama provider always posts to /api/chat.
    codex     - /v1 only, and no config key sends num_ctx.
    qwen-code - /v1 only, and no num_ctx key is read.
    crush     - /v1 only, and no num_ctx key exists.
    cline     - always /api/chat (a /v1 base URL is cut back to the root).
    roo-code, kilo-code - always /api/chat (the ollama npm client).
    claude-code - Ollama's Anthropic /v1/messages maps nothing to num_ctx.
    pi        - /v1 (or /v1/messages) only, and no num_ctx key exists.
    kimi      - /v1 (or /v1/messages) only, and no num_ctx key exists.
    omp, dsh  - /v1 only (what `ollama launch` writes), and no num_ctx key exists.
    droid     - /v1 only, and no num_ctx key exists.
  CTX301 (timeout < prefill) cannot fire on:
    zed       - no request timeout setting for Ollama is documented.
    crush     - ProviderConfig has no timeout key.
    roo-code, kilo-code - no timeout is passed to the Ollama client.
  CTX202 (window below native) cannot fire on roo-code, kilo-code: they plan with
  the native context from /api/show; a low ollamaNumCtx is CTX201 (window > served).
    pi        - models.json has no timeout key.
    kimi      - LLMProvider has no timeout key.
    omp, dsh  - models.yml / settings.yaml have no timeout key.
  CTX201/CTX202 cannot fire on droid: customModels has no window key (nor a timeout).
  (qwen-code fires only with generationConfig.timeout set: no default is known.)
  open-webui (webui.db, a SQLite database built from fixtures' webui.sql; findings
  point at `model[<id>].params.num_ctx`, no line) plans no window of its own: CTX201
  cannot fire; it sends params.num_ctx as options.num_ctx on /api/chat (CTX202 via
  num_ctx, never CTX204) and has no timeout setting in the database (no CTX301).
  `test_rules_that_cannot_fire` checks these shapes on every binding scanned.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_run import run_ctxfix
from ollama_fixtures import LLAMA31_8B, QWEN3_CODER_30B, QWEN25_CODER_32B, Arch, add_model
from ollama_server import OllamaDouble

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
PREFILL_TPS = 400

STORE: dict[str, tuple[Arch, int | None]] = {
    "qwen3-coder:30b": (QWEN3_CODER_30B, None),
    "qwen3-coder:30b-v-128k": (QWEN3_CODER_30B, 131072),
    "qwen3-coder:30b-262k": (QWEN3_CODER_30B, 262144),
    "qwen3.5:9b": (QWEN3_CODER_30B, None),
    "devstral:24b": (LLAMA31_8B, None),
    "devstral:latest": (LLAMA31_8B, 131072),
    "llama3.3:70b": (LLAMA31_8B, 131072),
    "gpt-oss:20b": (LLAMA31_8B, 131072),
    "gemma3:27b": (LLAMA31_8B, 131072),
    "llama3.1:8b": (LLAMA31_8B, None),
    "deepseek-r1:7b": (LLAMA31_8B, None),
    "qwen2.5-coder:32b": (QWEN25_CODER_32B, 32768),
    "qwen2.5-coder:7b": (QWEN25_CODER_32B, None),
}

SEVERITY = {
    "CTX201": "error",
    "CTX202": "warning",
    "CTX203": "error",
    "CTX204": "warning",
    "CTX301": "warning",
}

# (agent, code) pairs that cannot fire, and the binding shape that proves it.
CANNOT_FIRE: dict[str, tuple[str, ...]] = {
    "continue": ("CTX204",),
    "aider": ("CTX204",),
    "zed": ("CTX204", "CTX301"),
    "codex": ("CTX204",),
    "qwen-code": ("CTX204",),
    "crush": ("CTX204", "CTX301"),
    "cline": ("CTX204",),
    "roo-code": ("CTX202", "CTX204", "CTX301"),
    "kilo-code": ("CTX202", "CTX204", "CTX301"),
    "claude-code": ("CTX204",),
    "pi": ("CTX204", "CTX301"),
    "kimi": ("CTX204", "CTX301"),
    "omp": ("CTX204", "CTX301"),
    "dsh": ("CTX204", "CTX301"),
    "droid": ("CTX201", "CTX202", "CTX204", "CTX301"),
    "open-webui": ("CTX201", "CTX204", "CTX301"),
}

Subs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Case:
    """One (agent, rule) pair: a config that fires, the finding, and the fix."""

    agent: str
    code: str
    files: tuple[str, ...]  # under fixtures/; the agent's sibling files (Aider) too
    model: str  # the model the finding names
    anchor: str  # regex matching the one line the finding points at
    data: Mapping[str, Any]  # expected subset of finding["data"]
    fire: Subs = ()  # edits making the committed fixture fire (none: it fires as is)
    fix: Subs = ()  # edits on top of the firing config that fix it
    fixed_model: str | None = None  # the model the fixed config uses, when the fix renames it

    @property
    def id(self) -> str:
        return f"{self.agent}-{self.code}"


def prefill(window: int, timeout: float) -> dict[str, Any]:
    """The CTX301 numbers for a window at PREFILL_TPS against a timeout."""
    import math

    need = window / PREFILL_TPS
    return {
        "window": window,
        "prefill_tps": float(PREFILL_TPS),
        "prefill_source": "settings",
        "prefill_s": round(need, 1),
        "timeout_s": timeout,
        "target_timeout_s": math.ceil(need * 1.25),
    }


OPENCLAW = ("configs/openclaw/openclaw.json",)
CONTINUE = ("configs/continue/config.yaml",)
AIDER = (
    "configs/aider/.aider.model.settings.yml",
    "configs/aider/.aider.model.metadata.json",
    "configs/aider/.aider.conf.yml",
)
LITELLM = ("configs/litellm/config.yaml",)
OPENCODE = ("configs/opencode/opencode.jsonc",)
ZED = ("configs/zed/settings.json",)
CODEX = ("configs/codex/config.toml",)
OPENHANDS = ("configs/openhands/config.toml",)
OPENHANDS_KWARGS = ("configs/openhands/kwargs/config.toml",)
GOOSE = ("configs/goose/config.yaml",)
QWEN = ("configs/qwen-code/settings.json",)
CRUSH = ("configs/crush/crush.json",)
CLINE = ("configs/cline/globalState.json",)
CLINE_SDK = ("configs/cline/sdk/settings/providers.json",)
ROO = ("configs/roo-code/roo-code-settings.json",)
KILO = ("configs/kilo-code/kilo-code-settings.json",)
CLAUDE = ("configs/claude-code/.claude/settings.json",)
CLAUDE_LOCAL = ("configs/claude-code/project/.claude/settings.local.json",)
PI = ("configs/pi/.pi/agent/models.json",)
KIMI = ("configs/kimi/.kimi/config.toml",)
HERMES = ("configs/hermes/.hermes/config.yaml",)
OMP = ("configs/omp/.omp/agent/models.yml",)
DSH = ("configs/dsh/.ollama/launch/dsh/settings.yaml",)
DROID = ("configs/droid/.factory/settings.json",)
OPEN_WEBUI = ("configs/open-webui/webui.sql",)  # built into webui.db by `materialize`

CASES: tuple[Case, ...] = (
    # ---------------------------------------------------------------- OpenClaw (JSON5)
    Case(  # native API, contextWindow only: no num_ctx sent, the model serves 4,096
        "openclaw",
        "CTX201",
        OPENCLAW,
        "devstral:24b",
        r"^\s+contextWindow: 131072,$",
        {"current": 131072, "served": 4096, "native": 131072, "target": 4096},
        fix=(
            (
                "contextWindow: 131072,\n          },",
                "contextWindow: 131072,\n            params: { num_ctx: 131072 },\n          },",
            ),
        ),
    ),
    Case(  # contextTokens 32,768 (also sent as num_ctx) on a 262,144 model
        "openclaw",
        "CTX202",
        OPENCLAW,
        "qwen3.5:9b",
        r"contextTokens: 32768,",
        {"current": 32768, "native": 262144, "served": 32768, "target": 262144},
        fix=(
            ("contextTokens: 32768,", "contextTokens: 262144,"),
            ("num_ctx: 32768,", "num_ctx: 262144,"),
        ),
    ),
    Case(
        "openclaw",
        "CTX203",
        OPENCLAW,
        "devstral:24b-2505",
        r'model: "ollama/devstral:24b-2505"',
        {"suggestions": ["devstral:24b"]},
        fire=(('model: "ollama/devstral:24b"', 'model: "ollama/devstral:24b-2505"'),),
        fix=(('model: "ollama/devstral:24b-2505"', 'model: "ollama/devstral:24b"'),),
        fixed_model="devstral:24b",
    ),
    Case(  # openai-completions injects contextWindow as num_ctx, which /v1 ignores
        "openclaw",
        "CTX204",
        OPENCLAW,
        "llama3.3:70b",
        r'id: "llama3.3:70b"',
        {"num_ctx": 131072, "served": 131072},
        fix=(
            ('baseUrl: "http://gpu-box.local:11434/v1",', 'baseUrl: "http://gpu-box.local:11434",'),
            ('api: "openai-completions",', 'api: "ollama",'),
        ),
    ),
    Case(  # the motivating case: 131,072 tokens at 400 tok/s = 328 s > 300 s
        "openclaw",
        "CTX301",
        ("demo/openclaw.json",),
        "qwen3-coder:30b-v-128k",
        r"timeoutSeconds: 300,",
        prefill(131072, 300.0),
        fix=(("timeoutSeconds: 300,", "timeoutSeconds: 410,"),),
    ),
    # ---------------------------------------------------------------- Continue (YAML)
    Case(  # the openai provider on Ollama's /v1 sends no num_ctx: the model serves 4,096
        "continue",
        "CTX201",
        CONTINUE,
        "llama3.1:8b",
        r"contextLength: 131072",
        {"current": 131072, "served": 4096, "native": 131072, "target": 4096},
        fire=(("model: llama3.3:70b", "model: llama3.1:8b"),),
        fix=(
            (
                "provider: openai\n    model: llama3.1:8b\n    apiBase: http://gpu-box.local:11434/v1",
                "provider: ollama\n    model: llama3.1:8b\n    apiBase: http://gpu-box.local:11434",
            ),
        ),
    ),
    Case(
        "continue",
        "CTX202",
        CONTINUE,
        "qwen3-coder:30b",
        r"contextLength: 32768",
        {"current": 32768, "native": 262144, "served": 32768, "target": 262144},
        fix=(("contextLength: 32768", "contextLength: 262144"),),
    ),
    Case(
        "continue",
        "CTX203",
        CONTINUE,
        "qwen2.5-coder:1.5b-base",
        r"model: qwen2.5-coder:1.5b-base",
        {"suggestions": ["qwen2.5-coder:7b", "qwen2.5-coder:32b", "qwen3-coder:30b"]},
        fix=(("model: qwen2.5-coder:1.5b-base", "model: qwen2.5-coder:7b"),),
        fixed_model="qwen2.5-coder:7b",
    ),
    Case(  # the timeout comes through the YAML anchor (&ollama_defaults)
        "continue",
        "CTX301",
        CONTINUE,
        "qwen3-coder:30b",
        r"^\s+timeout: 300$",
        prefill(262144, 300.0),
        fire=(("contextLength: 32768", "contextLength: 262144"),),
        fix=(("timeout: 300", "timeout: 900"),),
    ),
    # ---------------------------------------------------------------- Aider (3 files)
    Case(  # aider/extra_params caps every model at num_ctx 16,384
        "aider",
        "CTX201",
        AIDER,
        "devstral:24b",
        r'"max_input_tokens": 131072',
        {"current": 131072, "served": 16384, "native": 131072, "target": 16384},
        # without a num_ctx Aider sizes it to each prompt: the model serves native
        fix=(("- name: aider/extra_params\n  extra_params:\n    num_ctx: 16384\n\n", ""),),
    ),
    Case(
        "aider",
        "CTX202",
        AIDER,
        "devstral:24b",
        r'"max_input_tokens": 65536',
        {"current": 65536, "native": 131072},
        fire=(('"max_input_tokens": 131072', '"max_input_tokens": 65536'),),
        fix=(('"max_input_tokens": 65536', '"max_input_tokens": 131072'),),
    ),
    Case(
        "aider",
        "CTX203",
        AIDER,
        "llama3.2:3b",
        r"^weak-model: ollama/llama3.2:3b$",
        {"suggestions": ["llama3.1:8b", "llama3.3:70b"]},
        fix=(("weak-model: ollama/llama3.2:3b", "weak-model: ollama/llama3.1:8b"),),
        fixed_model="llama3.1:8b",
    ),
    Case(  # without its own extra_params.timeout the model falls back to .aider.conf.yml
        "aider",
        "CTX301",
        AIDER,
        "qwen3-coder:30b",
        r"^timeout: 300$",
        prefill(131072, 300.0),
        fire=(("    timeout: 900\n", ""),),
        fix=(("timeout: 300", "timeout: 410"),),
    ),
    # ---------------------------------------------------------------- LiteLLM (YAML)
    Case(  # advertises 262,144 to clients, sends num_ctx 65,536
        "litellm",
        "CTX201",
        LITELLM,
        "qwen3-coder:30b",
        r"max_input_tokens: 262144",
        {"current": 262144, "served": 65536, "native": 262144, "target": 65536},
        fix=(("num_ctx: 65536", "num_ctx: 262144"),),
    ),
    Case(
        "litellm",
        "CTX202",
        LITELLM,
        "qwen3-coder:30b",
        r"max_input_tokens: 65536",
        {"current": 65536, "native": 262144, "served": 65536, "target": 262144},
        fire=(("max_input_tokens: 262144", "max_input_tokens: 65536"),),
        fix=(
            ("num_ctx: 65536", "num_ctx: 262144"),
            ("max_input_tokens: 65536", "max_input_tokens: 262144"),
        ),
    ),
    Case(
        "litellm",
        "CTX203",
        LITELLM,
        "llama3.1:8b-instruct",
        r"model: ollama/llama3.1:8b-instruct",
        {"suggestions": ["llama3.1:8b"]},
        fire=(("model: ollama/llama3.1:8b", "model: ollama/llama3.1:8b-instruct"),),
        fix=(("model: ollama/llama3.1:8b-instruct", "model: ollama/llama3.1:8b"),),
        fixed_model="llama3.1:8b",
    ),
    Case(  # the committed fixture silences this one inline; without the comment it fires
        "litellm",
        "CTX204",
        LITELLM,
        "llama3.3:70b",
        r"^\s+num_ctx: 131072$",
        {"num_ctx": 131072, "served": 131072},
        fire=(("num_ctx: 131072   # ctxfix: ignore[CTX204]", "num_ctx: 131072"),),
        fix=(
            ("model: openai/llama3.3:70b", "model: ollama_chat/llama3.3:70b"),
            ("api_base: http://gpu-box.local:11434/v1", "api_base: http://gpu-box.local:11434"),
        ),
    ),
    Case(  # the timeout comes from the YAML anchor merged into litellm_params
        "litellm",
        "CTX301",
        LITELLM,
        "qwen3-coder:30b",
        r"timeout: 300 ",
        prefill(262144, 300.0),
        fire=(("num_ctx: 65536", "num_ctx: 262144"),),
        fix=(("timeout: 300 ", "timeout: 900 "),),
    ),
    # ---------------------------------------------------------------- opencode (JSONC)
    Case(
        "opencode",
        "CTX201",
        OPENCODE,
        "qwen3-coder:30b",
        r'"limit": \{ "context": 262144',
        {"current": 262144, "served": 4096, "native": 262144, "target": 4096},
        fix=(
            ('"ollama/qwen3-coder:30b"', '"ollama/qwen3-coder:30b-262k"'),
            ('"qwen3-coder:30b": {', '"qwen3-coder:30b-262k": {'),
        ),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(
        "opencode",
        "CTX202",
        OPENCODE,
        "qwen3-coder:30b",
        r'"limit": \{ "context": 131072',
        {"current": 131072, "native": 262144},
        fire=(('"limit": { "context": 262144', '"limit": { "context": 131072'),),
        fix=(('"limit": { "context": 131072', '"limit": { "context": 262144'),),
    ),
    Case(
        "opencode",
        "CTX203",
        OPENCODE,
        "qwen2.5-coder:7b-instruct",
        r'"small_model": "ollama/qwen2.5-coder:7b-instruct"',
        {"suggestions": ["qwen2.5-coder:7b", "qwen2.5-coder:32b", "qwen3-coder:30b"]},
        fire=(('"ollama/qwen2.5-coder:7b"', '"ollama/qwen2.5-coder:7b-instruct"'),),
        fix=(('"ollama/qwen2.5-coder:7b-instruct"', '"ollama/qwen2.5-coder:7b"'),),
        fixed_model="qwen2.5-coder:7b",
    ),
    Case(  # models.<id>.options.num_ctx through @ai-sdk/openai-compatible on /v1
        "opencode",
        "CTX204",
        OPENCODE,
        "qwen3-coder:30b",
        r'"options": \{ "num_ctx": 262144 \}',
        {"num_ctx": 262144, "served": 4096},
        fix=(('          "options": { "num_ctx": 262144 }, // ignored by /v1\n', ""),),
    ),
    Case(  # ms; `timeout` 600000 allows 600 s, but the unset `headerTimeout` (300000 ms,
        # provider.ts `timeoutFetch`) ends the wait for the first token first; an unset
        # bound is reported at the model reference
        "opencode",
        "CTX301",
        OPENCODE,
        "qwen3-coder:30b-262k",
        r'  "model": "ollama/qwen3-coder:30b-262k"',
        prefill(262144, 300.0),
        fire=(
            ('"ollama/qwen3-coder:30b"', '"ollama/qwen3-coder:30b-262k"'),
            ('"qwen3-coder:30b": {', '"qwen3-coder:30b-262k": {'),
        ),
        fix=(('"timeout": 600000', '"timeout": 900000, "headerTimeout": 900000'),),
    ),
    # ---------------------------------------------------------------- Zed (JSONC)
    Case(  # max_tokens is sent as num_ctx; Ollama clamps it to the native 262,144
        "zed",
        "CTX201",
        ZED,
        "qwen3-coder:30b",
        r'"max_tokens": 524288',
        {"current": 524288, "served": 262144, "native": 262144, "target": 262144},
        fire=(('"max_tokens": 32768', '"max_tokens": 524288'),),
        fix=(('"max_tokens": 524288', '"max_tokens": 262144'),),
    ),
    Case(
        "zed",
        "CTX202",
        ZED,
        "qwen3-coder:30b",
        r'"max_tokens": 32768',
        {"current": 32768, "native": 262144, "served": 32768, "target": 262144},
        fix=(('"max_tokens": 32768', '"max_tokens": 262144'),),
    ),
    Case(
        "zed",
        "CTX203",
        ZED,
        "gemma3:27b-it",
        r'"model": "gemma3:27b-it"',
        {"suggestions": ["gemma3:27b"]},
        fire=(('"model": "gemma3:27b"', '"model": "gemma3:27b-it"'),),
        fix=(('"model": "gemma3:27b-it"', '"model": "gemma3:27b"'),),
        fixed_model="gemma3:27b",
    ),
    # ---------------------------------------------------------------- Codex (TOML)
    Case(
        "codex",
        "CTX201",
        CODEX,
        "qwen3-coder:30b",
        r"^model_context_window = 32768$",
        {"current": 32768, "served": 4096, "native": 262144, "target": 4096},
        fix=(('model = "qwen3-coder:30b"\n', 'model = "qwen3-coder:30b-v-128k"\n'),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(  # profile "fast" inherits the root window
        "codex",
        "CTX202",
        CODEX,
        "gpt-oss:20b",
        r"^model_context_window = 32768$",
        {"current": 32768, "native": 131072, "served": 131072, "target": 131072},
        fix=(
            ('model = "gpt-oss:20b"\n', 'model = "gpt-oss:20b"\nmodel_context_window = 131072\n'),
        ),
    ),
    Case(
        "codex",
        "CTX203",
        CODEX,
        "gpt-oss:20b-mxfp4",
        r'^model = "gpt-oss:20b-mxfp4"$',
        {"suggestions": ["gpt-oss:20b"]},
        fire=(('model = "gpt-oss:20b"', 'model = "gpt-oss:20b-mxfp4"'),),
        fix=(('model = "gpt-oss:20b-mxfp4"', 'model = "gpt-oss:20b"'),),
        fixed_model="gpt-oss:20b",
    ),
    Case(  # stream_idle_timeout_ms 600_000 of the gpu-box provider, profile "big"
        "codex",
        "CTX301",
        CODEX,
        "qwen3-coder:30b-262k",
        r"^stream_idle_timeout_ms = 600_000$",
        prefill(262144, 600.0),
        fix=(("stream_idle_timeout_ms = 600_000", "stream_idle_timeout_ms = 900_000"),),
    ),
    # ---------------------------------------------------------------- OpenHands (TOML)
    Case(  # litellm's ollama/ sends no num_ctx: the model serves 4,096
        "openhands",
        "CTX201",
        OPENHANDS,
        "devstral:24b",
        r"^max_input_tokens = 32768$",
        {"current": 32768, "served": 4096, "native": 131072, "target": 4096},
        fix=(('model = "ollama/devstral:24b"', 'model = "ollama/devstral:latest"'),),
        fixed_model="devstral:latest",
    ),
    Case(
        "openhands",
        "CTX202",
        OPENHANDS,
        "devstral:24b",
        r"^max_input_tokens = 32768$",
        {"current": 32768, "native": 131072, "served": 4096, "target": 131072},
        fix=(
            ('model = "ollama/devstral:24b"', 'model = "ollama/devstral:latest"'),
            ("max_input_tokens = 32768", "max_input_tokens = 131072"),
        ),
        fixed_model="devstral:latest",
    ),
    Case(
        "openhands",
        "CTX203",
        OPENHANDS,
        "qwen2.5-coder:7b-base",
        r'^model = "ollama_chat/qwen2.5-coder:7b-base"$',
        {"suggestions": ["qwen2.5-coder:7b", "qwen2.5-coder:32b", "qwen3-coder:30b"]},
        fire=(('"ollama_chat/qwen2.5-coder:7b"', '"ollama_chat/qwen2.5-coder:7b-base"'),),
        fix=(('"ollama_chat/qwen2.5-coder:7b-base"', '"ollama_chat/qwen2.5-coder:7b"'),),
        fixed_model="qwen2.5-coder:7b",
    ),
    Case(
        "openhands",
        "CTX301",
        OPENHANDS,
        "qwen3-coder:30b-v-128k",
        r"^timeout = 300$",
        prefill(131072, 300.0),
        fire=(
            ('model = "ollama/devstral:24b"', 'model = "ollama/qwen3-coder:30b-v-128k"'),
            ("max_input_tokens = 32768", "max_input_tokens = 131072"),
        ),
        fix=(("timeout = 300\n", "timeout = 410\n"),),
    ),
    Case(  # completion_kwargs reach litellm; on openai/ + /v1 Ollama drops num_ctx
        "openhands",
        "CTX204",
        OPENHANDS_KWARGS,
        "llama3.3:70b",
        r"completion_kwargs = \{ num_ctx = 32768 \}",
        {"num_ctx": 32768, "served": 131072},
        # removing it would inherit [llm]'s num_ctx: an own empty table replaces it
        fix=(("completion_kwargs = { num_ctx = 32768 }", "completion_kwargs = {}"),),
    ),
    # ---------------------------------------------------------------- Goose (YAML)
    Case(
        "goose",
        "CTX201",
        GOOSE,
        "qwen3-coder:30b",
        r"^GOOSE_CONTEXT_LIMIT: 65536$",
        {"current": 65536, "served": 4096, "native": 262144, "target": 4096},
        fix=(("GOOSE_MODEL: qwen3-coder:30b", "GOOSE_MODEL: qwen3-coder:30b-v-128k"),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(
        "goose",
        "CTX202",
        GOOSE,
        "qwen3-coder:30b",
        r"^GOOSE_CONTEXT_LIMIT: 65536$",
        {"current": 65536, "native": 262144, "served": 4096, "target": 262144},
        fix=(
            ("GOOSE_MODEL: qwen3-coder:30b", "GOOSE_MODEL: qwen3-coder:30b-262k"),
            ("GOOSE_CONTEXT_LIMIT: 65536", "GOOSE_CONTEXT_LIMIT: 262144"),
        ),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(  # the example of CTX203's docstring: "-128k" for "-v-128k"
        "goose",
        "CTX203",
        GOOSE,
        "qwen3-coder:30b-128k",
        r"^GOOSE_MODEL: qwen3-coder:30b-128k$",
        {"suggestions": ["qwen3-coder:30b-v-128k", "qwen3-coder:30b-262k", "qwen3-coder:30b"]},
        fire=(("GOOSE_MODEL: qwen3-coder:30b", "GOOSE_MODEL: qwen3-coder:30b-128k"),),
        fix=(("GOOSE_MODEL: qwen3-coder:30b-128k", "GOOSE_MODEL: qwen3-coder:30b-v-128k"),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(  # Goose posts options.num_ctx to /v1/chat/completions, which has no options
        "goose",
        "CTX204",
        GOOSE,
        "qwen3-coder:30b",
        r"^GOOSE_INPUT_LIMIT: '32768'$",
        {"num_ctx": 32768, "served": 4096},
        fix=(("GOOSE_CONTEXT_LIMIT: 65536\n", ""), ("GOOSE_INPUT_LIMIT: '32768'\n", "")),
    ),
    Case(
        "goose",
        "CTX301",
        GOOSE,
        "qwen3-coder:30b-v-128k",
        r"^OLLAMA_TIMEOUT: 300$",
        prefill(131072, 300.0),
        fire=(
            ("GOOSE_MODEL: qwen3-coder:30b", "GOOSE_MODEL: qwen3-coder:30b-v-128k"),
            ("GOOSE_CONTEXT_LIMIT: 65536", "GOOSE_CONTEXT_LIMIT: 131072"),
        ),
        fix=(("OLLAMA_TIMEOUT: 300", "OLLAMA_TIMEOUT: 410"),),
    ),
    # ---------------------------------------------------------------- Qwen Code (JSONC)
    Case(
        "qwen-code",
        "CTX201",
        QWEN,
        "qwen3-coder:30b",
        r'"contextWindowSize": 32768',
        {"current": 32768, "served": 4096, "native": 262144, "target": 4096},
        fix=(('"id": "qwen3-coder:30b"', '"id": "qwen3-coder:30b-v-128k"'),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(
        "qwen-code",
        "CTX202",
        QWEN,
        "qwen3-coder:30b",
        r'"contextWindowSize": 32768',
        {"current": 32768, "native": 262144, "served": 4096, "target": 262144},
        fix=(
            ('"id": "qwen3-coder:30b"', '"id": "qwen3-coder:30b-262k"'),
            ('"contextWindowSize": 32768', '"contextWindowSize": 262144'),
        ),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(
        "qwen-code",
        "CTX203",
        QWEN,
        "gpt-oss:20b-cloud",
        r'"id": "gpt-oss:20b-cloud"',
        {"suggestions": ["gpt-oss:20b"]},
        fire=(('"id": "gpt-oss:20b"', '"id": "gpt-oss:20b-cloud"'),),
        fix=(('"id": "gpt-oss:20b-cloud"', '"id": "gpt-oss:20b"'),),
        fixed_model="gpt-oss:20b",
    ),
    Case(  # generationConfig.timeout is in milliseconds
        "qwen-code",
        "CTX301",
        QWEN,
        "qwen3-coder:30b-262k",
        r'"timeout": 300000',
        prefill(262144, 300.0),
        fire=(
            ('"id": "qwen3-coder:30b"', '"id": "qwen3-coder:30b-262k"'),
            ('"contextWindowSize": 32768', '"contextWindowSize": 262144'),
        ),
        fix=(('"timeout": 300000', '"timeout": 900000'),),
    ),
    # ---------------------------------------------------------------- Crush (JSON)
    Case(
        "crush",
        "CTX201",
        CRUSH,
        "devstral:24b",
        r'"context_window": 131072',
        {"current": 131072, "served": 4096, "native": 131072, "target": 4096},
        fix=(
            ('"id": "devstral:24b"', '"id": "devstral:latest"'),
            ('"model": "devstral:24b"', '"model": "devstral:latest"'),
        ),
        fixed_model="devstral:latest",
    ),
    Case(
        "crush",
        "CTX202",
        CRUSH,
        "qwen3-coder:30b",
        r'"context_window": 256000',
        {"current": 256000, "native": 262144, "served": 4096, "target": 262144},
        fix=(
            ('"id": "qwen3-coder:30b"', '"id": "qwen3-coder:30b-262k"'),
            ('"model": "qwen3-coder:30b"', '"model": "qwen3-coder:30b-262k"'),
            ('"context_window": 256000', '"context_window": 262144'),
        ),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(
        "crush",
        "CTX203",
        ("configs/crush/project/.crush.json",),
        "gpt-oss:120b",
        r'"id": "gpt-oss:120b"',
        {"suggestions": ["gpt-oss:20b"]},
        fix=(('"id": "gpt-oss:120b"', '"id": "gpt-oss:20b"'),),
        fixed_model="gpt-oss:20b",
    ),
    # ---------------------------------------------------------------- Claude Code (JSON env)
    Case(  # no window set: Claude Code assumes 200K, Ollama's Anthropic API sends no num_ctx
        "claude-code",
        "CTX201",
        CLAUDE,
        "qwen3-coder:30b",
        r'^  "env": \{$',
        {"current": 200000, "served": 4096, "native": 262144, "target": 4096},
        fix=tuple(
            (f'{k}": "qwen3-coder:30b"', f'{k}": "qwen3-coder:30b-262k"')
            for k in ("model", "OPUS_MODEL", "SONNET_MODEL", "HAIKU_MODEL", "SUBAGENT_MODEL")
        ),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(  # env values are strings
        "claude-code",
        "CTX202",
        CLAUDE_LOCAL,
        "llama3.3:70b",
        r'"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "32768"',
        {"current": 32768, "native": 131072, "served": 131072, "target": 131072},
        fire=(('_WINDOW": "200000"', '_WINDOW": "32768"'),),
        fix=(('_WINDOW": "32768"', '_WINDOW": "131072"'),),
    ),
    Case(
        "claude-code",
        "CTX203",
        CLAUDE,
        "qwen3-coder:30b-128k",
        r'"model": "qwen3-coder:30b-128k"',
        {"suggestions": ["qwen3-coder:30b-v-128k", "qwen3-coder:30b-262k", "qwen3-coder:30b"]},
        fire=(('"model": "qwen3-coder:30b"', '"model": "qwen3-coder:30b-128k"'),),
        fix=(('"model": "qwen3-coder:30b-128k"', '"model": "qwen3-coder:30b-v-128k"'),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(  # API_TIMEOUT_MS is in milliseconds
        "claude-code",
        "CTX301",
        CLAUDE_LOCAL,
        "llama3.3:70b",
        r'"API_TIMEOUT_MS": "300000"',
        prefill(131072, 300.0),
        fire=(('"API_TIMEOUT_MS": "600000"', '"API_TIMEOUT_MS": "300000"'),),
        fix=(('"API_TIMEOUT_MS": "300000"', '"API_TIMEOUT_MS": "410000"'),),
    ),
    # ---------------------------------------------------------------- Cline (JSON stores)
    Case(  # sent as num_ctx on /api/chat: over native only; Ollama clamps it to 131,072
        "cline",
        "CTX201",
        CLINE_SDK,
        "devstral:24b",
        r'"contextWindow": 262144',
        {"current": 262144, "served": 131072, "native": 131072, "target": 131072},
        fire=(('"contextWindow": 16384', '"contextWindow": 262144'),),
        fix=(('"contextWindow": 262144', '"contextWindow": 131072'),),
    ),
    Case(  # ollamaApiOptionsCtxNum is a string
        "cline",
        "CTX202",
        CLINE,
        "qwen3-coder:30b",
        r'"ollamaApiOptionsCtxNum": "32768"',
        {"current": 32768, "native": 262144, "served": 32768, "target": 262144},
        fix=(('"ollamaApiOptionsCtxNum": "32768"', '"ollamaApiOptionsCtxNum": "262144"'),),
    ),
    Case(
        "cline",
        "CTX203",
        CLINE,
        "qwen3-coder:30b-256k",
        r'"actModeOllamaModelId": "qwen3-coder:30b-256k"',
        {"suggestions": ["qwen3-coder:30b-262k", "qwen3-coder:30b-v-128k", "qwen3-coder:30b"]},
        fire=(('"qwen3-coder:30b"', '"qwen3-coder:30b-256k"'),),
        fix=(('"qwen3-coder:30b-256k"', '"qwen3-coder:30b-262k"'),),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(  # requestTimeoutMs is in milliseconds
        "cline",
        "CTX301",
        CLINE,
        "qwen3-coder:30b",
        r'"requestTimeoutMs": 30000',
        prefill(32768, 30.0),
        fix=(('"requestTimeoutMs": 30000', '"requestTimeoutMs": 110000'),),
    ),
    # ---------------------------------------------------------------- Pi (JSON)
    Case(  # `ollama launch pi` wrote the native 262,144 from /api/tags; Ollama serves 4,096
        "pi",
        "CTX201",
        PI,
        "qwen3-coder:30b",
        r'"contextWindow": 262144',
        {"current": 262144, "served": 4096, "native": 262144, "target": 4096},
        fix=(('"contextWindow": 262144', '"contextWindow": 4096'),),
    ),
    Case(
        "pi",
        "CTX202",
        PI,
        "gpt-oss:20b",
        r'"contextWindow": 32768',
        {"current": 32768, "native": 131072, "served": 131072, "target": 131072},
        fire=(('"contextWindow": 131072', '"contextWindow": 32768'),),
        fix=(('"contextWindow": 32768', '"contextWindow": 131072'),),
    ),
    Case(
        "pi",
        "CTX203",
        PI,
        "gpt-oss:20b-mxfp4",
        r'"id": "gpt-oss:20b-mxfp4"',
        {"suggestions": ["gpt-oss:20b"]},
        fire=(('"id": "gpt-oss:20b"', '"id": "gpt-oss:20b-mxfp4"'),),
        fix=(('"id": "gpt-oss:20b-mxfp4"', '"id": "gpt-oss:20b"'),),
        fixed_model="gpt-oss:20b",
    ),
    # ---------------------------------------------------------------- Kimi Code CLI (TOML)
    Case(
        "kimi",
        "CTX201",
        KIMI,
        "qwen3-coder:30b",
        r"^max_context_size = 262144  #",
        {"current": 262144, "served": 4096, "native": 262144, "target": 4096},
        fix=(('model = "qwen3-coder:30b"\n', 'model = "qwen3-coder:30b-262k"\n'),),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(
        "kimi",
        "CTX202",
        KIMI,
        "gpt-oss:20b",
        r"^max_context_size = 32768$",
        {"current": 32768, "native": 131072, "served": 131072, "target": 131072},
        fire=(("max_context_size = 131072", "max_context_size = 32768"),),
        fix=(("max_context_size = 32768", "max_context_size = 131072"),),
    ),
    Case(
        "kimi",
        "CTX203",
        KIMI,
        "gpt-oss:20b-mxfp4",
        r'^model = "gpt-oss:20b-mxfp4"$',
        {"suggestions": ["gpt-oss:20b"]},
        fire=(('model = "gpt-oss:20b"', 'model = "gpt-oss:20b-mxfp4"'),),
        fix=(('model = "gpt-oss:20b-mxfp4"', 'model = "gpt-oss:20b"'),),
        fixed_model="gpt-oss:20b",
    ),
    # ---------------------------------------------------------------- Hermes Agent (YAML)
    Case(  # its num_ctx rides in extra_body.options on /v1, which Ollama ignores
        "hermes",
        "CTX201",
        HERMES,
        "qwen3-coder:30b",
        r"^  context_length: 131072$",
        {"current": 131072, "served": 4096, "native": 262144, "target": 4096},
        fix=(('default: "qwen3-coder:30b"', 'default: "qwen3-coder:30b-v-128k"'),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(
        "hermes",
        "CTX202",
        HERMES,
        "qwen3-coder:30b",
        r"^  context_length: 32768$",
        {"current": 32768, "native": 262144, "served": 4096, "target": 262144},
        fire=(("context_length: 131072", "context_length: 32768"),),
        fix=(
            ('default: "qwen3-coder:30b"', 'default: "qwen3-coder:30b-262k"'),
            ("context_length: 32768", "context_length: 262144"),
            ("ollama_num_ctx: 131072", "ollama_num_ctx: 262144"),
        ),
        fixed_model="qwen3-coder:30b-262k",
    ),
    Case(
        "hermes",
        "CTX203",
        HERMES,
        "qwen3-coder:30b-128k",
        r'^  default: "qwen3-coder:30b-128k"$',
        {"suggestions": ["qwen3-coder:30b-v-128k", "qwen3-coder:30b-262k", "qwen3-coder:30b"]},
        fire=(('default: "qwen3-coder:30b"', 'default: "qwen3-coder:30b-128k"'),),
        fix=(('default: "qwen3-coder:30b-128k"', 'default: "qwen3-coder:30b-v-128k"'),),
        fixed_model="qwen3-coder:30b-v-128k",
    ),
    Case(
        "hermes",
        "CTX204",
        HERMES,
        "qwen3-coder:30b",
        r"^  ollama_num_ctx: 131072$",
        {"num_ctx": 131072, "served": 4096},
        fix=(("  ollama_num_ctx: 131072\n", ""),),
    ),
    Case(  # providers.<id>.request_timeout_seconds, in seconds
        "hermes",
        "CTX301",
        HERMES,
        "qwen3-coder:30b-v-128k",
        r"request_timeout_seconds: 300 ",
        prefill(131072, 300.0),
        fire=(('default: "qwen3-coder:30b"', 'default: "qwen3-coder:30b-v-128k"'),),
        fix=(("request_timeout_seconds: 300 ", "request_timeout_seconds: 410 "),),
    ),
    # ------------------------------------------------ Oh My Pi, DeepSeek Harness (YAML)
    Case(  # `ollama launch omp` wrote the native 262,144 from /api/tags; Ollama serves 4,096
        "omp",
        "CTX201",
        OMP,
        "qwen3-coder:30b",
        r"^\s+- contextWindow: 262144$",
        {"current": 262144, "served": 4096, "native": 262144, "target": 4096},
        fix=(("contextWindow: 262144", "contextWindow: 4096"),),
    ),
    Case(
        "omp",
        "CTX202",
        OMP,
        "gpt-oss:20b",
        r"^\s+- contextWindow: 32768$",
        {"current": 32768, "native": 131072, "served": 131072, "target": 131072},
        fire=(("contextWindow: 131072", "contextWindow: 32768"),),
        fix=(("- contextWindow: 32768", "- contextWindow: 131072"),),
    ),
    Case(
        "omp",
        "CTX203",
        OMP,
        "gpt-oss:20b-mxfp4",
        r"id: gpt-oss:20b-mxfp4$",
        {"suggestions": ["gpt-oss:20b"]},
        fire=(("id: gpt-oss:20b\n", "id: gpt-oss:20b-mxfp4\n"),),
        fix=(("id: gpt-oss:20b-mxfp4\n", "id: gpt-oss:20b\n"),),
        fixed_model="gpt-oss:20b",
    ),
    Case(  # `ollama launch dsh` wrote the native 262,144 from /api/tags; Ollama serves 4,096
        "dsh",
        "CTX201",
        DSH,
        "qwen3-coder:30b",
        r"^\s+- contextWindow: 262144$",
        {"current": 262144, "served": 4096, "native": 262144, "target": 4096},
        fix=(("contextWindow: 262144", "contextWindow: 4096"),),
    ),
    Case(
        "dsh",
        "CTX202",
        DSH,
        "gpt-oss:20b",
        r"^\s+- contextWindow: 32768$",
        {"current": 32768, "native": 131072, "served": 131072, "target": 131072},
        fire=(("contextWindow: 131072", "contextWindow: 32768"),),
        fix=(("- contextWindow: 32768", "- contextWindow: 131072"),),
    ),
    Case(
        "dsh",
        "CTX203",
        DSH,
        "gpt-oss:20b-mxfp4",
        r"id: gpt-oss:20b-mxfp4$",
        {"suggestions": ["gpt-oss:20b"]},
        fire=(("id: gpt-oss:20b\n", "id: gpt-oss:20b-mxfp4\n"),),
        fix=(("id: gpt-oss:20b-mxfp4\n", "id: gpt-oss:20b\n"),),
        fixed_model="gpt-oss:20b",
    ),
    Case(  # `ollama launch droid` entries: the model is all a rule can judge
        "droid",
        "CTX203",
        DROID,
        "gpt-oss:20b-mxfp4",
        r'"model": "gpt-oss:20b-mxfp4"',
        {"suggestions": ["gpt-oss:20b"]},
        fire=(('"model": "gpt-oss:20b"', '"model": "gpt-oss:20b-mxfp4"'),),
        fix=(('"model": "gpt-oss:20b-mxfp4"', '"model": "gpt-oss:20b"'),),
        fixed_model="gpt-oss:20b",
    ),
    # ---------------------------------------------------------------- Roo Code, Kilo Code (export)
    Case(  # plans with the native 262,144 while ollamaNumCtx 32,768 is served
        "roo-code",
        "CTX201",
        ROO,
        "qwen3-coder:30b",
        r'"ollamaNumCtx":32768',
        {"current": 262144, "served": 32768, "native": 262144},
        fix=(('"ollamaNumCtx":32768', '"ollamaNumCtx":262144'),),
    ),
    Case(
        "roo-code",
        "CTX203",
        ROO,
        "devstral:24b-2505",
        r'"ollamaModelId":"devstral:24b-2505"',
        {"suggestions": ["devstral:24b"]},
        fire=(('"devstral:24b"', '"devstral:24b-2505"'),),
        fix=(('"devstral:24b-2505"', '"devstral:24b"'),),
        fixed_model="devstral:24b",
    ),
    Case(
        "kilo-code",
        "CTX201",
        KILO,
        "llama3.1:8b",
        r'"ollamaNumCtx":8192',
        {"current": 131072, "served": 8192, "native": 131072},
        fix=(('"ollamaNumCtx":8192', '"ollamaNumCtx":131072'),),
    ),
    Case(
        "kilo-code",
        "CTX203",
        KILO,
        "llama3.1:8b-instruct",
        r'"ollamaModelId":"llama3.1:8b-instruct"',
        {"suggestions": ["llama3.1:8b"]},
        fire=(('"llama3.1:8b"', '"llama3.1:8b-instruct"'),),
        fix=(('"llama3.1:8b-instruct"', '"llama3.1:8b"'),),
        fixed_model="llama3.1:8b",
    ),
    # ---------------------------------------------------------------- Open WebUI (webui.db)
    Case(  # a workspace model's Advanced Params num_ctx 32,768 on a 262,144 model
        "open-webui",
        "CTX202",
        OPEN_WEBUI,
        "qwen3.5:9b",
        r"model\[coder\]\.params\.num_ctx",  # a database: matched against the location key
        {"cap": 32768, "native": 262144, "served": 32768, "target": 262144},
        fix=(('"num_ctx": 32768', '"num_ctx": 262144'),),
    ),
    Case(
        "open-webui",
        "CTX203",
        OPEN_WEBUI,
        "devstral:24b-2505",
        r"model\[devstral-agent\]",
        {"suggestions": ["devstral:24b"]},
        fire=(("'devstral:24b'", "'devstral:24b-2505'"),),
        fix=(("'devstral:24b-2505'", "'devstral:24b'"),),
        fixed_model="devstral:24b",
    ),
)

AGENTS = sorted({c.agent for c in CASES})
RULES = tuple(SEVERITY)


# --------------------------------------------------------------------------- helpers


def apply_subs(texts: dict[str, str], subs: Subs) -> None:
    """Apply each (old, new) to the one file where `old` occurs exactly once (in place).

    Exactly once across the case's files, so a change to a committed fixture
    breaks the case loudly instead of silently testing something else.
    """
    for old, new in subs:
        hits = [name for name, text in texts.items() if old in text]
        assert len(hits) == 1 and texts[hits[0]].count(old) == 1, f"{old!r} not unique: {hits}"
        texts[hits[0]] = texts[hits[0]].replace(old, new)


def anchor_line(paths: list[Path], pattern: str) -> tuple[str, int]:
    """(file, 1-based line) of the one line among `paths` that matches `pattern`."""
    hits = [
        (str(p), i)
        for p in paths
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert len(hits) == 1, f"{pattern!r} matches {hits}"
    return hits[0]


@dataclass
class Variant:
    paths: list[Path]  # the files of this variant, as passed to the CLI

    @property
    def names(self) -> set[str]:
        return {str(p) for p in self.paths}


# Remote Ollama hosts the committed fixtures name. ctxfix joins a binding to a
# remote host only with that host's own models (it never judges it by another
# server's model of the same name), and the tests may contact nothing but the
# loopback double; so the copies name this machine's default Ollama address,
# which joins the models of the local server under test (the double).
REMOTE_HOSTS = ("gpu-box.local:11434", "192.168.1.20:11434")
LOCAL_OLLAMA = "127.0.0.1:11434"


def _retarget(text: str, served_at: str) -> str:
    for remote in REMOTE_HOSTS if served_at else ():
        text = text.replace(remote, served_at)
    return text


def materialize(case: Case, variant: str, root: Path, served_at: str = "") -> Variant:
    """Copies of the case's fixture files in `root`, edited for the variant.

    `served_at` (host:port of the double) replaces the fixtures' remote hosts.
    """
    sources = [FIXTURES / f for f in case.files]
    subs = case.fire if variant == "fire" else (*case.fire, *case.fix)
    committed = {p.name: p.read_text(encoding="utf-8") for p in sources}
    texts = {name: _retarget(text, served_at) for name, text in committed.items()}
    if not subs and texts == committed and all(p.suffix != ".sql" for p in sources):
        return Variant(sources)
    apply_subs(texts, tuple((_retarget(a, served_at), _retarget(b, served_at)) for a, b in subs))
    d = root / f"{case.id}-{variant}"
    d.mkdir(parents=True)
    out = []
    for p in sources:
        if p.suffix == ".sql":  # a SQLite database (Open WebUI's webui.db) built from its text
            import sqlite3

            dest = d / "webui.db"
            con = sqlite3.connect(dest)
            con.executescript(texts[p.name])
            con.close()
            out.append(dest)
            continue
        dest = d / p.name
        dest.write_text(texts[p.name], encoding="utf-8")
        shutil.copymode(p, dest)
        out.append(dest)
    return Variant(out)


def scan(url: str, paths: list[Path], cwd: Path) -> dict[str, Any]:
    r = run_ctxfix(
        "scan",
        *dict.fromkeys(str(p) for p in paths),
        "--host",
        url,
        "--no-user",
        "--no-store",
        "--isolated",
        "--format",
        "json",
        "--prefill-tps",
        str(PREFILL_TPS),
        cwd=cwd,
        timeout=60,
    )
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return json.loads(r.stdout)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OllamaDouble]:
    """One double for the module over a store with every model the cases name."""
    store = tmp_path_factory.mktemp("agent-rules") / "models"
    for name, (arch, num_ctx) in STORE.items():
        add_model(store, name, arch, params={"num_ctx": num_ctx} if num_ctx else None)
    with OllamaDouble(store) as srv:
        yield srv


Scanned = tuple[dict[str, Any], dict[tuple[str, str], Variant]]


@pytest.fixture(scope="module")
def agent_scan(
    double: OllamaDouble, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Scanned]:
    """`agent_scan(agent)`: one CLI run over every case variant of that agent (cached)."""
    cache: dict[str, Scanned] = {}

    def get(agent: str) -> Scanned:
        if agent not in cache:
            root = tmp_path_factory.mktemp(f"configs-{agent}")
            served_at = LOCAL_OLLAMA
            variants = {
                (c.code, v): materialize(c, v, root, served_at)
                for c in CASES
                if c.agent == agent
                for v in ("fire", "fixed")
            }
            cwd = root / "cwd"
            cwd.mkdir()
            paths = [p for var in variants.values() for p in var.paths]
            cache[agent] = (scan(double.url, paths, cwd), variants)
        return cache[agent]

    return get


def findings(report: dict[str, Any], code: str, agent: str, model: str, files: set[str]):
    return [
        f
        for f in report["findings"]
        if f["code"] == code
        and f["agent"] == agent
        and f["model"] == model
        and f["location"]["file"] in files
    ]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_fires(case: Case, agent_scan: Callable[[str], Scanned]) -> None:
    report, variants = agent_scan(case.agent)
    fired = variants[(case.code, "fire")]
    (f,) = findings(report, case.code, case.agent, case.model, fired.names)
    expected = SEVERITY[case.code]
    if case.code == "CTX204" and f["data"]["num_ctx"] == f["data"]["served"]:
        expected = "info"  # ignored, but what is served is what the agent asks for
    assert f["severity"] == expected
    if fired.paths[0].suffix == ".db":  # a database has no lines: the anchor is the key
        assert (f["location"]["file"], f["location"]["line"]) == (str(fired.paths[0]), None)
        assert re.fullmatch(case.anchor, f["location"]["key"])
    else:
        loc = (f["location"]["file"], f["location"]["line"])
        assert loc == anchor_line(fired.paths, case.anchor)
    assert {k: f["data"][k] for k in case.data} == dict(case.data)
    assert f["data"].get("agent", case.agent) == case.agent
    if case.code == "CTX301":
        d = f["data"]
        assert f["message"].startswith(
            f"prefill of {d['window']:,} tokens at {PREFILL_TPS} tok/s takes "
            f"{d['prefill_s']:.0f} s > timeout {d['timeout_s']:g} s"
        )
    else:
        assert case.model in f["message"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_silent_when_fixed(case: Case, agent_scan: Callable[[str], Scanned]) -> None:
    report, variants = agent_scan(case.agent)
    fixed = variants[(case.code, "fixed")]
    model = case.fixed_model or case.model
    bound = [b for b in report["agents"] if b["file"] in fixed.names and b["model"] == model]
    assert bound, f"the fixed config must still bind {model}"  # silence is not vacuous
    assert findings(report, case.code, case.agent, model, fixed.names) == []


def test_every_rule_that_can_fire_has_a_case() -> None:
    """The matrix in the module docstring: a case per (agent, rule) unless it cannot fire."""
    from ctxfix.sources import agents

    assert {m.AGENT for m in agents.modules()} == set(AGENTS)
    have = {(c.agent, c.code) for c in CASES}
    want = {(a, r) for a in AGENTS for r in RULES if r not in CANNOT_FIRE.get(a, ())}
    assert have == want


@pytest.mark.parametrize("agent", sorted(CANNOT_FIRE))
def test_rules_that_cannot_fire(agent: str, agent_scan: Callable[[str], Scanned]) -> None:
    """Every binding read for the agent has the shape that keeps those rules silent."""
    report, _ = agent_scan(agent)
    bindings = [b for b in report["agents"] if b["agent"] == agent]
    assert bindings
    for code in CANNOT_FIRE[agent]:
        if code == "CTX204":
            assert all(b["api"] == "native" or b["num_ctx"] is None for b in bindings)
        if code == "CTX301":
            assert all(b["timeout_s"] is None for b in bindings)
        assert not [f for f in report["findings"] if f["code"] == code and f["agent"] == agent]
