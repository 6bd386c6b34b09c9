"""`apply` fixes exactly what `scan` reports: suppressions and selections hold for both.

Every test runs the real CLI on real files (the README's Modelfile example,
fixtures/demo with the loopback Ollama double) and checks what a user sees:
the bytes of the file after `apply --yes`, what `apply --dry-run` says, and
which models exist on the server. Each suppression test has a control run
without the suppression, so it cannot pass by apply doing nothing at all.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from cli_run import REPO
from test_apply_demo import DEMO, demo, run_cli  # noqa: F401  (fixture)

from ctxfix.ollama_writes import model_digest

OLD = "qwen3-coder:30b-v-128k"
NEW = "qwen3-coder:30b-262k"
OFFLINE = ["--no-create", "--no-server", "--no-user", "--no-store"]

README_MODELFILE = (
    "# ctxfix: ignore[CTX101] capped on purpose: this box has 32 GB\n"
    "FROM qwen3-coder:30b\n"
    "PARAMETER num_ctx 131072\n"
)
CAPPED_MODELFILE = README_MODELFILE.split("\n", 1)[1]


# --------------------------------------------------------------------------- Modelfiles


def test_readme_modelfile_ignore_is_respected_by_apply(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    mf = tmp_path / "Modelfile"
    mf.write_text(README_MODELFILE)

    code, out, err = run_cli(capsys, "scan", *OFFLINE[1:], "Modelfile")
    assert code == 0 and "All clear" in out, out + err
    code, out, err = run_cli(capsys, "apply", "--dry-run", *OFFLINE, "Modelfile")
    assert code == 0 and "nothing to change" in out, out + err
    code, out, err = run_cli(capsys, "apply", "--yes", *OFFLINE, "Modelfile")
    assert code == 0, err
    assert "nothing to change" in out
    assert mf.read_text() == README_MODELFILE


def test_the_same_modelfile_without_the_comment_is_fixed(tmp_path, monkeypatch, capsys) -> None:
    """Control: the suppression, not something else, is what keeps the file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    mf = tmp_path / "Modelfile"
    mf.write_text(CAPPED_MODELFILE)
    code, _out, err = run_cli(capsys, "apply", "--yes", *OFFLINE, "Modelfile")
    assert code == 0, err
    assert mf.read_text() == CAPPED_MODELFILE.replace("131072", "262144")


def _hook_entry(hook_id: str) -> list[str]:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe", pure=True).load((REPO / ".pre-commit-hooks.yaml").read_text())
    (entry,) = [h["entry"] for h in hooks if h["id"] == hook_id]
    return shlex.split(entry)


def _run_hook(hook_id: str, cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """The hook's own command line with the staged file names, as pre-commit runs it."""
    argv = _hook_entry(hook_id)
    assert argv[0] == "ctxfix"
    return subprocess.run(
        [sys.executable, "-m", "ctxfix", *argv[1:], *files],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "CTXFIX_STATE_DIR": str(cwd / "s")},
        timeout=120,
    )


def test_pre_commit_fix_hook_keeps_a_suppressed_cap(tmp_path) -> None:
    (tmp_path / "Modelfile").write_text(README_MODELFILE)
    (tmp_path / "other.Modelfile").write_text(CAPPED_MODELFILE)

    scan = _run_hook("ctxfix", tmp_path, "Modelfile")
    assert scan.returncode == 0, scan.stdout + scan.stderr
    fix = _run_hook("ctxfix-fix", tmp_path, "Modelfile")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert (tmp_path / "Modelfile").read_text() == README_MODELFILE
    # both files staged: only the one without the comment is edited
    fix = _run_hook("ctxfix-fix", tmp_path, "Modelfile", "other.Modelfile")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert (tmp_path / "Modelfile").read_text() == README_MODELFILE
    assert "PARAMETER num_ctx 262144" in (tmp_path / "other.Modelfile").read_text()


