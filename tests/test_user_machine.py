"""`ctxfix scan` on a user's machine: user-level configs, default stores, process env, measuring.

Why: every other end-to-end test runs with `--no-user --no-store` so it gives
the same answer everywhere. A real user runs plain `ctxfix scan` in a
project: agent configs under $HOME (wherever each agent's env vars move
them), the store under $OLLAMA_MODELS, OLLAMA_CONTEXT_LENGTH in the shell,
and the memory of this very machine. Each test runs the real CLI in a
subprocess with HOME (and the agents' variables) pointed at a tmp home laid
out like a user's, against the loopback Ollama double — never a real server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import REPO, run_ctxfix
from ollama_fixtures import Arch, add_model, demo_store
from ollama_server import OllamaDouble

from ctxfix.discover import Targets
from ctxfix.facts import ServerInfo
from ctxfix.pipeline import _with_local_facts
from ctxfix.settings import Settings

CONFIGS = REPO / "fixtures" / "configs"

# Variables that move an agent's user-level config (or name a server or store):
# stripped from the test's environment so the developer's own setup never leaks in.
MOVERS = (
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "CODEX_HOME",
    "OPENCLAW_HOME",
    "OPENCLAW_CONFIG_PATH",
    "OPENCLAW_STATE_DIR",
    "CLAWDBOT_CONFIG_PATH",
    "CLAWDBOT_STATE_DIR",
    "CONTINUE_GLOBAL_DIR",
    "OPENCODE_CONFIG",
    "CONFIG_FILE_PATH",
    "APPDATA",
    "LOCALAPPDATA",
    "CLINE_DIR",
    "CLINE_DATA_DIR",
)

# (agent, where the agent reads it under $HOME, fixture in its real format, a model it binds)
USER_CONFIGS = (
    ("openclaw", ".openclaw/openclaw.json", "openclaw/openclaw.json", "qwen3.5:9b"),
    ("continue", ".continue/config.yaml", "continue/config.yaml", "qwen3-coder:30b"),
    ("aider", ".aider.model.settings.yml", "aider/.aider.model.settings.yml", "qwen3-coder:30b"),
    ("opencode", ".config/opencode/opencode.json", "opencode/opencode.json", "llama3.3:70b"),
    ("zed", ".config/zed/settings.json", "zed/settings.json", "deepseek-r1:7b"),
    ("codex", ".codex/config.toml", "codex/config.toml", "qwen3-coder:30b"),
    ("goose", ".config/goose/config.yaml", "goose/config.yaml", "qwen3-coder:30b"),
    ("qwen-code", ".qwen/settings.json", "qwen-code/settings.json", "gpt-oss:20b"),
    ("crush", ".config/crush/crush.json", "crush/crush.json", "devstral:24b"),
    ("cline", ".cline/data/globalState.json", "cline/globalState.json", "qwen3-coder:30b"),
    (
        "claude-code",
        ".claude/settings.json",
        "claude-code/.claude/settings.json",
        "qwen3-coder:30b",
    ),
    ("pi", ".pi/agent/models.json", "pi/.pi/agent/models.json", "qwen3-coder:30b"),
    ("kimi", ".kimi/config.toml", "kimi/.kimi/config.toml", "gpt-oss:20b"),
    ("hermes", ".hermes/config.yaml", "hermes/.hermes/config.yaml", "qwen3-coder:30b"),
    ("omp", ".omp/agent/models.yml", "omp/.omp/agent/models.yml", "qwen3-coder:30b"),
    (
        "dsh",
        ".ollama/launch/dsh/settings.yaml",
        "dsh/.ollama/launch/dsh/settings.yaml",
        "qwen3-coder:30b",
    ),
    ("droid", ".factory/settings.json", "droid/.factory/settings.json", "qwen3-coder:30b"),
)

# A model whose native window fits no machine (512 KiB of KV per token x 4M
# tokens = 2 TiB) while its served 4,096 fits any: CTX302 fires exactly when
# a memory budget is known.
HUGE = Arch("llama", 4_194_304, 128, 8192, 64, 8, 128, 128)


# --------------------------------------------------------------------------- helpers


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment as a user's shell would have it, with HOME moved."""
    env = {k: v for k, v in os.environ.items() if k not in MOVERS and not k.startswith("OLLAMA_")}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def scan(
    cwd: Path, env: dict[str, str], *args: str, timeout: float = 60
) -> tuple[subprocess.CompletedProcess[str], dict]:
    """`ctxfix scan --format json ARGS` in cwd; the parsed report and the process."""
    r = run_ctxfix("scan", "--format", "json", *args, cwd=cwd, env=env, timeout=timeout)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return r, json.loads(r.stdout)


