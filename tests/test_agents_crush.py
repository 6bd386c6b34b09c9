"""Crush crush.json reader: custom Ollama providers and selected-model overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import crush

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "crush"
MAIN = FIX / "crush.json"


def test_every_model_of_the_ollama_provider_is_a_binding():
    got = [(b.model, b.model_ref.location.key) for b in crush.read(MAIN)]
    # LM Studio on :1234 is not Ollama
    assert got == [
        ("qwen3-coder:30b", "providers.ollama.models[0].id"),
        ("devstral:24b", "providers.ollama.models[1].id"),
    ]


def test_binding_values_and_locations():
    b = crush.read(MAIN)[0]
    assert (b.agent, b.api, b.host, b.format) == (
        "crush",
        "openai",
        "http://localhost:11434/v1/",
        "json",
    )
    assert (b.model_ref.location.line, b.model_ref.location.col) == (11, 17)
    assert (b.context_window.value, b.context_window.location.line) == (256000, 12)
    assert b.num_ctx is None and b.timeout_s is None
    assert b.edit_paths["context_window"] == ("providers", "ollama", "models", 0, "context_window")


def test_selected_model_max_tokens_overrides_the_default():
    large, small = crush.read(MAIN)
    assert (large.max_tokens.value, large.max_tokens.location.key) == (
        16384,
        "models.large.max_tokens",
    )
    assert large.edit_paths["max_tokens"] == ("models", "large", "max_tokens")
    # models.small sets no max_tokens: the model's default_max_tokens applies
    assert (small.max_tokens.value, small.max_tokens.location.line) == (8192, 19)


def test_custom_provider_id_on_port_11434():
    (b,) = crush.read(FIX / "project" / ".crush.json")
    assert (b.model, b.host, b.context_window.value, b.max_tokens.value) == (
        "gpt-oss:120b",
        "http://192.168.1.20:11434/v1",
        131072,
        32768,
    )


def test_disabled_provider_is_skipped():
    text = (
        '{"providers": {"ollama": {"disable": true, "base_url": "http://localhost:11434/v1",'
        ' "models": [{"id": "qwen3:8b", "context_window": 32768}]}}}'
    )
    assert crush.read(MAIN, text) == []


def test_opencode_json_is_not_crush():
    text = """{
  "$schema": "https://opencode.ai/config.json",
  "model": "ollama/qwen3:8b",
  "provider": { "ollama": { "npm": "@ai-sdk/openai-compatible",
    "options": { "baseURL": "http://localhost:11434/v1" },
    "models": { "qwen3:8b": { "limit": { "context": 32768, "output": 8192 } } } } }
}"""
    assert not crush.detect(MAIN, {"$schema": "https://opencode.ai/config.json"})
    assert crush.read(FIX / "opencode.json", text) == []


def test_user_paths_honour_xdg(tmp_path):
    """load.go lookupConfigs: system, global JSON, global crushrc, data JSON (no crushrc)."""
    assert crush.user_paths({}, tmp_path) == [
        Path("/etc/crush/crush.json"),
        tmp_path / ".config" / "crush" / "crush.json",
        tmp_path / ".config" / "crush" / "crushrc",
        tmp_path / ".local" / "share" / "crush" / "crush.json",
    ]
    assert crush.user_paths({"XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d"}, tmp_path)[1:] == [
        Path("/c/crush/crush.json"),
        Path("/c/crush/crushrc"),
        Path("/d/crush/crush.json"),
    ]
    env = {"CRUSH_GLOBAL_CONFIG": "/g", "CRUSH_GLOBAL_DATA": "/s", "XDG_CONFIG_HOME": "/c"}
    assert crush.user_paths(env, tmp_path)[1:] == [
        Path("/g/crush.json"),
        Path("/g/crushrc"),
        Path("/s/crush.json"),
    ]
    win = crush.user_paths({"LOCALAPPDATA": "C:/Users/u/AppData/Local"}, tmp_path)
    assert win[-1] == Path("C:/Users/u/AppData/Local/crush/crush.json")


def test_malformed_json_names_file_line_and_column():
    text = '{\n  "providers": {\n    "ollama": { "base_url" "x" }\n  }\n}\n'
    with pytest.raises(CtxfixError) as exc:
        crush.read(MAIN, text)
    assert exc.value.where == f"{MAIN}:3:28"


# --------------------------------------------------------------------------- crushrc

RC = FIX / "rc" / "crushrc"


def test_crushrc_builtins_are_bindings():
    """`provider add` / `model add` / `model large|small` flags, located on their lines."""
    qwen, llama = crush.read(RC)
    assert (qwen.model, qwen.api, qwen.host, qwen.format) == (
        "qwen3-coder:30b",
        "openai",
        "http://localhost:11434/v1/",
        "crushrc",
    )
    cw = qwen.context_window
    assert (cw.value, cw.location.line, cw.location.col) == (256000, 13, 20)
    assert (qwen.max_tokens.value, qwen.max_tokens.location.key) == (
        16384,
        "models.large.max_tokens",
    )
    assert [r.path for r in qwen.refs] == [
        ("providers", "ollama", "models", 0, "id"),
        ("models", "large", "model"),
    ]
    # no --context-window: nothing to judge, and Crush fills it from discovery
    assert (llama.model, llama.context_window) == ("llama3.3:70b", None)


def test_crushrc_shell_forms():
    text = (
        "provider add 'box' --type openai-compat \\\n"
        '  --base-url "http://$HOST:11434/v1"\n'  # dynamic: not read
        "provider add lan --base-url http://192.168.1.20:11434/v1 --flat-rate true\n"
        'model add lan/"gpt-oss:20b" --context-window "131072"; model add lan/x '
        "--context-window 8\n"
        "model remove lan/x\n"
        "if true; then model add ghost/qwen3:8b --context-window 1; fi  # no such provider\n"
    )
    (b,) = crush.read(Path("crushrc"), text)
    assert (b.model, b.context_window.value, b.host) == (
        "gpt-oss:20b",
        131072,
        "http://192.168.1.20:11434/v1",
    )


def test_crushrc_edits_keep_quoting_and_append_flags():
    from ctxfix.edits import load_document

    text = 'model large "ollama/qwen3:30b"\nprovider add ollama\nmodel add ollama/qwen3:30b # c\n'
    doc = load_document(Path("crushrc"), text, fmt="crushrc")
    doc.set(("models", "large", "model"), "qwen3:30b-262k")
    doc.set(("providers", "ollama", "models", 0, "context_window"), 262144)
    assert doc.text == (
        'model large "ollama/qwen3:30b-262k"\nprovider add ollama\n'
        "model add ollama/qwen3:30b --context-window 262144 # c\n"
    )


def test_unterminated_quote_names_the_file():
    with pytest.raises(CtxfixError) as exc:
        crush.read(Path("x/crushrc"), 'provider add ollama --base-url "http://h\n')
    assert exc.value.where == "x/crushrc" and "unterminated" in exc.value.problem


def test_a_base_url_that_does_not_parse_is_read_not_a_crash(tmp_path):
    """`http://[::1:11434/v1/` (a missing "]") made urlsplit raise: an internal error."""
    text = (
        "provider add ollama --type ollama --base-url http://[::1:11434/v1/\n"
        "model add ollama/qwen3-coder:30b --context-window 4096\n"
    )
    (b,) = crush.read(tmp_path / "crushrc", text)
    assert (b.model, b.api, b.context_window.value) == ("qwen3-coder:30b", "openai", 4096)
