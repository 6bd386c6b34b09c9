"""Claude Code settings reader: Ollama's Anthropic-compatible API through the `env` block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import claude_code

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "claude-code"
USER = FIX / ".claude" / "settings.json"
LOCAL = FIX / "project" / ".claude" / "settings.local.json"


def test_user_settings_bind_the_model_with_the_assumed_200k_window():
    (b,) = claude_code.read(USER)  # five keys name one model: one binding
    assert (b.agent, b.model, b.api, b.host) == (
        "claude-code",
        "qwen3-coder:30b",
        "anthropic",
        "http://localhost:11434",
    )
    assert b.num_ctx is None  # /v1/messages maps nothing to num_ctx
    assert (b.model_ref.location.line, b.model_ref.location.key) == (3, "model")
    assert len(b.refs) == 5  # a rename changes `model` and the four env variables
    w = b.context_window
    assert (w.value, w.source, w.location.line) == (200000, "default", 4)
    assert w.location.key == "env.CLAUDE_CODE_AUTO_COMPACT_WINDOW"
    # env values must be strings: an unset variable is never inserted as a number
    assert "context_window" not in b.edit_paths and b.timeout_s is None
    assert "CTX202" in b.suppressed  # 200K is also Claude Code's ceiling


def test_local_settings_window_and_timeout_are_strings_in_env():
    (b,) = claude_code.read(LOCAL)
    assert (b.model, b.model_ref.location.key) == ("llama3.3:70b", "env.ANTHROPIC_MODEL")
    assert (b.context_window.value, b.context_window.source) == (200000, "agent")
    assert (b.timeout_s.value, b.timeout_unit_s) == (600.0, 0.001)
    assert b.edit_paths == {
        "model_ref": ("env", "ANTHROPIC_MODEL"),
        "context_window": ("env", "CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
        "timeout": ("env", "API_TIMEOUT_MS"),
    }
    assert b.suppressed == frozenset()


def test_anthropic_cloud_and_aliases_give_no_binding(tmp_path):
    cloud = {"model": "claude-sonnet-4-6", "env": {"ANTHROPIC_MODEL": "opus"}}
    assert claude_code.read(tmp_path / "settings.json", json.dumps(cloud)) == []
    # the "Model aliases" table of code.claude.com/docs/en/model-config
    for name in ("sonnet[1m]", "best", "fable", "fable[1m]", "opusplan", "default"):
        alias = {"model": name, "env": {"ANTHROPIC_BASE_URL": "http://localhost:11434"}}
        assert claude_code.read(tmp_path / "settings.json", json.dumps(alias)) == [], name


def test_other_tools_settings_json_is_not_claude_code(tmp_path):
    zed = FIX.parent / "zed" / "settings.json"
    assert claude_code.read(zed) == []
    vscode = tmp_path / ".vscode" / "settings.json"
    assert claude_code.read(vscode, '{"editor.tabSize": 2}') == []


def test_bad_env_names_file_and_position(tmp_path):
    path = tmp_path / ".claude" / "settings.json"
    with pytest.raises(CtxfixError) as exc:
        claude_code.read(path, '{\n  "env": ["ANTHROPIC_BASE_URL"]\n}\n')
    assert exc.value.where == f"{path}:2:10"


def test_user_paths_honour_claude_config_dir(tmp_path):
    assert claude_code.user_paths({}, tmp_path) == [tmp_path / ".claude" / "settings.json"]
    assert claude_code.user_paths({"CLAUDE_CONFIG_DIR": "/srv/cc"}, tmp_path) == [
        Path("/srv/cc/settings.json")
    ]