def test_settings_ignore_all_and_select(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    mf = tmp_path / "Modelfile"
    mf.write_text(CAPPED_MODELFILE)
    cfg = tmp_path / ".ctxfix.yaml"
    for settings in (
        "ignore: [ALL]\n",
        "select: [CTX2]\n",
        "per_path_ignores:\n  Modelfile: [CTX1]\n",
    ):
        cfg.write_text(settings)
        code, out, err = run_cli(capsys, "scan", *OFFLINE[1:], "Modelfile")
        assert code == 0, settings + out + err
        code, out, err = run_cli(capsys, "apply", "--dry-run", *OFFLINE, "Modelfile")
        assert code == 0 and "nothing to change" in out, settings + out + err
    cfg.write_text("select: [CTX101]\n")
    code, out, err = run_cli(capsys, "apply", "--dry-run", *OFFLINE, "Modelfile")
    assert code == 1 and "+PARAMETER num_ctx 262144" in out, out + err
    # flags on apply, like scan's
    cfg.unlink()
    for flags in (["--ignore", "CTX101"], ["--select", "CTX3"], ["--ignore", "ALL"]):
        code, out, err = run_cli(capsys, "apply", "--dry-run", *flags, *OFFLINE, "Modelfile")
        assert code == 0 and "nothing to change" in out, f"{flags}: {out}{err}"
    code, out, err = run_cli(
        capsys, "apply", "--dry-run", "--select", "CTX1", *OFFLINE, "Modelfile"
    )
    assert code == 1 and "+PARAMETER num_ctx 262144" in out, out + err


# --------------------------------------------------------------------------- agents (demo)


def test_settings_ignore_ctx202_keeps_the_window_but_fixes_the_model(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    (work / ".ctxfix.yaml").write_text("ignore: [CTX202]\n")
    code, _out, err = run_cli(capsys, "apply", "--yes", "--host", srv.url, "--no-user", ".")
    assert code == 0, err
    assert model_digest(srv.url, NEW) is not None  # the model is still fixed
    text = (work / "openclaw.json").read_text()
    original = (DEMO / "openclaw.json").read_text()
    assert text == original.replace("30b-v-128k", "30b-262k")  # renamed, window kept
    assert "contextWindow: 131072," in text


def test_inline_ignore_ctx301_keeps_the_timeout(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    cfg = work / "openclaw.json"
    original = cfg.read_text()
    opts = ["--prefill-tps", "400", "--host", srv.url, "--no-user", "."]
    # control: the timeout is raised without the comment
    code, out, err = run_cli(capsys, "apply", "--dry-run", *opts)
    assert code == 1 and "+        timeoutSeconds: 820," in out, out + err

    marked = original.replace(
        "timeoutSeconds: 300,", "timeoutSeconds: 300, // ctxfix: ignore[CTX301]"
    )
    assert marked != original
    cfg.write_text(marked)
    code, out, err = run_cli(capsys, "apply", "--yes", *opts)
    assert code == 0, err
    assert cfg.read_text() == marked.replace("30b-v-128k", "30b-262k").replace(
        "contextWindow: 131072", "contextWindow: 262144"
    )


def test_suppressed_model_keeps_the_agent_on_the_old_model(demo, capsys) -> None:  # noqa: F811
    """The agent's model's codes hidden: it gets no new definition, the agent is
    not renamed, and its window is raised only to what the old model serves
    (131,072), never to 262,144."""
    import json

    work, srv = demo
    cfg = work / "openclaw.json"
    original = cfg.read_text()
    cfg.write_text(original.replace("contextWindow: 131072", "contextWindow: 65536"))
    opts = ["--host", srv.url, "--no-user", "."]

    code, out, err = run_cli(capsys, "scan", "--ignore", "CTX101,CTX102", *opts)
    assert "CTX202" in out and "CTX101" not in out and "CTX102" not in out, out + err
    code, out, err = run_cli(
        capsys, "apply", "--dry-run", "--json", "--ignore", "CTX101,CTX102", *opts
    )
    assert code == 1, err
    plan = json.loads(out)
    # the agent's model (whose CTX101/CTX102 are hidden) is not fixed, and the
    # base model no config uses is info (its CTX104), so no model is created
    assert plan["actions"] == []
    assert [(e["file"], e["key"], e["old"], e["new"]) for e in plan["edits"]] == [
        ("openclaw.json", "models.providers.ollama.models[0].contextWindow", 65536, 131072)
    ]

    code, out, err = run_cli(capsys, "apply", "--yes", "--ignore", "CTX101,CTX102,CTX104", *opts)
    assert code == 0, err
    assert cfg.read_text() == original  # 65,536 -> 131,072: what the old model serves
    assert model_digest(srv.url, NEW) is None
    assert (work / "Modelfile").read_text() == (DEMO / "Modelfile").read_text()
    assert not [r for r in srv.requests if r[1] == "/api/create"]


def test_select_only_timeouts_times_the_window_served_now(demo, capsys) -> None:  # noqa: F811
    """`--select CTX3`: no model fix, so the timeout covers the 131,072 served now."""
    work, srv = demo
    cfg = work / "openclaw.json"
    original = cfg.read_text()
    opts = ["--select", "CTX3", "--prefill-tps", "400", "--host", srv.url, "--no-user", "."]
    code, _out, err = run_cli(capsys, "apply", "--yes", *opts)
    assert code == 0, err
    # 131072 / 400 x 1.25 = 409.6 -> 410 s
    assert cfg.read_text() == original.replace("timeoutSeconds: 300,", "timeoutSeconds: 410,")
    assert model_digest(srv.url, NEW) is None
