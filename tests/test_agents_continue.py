"""Continue reader: config.yaml (anchors, merge keys), block files, legacy config.json."""

from __future__ import annotations

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
