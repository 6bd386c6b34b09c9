"""Render a `FixPlan`: edits to bytes, the dry-run text, and SARIF replacement regions.

Why separate from the plan: the plan is a decision (pure data); rendering
turns it into bytes (nothing written; an edit that would break a file fails
here). `ctxfix.apply_run` executes the rendered plan under the write-ahead
journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.journal import FileChange, real_target
from ctxfix.plan import FileEdit, FixPlan, ModelAction
from ctxfix.records import field, record
from ctxfix.sqlite_edit import SQLITE_JSON


@record
class Rendered:
    """A plan turned into bytes: one FileChange per file, plus the actions."""

    changes: list[FileChange] = field(default_factory=list)
    actions: list[ModelAction] = field(default_factory=list)
    new_files: list[FileChange] = field(default_factory=list)  # Modelfiles under --out-dir
    skipped: list[str] = field(default_factory=list)  # edits the editor could not make
    unfixed: list[Any] = field(default_factory=list)  # plan.Unfixed: findings that stay
    # what a binary change does, shown instead of its diff (a SQLite database: path -> lines)
    summaries: dict[str, str] = field(default_factory=dict)

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


def _render_sqlite(path: Path, before: bytes, edits: Sequence[FileEdit], out: Rendered) -> bytes:
    """A database edit (`ctxfix.sqlite_edit`): the new bytes, or `before` and the edits
    listed as not fixed when it cannot be made now (the database is in use)."""
    from ctxfix.plan import Unfixed
    from ctxfix.sqlite_edit import render as render_db

    try:
        after = render_db(path, before, edits)
    except CtxfixError as exc:
        out.skipped.append(f"{exc}; not changed")
        for e in edits:
            for code in e.codes:
                out.unfixed.append(
                    Unfixed(code, e.subject, e.file, f"{exc.problem}; {_db_change(e)}")
                )
        return before
    out.summaries[str(path)] = "".join(f"{_db_change(e)}\n" for e in edits)
    return after


def _db_change(e: FileEdit) -> str:
    """`model 'x': params.num_ctx 8,192 -> 262,144` (table, row id, column.JSON key)."""
    assert e.key is not None
    table, row_id, column, key = e.key
    return f"{table} {row_id!r}: {column}.{key} {_n(e.old)} -> {_n(e.new)}"


def _n(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


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
        elif edits[0].fmt == SQLITE_JSON:
            after = _render_sqlite(path, before, edits, out)
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
        if str(ch.path) in rendered.summaries:  # a database: no text to diff
            lines = rendered.summaries[str(ch.path)].splitlines()
            parts.append("".join(f"{shown}: {line}\n" for line in lines))
            continue
        old = ch.before.decode("utf-8", errors="surrogateescape")
        new = ch.after.decode("utf-8", errors="surrogateescape")
        diff = unified_diff(shown, old.lstrip("\ufeff"), new.lstrip("\ufeff"), color=color)
        real = real_target(ch.path)
        if real != Path(ch.path).absolute():  # say where the bytes go
            diff = f"{shown} is a link: the edit is written to {real}\n" + diff
        parts.append(diff)
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


# --------------------------------------------------------------------------- regions


@record(frozen=True)
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
    if edit.fmt == SQLITE_JSON:
        return None  # a database value has no text region
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
