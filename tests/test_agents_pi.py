"""Pi models.json reader, and the window `ollama launch pi` writes (the native context)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ollama_fixtures import QWEN3_CODER_30B, add_model
from ollama_server import OllamaDouble
from test_apply_demo import run_cli

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import pi

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "pi" / ".pi" / "agent"
MODELS = FIX / "models.json"


def by_model(bindings):
    return {b.model: b for b in bindings}


def test_every_model_of_the_ollama_provider_is_a_binding():
    got = by_model(pi.read(MODELS))
    assert sorted(got) == ["gpt-oss:20b", "llama3.1:8b", "qwen3-coder:30b"]
    b = got["qwen3-coder:30b"]
    assert (b.agent, b.api, b.host, b.num_ctx, b.timeout_s) == (
        "pi",
        "openai",
        "http://127.0.0.1:11434/v1",
        None,
        None,
    )
    assert (b.context_window.value, b.context_window.location.line) == (262144, 19)
    assert b.edit_paths["context_window"] == ("providers", "ollama", "models", 1, "contextWindow")
    assert b.pinned and "defaultModel" in b.pinned  # settings.json names the id too


def test_entries_written_by_ollama_launch_are_marked():
    got = by_model(pi.read(MODELS))
    assert got["qwen3-coder:30b"].written_by == "ollama launch"  # "_launch": true
    assert got["gpt-oss:20b"].written_by == "ollama launch"
    assert got["llama3.1:8b"].written_by is None  # the user's own entry
    assert got["llama3.1:8b"].max_tokens.value == 32000


def test_unset_window_is_pis_default(tmp_path):
    text = json.dumps(
        {"providers": {"ollama": {"baseUrl": "http://localhost:11434/v1", "models": [{"id": "x"}]}}}
    )
    (b,) = pi.read(tmp_path / "models.json", text)
    assert (b.context_window.value, b.context_window.source) == (128000, "default")
    assert (b.max_tokens.value, b.max_tokens.source) == (16384, "default")
    assert b.written_by is None


def test_cloud_provider_and_other_models_json_are_not_bindings(tmp_path):
    cloud = {"providers": {"openrouter": {"baseUrl": "https://openrouter.ai/api/v1", "api": "x"}}}
    assert pi.read(tmp_path / "models.json", json.dumps(cloud)) == []
    assert pi.read(tmp_path / "models.json", '{"models": ["a", "b"]}') == []


def test_bad_models_list_names_file_and_position(tmp_path):
    path = tmp_path / "models.json"
    with pytest.raises(CtxfixError) as exc:
        pi.read(path, '{"providers": {"ollama": {"baseUrl": "x", "models": {"id": 1}}}}')
    assert exc.value.where == f"{path}:1:53"


def test_user_paths_honour_pi_coding_agent_dir(tmp_path):
    assert pi.user_paths({}, tmp_path) == [tmp_path / ".pi" / "agent" / "models.json"]
    assert pi.user_paths({"PI_CODING_AGENT_DIR": "/srv/pi"}, tmp_path) == [
        Path("/srv/pi/models.json")
    ]


def test_ctx201_names_ollama_launch_as_the_writer(tmp_path, capsys, monkeypatch):
    store = tmp_path / "models"
    add_model(store, "qwen3-coder:30b", QWEN3_CODER_30B)
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    with OllamaDouble(store) as srv:
        _, out, _ = run_cli(
            capsys, "scan", str(MODELS), "--host", srv.url, "--no-user", "--no-store",
            "--isolated", "--format", "json",
        )  # fmt: skip
    found = [
        f
        for f in json.loads(out)["findings"]
        if f["code"] == "CTX201" and f["model"] == "qwen3-coder:30b"
    ]
    (f,) = found
    assert f["message"].endswith("; 262,144 was written by ollama launch")
    assert (f["location"]["line"], f["data"]["current"]) == (19, 262144)
