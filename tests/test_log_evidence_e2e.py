"""End to end: the loopback double truncates a prompt and logs it; `scan --log` proves it.

The double (tests/ollama_server.py, `log_path=`) writes the load and
`truncating input prompt` lines a real server writes, in Ollama's slog text
format; the scan reads that file and must attribute the truncation to the
model by its blob digest and join it to the agent that uses it.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from cli_run import DEMO
from ollama_server import OllamaDouble
from test_apply_demo import demo, run_cli  # noqa: F401  (fixture)


def _post(url: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(
        url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@pytest.mark.parametrize(
    ("version", "new"),
    [("0.12.3", 131072), ("0.33.0", 65538)],  # runner cut vs contextShiftPromptLimit
)
def test_scan_log_finds_the_truncation_the_double_performed(
    ollama_store: Path, tmp_path: Path, capsys, version: str, new: int
) -> None:
    log = tmp_path / "ollama.log"
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DEMO / "openclaw.json", project / "openclaw.json")
    words = "w " * 146760
    with OllamaDouble(ollama_store, version, log_path=log) as srv:
        out = _post(
            srv.url,
            "/api/generate",
            {"model": "qwen3-coder:30b-v-128k", "prompt": words, "stream": False},
        )
        assert out["prompt_eval_count"] == new
        chat = {"role": "user", "content": "w " * 140000}
        _post(srv.url, "/api/chat", {"model": "qwen3-coder:30b-v-128k", "messages": [chat]})
        _post(srv.url, "/api/generate", {"model": "llama3.1:8b", "prompt": "hi", "stream": False})
    text = log.read_text()
    assert text.count('msg="truncating input prompt"') == 2
    code, out, err = run_cli(
        capsys,
        "scan",
        str(project),
        "--no-server",
        "--no-user",
        "--isolated",
        "--store",
        str(ollama_store),
        "--log",
        str(log),
        "--format",
        "json",
    )
    assert code == 1, err
    doc = json.loads(out)
    (f,) = [f for f in doc["findings"] if f["code"] == "CTX401"]
    assert f["severity"] == "error" and f["agent"] == "openclaw"
    msg = f["message"]
    assert msg.startswith("openclaw -> qwen3-coder:30b-v-128k: 2 prompts cut on "), msg
    assert f"(largest 146,760 -> {new:,}) at num_ctx 131,072" in f["message"]
    assert f["location"]["file"] == str(log)
    ev = f["data"]["evidence"]
    assert ev["count"] == 2 and ev["largest"]["prompt"] == 146760
    assert f["data"]["models"] == ["qwen3-coder:30b-v-128k"]  # not 30b, same blob
    (cap,) = [f for f in doc["findings"] if f["code"] == "CTX101" and f["model"].endswith("v-128k")]
    assert cap["severity"] == "error" and "the server log shows 2 prompts cut" in cap["message"]
    assert doc["evidence"]["logs"] == [str(log)]


def test_demo_log_after_apply_is_history_not_a_failure(demo, capsys) -> None:  # noqa: F811
    """The shipped demo log proves the cut before the fix; after apply it stays, as info."""
    _work, srv = demo
    opts = ["--host", srv.url, "--no-user", "--prefill-tps", "400", "."]
    code, out, err = run_cli(capsys, "scan", "--log", "server.log", *opts)
    assert code == 1
    assert "CTX401 [error] openclaw -> qwen3-coder:30b-v-128k: 3 prompts cut on 2026-11-27" in out
    code, out, err = run_cli(capsys, "apply", "--yes", "--log", "server.log", *opts)
    assert code == 0, out + err
    code, out, err = run_cli(capsys, "scan", "--log", "server.log", *opts)
    assert code == 0, out + err
    assert "CTX401 [info] qwen3-coder:30b-v-128k: 3 prompts cut" in out
    assert "no agent config in view uses it now" in out


def _codes(capsys, *args: str) -> tuple[set[str], dict]:
    code, out, err = run_cli(capsys, "scan", *args, "--no-server", "--no-user", "--format", "json")
    assert code in (0, 1), err
    doc = json.loads(out)
    return {f["code"] for f in doc["findings"]}, doc


def test_which_logs_a_scan_reads(capsys) -> None:
    """A log inside a walked directory is not evidence; named (as a path or --log) it is."""
    codes, doc = _codes(capsys, str(DEMO))
    assert "CTX401" not in codes and doc["evidence"] is None
    log = str(DEMO / "server.log")
    codes, doc = _codes(capsys, str(DEMO), log)
    assert "CTX401" in codes and doc["evidence"]["logs"] == [log]
    codes, doc = _codes(capsys, str(DEMO), "--log", log, "--no-log")
    assert "CTX401" not in codes and doc["evidence"] is None
    code, _, err = run_cli(capsys, "scan", str(DEMO), "--no-user", "--since", "someday")
    assert code == 2 and "--since: invalid duration or date 'someday'" in err


def test_verify_probes_are_not_evidence(ollama_store: Path, tmp_path: Path, capsys) -> None:
    """verify cuts a prompt on purpose; the next scan must not report it as the user's."""
    log = tmp_path / "ollama.log"
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(DEMO / "openclaw.json", project / "openclaw.json")
    with OllamaDouble(ollama_store, "0.12.3", log_path=log) as srv:
        code, _out, err = run_cli(
            capsys,
            "verify",
            "qwen3-coder:30b-v-128k",
            "--host",
            srv.url,
            "--memory",
            "64GiB",
            "--time-limit",
            "900",
            "--no-user",
        )
        assert code == 1, err  # the window is cut at 131,072: a real cut, on purpose
    assert 'msg="truncating input prompt"' in log.read_text()
    args = ["scan", str(project), "--no-server", "--no-user", "--isolated"]
    args += ["--store", str(ollama_store), "--log", str(log), "--format", "json"]
    code, out, err = run_cli(capsys, *args)
    doc = json.loads(out)
    assert not [f for f in doc["findings"] if f["code"] == "CTX401"]
    assert "sent by ctxfix verify not counted as evidence" in err


def test_summary_table_shows_the_evidence_only_when_a_log_was_read(capsys) -> None:
    args = ["scan", str(DEMO), "--no-server", "--no-user", "--isolated"]
    _code, out, _err = run_cli(capsys, *args)
    assert "server log" not in out
    _code, out, _err = run_cli(capsys, *args, "--log", str(DEMO / "server.log"))
    header = next(line for line in out.splitlines() if line.startswith("model "))
    assert header.rstrip().endswith("server log")
    row = next(line for line in out.splitlines() if line.startswith("qwen3-coder:30b-v-128k "))
    assert row.rstrip().endswith("3 cut (largest 146,760)")
    base = next(line for line in out.splitlines() if line.startswith("qwen3-coder:30b "))
    assert base.rstrip().endswith(" -")