def put(home: Path, rel: str, fixture: str) -> Path:
    dest = home / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIGS / fixture, dest)
    return dest


def agent_files(report: dict) -> set[tuple[str, str]]:
    return {(a["agent"], a["file"]) for a in report["agents"]}


def systemd_sets(var: str) -> bool:
    """Does this machine's ollama.service set `var`? (It outranks the shell.)"""
    from ctxfix.sources.environment import read_environment

    env, _ = read_environment([], {}, system_units=True)
    return env.get(var) is not None


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty git project: the user's cwd (the `.git` stops the settings-file search)."""
    p = tmp_path / "project"
    (p / ".git").mkdir(parents=True)
    return p


@pytest.fixture
def full_home(home: Path) -> Path:
    for _, rel, fixture, _ in USER_CONFIGS:
        put(home, rel, fixture)
    return home


# --------------------------------------------------------------------------- 1. user configs


def test_plain_scan_finds_every_agents_user_config(ollama_double, full_home, project):
    _, report = scan(project, user_env(full_home), "--host", ollama_double.url, "--no-store")
    want = {(agent, str(full_home / rel)) for agent, rel, _, _ in USER_CONFIGS}
    assert agent_files(report) == want
    for agent, _, _, model in USER_CONFIGS:
        assert model in {a["model"] for a in report["agents"] if a["agent"] == agent}, agent
    # bound to the live server: goose plans for 65,536 where the double serves 4,096
    goose = str(full_home / ".config/goose/config.yaml")
    ctx201 = [f for f in report["findings"] if f["code"] == "CTX201" and f["agent"] == "goose"]
    assert ctx201 and ctx201[0]["location"]["file"] == goose
    assert "4,096" in ctx201[0]["message"]


def test_no_user_skips_every_user_config(ollama_double, full_home, project):
    _, report = scan(
        project, user_env(full_home), "--host", ollama_double.url, "--no-store", "--no-user"
    )
    assert report["agents"] == []
    assert not [f for f in report["findings"] if f.get("agent")]
    assert {m["name"] for m in report["models"]} >= {"qwen3-coder:30b"}  # the server still is


def test_env_vars_move_user_configs(ollama_double, full_home, tmp_path, project):
    """XDG_CONFIG_HOME, CODEX_HOME, OPENCLAW_CONFIG_PATH replace the defaults, not add to them."""
    xdg = tmp_path / "xdg"
    for rel, fixture in (
        ("opencode/opencode.json", "opencode/opencode.json"),
        ("zed/settings.json", "zed/settings.json"),
        ("goose/config.yaml", "goose/config.yaml"),
        ("crush/crush.json", "crush/crush.json"),
    ):
        put(xdg, rel, fixture)
    codex_home = put(tmp_path / "codex-home", "config.toml", "codex/config.toml")
    claw = put(full_home, "dotfiles/claw.json5", "openclaw/openclaw.json")
    env = user_env(
        full_home,
        XDG_CONFIG_HOME=str(xdg),
        CODEX_HOME=str(codex_home.parent),
        OPENCLAW_CONFIG_PATH="~/dotfiles/claw.json5",
    )
    _, report = scan(project, env, "--host", ollama_double.url, "--no-store")
    assert agent_files(report) == {
        ("openclaw", str(claw)),
        ("continue", str(full_home / ".continue/config.yaml")),
        ("aider", str(full_home / ".aider.model.settings.yml")),
        ("opencode", str(xdg / "opencode/opencode.json")),
        ("zed", str(xdg / "zed/settings.json")),
        ("codex", str(codex_home)),
        ("goose", str(xdg / "goose/config.yaml")),
        ("qwen-code", str(full_home / ".qwen/settings.json")),
        ("crush", str(xdg / "crush/crush.json")),
        ("cline", str(full_home / ".cline/data/globalState.json")),
        *((a, str(full_home / rel)) for a, rel, _, _ in USER_CONFIGS[10:]),  # HOME-only paths
    }


