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
