"""QA of `apply` / `rollback` / `history` beyond the happy path (issue 5).

Covers what the round-trip tests do not: `--in-place` replacement and its
rollback (including a model whose old definition had no num_ctx), the
confirmation prompt on a real terminal (a pty), the write path through the
CLI for a symlinked config, CRLF + BOM, mode 0600 and a failure between two
replaces, `history` after several applies, `rollback` with no journal, and
that dry runs send the server no write request.

Everything runs the real CLI against a copy of fixtures/demo and the loopback
Ollama double; the one mock is the failing `os.replace` (a fault the kernel
will not produce on demand).
"""

from __future__ import annotations

import errno
import json
import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

from ollama_server import OllamaDouble
from test_apply_demo import DEMO, demo, run_cli, tree_hashes  # noqa: F401  (fixture)

from ctxfix import journal as jmod
from ctxfix.ollama_writes import model_digest

NEW = "qwen3-coder:30b-262k"
OLD = "qwen3-coder:30b-v-128k"
BASE = "qwen3-coder:30b"  # a pulled model: no num_ctx in its params
WRITES = {("POST", "/api/create"), ("POST", "/api/copy"), ("DELETE", "/api/delete")}


def _opts(srv: OllamaDouble) -> list[str]:
    return ["--host", srv.url, "--no-user", "."]


def _tags(url: str) -> dict[str, str]:
    """name -> digest, as `ollama list` shows them."""
    import ollama

    c = ollama.Client(host=url)
    try:
        return {m.model: m.digest for m in c.list().models}
    finally:
        c._client.close()


def _params(url: str, name: str) -> str | None:
    """The `parameters` text /api/show gives for `name` (what `ollama show` prints)."""
    import ollama

    c = ollama.Client(host=url)
    try:
        return c.show(name).parameters
    finally:
        c._client.close()


def _journal(state: Path) -> dict:
    (path,) = sorted((state / "journal").glob("*/journal.json"))[-1:]
    return json.loads(path.read_text())


def _writes(srv: OllamaDouble) -> list[tuple[str, str]]:
    return [r for r in srv.requests if r in WRITES]


def _expected_openclaw(text: str) -> str:
    """What the motivating fix makes of the demo openclaw.json: three values, nothing else."""
    return text.replace(OLD, NEW).replace("contextWindow: 131072", "contextWindow: 262144")


# --------------------------------------------------------------------------- 1. --in-place


def _use_base(work: Path) -> None:
    """Make an agent use the base model too, so --in-place replaces both definitions.

    (A model no agent config uses is info and apply leaves it alone.)
    """
    # an agent on the OpenAI-compatible API sends no num_ctx: the definition is what it gets
    (work / "opencode.json").write_text(
        '{"model": "ollama/qwen3-coder:30b", "provider": {"ollama": {'
        '"npm": "@ai-sdk/openai-compatible", '
        '"options": {"baseURL": "http://127.0.0.1:11434/v1"}, '
        '"models": {"qwen3-coder:30b": {}}}}}\n',
        encoding="utf-8",
    )