def test_openclaw_reads_only_the_config_openclaw_reads(ollama_double, home, tmp_path, project):
    """OpenClaw uses the first existing candidate: a leftover legacy file is not its config."""
    new = put(home, ".openclaw/openclaw.json", "openclaw/openclaw.json")
    put(home, ".clawdbot/clawdbot.json", "openclaw/legacy/clawdbot.json")
    _, report = scan(project, user_env(home), "--host", ollama_double.url, "--no-store")
    assert agent_files(report) == {("openclaw", str(new))}

    state = put(tmp_path / "state", "openclaw.json", "openclaw/legacy/clawdbot.json")
    env = user_env(home, OPENCLAW_STATE_DIR=str(state.parent))
    _, report = scan(project, env, "--host", ollama_double.url, "--no-store")
    assert agent_files(report) == {("openclaw", str(state))}


def test_broken_user_config_warns_and_the_scan_goes_on(ollama_double, full_home, project):
    zed = full_home / ".config/zed/settings.json"
    zed.write_text('{\n  "agent": {\n    "default_model": \n}\n', encoding="utf-8")
    r, report = scan(project, user_env(full_home), "--host", ollama_double.url, "--no-store")
    assert f"ctxfix: warning: {zed}:" in r.stderr
    assert "zed" not in {a["agent"] for a in report["agents"]}
    assert {"openclaw", "codex", "goose"} <= {a["agent"] for a in report["agents"]}


# --------------------------------------------------------------------------- 2. default stores


def test_ollama_models_store_is_scanned_by_default(home, tmp_path, project):
    store = demo_store(tmp_path / "elsewhere" / "models")
    env = user_env(home, OLLAMA_MODELS=str(store))
    _, report = scan(project, env, "--no-server")
    names = {m["name"] for m in report["models"]}
    assert {"qwen3-coder:30b", "qwen3-coder:30b-v-128k", "llama3.1:8b"} <= names
    capped = next(m for m in report["models"] if m["name"] == "qwen3-coder:30b-v-128k")
    assert capped["num_ctx"] == 131072 and capped["native_ctx"] == 262144
    assert ("CTX101", "qwen3-coder:30b-v-128k") in {
        (f["code"], f["model"]) for f in report["findings"]
    }

    _, report = scan(project, env, "--no-server", "--no-store")
    assert report["models"] == []


def test_home_store_is_scanned_by_default(home, project):
    demo_store(home / ".ollama" / "models")
    _, report = scan(project, user_env(home), "--no-server")
    assert "qwen3-coder:30b-v-128k" in {m["name"] for m in report["models"]}


# --------------------------------------------------------------------------- 3. process env


