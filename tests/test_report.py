"""The scan report as users and tools see it: JSON schema, text lines, selection, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from cli_run import DEMO, REPO, run_ctxfix

SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text())
OFFLINE = ("--no-server", "--no-user")


def scan(*args: str, cwd: Path = REPO):
    return run_ctxfix("scan", *args, cwd=cwd)


def test_demo_json_report_is_valid_and_complete():
    r = scan(str(DEMO), *OFFLINE, "--prefill-tps", "400", "--format", "json")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    jsonschema.validate(report, SCHEMA)
    (binding,) = report["agents"]
    assert binding == binding | {
        "agent": "openclaw",
        "model": "qwen3-coder:30b-v-128k",
        "context_window": 131072,
        "served_ctx": 131072,
        "timeout_s": 300,
        "api": "native",
    }
    assert binding["file"].endswith("fixtures/demo/openclaw.json")
    capped = next(m for m in report["models"] if m["name"] == "qwen3-coder:30b-v-128k")
    assert (
        capped
        | {
            "num_ctx": 131072,
            "num_ctx_source": "params",
            "native_ctx": 262144,
            "native_source": "gguf",
            "label_ctx": 131072,
            "arch": "qwen3moe",
            "kv_bytes_per_token": 96 * 1024,
        }
        == capped
    )
    codes = sorted(f["code"] for f in report["findings"])
    assert codes == ["CTX101", "CTX101", "CTX102", "CTX104", "CTX202", "CTX301"]
    ctx301 = next(f for f in report["findings"] if f["code"] == "CTX301")
    assert ctx301["message"].startswith(
        "prefill of 131,072 tokens at 400 tok/s takes 328 s > timeout 300 s"
    )
    # the base model no agent config uses is info (issue 10), the rest warnings
    assert report["summary"] == report["summary"] | {
        "findings": 6,
        "warning": 5,
        "info": 1,
        "error": 0,
    }


def test_text_lines_are_path_line_col_code():
    r = scan(str(DEMO), *OFFLINE)
    first = r.stdout.splitlines()[0]
    assert first.startswith(f"{DEMO}/Modelfile:4:19: CTX101 [warning] num_ctx 131,072 caps"), first
    assert "served/native" in r.stdout  # the per-model summary table
    assert "50%" in r.stdout


def test_select_ignore_and_exit_codes():
    only = json.loads(scan(str(DEMO), *OFFLINE, "--select", "CTX2", "--format", "json").stdout)
    assert {f["code"] for f in only["findings"]} == {"CTX202"}
    rest = json.loads(scan(str(DEMO), *OFFLINE, "--ignore", "CTX1,CTX2", "--format", "json").stdout)
    assert {f["code"] for f in rest["findings"]} == {"CTX301"}
    # only an info finding left: exit 0
    assert scan(str(DEMO), *OFFLINE, "--select", "CTX301").returncode == 0
    assert scan(str(DEMO), *OFFLINE).returncode == 1
    assert scan(str(DEMO), *OFFLINE, "--exit-zero").returncode == 0
    bad = scan(str(DEMO), *OFFLINE, "--format", "yaml")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_output_file(tmp_path):
    out = tmp_path / "report.json"
    r = scan(str(DEMO), *OFFLINE, "--format", "json", "--output", str(out))
    assert r.stdout == "" and r.returncode == 1
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)


def test_modelfile_from_a_local_gguf_reads_its_native_context(tmp_path):
    shutil.copy(REPO / "fixtures" / "gguf" / "llama3.1-8b.gguf", tmp_path / "llama.gguf")
    (tmp_path / "Modelfile").write_text("FROM ./llama.gguf\nPARAMETER num_ctx 8192\n")
    r = scan("Modelfile", *OFFLINE, "--no-store", "--isolated", "--format", "json", cwd=tmp_path)
    report = json.loads(r.stdout)
    (m,) = report["models"]
    assert (m["native_ctx"], m["native_source"], m["arch"]) == (131072, "gguf", "llama")
    (f,) = report["findings"]
    assert f["code"] == "CTX101" and f["location"]["line"] == 2


@pytest.mark.parametrize(
    ("modelfile", "code"),
    [
        ("FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n", "CTX101"),
        ("FROM llama3.1:8b\nPARAMETER num_ctx 262144\n", "CTX103"),
        ("FROM qwen3-coder:30b\nPARAMETER num_ctx 1e+06\n", "CTX105"),
    ],
)
def test_repo_modelfile_resolves_through_the_offline_catalog(tmp_path, modelfile, code):
    # CI and pre-commit: no store, no server; FROM a library model still has a native context
    (tmp_path / "Modelfile").write_text(modelfile)
    r = scan("Modelfile", *OFFLINE, "--no-store", "--isolated", "--format", "json", cwd=tmp_path)
    report = json.loads(r.stdout)
    assert [f["code"] for f in report["findings"]] == [code]
    if code != "CTX105":
        assert report["models"][0]["native_source"] == "catalog"


def test_color_always_even_when_piped_and_never_by_default_in_a_pipe():
    coloured = scan(str(DEMO), *OFFLINE, "--color", "always").stdout
    assert "\x1b[" in coloured
    assert "\x1b[" not in scan(str(DEMO), *OFFLINE).stdout
    assert "\x1b[" not in scan(str(DEMO), *OFFLINE, "--color", "never").stdout


def test_unknown_rule_code_is_a_usage_error():
    r = scan(str(DEMO), *OFFLINE, "--select", "CTX999")
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == "ctxfix: error: --select: unknown rule code 'CTX999' (see `ctxfix rules`)"
    )