def test_in_place_replaces_definitions_and_rollback_restores_them(demo, capsys, tmp_path) -> None:  # noqa: F811
    work, srv = demo
    _use_base(work)
    files_before = tree_hashes(work)
    tags_before = _tags(srv.url)
    params_before = {m: _params(srv.url, m) for m in (OLD, BASE)}
    assert "num_ctx" in params_before[OLD] and "num_ctx" not in params_before[BASE]

    code, out, err = run_cli(capsys, "apply", "--yes", "--in-place", *_opts(srv))
    assert code == 0, err
    from ctxfix.ollama_writes import show_num_ctx

    assert f"replaced {OLD} on {srv.url}: serves 262,144" in out
    # replaced under the same names: no new definition, both now serve 262,144
    assert NEW not in _tags(srv.url)
    assert show_num_ctx(srv.url, OLD) == 262144
    assert show_num_ctx(srv.url, BASE) == 262144
    # agents keep the model name; only the window follows what is served
    assert (work / "openclaw.json").read_text() == (DEMO / "openclaw.json").read_text().replace(
        "contextWindow: 131072", "contextWindow: 262144"
    )
    actions = {a["model"]: a for a in _journal(tmp_path / "state")["actions"]}
    assert set(actions) == {OLD, BASE}
    for name in (OLD, BASE):
        assert actions[name]["kind"] == "replace"
        assert actions[name]["previous_digest"] == tags_before[name]
        assert actions[name]["digest"] == _tags(srv.url)[name]
    assert actions[OLD]["previous_parameters"]["num_ctx"] == 131072
    assert "num_ctx" not in actions[BASE]["previous_parameters"]
    # the previous definitions are kept, byte-identical, under ctxfix-backup/ until rollback
    applied = _tags(srv.url)
    for name in (OLD, BASE):
        backup = actions[name]["backup_model"]
        assert backup.startswith(f"ctxfix-backup/{name}-")
        assert f"previous definition kept as {backup}" in out
        assert applied[backup] == tags_before[name]
    # ... and are never themselves planned for a fix
    code, out, _ = run_cli(capsys, "apply", "--dry-run", "--json", "--in-place", *_opts(srv))
    assert "ctxfix-backup" not in out
    # ... nor reported by a scan: they are ctxfix's rollback copies, not the user's models
    code, out, _ = run_cli(capsys, "scan", "--format", "json", *_opts(srv))
    assert "ctxfix-backup" not in out

    code, out, err = run_cli(capsys, "rollback", "--last")
    assert code == 0, err
    assert f"undid model {OLD}" in out and f"undid model {BASE}" in out
    assert tree_hashes(work) == files_before
    # the previous definitions exactly: same digests, same parameters, num_ctx unset again,
    # and no helper model left behind
    assert _tags(srv.url) == tags_before
    assert {m: _params(srv.url, m) for m in (OLD, BASE)} == params_before
    assert show_num_ctx(srv.url, BASE) is None
    assert _journal(tmp_path / "state")["state"] == "rolled_back"


def test_in_place_rollback_leaves_a_model_changed_after_the_apply(demo, capsys) -> None:  # noqa: F811
    _work, srv = demo
    _use_base(_work)
    code, _out, err = run_cli(capsys, "apply", "--yes", "--in-place", *_opts(srv))
    assert code == 0, err
    from ctxfix.ollama_writes import create_model, show_num_ctx

    create_model(srv.url, OLD, OLD, {"num_ctx": 200000})  # the user re-tuned it meanwhile
    code, out, err = run_cli(capsys, "rollback", "--last")
    assert code == 0, err
    backup = next(m for m in _tags(srv.url) if m.startswith(f"ctxfix-backup/{OLD}-"))
    assert f"kept model {OLD}: changed since the apply" in out and backup in out
    assert show_num_ctx(srv.url, OLD) == 200000  # the user's definition survives
    assert show_num_ctx(srv.url, BASE) is None  # the untouched one is restored