@pytest.mark.skipif(
    systemd_sets("OLLAMA_CONTEXT_LENGTH"),
    reason="this machine's ollama.service sets OLLAMA_CONTEXT_LENGTH, which outranks the shell",
)
def test_shell_ollama_context_length_sets_the_served_context(ollama_double, home, project):
    env = user_env(home, OLLAMA_CONTEXT_LENGTH="8192")
    _, report = scan(project, env, "--host", ollama_double.url, "--no-store")
    models = {m["name"]: m for m in report["models"]}
    assert models["qwen3-coder:30b"]["served_ctx"] == 8192
    assert models["llama3.1:8b"]["served_ctx"] == 8192
    assert models["qwen3-coder:30b-v-128k"]["served_ctx"] == 131072  # its num_ctx wins
    ctx303 = {f["model"]: f for f in report["findings"] if f["code"] == "CTX303"}
    assert set(ctx303) == {"qwen3-coder:30b", "llama3.1:8b"}
    assert ctx303["qwen3-coder:30b"]["location"]["file"] == "environment"
    assert "8,192" in ctx303["qwen3-coder:30b"]["message"]
    assert "OLLAMA_CONTEXT_LENGTH" in {e["name"] for e in report["environment"]}

    _, report = scan(project, env, "--host", ollama_double.url, "--no-store", "--no-user")
    models = {m["name"]: m for m in report["models"]}
    assert models["qwen3-coder:30b"]["served_ctx"] == 4096
    assert not [f for f in report["findings"] if f["code"] == "CTX303"]
    assert report["environment"] == []


# --------------------------------------------------------------------------- 4. --measure-prefill

OPENCLAW_LOCAL = """\
// ~/.openclaw/openclaw.json
{{
  models: {{
    providers: {{
      ollama: {{
        baseUrl: "{url}",
        api: "ollama",
        timeoutSeconds: 300,
        models: [
          {{ id: "qwen3-coder:30b-v-128k", contextWindow: 131072, maxTokens: 8192 }},
        ],
      }},
    }},
  }},
  agents: {{ defaults: {{ model: {{ primary: "ollama/qwen3-coder:30b-v-128k" }} }} }},
}}
"""


@pytest.fixture
def slow_double(ollama_store: Path) -> Iterator[OllamaDouble]:
    """A double whose prefill runs at 150 tok/s: 131,072 tokens take 874 s."""
    with OllamaDouble(ollama_store, prefill_tps=150.0) as srv:
        yield srv


def _claw_home(home: Path, url: str) -> Path:
    cfg = home / ".openclaw" / "openclaw.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(OPENCLAW_LOCAL.format(url=url), encoding="utf-8")
    return cfg


def test_measured_prefill_rate_drives_ctx301(slow_double, home, project):
    cfg = _claw_home(home, slow_double.url)
    _, report = scan(
        project, user_env(home), "--host", slow_double.url, "--no-store", "--measure-prefill"
    )
    assert ("POST", "/api/generate") in slow_double.requests
    [f] = [f for f in report["findings"] if f["code"] == "CTX301"]
    assert f["severity"] == "warning"
    assert f["location"]["file"] == str(cfg)
    assert "prefill of 131,072 tokens at 150 tok/s takes 874 s > timeout 300 s" in f["message"]
    assert f"rate from measured on {slow_double.url}" in f["message"]
    assert round(f["data"]["prefill_tps"]) == 150


def test_prefill_is_not_measured_unless_asked(slow_double, home, project):
    """Measuring loads the model: a plain scan must not do it."""
    _claw_home(home, slow_double.url)
    _, report = scan(project, user_env(home), "--host", slow_double.url, "--no-store")
    assert ("POST", "/api/generate") not in slow_double.requests
    [f] = [f for f in report["findings"] if f["code"] == "CTX301"]
    assert f["severity"] == "info"
    assert ">= 437 tok/s" in f["message"]  # the break-even rate for 131,072 tokens in 300 s


@pytest.mark.parametrize("fault", ["500", "malformed"])
def test_failed_measurement_warns_and_the_scan_goes_on(slow_double, home, project, fault):
    _claw_home(home, slow_double.url)
    slow_double.set_fault(fault, "/api/generate")
    r, report = scan(
        project, user_env(home), "--host", slow_double.url, "--no-store", "--measure-prefill"
    )
    warning = [ln for ln in r.stderr.splitlines() if "prefill" in ln]
    assert warning and warning[0].startswith(f"ctxfix: warning: {slow_double.url}:"), r.stderr
    [f] = [f for f in report["findings"] if f["code"] == "CTX301"]
    assert f["severity"] == "info"  # no rate: the break-even, not a guess


