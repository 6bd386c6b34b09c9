"""Fit-aware fixes: the memory budget lowers the target, and only when it is known."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from cli_run import DEMO, REPO, run_ctxfix


def ctxfix(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return run_ctxfix(*args, cwd=cwd)


def findings(*extra: str) -> list[dict]:
    r = ctxfix("scan", str(DEMO), "--no-server", "--no-user", "--format", "json", *extra)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["findings"]


def test_32gib_reports_ctx302_with_the_largest_fitting_multiple_of_1024():
    ctx302 = [f for f in findings("--memory", "32GiB") if f["code"] == "CTX302"]
    assert ctx302, "the 262k target does not fit 32 GiB: CTX302 must say so"
    fit = {f["data"]["max_fitting_ctx"] for f in ctx302}
    assert len(fit) == 1
    (best,) = fit
    assert best % 1024 == 0 and 131072 < best < 262144
    assert all("262,144 does not fit" in f["message"] for f in ctx302)
    # the CTX101 fix aims at what fits, not at native
    ctx101 = [f for f in findings("--memory", "32GiB") if f["code"] == "CTX101"]
    assert {f["data"]["target"] for f in ctx101} == {best}


def test_64gib_fits_native_and_stays_silent():
    fs = findings("--memory", "64GiB")
    assert not [f for f in fs if f["code"] == "CTX302"]
    assert {f["data"]["target"] for f in fs if f["code"] == "CTX101"} == {262144}


def test_no_budget_no_ctx302_on_an_offline_repo_scan():
    # --no-user: the scanning machine's RAM must not leak into a repo scan (CI, pre-commit)
    assert not [f for f in findings() if f["code"] == "CTX302"]


def test_apply_chooses_the_largest_fitting_multiple_of_1024(tmp_path):
    work = tmp_path / "demo"
    shutil.copytree(DEMO, work)
    before = (work / "Modelfile").read_bytes()
    best = next(
        f["data"]["max_fitting_ctx"] for f in findings("--memory", "32GiB") if f["code"] == "CTX302"
    )
    r = ctxfix("apply", ".", "--no-server", "--no-user", "--memory", "32GiB", "--yes", cwd=work)
    assert r.returncode == 0, r.stderr
    after = (work / "Modelfile").read_bytes()
    assert after == before.replace(b"num_ctx 131072", f"num_ctx {best}".encode())
    r = ctxfix("rollback", "--last", cwd=work)
    assert r.returncode == 0, r.stderr
    assert (work / "Modelfile").read_bytes() == before


def test_target_policy_native_ignores_the_budget(tmp_path):
    work = tmp_path / "demo"
    shutil.copytree(DEMO, work)
    settings = work / ".ctxfix.yaml"
    settings.write_text(settings.read_text() + "target_policy: native\n")
    r = ctxfix(
        "scan", ".", "--no-server", "--no-user", "--memory", "32GiB", "--format", "json", cwd=work
    )
    fs = json.loads(r.stdout)["findings"]
    assert {f["data"]["target"] for f in fs if f["code"] == "CTX101"} == {262144}
    assert [f for f in fs if f["code"] == "CTX302"]  # and the misfit is still reported


def test_quantised_cache_without_flash_attention_is_said_to_fall_back(tmp_path):
    work = tmp_path / "demo"
    shutil.copytree(DEMO, work)
    (work / "compose.yaml").write_text(
        "services:\n  ollama:\n    image: ollama/ollama:0.12.3\n    environment:\n"
        "      - OLLAMA_KV_CACHE_TYPE=q8_0\n      - OLLAMA_FLASH_ATTENTION=0\n"
    )
    r = ctxfix(
        "scan", ".", "--no-server", "--no-user", "--memory", "32GiB", "--format", "json", cwd=work
    )
    ctx302 = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "CTX302"]
    assert ctx302 and all("falls back to f16" in f["message"] for f in ctx302)
    assert all(f["data"]["kv_cache_type"] == "f16" for f in ctx302)
    assert all("OLLAMA_FLASH_ATTENTION=1" in f["data"]["advice"] for f in ctx302)


def test_estimate_reserve_and_flash_attention_flags():
    r = ctxfix(
        "estimate",
        "qwen3-coder:30b",
        "--no-server",
        "--no-store",
        "--memory",
        "32GiB",
        "--kv-cache-type",
        "q8_0",
        "--no-flash-attention",
        "--reserve",
        "8GiB",
    )
    assert r.returncode == 0, r.stderr
    assert "note: q8_0 KV cache needs flash attention: falls back to f16" in r.stdout
    assert "unified machines keep 8.0 GiB for the OS" in r.stdout
    with_fa = ctxfix(
        "estimate",
        "qwen3-coder:30b",
        "--no-server",
        "--no-store",
        "--memory",
        "32GiB",
        "--kv-cache-type",
        "q8_0",
        "--flash-attention",
    )
    assert "KV cache q8_0" in with_fa.stdout and "falls back" not in with_fa.stdout


def test_scan_reports_the_budget_and_its_source():
    text = ctxfix("scan", str(DEMO), "--no-server", "--no-user").stdout
    assert "memory budget 64.0 GiB (settings file " in text
    report = json.loads(
        ctxfix(
            "scan", str(DEMO), "--no-server", "--no-user", "--memory", "48GiB", "--format", "json"
        ).stdout
    )
    assert report["budget"]["memory_bytes"] == 48 * 1024**3
    assert report["budget"]["memory_source"] == "--memory"
