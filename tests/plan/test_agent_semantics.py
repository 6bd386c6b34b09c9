"""Agent semantics the plan must respect, each checked end to end (issue 10, item 5).

Each test runs the real CLI against the loopback Ollama double (real `ollama`
client over HTTP) on a config written the way the agent's docs write it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ollama_fixtures import LLAMA31_8B, QWEN3_CODER_30B, add_model
from ollama_server import OllamaDouble
from test_apply_demo import run_cli

from ctxfix.resolve import go_float_text, js_parse_int


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OllamaDouble]:
    store = tmp_path / "models"
    add_model(store, "qwen3-coder:30b", QWEN3_CODER_30B, params={"num_ctx": 65536})
    add_model(store, "qwen3-coder:1m", QWEN3_CODER_30B, params={"num_ctx": 1048576})
    add_model(store, "llama3.1:8b", LLAMA31_8B)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    with OllamaDouble(store) as srv:
        yield srv


def _opts(srv: OllamaDouble, *paths: str) -> list[str]:
    return ["--host", srv.url, "--no-user", "--isolated", *paths]


def _json(capsys, *args: str) -> dict:
    code, out, err = run_cli(capsys, *args)
    assert code in (0, 1), err
    return json.loads(out)


# --------------------------------------------------------------------------- Continue


@pytest.mark.parametrize(
    ("value", "printed", "parsed"),
    [(262144, "262144", 262144), (1000000, "1e+06", 1), (1048576, "1.048576e+06", 1)],
)
def test_ollama_prints_num_ctx_with_go_v_and_continue_reads_it_with_parse_int(
    value: int, printed: str, parsed: int
) -> None:
    assert go_float_text(value) == printed
    assert js_parse_int(printed) == parsed


def test_continue_without_context_length_adopts_num_ctx_and_flags_parse_int(
    server: OllamaDouble, tmp_path: Path, capsys
) -> None:
    cfg = tmp_path / "cfg" / "config.yaml"
    cfg.parent.mkdir()
    cfg.write_text(
        "name: local\nversion: 1.0.0\nschema: v1\nmodels:\n"
        "  - name: big\n    provider: ollama\n    model: qwen3-coder:1m\n"
        "  - name: coder\n    provider: ollama\n    model: qwen3-coder:30b\n",
        encoding="utf-8",
    )
    report = _json(capsys, "scan", "--format", "json", *_opts(server, "cfg"))
    windows = {a["model"]: a["context_window"] for a in report["agents"]}
    # 65,536 from /api/show; 1,048,576 printed as 1.048576e+06 and parsed to 1
    assert windows == {"qwen3-coder:1m": 1, "qwen3-coder:30b": 65536}
    (f,) = [
        f for f in report["findings"] if f["code"] == "CTX202" and f["model"] == "qwen3-coder:1m"
    ]
    assert "Number.parseInt('1.048576e+06') = 1" in f["message"]
    # the fix writes the window explicitly, so Continue no longer parses the model's value
    _code, out, _err = run_cli(capsys, "apply", "--dry-run", *_opts(server, "cfg"))
    assert "+    defaultCompletionOptions:" in out and "+        contextLength: 262144" in out, out


# --------------------------------------------------------------------------- Aider


def test_aider_auto_num_ctx_needs_no_edit_but_an_explicit_low_one_is_ctx202(
    server: OllamaDouble, tmp_path: Path, capsys
) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    (work / ".aider.conf.yml").write_text("model: ollama_chat/llama3.1:8b\n", encoding="utf-8")
    report = _json(capsys, "scan", "--format", "json", *_opts(server, "repo"))
    (b,) = report["agents"]
    # aider sends num_ctx = tokens x 1.25 + 8192 itself: the server default never bites
    assert b["served_ctx"] == 131072
    assert not [
        f
        for f in report["findings"]
        if f.get("agent") == "aider" and f["severity"] in ("error", "warning")
    ]
    (work / ".aider.model.settings.yml").write_text(
        "- name: ollama_chat/llama3.1:8b\n  extra_params:\n    num_ctx: 8192\n", encoding="utf-8"
    )
    report = _json(capsys, "scan", "--format", "json", *_opts(server, "repo"))
    (f,) = [f for f in report["findings"] if f["code"] == "CTX202"]
    assert f["data"]["cap"] == 8192 and "sends num_ctx 8,192" in f["message"]
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(server, "repo"))
    assert code == 0, out + err
    text = (work / ".aider.model.settings.yml").read_text(encoding="utf-8")
    assert "num_ctx: 131072" in text
    code, out, err = run_cli(capsys, "scan", *_opts(server, "repo"))
    assert code == 0, out


# --------------------------------------------------------------------------- LiteLLM


def test_litellm_keeps_its_public_alias(server: OllamaDouble, tmp_path: Path, capsys) -> None:
    work = tmp_path / "proxy"
    work.mkdir()
    (work / "config.yaml").write_text(
        "model_list:\n"
        "  - model_name: qwen3-coder:30b\n"
        "    litellm_params:\n"
        "      model: ollama_chat/qwen3-coder:30b\n"
        f"      api_base: {server.url}\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(server, "proxy"))
    assert code == 0, out + err
    text = (work / "config.yaml").read_text(encoding="utf-8")
    assert "  - model_name: qwen3-coder:30b\n" in text  # clients call this name
    assert "      model: ollama_chat/qwen3-coder:30b-262k\n" in text


# --------------------------------------------------------------------------- Zed


def test_zed_never_inserts_the_global_window(server: OllamaDouble, tmp_path: Path, capsys) -> None:
    work = tmp_path / "zed"
    work.mkdir()
    (work / "settings.json").write_text(
        '{\n  "agent": {"default_model": {"provider": "ollama", "model": "llama3.1:8b"}},\n'
        '  "language_models": {"ollama": {"api_url": "http://localhost:11434",\n'
        '    "available_models": [{"name": "qwen3-coder:30b", "max_tokens": 262144}]}}\n}\n',
        encoding="utf-8",
    )
    before = (work / "settings.json").read_text(encoding="utf-8")
    _code, out, _err = run_cli(capsys, "apply", "--dry-run", *_opts(server, "zed"))
    # one `context_window` for every Ollama model would override qwen's max_tokens
    assert "context_window" not in out
    assert "CTX202 zed/settings.json: zed has no setting ctxfix can write" in out
    assert "(set it to 131,072" in out
    assert (work / "settings.json").read_text(encoding="utf-8") == before


# --------------------------------------------------------------------------- Goose


def test_goose_environment_overrides_are_read_by_scan(
    server: OllamaDouble, tmp_path: Path, monkeypatch, capsys
) -> None:
    home = tmp_path / "home"
    cfg = home / ".config" / "goose" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        "GOOSE_PROVIDER: ollama\nGOOSE_MODEL: qwen3-coder:30b\n"
        f"OLLAMA_HOST: {server.url}\nGOOSE_CONTEXT_LIMIT: 32768\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GOOSE_CONTEXT_LIMIT", "65536")
    report = _json(
        capsys,
        "scan",
        "--format",
        "json",
        "--host",
        server.url,
        "--no-store",
        "--isolated",
        str(cfg),
    )
    (b,) = [a for a in report["agents"] if a["agent"] == "goose"]
    assert b["context_window"] == 65536  # the environment wins over config.yaml


# --------------------------------------------------------------------------- opencode


def test_opencode_moves_its_model_entry_to_the_new_name(
    server: OllamaDouble, tmp_path: Path, capsys
) -> None:
    work = tmp_path / "oc"
    work.mkdir()
    (work / "opencode.json").write_text(
        '{\n  "model": "ollama/qwen3-coder:30b",\n  "provider": {\n    "ollama": {\n'
        '      "npm": "@ai-sdk/openai-compatible",\n'
        f'      "options": {{"baseURL": "{server.url}/v1"}},\n'
        '      "models": {\n        "qwen3-coder:30b": {"limit": {"context": 65536, '
        '"output": 8192}}\n      }\n    }\n  }\n}\n',
        encoding="utf-8",
    )
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(server, "oc"))
    assert code == 0, out + err
    data = json.loads((work / "opencode.json").read_text(encoding="utf-8"))
    assert data["model"] == "ollama/qwen3-coder:30b-262k"
    assert list(data["provider"]["ollama"]["models"]) == ["qwen3-coder:30b-262k"]
    assert data["provider"]["ollama"]["models"]["qwen3-coder:30b-262k"]["limit"]["context"] == (
        262144
    )
    code, out, err = run_cli(capsys, "scan", *_opts(server, "oc"))
    assert "CTX202 [warning]" not in out, out


def test_a_hidden_code_is_not_fixed_and_a_selected_one_is(
    server: OllamaDouble, tmp_path: Path, capsys
) -> None:
    """Raising a sent num_ctx fixes CTX202: `--ignore CTX202` leaves it, `--select` fixes it."""
    work = tmp_path / "repo"
    work.mkdir()
    (work / ".aider.conf.yml").write_text("model: ollama_chat/llama3.1:8b\n", encoding="utf-8")
    (work / ".aider.model.settings.yml").write_text(
        "- name: ollama_chat/llama3.1:8b\n  extra_params:\n    num_ctx: 8192\n", encoding="utf-8"
    )
    _code, out, _err = run_cli(
        capsys, "apply", "--dry-run", "--ignore", "CTX202", *_opts(server, "repo")
    )
    assert "num_ctx: 8192" not in out and "ctxfix: nothing to change" in out, out
    _code, out, _err = run_cli(
        capsys, "apply", "--dry-run", "--select", "CTX202", *_opts(server, "repo")
    )
    assert "+    num_ctx: 131072" in out, out
