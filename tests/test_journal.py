"""Atomic journaled writes and rollback: every fault leaves files whole."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from ctxfix import journal as jmod
from ctxfix.digest import sha256_hex
from ctxfix.errors import CtxfixError
from ctxfix.journal import FileChange, JournalStore, Transaction, atomic_write, rollback


@pytest.fixture
def store(tmp_path):
    return JournalStore(tmp_path / "journal")


def make(tmp_path, name, data: bytes, mode=0o640):
    p = tmp_path / name
    p.write_bytes(data)
    os.chmod(p, mode)
    return p


def test_atomic_write_keeps_mode_and_writes_through_symlinks(tmp_path):
    real = make(tmp_path, "real.json", b"{}\n", 0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, b'{"a": 1}\n')
    assert link.is_symlink()
    assert real.read_bytes() == b'{"a": 1}\n'
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if "ctxfix-tmp" in p.name]


def test_commit_and_rollback_restore_bytes(tmp_path, store):
    a = make(tmp_path, "a.yaml", b"a: 1 # keep\r\n")
    b = make(tmp_path, "b.json", b'\xef\xbb\xbf{"x": 2}')
    changes = [
        FileChange(a, a.read_bytes(), b"a: 2 # keep\r\n"),
        FileChange(b, b.read_bytes(), b'\xef\xbb\xbf{"x": 3}'),
    ]
    j = Transaction(store, "ctxfix apply").commit(changes)
    assert j.state == "applied"
    assert a.read_bytes() == b"a: 2 # keep\r\n"
    saved = json.loads(store.path_of(j.id).read_text())
    assert saved["files"][0]["sha256_before"] == sha256_hex(b"a: 1 # keep\r\n")
    rep = rollback(store, store.load(j.id))
    assert sorted(rep.restored) == sorted([str(a), str(b)])
    assert a.read_bytes() == b"a: 1 # keep\r\n"
    assert b.read_bytes() == b'\xef\xbb\xbf{"x": 2}'
    assert stat.S_IMODE(a.stat().st_mode) == 0o640
    assert store.load(j.id).state == "rolled_back"
    again = rollback(store, store.load(j.id))
    assert again.already and not again.restored


def test_file_changed_since_planning_aborts_everything(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    b = make(tmp_path, "b.txt", b"2")
    changes = [FileChange(a, b"1", b"10"), FileChange(b, b"2", b"20")]
    b.write_bytes(b"user edit")
    with pytest.raises(CtxfixError, match="changed since it was planned"):
        Transaction(store, "x").commit(changes)
    assert a.read_bytes() == b"1" and b.read_bytes() == b"user edit"
    assert store.ids() == []


def test_disk_full_while_writing_temps_changes_nothing(tmp_path, store, monkeypatch):
    a = make(tmp_path, "a.txt", b"1")
    b = make(tmp_path, "b.txt", b"2")
    real = jmod.write_temp_beside
    calls = []

    def full(target, data, like):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(target, data, like)

    monkeypatch.setattr(jmod, "write_temp_beside", full)
    with pytest.raises(CtxfixError, match="No space left on device"):
        Transaction(store, "x").commit([FileChange(a, b"1", b"10"), FileChange(b, b"2", b"20")])
    assert a.read_bytes() == b"1" and b.read_bytes() == b"2"
    assert not [p for p in tmp_path.iterdir() if "ctxfix-tmp" in p.name]


def test_failure_between_replaces_restores_the_first(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    b = make(tmp_path, "b.txt", b"2")
    n = {"calls": 0}

    def flaky(src, dst):
        n["calls"] += 1
        if n["calls"] == 2:
            raise OSError(errno.EIO, "I/O error")
        os.replace(src, dst)

    tx = Transaction(store, "x", replace=flaky)
    with pytest.raises(CtxfixError, match="every file was restored"):
        tx.commit([FileChange(a, b"1", b"10"), FileChange(b, b"2", b"20")])
    assert a.read_bytes() == b"1" and b.read_bytes() == b"2"
    assert store.last().state == "failed"


def test_unwritable_directory_is_one_line_error(tmp_path, store, monkeypatch):
    d = tmp_path / "ro"
    d.mkdir()
    a = make(d, "a.txt", b"1")
    if os.geteuid() == 0:
        # root writes anywhere: cause the EACCES the kernel would give a user
        real = jmod.write_temp_beside

        def denied(target, data, like):
            if target.parent == d:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(target, data, like)

        monkeypatch.setattr(jmod, "write_temp_beside", denied)
    os.chmod(d, 0o500)
    try:
        with pytest.raises(CtxfixError, match="cannot write: Permission denied"):
            Transaction(store, "x").commit([FileChange(a, b"1", b"2")])
    finally:
        os.chmod(d, 0o700)
    assert a.read_bytes() == b"1"
    assert store.ids() == []


def test_rollback_refuses_files_changed_after_apply_unless_forced(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    j = Transaction(store, "x").commit([FileChange(a, b"1", b"2")])
    a.write_bytes(b"edited later")
    rep = rollback(store, store.load(j.id))
    assert rep.refused and str(a) in rep.refused[0]
    assert a.read_bytes() == b"edited later"
    rep = rollback(store, store.load(j.id), force=True)
    assert a.read_bytes() == b"1" and rep.restored == [str(a)]


def test_rollback_dry_run_writes_nothing(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    j = Transaction(store, "x").commit([FileChange(a, b"1", b"2")])
    rep = rollback(store, store.load(j.id), dry_run=True)
    assert rep.restored == [str(a)] and a.read_bytes() == b"2"
    assert store.load(j.id).state == "applied"


def test_tampered_journal_is_refused(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    j = Transaction(store, "x").commit([FileChange(a, b"1", b"2")])
    path = store.path_of(j.id)
    data = json.loads(path.read_text())
    data["files"][0]["backup"] = "backups/../../../etc/passwd"
    path.write_text(json.dumps(data))
    with pytest.raises(CtxfixError, match="tampered"):
        store.load(j.id)
    data["files"][0]["backup"] = "backups/000-a.txt"
    path.write_text(json.dumps(data))
    (path.parent / "backups" / "000-a.txt").write_bytes(b"evil")
    with pytest.raises(CtxfixError, match="does not match its recorded hash"):
        rollback(store, store.load(j.id))
    assert a.read_bytes() == b"2"


def test_second_apply_is_locked_out(tmp_path, store):
    import fcntl

    store.root.mkdir(parents=True)
    with open(store.root / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        a = make(tmp_path, "a.txt", b"1")
        with pytest.raises(CtxfixError, match="another ctxfix apply"):
            Transaction(store, "x").commit([FileChange(a, b"1", b"2")])
    assert a.read_bytes() == b"1"


def test_undo_actions_called_in_reverse_and_kept_when_refused(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    actions = [
        {"kind": "create", "model": "m1:1", "digest": "d1"},
        {"kind": "create", "model": "m2:1", "digest": "d2"},
    ]
    j = Transaction(store, "x").commit([FileChange(a, b"1", b"2")], actions)
    seen = []

    def undo(action, dry):
        seen.append(action["model"])
        return None if action["model"] == "m2:1" else "digest changed since the apply"

    rep = rollback(store, store.load(j.id), undo_action=undo)
    assert seen == ["m2:1", "m1:1"]
    assert rep.models_deleted == ["m2:1"]
    assert rep.models_kept == ["m1:1: digest changed since the apply"]


# --------------------------------------------------------------------------- seals


def _rewrite(store, jid, edit) -> None:
    path = store.path_of(jid)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def _apply_one(tmp_path, store):
    a = make(tmp_path, "a.txt", b"mine\n")
    victim = make(tmp_path, "victim.txt", b"someone else's file\n")
    j = Transaction(store, "ctxfix apply").commit([FileChange(a, b"mine\n", b"fixed\n")])
    return a, victim, j


def test_journal_is_sealed_and_valid(tmp_path, store):
    a, _victim, j = _apply_one(tmp_path, store)
    data = json.loads(store.path_of(j.id).read_text())
    assert data["version"] == 3
    assert data["seal"] == jmod.seal_of(j.id, data["files"], data["actions"])
    assert (store.root / ".seals" / j.id).read_text() == data["seal"] + "\n"
    assert data["files"][0]["target"] == os.path.realpath(a)
    jmod.validate_journal(data, store.path_of(j.id))
    del data["seal"]
    with pytest.raises(CtxfixError, match="seal"):  # version 2 requires one
        jmod.validate_journal(data, store.path_of(j.id))


@pytest.mark.parametrize("force", [False, True])
def test_paths_pointed_at_another_file_are_refused_even_with_force(tmp_path, store, force):
    a, victim, j = _apply_one(tmp_path, store)

    def redirect(data):
        data["files"][0]["path"] = str(victim)
        data["files"][0]["target"] = str(victim)

    _rewrite(store, j.id, redirect)
    with pytest.raises(CtxfixError, match="tampered") as exc:
        rollback(store, store.load(j.id), force=force)
    assert exc.value.where == str(store.path_of(j.id))
    assert victim.read_bytes() == b"someone else's file\n"
    assert a.read_bytes() == b"fixed\n"


def test_rewritten_hashes_are_refused(tmp_path, store):
    _a, _victim, j = _apply_one(tmp_path, store)
    _rewrite(store, j.id, lambda d: d["files"][0].update(sha256_after="0" * 64))
    with pytest.raises(CtxfixError, match="do not match its seal"):
        store.load(j.id)


def test_a_recomputed_seal_must_match_the_copy(tmp_path, store):
    a, victim, j = _apply_one(tmp_path, store)

    def forge(data):
        data["files"][0]["path"] = data["files"][0]["target"] = str(victim)
        data["seal"] = jmod.seal_of(data["id"], data["files"], data["actions"])

    _rewrite(store, j.id, forge)
    with pytest.raises(CtxfixError, match="differs from the copy"):
        store.load(j.id)
    (store.root / ".seals" / j.id).unlink()
    with pytest.raises(CtxfixError, match="no copy of its seal"):
        store.load(j.id)
    assert victim.read_bytes() == b"someone else's file\n" and a.read_bytes() == b"fixed\n"


def test_a_journal_downgraded_to_version_1_is_refused(tmp_path, store):
    _a, victim, j = _apply_one(tmp_path, store)

    def downgrade(data):
        data["version"] = 1
        del data["seal"]
        data["files"][0]["path"] = data["files"][0]["target"] = str(victim)

    _rewrite(store, j.id, downgrade)
    with pytest.raises(CtxfixError, match="seal was removed"):
        store.load(j.id)


def test_a_journal_moved_to_another_id_is_refused(tmp_path, store):
    import shutil

    _a, _victim, j = _apply_one(tmp_path, store)
    other = "20990101T000000-000000-abcdef"
    shutil.copytree(store.root / j.id, store.root / other)
    shutil.copy(store.root / ".seals" / j.id, store.root / ".seals" / other)
    with pytest.raises(CtxfixError, match="is not its directory's"):
        store.load(other)


def test_version_1_journal_still_rolls_back_but_not_forced(tmp_path, store):
    a, _victim, j = _apply_one(tmp_path, store)

    def legacy(data):
        data["version"] = 1
        del data["seal"]

    _rewrite(store, j.id, legacy)
    (store.root / ".seals" / j.id).unlink()
    old = store.load(j.id)
    assert old.version == 1 and old.seal is None
    with pytest.raises(CtxfixError, match="--force is refused"):
        rollback(store, old, force=True)
    assert a.read_bytes() == b"fixed\n"
    rep = rollback(store, old)
    assert rep.restored == [str(a)] and a.read_bytes() == b"mine\n"
    assert store.load(j.id).state == "rolled_back"


def test_a_link_retargeted_after_the_apply_is_refused(tmp_path, store):
    real = make(tmp_path, "real.json", b"{}\n")
    victim = make(tmp_path, "victim.json", b'{"keep": true}\n')
    link = tmp_path / "link.json"
    link.symlink_to(real)
    j = Transaction(store, "x").commit([FileChange(link, b"{}\n", b'{"a": 1}\n')])
    link.unlink()
    link.symlink_to(victim)
    with pytest.raises(CtxfixError, match="now resolves to"):
        rollback(store, store.load(j.id), force=True)
    assert victim.read_bytes() == b'{"keep": true}\n'
    assert real.read_bytes() == b'{"a": 1}\n'


def test_cli_rollback_of_a_redirected_journal_is_one_line_exit_2(tmp_path, store, capsys):
    from test_apply_demo import run_cli

    a, victim, j = _apply_one(tmp_path, store)
    _rewrite(store, j.id, lambda d: d["files"][0].update(path=str(victim), target=str(victim)))
    for extra in ([], ["--force"], ["--dry-run", "--force"]):
        code, out, err = run_cli(
            capsys, "rollback", "--last", "--journal-dir", str(store.root), *extra
        )
        assert code == 2, (extra, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "tampered" in lines[0] and str(store.path_of(j.id)) in lines[0]
        assert out == ""
    assert victim.read_bytes() == b"someone else's file\n"
    assert a.read_bytes() == b"fixed\n"


def test_journal_and_backups_are_private(tmp_path, store):
    """Backups of a 0600 file were written 0644 in 0755 directories (issue 11)."""
    secret = make(tmp_path, "config.json", b'{"apiKey": "sk-1"}', mode=0o600)
    public = make(tmp_path, "Modelfile", b"FROM x\n", mode=0o644)
    j = Transaction(store, "x").commit(
        [
            FileChange(secret, secret.read_bytes(), b"{}"),
            FileChange(public, b"FROM x\n", b"FROM y\n"),
        ]
    )
    jdir = store.root / j.id
    for d in (store.root, jdir, jdir / "backups"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    assert stat.S_IMODE((jdir / "journal.json").stat().st_mode) == 0o600
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (jdir / "backups").iterdir()}
    assert modes == {"000-config.json": 0o600, "001-Modelfile": 0o600}
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600  # the file itself keeps its mode


def test_a_removed_seal_cannot_downgrade_the_journal(tmp_path, store):
    a = make(tmp_path, "a.txt", b"1")
    j = Transaction(store, "x").commit([FileChange(a, b"1", b"2")])
    path = store.path_of(j.id)
    data = json.loads(path.read_text())
    del data["seal"]
    data["version"] = 1  # pretend to be a journal from before seals
    path.write_text(json.dumps(data))
    with pytest.raises(CtxfixError, match="seal was removed"):
        store.load(j.id)


def test_a_user_edit_made_while_applying_is_never_overwritten(tmp_path, store):
    """The last look before each replace: an edit made after the plan (here while the
    first file is being replaced) stops the apply, which restores what it replaced."""
    a = make(tmp_path, "a.txt", b"1")
    b = make(tmp_path, "b.txt", b"2")

    def replace_then_user_edits_b(src, dst):
        os.replace(src, dst)
        if str(dst).endswith("a.txt"):
            b.write_bytes(b"user edit")

    with pytest.raises(CtxfixError, match="changed while applying; not overwritten"):
        Transaction(store, "x", replace=replace_then_user_edits_b).commit(
            [FileChange(a, b"1", b"10"), FileChange(b, b"2", b"20")]
        )
    assert a.read_bytes() == b"1" and b.read_bytes() == b"user edit"


def test_a_file_an_interrupted_apply_never_created_is_left_alone(tmp_path, store):
    """A file that appeared after an interrupted apply (which would have created it) is
    someone else's: rollback leaves it and resolves the journal; --force is not needed."""
    new = tmp_path / "config.yaml"
    with store.lock():
        j = store.begin("x", [FileChange(new, b"", b"ours\n", create=True)])
    new.write_text("the agent wrote this\n")  # the apply died before writing; later...
    report = rollback(store, j)
    assert not report.refused and report.left and new.read_text() == "the agent wrote this\n"
    assert store.load(j.id).state == "rolled_back"
