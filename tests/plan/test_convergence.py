"""Convergence: after `apply --yes`, `scan` on the same inputs finds nothing apply could fix.

For the demo and for every agent fixture (fixtures/configs/<agent>/), against
the loopback Ollama double: apply, then `apply --dry-run` with the same
options must have nothing left to change (no edit, no model to create), and
every finding scan still shows at warning level or above must be listed by
that dry run under "not fixed", for the same file, with a reason. The demo
scans clean (exit 0) after its apply.

A finding that stays and was already reported before the apply must also be
listed by the dry run *before* it. One that only exists after the apply is
not (an agent's window lowered to what is served, when the agent cannot be
repointed, stays below the model's native window: CTX202); the dry run after
the apply lists it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ollama_server import OllamaDouble
from sqlite_fixtures import build_databases
from test_apply_demo import demo, run_cli  # noqa: F401  (fixture)
from test_apply_golden import AGENTS, CONFIGS, store_template  # noqa: F401  (fixture)


def _scan_json(capsys, opts: list[str]) -> tuple[int, dict]:
    code, out, err = run_cli(capsys, "scan", "--format", "json", *opts)
    assert code in (0, 1), err
    return code, json.loads(out)


def _not_fixed(out: str) -> str:
    """The "not fixed" listing of an `apply --dry-run`."""
    return out.split("not fixed (these findings stay):", 1)[-1] if "not fixed" in out else ""


def _loud(report: dict) -> list[str]:
    return [
        f"{f['code']} {f['location']['file'] if f.get('location') else ''}: {f['message']}"
        for f in report["findings"]
        if f["severity"] in ("error", "warning")
    ]


@pytest.mark.parametrize("agent", AGENTS)
def test_apply_then_scan_is_clean_for_every_agent(
    agent: str,
    store_template: Path,  # noqa: F811  (the fixture, imported)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> None:
    work = tmp_path / agent
    shutil.copytree(CONFIGS / agent, work)
    build_databases(work)
    store = tmp_path / "models"
    shutil.copytree(store_template, store)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    with OllamaDouble(store) as srv:
        opts = ["--host", srv.url, "--no-user", "--isolated", "--prefill-tps", "400", agent]
        _code, before = _scan_json(capsys, opts)
        reported_before = {line.split(": ", 1)[0] for line in _loud(before)}
        _code, out, _err = run_cli(capsys, "apply", "--dry-run", *opts)
        announced = _not_fixed(out)
        code, out, err = run_cli(capsys, "apply", "--yes", *opts)
        assert code == 0, out + err
        code, out, err = run_cli(capsys, "apply", "--dry-run", *opts)
        assert "--- a/" not in out and "create model" not in out, out
        not_fixed = _not_fixed(out)
        code, report = _scan_json(capsys, opts)
        left = _loud(report)
        # what stays is exactly what apply says it cannot fix, each with a reason
        for line in left:
            code_and_file = line.split(": ", 1)[0]  # "CTX202 pi/.pi/agent/models.json"
            assert f"    {code_and_file}: " in not_fixed, f"apply left a fixable finding: {line}"
            if code_and_file in reported_before:  # there before the apply: the plan knew it
                assert f"    {code_and_file}: " in announced, f"not announced: {line}"
        assert "apply has no edit for this\n" not in not_fixed, not_fixed
        if not left:
            assert code == 0


def test_demo_apply_then_scan_exits_zero(demo, capsys) -> None:  # noqa: F811
    _work, srv = demo
    opts = ["--host", srv.url, "--no-user", "--prefill-tps", "400", "."]
    code, out, err = run_cli(capsys, "apply", "--yes", *opts)
    assert code == 0, out + err
    code, out, err = run_cli(capsys, "scan", *opts)
    assert code == 0, out + err
    # the old definition is reported as superseded (info), with the command that removes it
    assert "superseded by qwen3-coder:30b-262k" in out
    assert "`ollama rm qwen3-coder:30b-v-128k`" in out
    # the base model no config uses is info, not a warning
    assert "CTX104 [info]" in out


def test_offline_demo_lists_what_stays(tmp_path: Path, monkeypatch, capsys) -> None:
    """Without a server the new model cannot exist yet: the agent's cap stays, and says why."""
    from test_apply_demo import DEMO

    work = tmp_path / "demo"
    shutil.copytree(DEMO, work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(work)
    opts = ["--no-server", "--no-user", "--prefill-tps", "400", "."]
    code, out, err = run_cli(capsys, "apply", "--dry-run", *opts)
    assert code == 1
    assert "not fixed (these findings stay):" in out
    assert "CTX202 openclaw.json: qwen3-coder:30b-262k does not exist yet" in out
    code, out, err = run_cli(capsys, "apply", "--yes", *opts)
    assert code == 0, out + err
    code, report = _scan_json(capsys, opts)
    # the cap stays until the user runs the printed `ollama create`
    assert sorted(f.split(" ")[0] for f in _loud(report)) == ["CTX101", "CTX102", "CTX202"]
    code, out, err = run_cli(capsys, "apply", "--dry-run", *opts)
    assert "--- a/" not in out  # every file edit is done; the `ollama create` is the user's
    assert "ollama create qwen3-coder:30b-262k -f Modelfile.qwen3-coder_30b-262k" in out