# --------------------------------------------------------------------------- 5. memory budget


@pytest.fixture
def huge_double(ollama_store: Path) -> Iterator[OllamaDouble]:
    add_model(ollama_store, "bigctx:latest", HUGE, parameter_size="70B")
    with OllamaDouble(ollama_store) as srv:
        yield srv


def test_local_server_uses_this_machines_memory(huge_double, home, project):
    _, report = scan(project, user_env(home), "--host", huge_double.url, "--no-store")
    big = [f for f in report["findings"] if f["code"] == "CTX302" and f["model"] == "bigctx:latest"]
    assert big, report["findings"]
    assert "native 4,194,304 does not fit" in big[0]["message"]
    assert big[0]["data"]["budget_bytes"] > 0


def test_no_user_detects_no_budget(huge_double, home, project):
    _, report = scan(project, user_env(home), "--host", huge_double.url, "--no-store", "--no-user")
    assert not [f for f in report["findings"] if f["code"] == "CTX302"]


def test_local_default_store_uses_this_machines_memory(home, tmp_path, project):
    store = tmp_path / "models"
    add_model(store, "bigctx:latest", HUGE, parameter_size="70B")
    env = user_env(home, OLLAMA_MODELS=str(store))
    _, report = scan(project, env, "--no-server")
    assert "CTX302" in {f["code"] for f in report["findings"]}
    _, report = scan(project, env, "--no-server", "--no-user")
    assert "CTX302" not in {f["code"] for f in report["findings"]}


def _detected(host: str, tmp_path: Path) -> Settings:
    return _with_local_facts(
        Settings(no_store=True), Targets(), [ServerInfo(host, "0.12.3")], {}, tmp_path
    )


def test_remote_host_leaves_the_budget_unset(tmp_path):
    settings = _detected("http://gpu-box:11434", tmp_path)
    assert settings.memory_bytes is None and settings.memory_source is None
    assert settings.vram_bytes is None


@pytest.mark.parametrize("host", ["http://127.0.0.1:11434", "http://0.0.0.0:11434"])
def test_loopback_host_detects_the_budget(tmp_path, host):
    """0.0.0.0 too: `OLLAMA_HOST=0.0.0.0` (to expose the server) is still this machine."""
    from ctxfix.budget import detect_budget

    if detect_budget(True) is None:
        pytest.skip("no memory probe works on this system")
    settings = _detected(host, tmp_path)
    assert settings.memory_bytes and settings.memory_bytes > 0
    assert (settings.memory_source or "").startswith("detected: ")


def test_given_memory_is_not_replaced(tmp_path):
    s = Settings(no_store=True, memory_bytes=64 * 1024**3, memory_source="--memory")
    out = _with_local_facts(s, Targets(), [ServerInfo("http://127.0.0.1:11434")], {}, tmp_path)
    assert (out.memory_bytes, out.memory_source) == (64 * 1024**3, "--memory")


def test_scan_from_home_does_not_walk_it(tmp_path: Path) -> None:
    """No path and cwd == $HOME: the user-level locations, not a walk of every file."""
    home = tmp_path / "home"
    stray = home / "old-project"
    stray.mkdir(parents=True)
    (stray / "Modelfile").write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 4096\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "XDG_"))}
    env.update(HOME=str(home))
    r = run_ctxfix("scan", "--no-server", "--no-store", "--format", "json", cwd=home, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["models"] == []
    r = run_ctxfix("scan", "--no-server", "--no-store", "--format", "json", cwd=stray, env=env)
    assert [m["num_ctx"] for m in json.loads(r.stdout)["models"]] == [4096]
