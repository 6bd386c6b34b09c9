"""Goose config.yaml reader: upper-case keys, env overrides, OLLAMA_HOST rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import goose

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "goose"
MAIN = FIX / "config.yaml"


def test_main_config_binding():
    (b,) = goose.read(MAIN)
    assert (b.agent, b.model, b.format) == ("goose", "qwen3-coder:30b", "yaml")
    assert (b.model_ref.location.line, b.model_ref.location.col) == (4, 14)
    # Goose posts to /v1/chat/completions: any num_ctx it sends is dropped
    assert (b.api, b.host) == ("openai", "http://localhost:11434")
    assert (b.context_window.value, b.context_window.location.line) == (65536, 7)
    # quoted '32768' is a number to Goose too
    assert (b.num_ctx.value, b.num_ctx.location.line, b.num_ctx.location.key) == (
        32768,
        9,
        "GOOSE_INPUT_LIMIT",
    )
    assert (b.max_tokens.value, b.max_tokens.location.line) == (8192, 10)
    assert (b.timeout_s.value, b.timeout_s.location.line, b.timeout_unit_s) == (300.0, 11, 1.0)
    assert b.edit_paths == {
        "model_ref": ("GOOSE_MODEL",),
        "context_window": ("GOOSE_CONTEXT_LIMIT",),
        "num_ctx": ("GOOSE_INPUT_LIMIT",),
        "max_tokens": ("GOOSE_MAX_TOKENS",),
        "timeout": ("OLLAMA_TIMEOUT",),
    }


def test_defaults_and_remote_host():
    (b,) = goose.read(FIX / "remote" / "config.yaml")
    assert (b.model, b.host) == ("devstral:latest", "http://gpu-box:11434")
    assert (b.context_window.value, b.context_window.source) == (128000, "default")
    assert (b.timeout_s.value, b.timeout_s.source) == (600.0, "default")
    assert b.num_ctx is None and b.max_tokens is None


def test_context_limit_is_sent_as_num_ctx_without_input_limit():
    text = "GOOSE_PROVIDER: ollama\nGOOSE_MODEL: qwen3:8b\nGOOSE_CONTEXT_LIMIT: 40960\n"
    (b,) = goose.read(MAIN, text)
    assert b.num_ctx == b.context_window
    assert b.num_ctx.value == 40960


def test_environment_overrides_the_file():
    env = {"GOOSE_CONTEXT_LIMIT": "262144", "OLLAMA_HOST": "10.0.0.7:11434"}
    (b,) = goose.read(MAIN, env=env)
    assert (b.context_window.value, b.context_window.source) == (262144, "env")
    assert b.host == "http://10.0.0.7:11434"
    # GOOSE_INPUT_LIMIT still comes from the file
    assert b.num_ctx.source == "agent"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("localhost", "http://localhost:11434"),
        ("127.0.0.1", "http://127.0.0.1:11434"),
        ("gpu-box", "http://gpu-box"),
        ("gpu-box:11434", "http://gpu-box:11434"),
        ("https://ollama.example.com", "https://ollama.example.com"),
    ],
)
def test_ollama_host_as_goose_builds_the_url(host, url):
    assert goose.host_url(host) == url


def test_other_provider_gives_no_binding():
    assert goose.read(FIX / "openai" / "config.yaml") == []


def test_litellm_config_yaml_is_not_goose():
    assert goose.read(FIX / "not-goose" / "config.yaml") == []


def test_yaml_that_is_not_a_mapping_is_not_goose():
    assert goose.read(MAIN, "- GOOSE_PROVIDER\n- ollama\n") == []


def test_inline_ignore():
    text = "# ctxfix: ignore[CTX204]\nGOOSE_PROVIDER: ollama\nGOOSE_MODEL: qwen3\n"
    (b,) = goose.read(MAIN, text)
    assert b.suppressed == frozenset({"CTX204"})


def test_user_paths_honour_xdg_config_home(tmp_path):
    assert goose.user_paths({}, tmp_path) == [tmp_path / ".config" / "goose" / "config.yaml"]
    assert goose.user_paths({"XDG_CONFIG_HOME": "/cfg"}, tmp_path) == [
        Path("/cfg/goose/config.yaml")
    ]


def test_malformed_yaml_names_file_line_and_column():
    with pytest.raises(CtxfixError) as exc:
        goose.read(MAIN, "GOOSE_PROVIDER: ollama\nGOOSE_MODEL: [qwen3\n")
    assert exc.value.where == f"{MAIN}:3:1"


# --------------------------------------------------------------------------- custom providers

CUSTOM = FIX / "custom" / "config.yaml"
PROVIDER = FIX / "custom" / "custom_providers" / "custom_lan_ollama.json"


def test_custom_ollama_provider_gives_host_and_timeout():
    (b,) = goose.read(CUSTOM)
    assert (b.model, b.api, b.host) == ("llama3.3:70b", "openai", "http://localhost:11434")
    assert (b.context_window.value, b.context_window.location.key) == (
        131072,
        "GOOSE_CONTEXT_LIMIT",
    )
    # the timeout lives in the provider file: read there, not edited through config.yaml
    assert (b.timeout_s.value, b.timeout_s.location.file, b.timeout_s.location.line) == (
        120.0,
        str(PROVIDER),
        19,
    )
    assert "timeout" not in b.edit_paths and str(PROVIDER) in b.manual["timeout"]


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://localhost", "http://localhost:11434"),
        ("gpu-box.lan", "http://gpu-box.lan:11434"),
        ("https://ollama.example.com", "https://ollama.example.com"),
        ("http://gpu-box.lan:80", "http://gpu-box.lan:80"),
    ],
)
def test_custom_base_url_port_rule(base_url: str, url: str):
    assert goose.custom_host_url(base_url) == url


def test_custom_provider_of_another_engine_or_broken_is_not_ollama(tmp_path: Path):
    (tmp_path / "custom_providers").mkdir()
    cfg = tmp_path / "config.yaml"
    cfg.write_text("GOOSE_PROVIDER: custom_x\nGOOSE_MODEL: qwen3:8b\n")
    prov = tmp_path / "custom_providers" / "custom_x.json"
    prov.write_text('{"name": "custom_x", "engine": "openai", "base_url": "http://h:11434"}')
    assert goose.read(cfg) == []
    prov.write_text('{"name": "custom_x", "engine": ')
    notes: list = []
    assert goose.read(cfg, notes=notes) == []
    (w,) = notes
    assert w.where.startswith(str(prov)) and "custom provider not read" in w.problem
