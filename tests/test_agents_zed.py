"""Zed reader: available_models, context_window override, 4096 default."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import zed

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures/configs/zed"


def test_user_settings() -> None:
    f = FIX / "settings.json"
    q, ds, gemma = zed.read(f)
    assert (q.model, q.api, q.host, q.format) == (
        "qwen3-coder:30b",
        "native",
        "http://localhost:11434",
        "jsonc",
    )
    assert q.model_ref.location == Location(
        str(f), 22, 19, "language_models.ollama.available_models[0].name"
    )
    # max_tokens is the num_ctx Zed sends
    assert q.context_window.location == Location(
        str(f), 24, 25, "language_models.ollama.available_models[0].max_tokens"
    )
    assert q.num_ctx.value == q.context_window.value == 32768
    assert q.timeout_s is None
    assert ds.num_ctx.value == 131072
    # selected but not listed: Zed's 4096 default. Inserting the global
    # `context_window` would override every model's max_tokens, so no window path
    assert gemma.model_ref.location.key == "agent.inline_assistant_model.model"
    assert (gemma.num_ctx.value, gemma.num_ctx.source) == (4096, "default")
    assert "num_ctx" not in gemma.edit_paths and "context_window" not in gemma.edit_paths


def test_project_context_window_overrides_per_model() -> None:
    (b,) = zed.read(FIX / ".zed/settings.json")
    assert (b.host, b.num_ctx.value, b.num_ctx.location.key) == (
        "http://192.168.1.20:11434",
        65536,
        "language_models.ollama.context_window",
    )


def test_vscode_settings_json_is_not_zed() -> None:
    assert zed.read(FIX / "vscode/settings.json") == []
    assert not zed.detect(Path("settings.json"), {"modelProviders": {}})


def test_inline_ignore_and_malformed() -> None:
    text = (
        "// ctxfix: ignore[CTX202]\n"
        '{"language_models": {"ollama": {"available_models": [{"name": "x", "max_tokens": 8}]}}}'
    )
    (b,) = zed.read(Path("settings.json"), text)
    assert b.suppressed == frozenset({"CTX202"})
    with pytest.raises(CtxfixError) as err:
        zed.read(Path(".zed/settings.json"), '{\n  "language_models": {\n    "ollama": }\n}\n')
    assert err.value.where.startswith(".zed/settings.json:3:")


def test_user_paths() -> None:
    assert zed.user_paths({"XDG_CONFIG_HOME": "/x"}, Path("/h")) == [Path("/x/zed/settings.json")]
    assert zed.user_paths({}, Path("/h")) == [Path("/h/.config/zed/settings.json")]
