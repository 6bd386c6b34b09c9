"""Execute a `FixPlan`: render edits to bytes, create models, commit files via the journal.

Why separate from the plan: the plan is a decision (pure data); this module
does the side effects in the order that keeps a failure harmless:
  1. render every file edit to new bytes (nothing written; an edit that would
     break a file fails here);
  2. check no planned file changed since it was read;
  3. create the Ollama models on their servers and verify with /api/show that
     each serves its target (a failure deletes the ones created so far);
  4. write every file in one `journal.Transaction` (all or nothing), recording
     the Ollama actions in the same journal; a failure here deletes the models
     created in step 3, so nothing is left half-applied.
Rollback undoes the actions: a created model is deleted only while its digest
is still the one recorded; an `--in-place` model is restored from a copy.

Why a copy for `--in-place` (and not a re-create with the previous
parameters): Ollama's `/api/create` merges the request's parameters over the
parent's, so a re-create can change a value but never remove one; a model
whose old definition had no num_ctx would keep the new one after rollback.
So before replacing NAME, apply copies it (`/api/copy`, which copies the
manifest byte for byte) to `ctxfix-backup/<model>:<tag>-<hex>`; rollback copies
it back (same digest, same parameters, an unset num_ctx unset again) and
deletes the copy. The copy also keeps Ollama from pruning the old layers
(it removes the replaced manifest's unused layers on create). The plan never
fixes a model in the `ctxfix-backup` namespace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.journal import FileChange, Journal, JournalStore, Transaction
from ctxfix.plan import FileEdit, FixPlan, ModelAction


@dataclass
class Rendered:
    """A plan turned into bytes: one FileChange per file, plus the actions."""

    changes: list[FileChange] = field(default_factory=list)
    actions: list[ModelAction] = field(default_factory=list)
    new_files: list[FileChange] = field(default_factory=list)  # Modelfiles under --out-dir
    skipped: list[str] = field(default_factory=list)  # edits the editor could not make
    unfixed: list[Any] = field(default_factory=list)  # plan.Unfixed: findings that stay

    @property
    def empty(self) -> bool:
        return not self.changes and not self.actions and not self.new_files


def _render_document(
    path: Path,
    before: bytes,
    edits: Sequence[FileEdit],
    skipped: list[str],
    unfixed: list[Any] | None = None,
) -> bytes:
    from ctxfix.edits import load_document

    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CtxfixError(str(path), f"not UTF-8 text (byte offset {exc.start})") from None
    doc = load_document(path, text=text, fmt=edits[0].fmt)
    # keys move last: every value edit addresses the entry by the name it has now
    for e in sorted(edits, key=lambda e: e.rename_key):
        assert e.key is not None
        new = e.new
        if isinstance(new, int) and isinstance(doc.get(e.key), str):
            new = str(new)  # `GOOSE_INPUT_LIMIT: '32768'` stays a quoted string
        try:
            if e.rename_key:
                doc.rename_key(e.key, str(new))
                continue
            doc.set(e.key, new)
        except CtxfixError as exc:
            # a value the editor cannot write surgically (through a YAML merge key):
            # leave it, say so, and keep the other edits
            skipped.append(f"{exc}; not changed")
            if unfixed is not None:
                from ctxfix.plan import Unfixed

                for code in e.codes:
                    unfixed.append(Unfixed(code, e.subject, e.file, f"{exc.problem}; not changed"))
    return doc.text.encode("utf-8")


def _render_modelfile(path: Path, before: bytes, edits: Sequence[FileEdit]) -> bytes:
    from ctxfix.edits.modelfile_edit import set_num_ctx
    from ctxfix.sources import modelfile

    mf = modelfile.parse(modelfile.decode(before), str(path))
    mf = set_num_ctx(mf, int(edits[-1].new))
    return modelfile.encode(mf.render(), before)


def render(plan: FixPlan, *, out_dir: Path | None = None) -> Rendered:
    """Every planned file as (before, after) bytes; raises CtxfixError naming the file."""
    out = Rendered(actions=list(plan.actions), unfixed=list(plan.unfixed))
    by_file: dict[str, list[FileEdit]] = {}
    for e in plan.edits:
        by_file.setdefault(e.file, []).append(e)
    for file, edits in by_file.items():
        path = Path(file)
        try:
            before = path.read_bytes()
        except OSError as exc:
            raise CtxfixError(file, f"cannot read: {exc.strerror or exc}") from None
        if edits[0].fmt == "modelfile":
            after = _render_modelfile(path, before, edits)
        else:
            after = _render_document(path, before, edits, out.skipped, out.unfixed)
        if after != before:
            reasons = tuple(dict.fromkeys(e.code for e in edits))
            out.changes.append(FileChange(path, before, after, reasons))
    if out_dir is not None:
        for a in plan.actions:
            if a.host is None:
                target = out_dir / a.modelfile_name()
                out.new_files.append(
                    FileChange(target, b"", a.modelfile().encode(), (a.code,), create=True)
                )
    return out


# --------------------------------------------------------------------------- dry run output


def describe(rendered: Rendered, *, color: bool = False, base: Path | None = None) -> str:
    """The dry-run text: a unified diff per file, every Ollama action, a summary line."""
    from ctxfix.edits.diff import unified_diff

    parts: list[str] = []
    for ch in rendered.changes:
        shown = _display(ch.path, base)
        old = ch.before.decode("utf-8", errors="surrogateescape")
        new = ch.after.decode("utf-8", errors="surrogateescape")
        parts.append(unified_diff(shown, old.lstrip("\ufeff"), new.lstrip("\ufeff"), color=color))
    for a in rendered.actions:
        parts.append(describe_action(a, rendered, base))
    if rendered.unfixed:
        lines = ["not fixed (these findings stay):"]
        for u in rendered.unfixed:
            where = u.where if "://" in u.where else _display(Path(u.where), base)
            lines.append(f"    {u.code} {where}: {u.reason}")
        parts.append("\n".join(lines) + "\n")
    parts.append(summary(rendered) + "\n")
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts if p)


def describe_action(a: ModelAction, rendered: Rendered, base: Path | None = None) -> str:
    verb = "replace" if a.kind == "replace" else "create"
    if a.host is not None:
        head = f"{verb} model {a.name} from {a.parent} on {a.host} (num_ctx {a.target_ctx:,})"
    else:
        where = next(
            (
                _display(f.path, base)
                for f in rendered.new_files
                if f.path.name == a.modelfile_name()
            ),
            None,
        )
        save = "" if where else f" (save this Modelfile as {a.modelfile_name()}, or pass --out-dir)"
        head = (
            f"no server has {a.parent}"
            + (f" (store {a.store})" if a.store else "")
            + f": to serve {a.target_ctx:,}, run: {a.command(where)}{save}"
        )
    body = "".join(f"    {line}\n" for line in a.modelfile().splitlines())
    return f"{head}\n{body}"


def summary(rendered: Rendered) -> str:
    if rendered.empty:
        return "ctxfix: nothing to change"
    n_files = len(rendered.changes) + len(rendered.new_files)
    live = sum(1 for a in rendered.actions if a.host is not None and a.kind != "replace")
    replace = sum(1 for a in rendered.actions if a.host is not None and a.kind == "replace")
    offline = sum(1 for a in rendered.actions if a.host is None)
    bits = [f"{n_files} file(s) to change"]
    if live or not replace:
        bits.append(f"{live} model(s) to create")
    if replace:
        bits.append(f"{replace} model(s) to replace")
    if offline:
        bits.append(f"{offline} model(s) to create with `ollama create`")
    return "ctxfix: " + ", ".join(bits)


def _display(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(Path(path).resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)


# --------------------------------------------------------------------------- Ollama side


def _create_one(a: ModelAction, timeout: float) -> dict[str, Any]:
    import secrets

    from ctxfix import ollama_writes as server

    assert a.host is not None
    previous = server.model_digest(a.host, a.name, timeout)
    if a.kind == "create" and previous is not None:
        raise CtxfixError(a.host, f"{a.name} already exists; nothing was changed (run scan again)")
    backup: str | None = None
    if a.kind == "replace":
        if previous is None:
            raise CtxfixError(a.host, f"{a.name} is no longer on the server; nothing was changed")
        backup = server.backup_name(a.name, secrets.token_hex(3))
        server.copy_model(a.host, a.name, backup, timeout)
    try:
        digest = server.create_model(
            a.host, a.name, a.parent, a.parameters, timeout=max(timeout, 60)
        )
    except CtxfixError:
        if backup is not None:  # NAME is unchanged: drop the copy
            with contextlib.suppress(CtxfixError):
                server.delete_model(a.host, backup, timeout)
        raise
    record = {
        "kind": a.kind,
        "model": a.name,
        "parent": a.parent,
        "host": a.host,
        "store": None,
        "parameters": dict(a.parameters),
        "digest": digest or None,
        "previous_digest": previous,
        "previous_parameters": dict(a.previous_parameters) if a.previous_parameters else None,
        "backup_model": backup,
    }
    served = server.show_num_ctx(a.host, a.name, timeout)
    if served != a.target_ctx:
        _undo_created([record], timeout)
        raise CtxfixError(
            a.host,
            f"created {a.name} but /api/show reports num_ctx {served}, not {a.target_ctx}; "
            "deleted it again, nothing was changed",
        )
    return record


def _undo_created(records: Sequence[dict[str, Any]], timeout: float) -> None:
    """Best effort: undo models created in this apply (newest first)."""
    for r in reversed(records):
        with contextlib.suppress(CtxfixError):
            undo_action(r, False, timeout=timeout)


def undo_action(action: dict[str, Any], dry_run: bool, *, timeout: float = 30.0) -> str | None:
    """Rollback hook for `journal.rollback`: None when undone, else why it was kept."""
    from ctxfix import ollama_writes as server

    host = action.get("host")
    name = action["model"]
    if not host:
        return "no server recorded (the model was never created by ctxfix)"
    try:
        current = server.model_digest(host, name, timeout)
    except CtxfixError as exc:
        return f"server unreachable ({exc.problem})"
    if current is None:
        return "no longer on the server"
    backup = action.get("backup_model") if action.get("kind") == "replace" else None
    if action.get("digest") and current != action["digest"]:
        kept = f" (its previous definition is still {backup})" if backup else ""
        return f"changed since the apply (digest differs); left alone{kept}"
    if backup:
        try:
            saved = server.model_digest(host, backup, timeout)
        except CtxfixError as exc:
            return f"server unreachable ({exc.problem})"
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


# --------------------------------------------------------------------------- apply


def _check_unchanged(changes: Sequence[FileChange]) -> None:
    from ctxfix.journal import real_target

    for ch in changes:
        try:
            now = real_target(ch.path).read_bytes()
        except OSError as exc:
            raise CtxfixError(str(ch.path), f"cannot read: {exc.strerror or exc}") from None
        if now != ch.before:
            raise CtxfixError(
                str(ch.path), "changed since it was planned; nothing was written (run again)"
            )


def execute(
    rendered: Rendered,
    store: JournalStore,
    command: str,
    *,
    timeout: float = 30.0,
    transaction: Callable[[JournalStore, str], Transaction] = Transaction,
) -> Journal:
    """Create the models, then write every file in one journaled transaction."""
    files = [*rendered.changes, *rendered.new_files]
    _check_unchanged(rendered.changes)
    for nf in rendered.new_files:
        if nf.path.exists():
            raise CtxfixError(str(nf.path), "already exists; nothing was written")
    records: list[dict[str, Any]] = []
    for a in rendered.actions:
        if a.host is None:
            continue
        try:
            records.append(_create_one(a, timeout))
        except CtxfixError as exc:
            _undo_created(records, timeout)
            if records:
                raise CtxfixError(
                    exc.where, f"{exc.problem}; models created before it were deleted"
                ) from None
            raise
    try:
        return transaction(store, command).commit(files, records)
    except BaseException:
        _undo_created(records, timeout)
        raise


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class Replacement:
    """One edit as a text replacement: [start, end) of the old text -> `text` (code points)."""

    file: str
    start: tuple[int, int]  # 1-based (line, column)
    end: tuple[int, int]
    text: str


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def edit_replacement(edit: FileEdit) -> Replacement | None:
    """The smallest replacement that makes `edit` alone, found by rendering it.

    Why render rather than splice: the editors decide quoting, number style
    and inserted lines; SARIF `fixes` must be exactly what `apply` writes.
    None when the file cannot be read or the edit changes nothing.
    """
    path = Path(edit.file)
    try:
        before = path.read_bytes()
        skipped: list[str] = []
        if edit.fmt == "modelfile":
            after = _render_modelfile(path, before, [edit])
        else:
            after = _render_document(path, before, [edit], skipped)
    except (OSError, CtxfixError):
        return None
    old = before.decode("utf-8", errors="surrogateescape")
    new = after.decode("utf-8", errors="surrogateescape")
    if old == new:
        return None
    p = 0
    limit = min(len(old), len(new))
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
        s += 1
    return Replacement(
        edit.file, _line_col(old, p), _line_col(old, len(old) - s), new[p : len(new) - s]
    )
