"""Execute a rendered plan: models and files under one write-ahead journal.

Why its own module: this is the only code that changes a user's machine
(with `rollback`). The order keeps every instant recoverable (see
`ctxfix.journal` for the journal's guarantees):

  1. one lock for the whole apply; an unresolved (interrupted) apply stops
     it with the command that resolves it; leftovers of a crash are removed;
  2. no planned file changed since it was read; each model's current digest
     is read (a model to create must not exist yet);
  3. the intent is journaled durably (backups, then the journal);
  4. each model action: marked `started`, `--in-place` backs the old
     definition up as a server-side copy, the model is created, its digest
     recorded (`done`), and `/api/show` must report the target num_ctx;
  5. every file is written (temps first, then one replace each);
  6. the journal says `applied`.
A failure in 4-6 (a refusal, an error, a full disk) undoes everything the
journal records, under the same lock, and says "nothing was changed"; if
that undo cannot finish, the journal stays `in_progress` and the message
names the `ctxfix rollback ID` that finishes it. Ctrl-C and SIGTERM stop at
once and leave the journal `in_progress`: `history` shows it, the next
`apply` refuses to start until it is rolled back, and `rollback` undoes it
from whatever step it reached.

Why a copy for `--in-place` (and not a re-create with the previous
parameters): Ollama's `/api/create` merges the request's parameters over the
parent's, so a re-create can change a value but never remove one. So before
replacing NAME, apply copies it (`/api/copy`, which copies the manifest byte
for byte) to `ctxfix-backup/<model>:<tag>-<hex>`; rollback copies it back
(same digest, same parameters) and deletes the copy. The copy also keeps
Ollama from pruning the old layers. The plan never fixes a model in the
`ctxfix-backup` namespace.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import threading
from collections.abc import Iterator
from typing import Any

from ctxfix.apply_ops import Rendered
from ctxfix.errors import CtxfixError
from ctxfix.journal import (
    Journal,
    JournalStore,
    Transaction,
    check_unchanged,
    rollback,
    write_files,
)
from ctxfix.plan import ModelAction


class Interrupted(BaseException):
    """SIGTERM while applying: handled like Ctrl-C (KeyboardInterrupt)."""


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into an exception for the duration of an apply (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_unresolved(store: JournalStore) -> None:
    pending = store.unresolved()
    if pending:
        j = pending[-1]
        raise CtxfixError(
            None,
            f"apply {j.id} ({j.time}) was interrupted and is not resolved: run "
            f"`ctxfix rollback {j.id}` first (see `ctxfix history`)",
        )


def _intent(a: ModelAction, timeout: float) -> dict[str, Any]:
    """What will be done to one model, with the digest it has now (read under the lock)."""
    from ctxfix import ollama_writes as server

    assert a.host is not None
    previous = server.model_digest(a.host, a.name, timeout)
    if a.kind == "create" and previous is not None:
        raise CtxfixError(a.host, f"{a.name} already exists; nothing was changed (run scan again)")
    if a.kind == "replace" and previous is None:
        raise CtxfixError(a.host, f"{a.name} is no longer on the server; nothing was changed")
    backup = server.backup_name(a.name, secrets.token_hex(3)) if a.kind == "replace" else None
    return {
        "kind": a.kind,
        "model": a.name,
        "parent": a.parent,
        "host": a.host,
        "store": None,
        "parameters": dict(a.parameters),
        "target_ctx": a.target_ctx,
        "previous_digest": previous,
        "previous_parameters": dict(a.previous_parameters) if a.previous_parameters else None,
        "backup_model": backup,
        "digest": None,
        "status": "planned",
    }


def _run_action(store: JournalStore, journal: Journal, i: int, timeout: float) -> None:
    from ctxfix import ollama_writes as server

    rec = journal.actions[i]
    rec["status"] = "started"
    store.save(journal)
    host, name = rec["host"], rec["model"]
    if rec.get("backup_model"):
        server.copy_model(host, name, rec["backup_model"], timeout)
    digest = server.create_model(
        host, name, rec["parent"], rec["parameters"], timeout=max(timeout, 60)
    )
    rec["digest"] = digest or None
    rec["status"] = "done"
    store.save(journal)
    served = server.show_num_ctx(host, name, timeout)
    if served != rec["target_ctx"]:
        raise CtxfixError(
            host, f"created {name} but /api/show reports num_ctx {served}, not {rec['target_ctx']}"
        )


def undo_action(action: dict[str, Any], dry_run: bool, *, timeout: float = 30.0) -> str | None:
    """Rollback hook for `journal.rollback`: None when undone, "" when there was nothing
    to undo (never started), else why it was kept."""
    from ctxfix import ollama_writes as server

    status = action.get("status", "done")  # journals before version 3 record done actions only
    host = action.get("host")
    name = action["model"]
    if status == "planned":
        return ""
    if not host:
        return "no server recorded (the model was never created by ctxfix)"
    try:
        current = server.model_digest(host, name, timeout)
    except CtxfixError as exc:
        return f"server unreachable ({exc.problem})"
    backup = action.get("backup_model") if action.get("kind") == "replace" else None
    saved = None
    if backup:
        try:
            saved = server.model_digest(host, backup, timeout)
        except CtxfixError as exc:
            return f"server unreachable ({exc.problem})"
    if status == "started":
        return _undo_started(action, current, saved, dry_run, timeout)
    if backup and saved is not None and current == action.get("previous_digest"):
        # an earlier rollback copied the old definition back and stopped before
        # deleting the copy: finish it
        if not dry_run:
            server.delete_model(host, backup, timeout)
        return None
    if current is None:
        return "no longer on the server"
    if action.get("digest") and current != action["digest"]:
        kept = f" (its previous definition is still {backup})" if backup else ""
        return f"changed since the apply (digest differs); left alone{kept}"
    if backup:
        if saved is None:
            return f"its previous definition {backup} is gone; left alone"
        if action.get("previous_digest") and saved != action["previous_digest"]:
            return f"its previous definition {backup} changed since the apply; left alone"
    if dry_run:
        return None
    if backup:
        server.copy_model(host, backup, name, timeout)  # the old manifest, byte for byte
        server.delete_model(host, backup, timeout)
        return None
    if action.get("kind") == "replace":  # a journal from before backups: best effort
        prev = action.get("previous_parameters") or {}
        server.create_model(host, name, name, prev, timeout=max(timeout, 60))
        return None
    server.delete_model(host, name, timeout)
    return None


def _undo_started(
    action: dict[str, Any], current: str | None, saved: str | None, dry_run: bool, timeout: float
) -> str | None:
    """An action interrupted between `started` and `done`: find out how far it got.

    Its digest was never recorded, so a created model is recognised by what
    the journal asked for: it did not exist before (previous digest none) and
    `/api/show` reports the target num_ctx. A replaced model is recognised by
    its digest no longer being the previous one while the backup copy exists.
    """
    from ctxfix import ollama_writes as server

    host, name = action["host"], action["model"]
    backup = action.get("backup_model")
    if action.get("kind") == "replace":
        if saved is None:
            return ""  # the copy was never made: nothing changed
        if current == action.get("previous_digest"):
            if not dry_run:  # the create never happened: drop the copy
                server.delete_model(host, backup, timeout)
            return ""
        if dry_run:
            return None
        server.copy_model(host, backup, name, timeout)
        server.delete_model(host, backup, timeout)
        return None
    if current is None or action.get("previous_digest") is not None:
        return ""
    try:
        served = server.show_num_ctx(host, name, timeout)
    except CtxfixError as exc:
        return f"server unreachable ({exc.problem})"
    if served != action.get("target_ctx", (action.get("parameters") or {}).get("num_ctx")):
        return "not the definition this apply asked for; left alone"
    if not dry_run:
        server.delete_model(host, name, timeout)
    return None


def execute(
    rendered: Rendered,
    store: JournalStore,
    command: str,
    *,
    timeout: float = 30.0,
) -> Journal:
    """Apply the rendered plan under the write-ahead journal (see the module doc)."""
    files = [*rendered.changes, *rendered.new_files]
    live = [a for a in rendered.actions if a.host is not None]
    with store.lock():
        _refuse_unresolved(store)
        store.clean_leftovers([ch.path for ch in files])
        check_unchanged(files)
        intents = [_intent(a, timeout) for a in live]
        journal = store.begin(command, files, intents)
        tx = Transaction(store, command)  # its `replace` is the fault-injection point
        try:
            with _sigterm_interrupts():
                for i in range(len(intents)):
                    _run_action(store, journal, i, timeout)
                write_files(store, journal, files, replace=tx._replace, mark_failed=False)
                journal.state = "applied"
                store.save(journal)
        except (KeyboardInterrupt, Interrupted):
            raise CtxfixError(
                None,
                f"interrupted: apply {journal.id} did not finish; run "
                f"`ctxfix rollback {journal.id}` to undo what it did",
            ) from None
        except (CtxfixError, OSError) as exc:
            try:
                with _sigterm_interrupts():
                    err = _undo(store, journal, exc, timeout)
            except (KeyboardInterrupt, Interrupted):
                err = CtxfixError(
                    None,
                    f"interrupted while undoing a failed apply: run "
                    f"`ctxfix rollback {journal.id}` to finish",
                )
            raise err from None
    return journal


def _undo(store: JournalStore, journal: Journal, exc: BaseException, timeout: float) -> CtxfixError:
    """Undo a failed apply under the lock it holds; the error to show either way."""
    where = exc.where if isinstance(exc, CtxfixError) else getattr(exc, "filename", None)
    problem = exc.problem if isinstance(exc, CtxfixError) else f"{exc.strerror or exc}"
    try:
        report = rollback(
            store,
            journal,
            undo_action=lambda a, dry: undo_action(a, dry, timeout=timeout),
            locked=True,
        )
    except (CtxfixError, OSError):
        report = None
    if report is not None and not report.refused and not report.models_kept:
        return CtxfixError(where, f"{problem}; nothing was changed")
    journal.state = "in_progress"
    with contextlib.suppress(OSError):
        store.save(journal)
    return CtxfixError(
        where,
        f"{problem}; apply {journal.id} could not be undone completely: run "
        f"`ctxfix rollback {journal.id}`",
    )
