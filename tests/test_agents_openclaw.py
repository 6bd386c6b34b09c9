"""OpenClaw reader: the motivating demo config and a two-host JSON5 config."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import openclaw

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures/demo/openclaw.json"
CONF = ROOT / "fixtures/configs/openclaw/openclaw.json"
LEGACY = ROOT / "fixtures/configs/openclaw/legacy/clawdbot.json"


def test_demo_binding_has_every_value_where_it_is_written() -> None:
    (b,) = openclaw.read(DEMO)
    f = str(DEMO)
    assert (b.agent, b.model, b.api, b.host, b.format) == (
        "openclaw",
        "qwen3-coder:30b-v-128k",
        "native",
        "http://127.0.0.1:11434",
        "json5",
    )
    assert b.model_ref.value == "ollama/qwen3-coder:30b-v-128k"
    assert b.model_ref.location == Location(f, 31, 25, "agents.defaults.model.primary")
    assert b.context_window.value == 131072
    assert b.context_window.location == Location(
        f, 22, 28, "models.providers.ollama.models[0].contextWindow"
    )
    assert b.max_tokens.value == 8192
    assert b.timeout_s.value == 300.0 and b.timeout_unit_s == 1.0
    assert b.timeout_s.location == Location(f, 14, 25, "models.providers.ollama.timeoutSeconds")
    # native API with neither params.num_ctx nor contextTokens: OpenClaw sends no num_ctx
    assert b.num_ctx is None
    assert b.edit_paths == {
        "model_ref": ("agents", "defaults", "model", "primary"),
        "model_id": ("models", "providers", "ollama", "models", 0, "id"),
        "context_window": ("models", "providers", "ollama", "models", 0, "contextWindow"),
        "num_ctx": ("models", "providers", "ollama", "models", 0, "params", "num_ctx"),
        "max_tokens": ("models", "providers", "ollama", "models", 0, "maxTokens"),
        "timeout": ("models", "providers", "ollama", "timeoutSeconds"),
    }
    assert b.suppressed == frozenset()


def test_two_hosts_api_modes_contexttokens_and_fallbacks() -> None:
    bindings = {b.model: b for b in openclaw.read(CONF)}
    # anthropic/claude is not an Ollama model: no binding
    assert sorted(bindings) == ["devstral:24b", "llama3.3:70b", "qwen3.5:9b"]

    q = bindings["qwen3.5:9b"]
    assert q.context_window.value == 32768  # contextTokens caps the active input
    assert q.context_window.location.key == "models.providers.ollama.models[0].contextTokens"
    assert (q.num_ctx.value, q.num_ctx.location.line) == (32768, 21)
    assert q.num_ctx.location.key == "models.providers.ollama.models[0].params.num_ctx"
    assert q.max_tokens.location.key == "models.providers.ollama.maxTokens"  # provider default
    assert q.timeout_s.value == 600.0

    lan = bindings["llama3.3:70b"]
    assert (lan.api, lan.host) == ("openai", "http://gpu-box.local:11434/v1")
    assert lan.model_ref.location.key == "agents.defaults.model.fallbacks[0]"
    # the /v1 adapter injects contextWindow as options.num_ctx (which /v1 ignores)
    assert lan.num_ctx.value == 131072 and "injected" in lan.num_ctx.note
    assert lan.timeout_s is None

    dev = bindings["devstral:24b"]
    assert dev.model_ref.location.key == "agents.list[0].model"
    assert (dev.context_window.value, dev.num_ctx) == (131072, None)

    assert all(b.suppressed == frozenset({"CTX301"}) for b in bindings.values())


def test_legacy_clawdbot_json() -> None:
    (b,) = openclaw.read(LEGACY)
    assert (b.model, b.context_window.value, b.max_tokens.value) == ("gpt-oss:20b", 8192, 81920)
    assert b.host == "http://localhost:11434" and b.format == "jsonc"


def test_implicit_ollama_provider_uses_default_host() -> None:
    text = '{ agents: { defaults: { model: "ollama/gpt-oss:20b" } } }'
    (b,) = openclaw.read(Path("openclaw.json"), text)
    assert (b.model, b.host, b.api, b.context_window) == (
        "gpt-oss:20b",
        "http://127.0.0.1:11434",
        "native",
        None,
    )


def test_detect_rejects_other_tools_json() -> None:
    assert openclaw.read(Path("openclaw.json"), '{"editor.fontSize": 14}') == []
    assert not openclaw.detect(Path("openclaw.json"), ["a"])


def test_malformed_json5_names_file_line_and_column() -> None:
    text = "{\n  models: {\n    providers: { ollama: { baseUrl: 'x' api: 'ollama' } },\n  },\n}\n"
    with pytest.raises(CtxfixError) as err:
        openclaw.read(Path("bad/openclaw.json"), text)
    assert err.value.where.startswith("bad/openclaw.json:3:")


def test_user_paths_honour_env(tmp_path: Path) -> None:
    home = tmp_path
    assert openclaw.user_paths({"OPENCLAW_CONFIG_PATH": "~/x.json"}, home) == [home / "x.json"]
    paths = openclaw.user_paths({"OPENCLAW_STATE_DIR": "/srv/oc"}, home)
    assert paths[0] == Path("/srv/oc/openclaw.json")
    assert home / ".openclaw" / "openclaw.json" in paths
    assert home / ".clawdbot" / "clawdbot.json" in paths
    assert openclaw.user_paths({"OPENCLAW_HOME": "/h"}, home)[0] == Path(
        "/h/.openclaw/openclaw.json"
    )


def test_the_window_ollama_launch_wrote_is_marked():
    """openclaw.go writes apiKey "ollama-local", api "ollama" and the native contextWindow."""
    got = {b.model: b for b in openclaw.read(CONF)}
    assert got["devstral:24b"].written_by == "ollama launch"  # launch's contextWindow
    assert got["qwen3.5:9b"].written_by is None  # contextTokens is the user's own cap
    assert got["llama3.3:70b"].written_by is None  # "gpu-box" is not launch's provider
    text = '{models: {providers: {ollama: {api: "ollama", models: [{id: "a", contextWindow: 8}]}}},'
    text += ' agents: {defaults: {model: "ollama/a"}}}'
    (b,) = openclaw.read(Path("openclaw.json"), text)
    assert b.written_by is None  # no apiKey "ollama-local": the user wrote it
