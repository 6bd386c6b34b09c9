"""`ctxfix scan` against live servers (the loopback double, real ollama client, real HTTP)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_run import DEMO, run_ctxfix
from ollama_server import OllamaDouble


def ctxfix(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_ctxfix(*args, cwd=cwd, timeout=timeout)


def scan_json(url: str, *extra: str, cwd: Path) -> dict:
    r = ctxfix(
        "scan",
        "--host",
        url,
        "--no-user",
        "--no-store",
        "--isolated",
        "--format",
        "json",
        *extra,
        cwd=cwd,
    )
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def ollama_double_cwd(tmp_path):
    d = tmp_path / "empty-project"
    d.mkdir()
    return d


def test_every_model_with_num_ctx_native_served_and_sources(ollama_double, ollama_double_cwd):
    report = scan_json(ollama_double.url, cwd=ollama_double_cwd)
    models = {m["name"]: m for m in report["models"]}
    assert set(models) == {
        "qwen3-coder:30b",
        "qwen3-coder:30b-v-128k",
        "llama3.1:8b",
        "qwen2.5-coder:32b-1m",
    }
    capped = models["qwen3-coder:30b-v-128k"]
    assert (capped["num_ctx"], capped["num_ctx_source"]) == (131072, "server")
    assert (capped["native_ctx"], capped["native_source"]) == (262144, "server")
    assert (capped["served_ctx"], capped["served_source"]) == (131072, "server")
    assert capped["host"] == ollama_double.url
    # Go prints 1000000 as 1e+06 in /api/show parameters: read back as an int, clamped
    one_m = models["qwen2.5-coder:32b-1m"]
    assert one_m["num_ctx"] == 1000000 and one_m["served_ctx"] == 32768
    assert any("clamped" in c for c in one_m["served_chain"])
    unset = models["qwen3-coder:30b"]
    assert unset["num_ctx"] is None and unset["served_ctx"] == 4096
    assert report["servers"] == [
        {"host": ollama_double.url, "version": "0.12.3", "vram_bytes": None}
    ]
    codes = {(f["code"], f["model"]) for f in report["findings"]}
    assert ("CTX101", "qwen3-coder:30b-v-128k") in codes
    assert ("CTX103", "qwen2.5-coder:32b-1m") in codes
    assert ("CTX104", "qwen3-coder:30b") in codes
    assert all(f["host"] == ollama_double.url for f in report["findings"])


@pytest.mark.parametrize(
    ("version", "vram", "default", "why"),
    [
        ("0.6.6", None, 2048, "2048 up to 0.6.6"),
        ("0.6.7", None, 4096, "4096 from 0.6.7"),
        ("0.15.5", None, 4096, "VRAM unknown"),
        ("0.15.5", "24GiB", 32768, ">= 23 GiB"),
        ("0.15.5", "48GiB", 262144, ">= 47 GiB"),
    ],
)
def test_ctx104_names_the_default_of_the_server_version(
    ollama_store, version, vram, default, why, ollama_double_cwd
):
    with OllamaDouble(ollama_store, version=version) as srv:
        extra = ("--vram", vram) if vram else ()
        report = scan_json(srv.url, "--select", "CTX104", *extra, cwd=ollama_double_cwd)
    found = [f for f in report["findings"] if f["model"] == "llama3.1:8b"]
    if default >= 131072:
        assert found == []  # the default already serves native 131,072 (clamped)
        return
    (f,) = found
    assert f["data"]["default"] == default
    assert why in f["message"] and version in f["message"]


def test_server_down_warns_once_and_scans_files(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = ctxfix("scan", str(DEMO), "--host", f"http://127.0.0.1:{port}", "--no-user")
    assert r.returncode == 1  # the demo's findings, not the fault
    warnings = [ln for ln in r.stderr.splitlines() if "no Ollama server" in ln]
    assert len(warnings) == 1 and "connection refused" in warnings[0]
    assert "scanned files and stores only" in warnings[0]
    assert "CTX202" in r.stdout and "Traceback" not in r.stderr


@pytest.mark.parametrize("fault", ["500", "malformed"])
def test_server_fault_names_host_and_endpoint(ollama_double, fault):
    ollama_double.set_fault(fault, "/api/tags")
    r = ctxfix("scan", str(DEMO), "--host", ollama_double.url, "--no-user")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert ollama_double.url in r.stderr and "/api/tags" in r.stderr


def test_slow_server_bounded_by_timeout(ollama_double):
    import time

    ollama_double.set_fault("delay", "/api/version", seconds=30)
    t0 = time.monotonic()
    r = ctxfix(
        "scan", str(DEMO), "--host", ollama_double.url, "--no-user", "--server-timeout", "0.5"
    )
    assert time.monotonic() - t0 < 10
    assert r.returncode == 1 and ollama_double.url in r.stderr


def test_store_and_server_views_merge(ollama_double, ollama_store, ollama_double_cwd):
    r = ctxfix(
        "scan",
        "--host",
        ollama_double.url,
        "--store",
        str(ollama_store),
        "--no-user",
        "--isolated",
        "--format",
        "json",
        cwd=ollama_double_cwd,
    )
    report = json.loads(r.stdout)
    names = [m["name"] for m in report["models"]]
    assert names.count("qwen3-coder:30b-v-128k") == 1
    merged = next(m for m in report["models"] if m["name"] == "qwen3-coder:30b-v-128k")
    assert merged["host"] == ollama_double.url


def test_loaded_context_differing_from_definition_is_reported(ollama_double, ollama_double_cwd):
    import ollama

    client = ollama.Client(host=ollama_double.url)
    client.generate(model="qwen3-coder:30b-v-128k", prompt="hi", options={"num_ctx": 8192})
    report = scan_json(ollama_double.url, cwd=ollama_double_cwd)
    (f,) = [f for f in report["findings"] if f["code"] == "CTX106"]
    assert f["model"] == "qwen3-coder:30b-v-128k" and "8,192" in f["message"]


@pytest.mark.parametrize("fault", ["500", "malformed"])
def test_a_broken_server_costs_one_warning_line(ollama_double, fault):
    ollama_double.set_fault(fault)  # every endpoint
    r = ctxfix("scan", str(DEMO), "--host", ollama_double.url, "--no-user")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ollama_double.url in ln]
    assert len(lines) == 1, r.stderr
    assert "/api/version" in lines[0] and "scanned files and stores only" in lines[0]