def test_in_place_create_failure_restores_models_replaced_before_it(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    _use_base(work)
    files_before = tree_hashes(work)
    tags_before = _tags(srv.url)
    params_before = {m: _params(srv.url, m) for m in (OLD, BASE)}
    # the second replacement fails on the server
    srv.set_fault("500", "/api/create", model=BASE, message="disk quota exceeded")
    code, _out, err = run_cli(capsys, "apply", "--yes", "--in-place", *_opts(srv))
    assert code == 2
    assert "disk quota exceeded" in err and "Traceback" not in err
    srv.clear_faults()
    assert tree_hashes(work) == files_before
    assert _tags(srv.url) == tags_before
    assert {m: _params(srv.url, m) for m in (OLD, BASE)} == params_before


# --------------------------------------------------------------------------- 2. prompt on a tty


def _run_on_pty(args: list[str], answer: bytes, cwd: Path) -> tuple[int, str]:
    """Run `ctxfix ARGS` with a pty as its terminal; answer the prompt; (exit code, screen)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctxfix", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        close_fds=True,
    )
    os.close(slave)
    screen = b""
    answered = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if not answered and b"Apply these changes? [y/N]: " in screen:
                os.write(master, answer)
                answered = True
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert answered, screen.decode(errors="replace")
    return code, screen.decode(errors="replace")


def test_prompt_on_a_terminal_answer_no_changes_nothing(demo) -> None:  # noqa: F811
    work, srv = demo
    before = tree_hashes(work)
    code, screen = _run_on_pty(["apply", *_opts(srv)], b"n\n", work)
    assert code == 1, screen
    assert "openclaw.json" in screen and f"create model {NEW}" in screen  # shown before asking
    assert "nothing was changed" in screen
    assert tree_hashes(work) == before
    assert _writes(srv) == []
    assert not list((Path(os.environ["CTXFIX_STATE_DIR"]) / "journal").glob("*/journal.json"))


def test_prompt_on_a_terminal_answer_yes_applies(demo) -> None:  # noqa: F811
    work, srv = demo
    code, screen = _run_on_pty(["apply", *_opts(srv)], b"y\n", work)
    assert code == 0, screen
    assert f"created {NEW}" in screen and "ctxfix: applied " in screen
    assert (work / "openclaw.json").read_text() == _expected_openclaw(
        (DEMO / "openclaw.json").read_text()
    )
    assert model_digest(srv.url, NEW) is not None


# --------------------------------------------------------------------------- 3. the write path


def test_symlinked_config_stays_a_link_and_its_target_is_edited(demo, capsys, tmp_path) -> None:  # noqa: F811
    work, srv = demo
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "openclaw.json"
    (work / "openclaw.json").rename(real)
    (work / "openclaw.json").symlink_to(real)
    original = real.read_bytes()

    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    link = work / "openclaw.json"
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == _expected_openclaw(original.decode())
    leftovers = [p.name for d in (work, dotfiles) for p in d.iterdir() if "ctxfix-tmp" in p.name]
    assert leftovers == [] and sorted(p.name for p in dotfiles.iterdir()) == ["openclaw.json"]

    code, _out, err = run_cli(capsys, "rollback", "--last")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == original


def test_crlf_and_bom_are_kept_byte_exact(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    text = (DEMO / "openclaw.json").read_text()
    original = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    (work / "openclaw.json").write_bytes(original)

    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    expected = b"\xef\xbb\xbf" + _expected_openclaw(text).replace("\n", "\r\n").encode()
    assert (work / "openclaw.json").read_bytes() == expected

    code, _out, err = run_cli(capsys, "rollback", "--last")
    assert code == 0, err
    assert (work / "openclaw.json").read_bytes() == original


def test_mode_0600_is_kept_through_apply_and_rollback(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    cfg = work / "openclaw.json"
    os.chmod(cfg, 0o600)
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert NEW in cfg.read_text()
    code, _out, err = run_cli(capsys, "rollback", "--last")
    assert code == 0, err
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert cfg.read_bytes() == (DEMO / "openclaw.json").read_bytes()


def test_failure_on_the_last_replace_restores_the_files_replaced_before(
    demo,  # noqa: F811
    capsys,
    monkeypatch,
    tmp_path,
) -> None:
    work, srv = demo
    # a second agent config, CRLF, so three files are written in one apply
    aider = work / ".aider.conf.yml"
    aider.write_bytes(f"model: ollama_chat/{OLD}\r\ntimeout: 300\r\n".encode())
    before = tree_hashes(work)
    replaced: list[str] = []

    def unwritable_openclaw(src, dst) -> None:  # the file turns read-only mid-way
        if Path(dst).name == "openclaw.json":
            raise PermissionError(errno.EACCES, "Permission denied")
        os.replace(src, dst)
        replaced.append(Path(dst).name)

    # Transaction's `replace` is the injection point for this fault (see test_journal.py)
    fault = {"replace": unwritable_openclaw}
    monkeypatch.setattr(jmod.Transaction.__init__, "__kwdefaults__", fault)
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("ctxfix: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "openclaw.json" in lines[0] and "every file was restored" in lines[0]
    assert sorted(replaced) == [".aider.conf.yml", "Modelfile"]  # both were replaced, then undone
    assert tree_hashes(work) == before
    assert aider.read_bytes() == f"model: ollama_chat/{OLD}\r\ntimeout: 300\r\n".encode()
    assert not [p for p in work.iterdir() if "ctxfix-tmp" in p.name]
    assert model_digest(srv.url, NEW) is None  # the model created for it is gone too
    # the failed apply undid itself under its lock: nothing is left to resolve
    assert "nothing was changed" in lines[0]
    assert _journal(tmp_path / "state")["state"] == "rolled_back"


# --------------------------------------------------------------------------- 4. history


def _applied_id(out: str) -> str:
    line = next(ln for ln in out.splitlines() if ln.startswith("ctxfix: applied "))
    return line.split()[2]


def test_history_after_two_applies_and_a_rollback(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    first = _applied_id(out)
    # a config added later that still names the old model: a second apply repoints it
    # (an agent on /v1, which sends no num_ctx of its own; see policy.usage)
    oc = work / "opencode.json"
    oc.write_text(
        f'{{"model": "ollama/{OLD}", "provider": {{"ollama": {{'
        '"npm": "@ai-sdk/openai-compatible", '
        '"options": {"baseURL": "http://127.0.0.1:11434/v1"}}}}\n'
    )
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, out + err
    second = _applied_id(out)
    assert f'"model": "ollama/{NEW}"' in oc.read_text()
    code, _out, err = run_cli(capsys, "rollback", "--last")
    assert code == 0, err

    code, out, err = run_cli(capsys, "history")
    assert code == 0, err
    rows = [ln.split() for ln in out.splitlines()]
    assert rows[0] == ["id", "time", "files", "models", "state"]
    assert [r[0] for r in rows[1:]] == [first, second]  # oldest first
    assert rows[1][2:] == ["2", NEW, "applied"]
    assert rows[2][2:] == ["1", "-", "rolled_back"]
    for r in rows[1:]:
        assert r[1].endswith("+00:00") and r[1][:4].isdigit()  # ISO 8601, UTC
    # the first apply can still be undone by id after the second was rolled back
    code, out, err = run_cli(capsys, "rollback", first)
    assert code == 0, err
    assert (work / "openclaw.json").read_bytes() == (DEMO / "openclaw.json").read_bytes()
    assert model_digest(srv.url, NEW) is None


def test_history_and_rollback_with_no_journal_at_all(tmp_path, capsys) -> None:
    jdir = tmp_path / "nothing-here"
    code, out, err = run_cli(capsys, "history", "--journal-dir", str(jdir))
    assert code == 0, err
    assert out == f"no applies recorded in {jdir}\n"
    # --last with nothing recorded is a clear no-op, like a second rollback
    code, out, err = run_cli(capsys, "rollback", "--last", "--journal-dir", str(jdir))
    assert code == 0, err
    assert out == f"ctxfix: no applies recorded in {jdir}; nothing to roll back\n"
    assert not jdir.exists()  # asking wrote nothing
    # naming an apply that does not exist is a mistake: exit 2
    code, _out, err = run_cli(capsys, "rollback", "20240101T000000-000000-abcdef")
    assert code == 2 and "no apply with id" in err


# --------------------------------------------------------------------------- 5. dry runs


def test_dry_runs_send_no_write_request(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    before = tree_hashes(work)
    tags = _tags(srv.url)
    for extra in ([], ["--in-place"], ["--json"]):
        code, _out, err = run_cli(capsys, "apply", "--dry-run", *extra, *_opts(srv))
        assert code == 1, err
    assert srv.requests  # it did read from the server
    assert _writes(srv) == []
    assert {m for m, _ in srv.requests} <= {"GET", "HEAD", "POST"}
    assert {p for m, p in srv.requests if m == "POST"} <= {"/api/show"}
    assert tree_hashes(work) == before and _tags(srv.url) == tags

    # and a dry run of rollback, after a real in-place apply
    code, _out, err = run_cli(capsys, "apply", "--yes", "--in-place", *_opts(srv))
    assert code == 0, err
    applied_tags, applied_files = _tags(srv.url), tree_hashes(work)
    srv.requests.clear()
    code, out, err = run_cli(capsys, "rollback", "--last", "--dry-run")
    assert code == 0, err
    assert f"would undo model {OLD}" in out
    assert _writes(srv) == []
    assert _tags(srv.url) == applied_tags and tree_hashes(work) == applied_files


def test_dry_run_in_place_says_replace_not_create(demo, capsys) -> None:  # noqa: F811
    _work, srv = demo
    _use_base(_work)
    code, out, _err = run_cli(capsys, "apply", "--dry-run", "--in-place", *_opts(srv))
    assert code == 1
    assert f"replace model {OLD} from {OLD} on {srv.url}" in out
    assert out.splitlines()[-1] == "ctxfix: 2 file(s) to change, 2 model(s) to replace"


def test_rollback_last_walks_back_through_applies(demo, capsys) -> None:  # noqa: F811
    """`rollback --last` is an undo stack: run again, it undoes the apply before."""
    work, srv = demo
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, err
    first = _applied_id(out)
    oc = work / "opencode.json"
    oc.write_text(
        f'{{"model": "ollama/{OLD}", "provider": {{"ollama": {{'
        '"npm": "@ai-sdk/openai-compatible", '
        '"options": {"baseURL": "http://127.0.0.1:11434/v1"}}}}\n'
    )
    added = oc.read_bytes()
    code, out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 0, out + err
    second = _applied_id(out)
    code, out, _ = run_cli(capsys, "rollback", "--last")
    assert code == 0 and f"rolled back {second}" in out and oc.read_bytes() == added
    code, out, _ = run_cli(capsys, "rollback", "--last")
    assert code == 0
    assert f"rolling back the one before: {first}" in out and f"rolled back {first}" in out
    assert (work / "openclaw.json").read_bytes() == (DEMO / "openclaw.json").read_bytes()
    code, out, _ = run_cli(capsys, "rollback", "--last")
    assert code == 0 and "already rolled back; nothing to roll back" in out


def test_a_failed_show_after_the_create_leaves_no_model(demo, capsys) -> None:  # noqa: F811
    work, srv = demo
    before = tree_hashes(work)
    srv.set_fault("500", "/api/show", model=NEW, message="boom")
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2 and "nothing was changed" in err, err
    srv.clear_faults()
    assert model_digest(srv.url, NEW) is None  # the model it created was deleted
    assert tree_hashes(work) == before


def test_a_user_edit_during_apply_is_kept_and_the_apply_undoes_itself(
    demo,  # noqa: F811
    capsys,
    monkeypatch,
) -> None:
    """The edited file was never written by the apply: rollback leaves it, undoes the rest."""
    work, srv = demo

    def replace_then_user_edits(src, dst) -> None:
        os.replace(src, dst)
        if Path(dst).name == "Modelfile":
            with open(work / "openclaw.json", "a") as fh:
                fh.write("// my edit\n")

    monkeypatch.setattr(
        jmod.Transaction.__init__, "__kwdefaults__", {"replace": replace_then_user_edits}
    )
    code, _out, err = run_cli(capsys, "apply", "--yes", *_opts(srv))
    assert code == 2 and "changed while applying" in err and "nothing was changed" in err, err
    assert (work / "openclaw.json").read_text().endswith("// my edit\n")
    assert (work / "Modelfile").read_bytes() == (DEMO / "Modelfile").read_bytes()
    assert model_digest(srv.url, NEW) is None
    monkeypatch.setattr(jmod.Transaction.__init__, "__kwdefaults__", {"replace": os.replace})
    code, _out, err = run_cli(capsys, "apply", "--dry-run", *_opts(srv))
    assert code == 1, err  # nothing left unresolved: the next apply plans normally
