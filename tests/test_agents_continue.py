"""Continue reader: config.yaml (anchors, merge keys), block files, legacy config.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import continue_dev

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures/configs/continue"


def test_config_yaml_bindings() -> None:
    f = FIX / "config.yaml"
    bs = continue_dev.read(f)
    # the anthropic model is not an Ollama binding
    assert [b.model for b in bs] == ["qwen3-coder:30b", "qwen2.5-coder:1.5b-base", "llama3.3:70b"]
    q, auto, lan = bs

    assert (q.api, q.host, q.format) == ("native", "http://127.0.0.1:11434", "yaml")
    assert q.model_ref.location == Location(str(f), 16, 12, "models[0].model")
    assert q.context_window.location == Location(
        str(f), 19, 22, "models[0].defaultCompletionOptions.contextLength"
    )
    # Continue sends contextLength as num_ctx on the native API
    assert q.num_ctx.value == q.context_window.value == 32768
    assert q.max_tokens.value == 8192
    # timeout reached through `<<: *ollama_defaults` is located at the anchored mapping
    assert (q.timeout_s.value, q.timeout_s.location.line) == (300.0, 11)
    assert q.edit_paths["num_ctx"] == ("models", 0, "defaultCompletionOptions", "contextLength")

    # unset values get Continue's documented defaults: the Ollama provider's own
    # 8192 (core/llm/llms/Ollama.ts), unless the model's num_ctx is adopted (resolve)
    assert (auto.context_window.value, auto.context_window.source) == (8192, "default")
    assert auto.num_ctx.value == 8192 and auto.window_from_model
    assert (auto.timeout_s.value, auto.timeout_s.source) == (7200.0, "default")
    assert (auto.max_tokens.value, auto.host) == (4096, "http://localhost:11434")
    assert auto.edit_paths["timeout"] == ("models", 1, "requestOptions", "timeout")

    # provider openai on an Ollama /v1 base: no num_ctx reaches the model
    assert (lan.api, lan.num_ctx, lan.context_window.value) == ("openai", None, 131072)
    assert "num_ctx" not in lan.edit_paths


def test_block_file_and_inline_ignore() -> None:
    (b,) = continue_dev.read(FIX / ".continue/models/devstral.yaml")
    assert (b.model, b.context_window.value, b.context_window.location.line) == (
        "devstral:24b",
        131072,
        9,
    )
    assert b.suppressed == frozenset({"CTX201"})


def test_legacy_config_json() -> None:
    f = FIX / "legacy/config.json"
    (b,) = continue_dev.read(f)
    assert b.model == "deepseek-r1:7b"
    assert b.context_window.location == Location(str(f), 8, 24, "models[0].contextLength")
    assert b.num_ctx.value == 65536
    assert (b.timeout_s.value, b.max_tokens.value) == (900.0, 4096)
    assert b.edit_paths["max_tokens"] == ("models", 0, "completionOptions", "maxTokens")


def test_other_tools_config_yaml_yields_nothing() -> None:
    assert continue_dev.read(ROOT / "fixtures/configs/litellm/config.yaml") == []
    assert continue_dev.read(ROOT / "fixtures/configs/litellm/not-litellm/config.yaml") == []


def test_malformed_yaml_names_line_and_column() -> None:
    text = "name: x\nmodels:\n  - provider: ollama\n    model: [qwen\n"
    with pytest.raises(CtxfixError) as err:
        continue_dev.read(Path("cfg/config.yaml"), text)
    assert err.value.where.startswith("cfg/config.yaml:")
    assert err.value.where.count(":") == 2


def test_user_paths(tmp_path: Path) -> None:
    (tmp_path / ".continue/models").mkdir(parents=True)
    (tmp_path / ".continue/models/a.yaml").write_text("models: []\n")
    paths = continue_dev.user_paths({}, tmp_path)
    assert paths == [
        tmp_path / ".continue/config.yaml",
        tmp_path / ".continue/config.json",
        tmp_path / ".continue/models/a.yaml",
    ]
    assert continue_dev.user_paths({"CONTINUE_GLOBAL_DIR": "/c"}, tmp_path)[0] == Path(
        "/c/config.yaml"
    )


# ------------------------------------------------------------------ configs/, agents/, uses:

DOT = FIX / ".continue"


def test_configs_and_agents_dirs_are_user_configs(tmp_path: Path) -> None:
    """Continue loads every YAML under configs/, agents/ and assistants/ (walked)."""
    for rel in ("configs/config.yaml", "agents/team/a.yml", "assistants/old.yaml", "agents/x.md"):
        (tmp_path / ".continue" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ".continue" / rel).write_text("models: []\n")
    paths = continue_dev.user_paths({}, tmp_path)
    assert paths[2:] == [
        tmp_path / ".continue/configs/config.yaml",
        tmp_path / ".continue/agents/team/a.yml",
        tmp_path / ".continue/assistants/old.yaml",
    ]
    assert Path("repo/.continue/agents/a.yaml").match(continue_dev.PATH_GLOBS[4])


def test_agents_file_is_a_config() -> None:
    (b,) = continue_dev.read(DOT / "agents/local-agent.yaml")
    assert (b.model, b.context_window.value, b.api) == ("llama3.1:8b", 131072, "native")


def test_local_blocks_are_read_where_continue_takes_each_value() -> None:
    notes: list = []
    deepseek, qwen = continue_dev.read(DOT / "configs/config.yaml", notes=notes)
    config, block = str(DOT / "configs/config.yaml"), str(DOT / "blocks/deepseek-r1.yaml")
    # override replaces defaultCompletionOptions: the window is the config's, the rest the block's
    assert (deepseek.model, deepseek.file) == ("deepseek-r1:7b", config)
    assert deepseek.context_window.location.key == (
        "models[1].override.defaultCompletionOptions.contextLength"
    )
    assert (deepseek.context_window.value, deepseek.num_ctx.value) == (16384, 16384)
    assert (deepseek.timeout_s.value, deepseek.timeout_s.location.file) == (600.0, block)
    assert deepseek.max_tokens.source == "default"  # the block's maxTokens was replaced
    # values in the block file are read, not edited through the config
    assert set(deepseek.edit_paths) == {"context_window", "num_ctx", "max_tokens"}
    assert deepseek.pinned and block in deepseek.pinned
    # no override: the binding is the block file's, every value editable there
    assert qwen.file == str(DOT / "blocks/qwen3-coder.yaml")
    assert (qwen.model, qwen.context_window.value, qwen.context_window.location.line) == (
        "qwen3-coder:30b",
        65536,
        14,
    )
    assert qwen.edit_paths["model_ref"] == ("models", 0, "model") and not qwen.pinned
    # the hub block is said, not silently skipped
    (note,) = notes
    assert note.where == config and "'ollama/gpt-oss-20b'" in note.problem
    assert "cannot read offline" in note.problem


def test_uses_file_url_and_missing_block(tmp_path: Path) -> None:
    shutil.copy(DOT / "blocks/qwen3-coder.yaml", tmp_path / "q.yaml")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "name: x\nversion: 0.0.1\nschema: v1\nmodels:\n"
        f"  - uses: {(tmp_path / 'q.yaml').as_uri()}\n"
        "  - uses: ./gone.yaml\n"
    )
    notes: list = []
    (b,) = continue_dev.read(cfg, notes=notes)
    assert b.file == str(tmp_path / "q.yaml")
    (note,) = notes
    assert "gone.yaml" in note.problem and "block not read" in note.problem


def test_scan_warns_once_for_the_hub_block(tmp_path: Path) -> None:
    from cli_run import run_ctxfix

    r = run_ctxfix(
        "scan", "--no-server", "--no-user", "--no-store", "--isolated", "--format", "json",
        str(DOT / "configs/config.yaml"), cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr
    assert [ln for ln in r.stderr.splitlines() if "ollama/gpt-oss-20b" in ln] != []
    assert len([ln for ln in r.stderr.splitlines() if "hub block" in ln]) == 1
    files = {a["file"] for a in json.loads(r.stdout)["agents"]}
    assert files == {str(DOT / "configs/config.yaml"), str(DOT / "blocks/qwen3-coder.yaml")}
