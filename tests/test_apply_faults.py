"""Faults during apply/rollback: one line, exit 2, nothing half-written, no model left behind."""

from __future__ import annotations

import errno
import json

from test_apply_demo import demo, run_cli, tree_hashes  # noqa: F401  (fixture)

from ctxfix import journal as jmod
from ctxfix.ollama_writes import model_digest


def _opts(srv) -> list[str]:
    return ["--host", srv.url, "--no-user", "."]


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("ctxfix: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_server_error_during_create_changes_nothing(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    before = tree_hashes(work)
    srv.set_fault("500", "/api/create", message="out of disk on the server")
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2
    assert "out of disk on the server" in _one_error_line(err)
    assert tree_hashes(work) == before
    assert model_digest(srv.url, "qwen3-coder:30b-262k") is None


def test_disk_full_while_writing_deletes_the_created_model(demo, capsys, monkeypatch) -> None:  # noqa: F811
    work, srv = demo
    before = tree_hashes(work)

    def full(target, data, like):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jmod, "write_temp_beside", full)
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2
    assert "No space left on device" in _one_error_line(err)
    assert tree_hashes(work) == before
    assert model_digest(srv.url, "qwen3-coder:30b-262k") is None  # undone


def test_unwritable_file_is_one_line_and_changes_nothing(demo, capsys, monkeypatch) -> None:  # noqa: F811
    work, srv = demo
    before = tree_hashes(work)
    real = jmod.write_temp_beside

    def denied(target, data, like):  # root ignores modes: cause the EACCES a user gets
        if target.name == "openclaw.json":
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(target, data, like)

    monkeypatch.setattr(jmod, "write_temp_beside", denied)
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2
    line = _one_error_line(err)
    assert "openclaw.json" in line and "Permission denied" in line
    assert tree_hashes(work) == before
    assert not [p for p in work.iterdir() if "ctxfix-tmp" in p.name]


def test_file_changed_between_plan_and_write(demo, capsys, monkeypatch) -> None:  # noqa: F811
    work, srv = demo
    from ctxfix import apply_ops

    real_render = apply_ops.render

    def render_then_user_edits(plan, **kw):
        r = real_render(plan, **kw)
        with open(work / "openclaw.json", "a") as fh:
            fh.write("// edited by the user meanwhile\n")
        return r

    monkeypatch.setattr(apply_ops, "render", render_then_user_edits)
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2
    assert "changed since it was planned" in _one_error_line(err)
    assert (work / "openclaw.json").read_text().endswith("// edited by the user meanwhile\n")
    assert model_digest(srv.url, "qwen3-coder:30b-262k") is None  # checked before creating


def test_tampered_journal_is_refused(demo, capsys, tmp_path) -> None:  # noqa: F811
    work, srv = demo
    code, _, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    applied = tree_hashes(work)
    jfile = next((tmp_path / "state" / "journal").glob("*/journal.json"))
    data = json.loads(jfile.read_text())
    data["files"][0]["backup"] = "../../../../etc/passwd"
    jfile.write_text(json.dumps(data))
    code, _out, err = run_cli(capsys, "rollback", "--last")
    assert code == 2
    assert "tampered" in _one_error_line(err)
    assert tree_hashes(work) == applied
    assert model_digest(srv.url, "qwen3-coder:30b-262k") is not None


def test_rollback_refuses_a_file_changed_after_apply_unless_forced(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    original = tree_hashes(work)
    code, _, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    with open(work / "openclaw.json", "a") as fh:
        fh.write("// later edit\n")
    code, out, err = run_cli(capsys, "rollback", "--last")
    assert code == 1
    assert "refused" in err and "openclaw.json" in err
    assert model_digest(srv.url, "qwen3-coder:30b-262k") is not None  # nothing undone
    code, out, err = run_cli(capsys, "rollback", "--last", "--dry-run", "--force")
    assert code == 0 and "would restore" in out
    code, out, err = run_cli(capsys, "rollback", "--last", "--force")
    assert code == 0, err
    assert tree_hashes(work) == original
