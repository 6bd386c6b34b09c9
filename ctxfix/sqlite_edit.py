"""Edit a JSON value inside another program's SQLite database, only while nobody has it open.

Why this shape: apply's guarantees (journal first, atomic replace, byte-identical
rollback) are built for whole files. A database edit keeps them by becoming a
whole-file edit: the new bytes are computed on a private copy (one UPDATE in
one transaction there, committed and closed, so the copy is a complete
database again) and the normal journal path backs up the original and
`os.replace`s it with the copy's bytes. Replacing the file is only safe when
no process has it open: a connection holds a descriptor to the old inode, keeps
writing there, and its changes would be lost (or its WAL would be applied to
the wrong file). So every write and every rollback asks `in_use` first.

The not-in-use rule (`in_use`), in order, any hit means "in use, do not write":
  1. a `-wal` or `-shm` file beside it: a WAL-mode connection has it open
     (SQLite deletes both when the last connection closes cleanly; left over
     after a crash they hold changes the main file lacks);
  2. a `-journal` file with content: a write is in progress (or was cut off,
     a hot journal the next opener must roll back);
  3. on Linux, any process whose `/proc/<pid>/fd` we may read has the file
     open (an idle pooled connection holds no lock at all: only this sees it;
     processes of other users, and other OSes, are not visible here);
  4. a rollback-journal database: `BEGIN EXCLUSIVE` with a zero busy timeout
     fails (another connection holds a shared, reserved or pending lock,
     including processes in other containers: POSIX locks are per inode).
     Nothing is written by the test; it is rolled back at once.
Open WebUI keeps its SQLAlchemy pool open for as long as it runs (WAL mode by
default in recent versions, `DATABASE_ENABLE_SQLITE_WAL`), so in practice
"not in use" means "Open WebUI is stopped".
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_JSON = "sqlite-json"  # FileEdit.fmt / AgentBinding.format of these edits


def is_sqlite(data: bytes) -> bool:
    """The bytes of a SQLite database file (its 16-byte header string)."""
    return data[:16] == SQLITE_MAGIC


def _proc_holders(path: Path) -> list[int]:
    """Pids (readable to us) with `path` open, from /proc; [] where there is no /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return []
    real = os.path.realpath(path)
    wanted = {real, f"{real}-wal", f"{real}-journal"}
    out: list[int] = []
    try:
        pids = [e for e in os.listdir(proc) if e.isdigit()]
    except OSError:
        return []
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or another user's process
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in wanted:
                    out.append(int(pid))
                    break
            except OSError:
                continue
    return out


def in_use(path: Path) -> str | None:
    """Why `path` must not be replaced now (see the module doc), or None when it may be."""
    p = Path(path)
    for suffix in ("-wal", "-shm"):
        if os.path.lexists(f"{p}{suffix}"):
            return f"{p.name}{suffix} exists (the database is open, or was not closed cleanly)"
    try:
        if os.path.getsize(f"{p}-journal") > 0:
            return f"{p.name}-journal has content (a write is in progress or was interrupted)"
    except OSError:
        pass
    holders = _proc_holders(p)
    if holders:
        return f"process {', '.join(map(str, holders[:3]))} has it open"
    try:
        with open(p, "rb") as f:
            header = f.read(20)
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if not is_sqlite(header):
        return "not a SQLite database"
    if header[18:20] == b"\x02\x02":
        return None  # WAL mode and no -wal/-shm: no connection can have it open
    import sqlite3

    try:
        con = sqlite3.connect(
            f"{p.absolute().as_uri()}?mode=rw", uri=True, timeout=0, isolation_level=None
        )
    except sqlite3.Error as exc:
        return f"cannot open it for writing ({exc})"
    try:
        con.execute("BEGIN EXCLUSIVE")
        con.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return f"its write lock is not free at once: another connection holds a lock ({exc})"
    finally:
        con.close()
    return None


def check_not_in_use(path: Path) -> None:
    """CtxfixError naming the file when it is in use (before a write or a rollback)."""
    why = in_use(path)
    if why is not None:
        raise CtxfixError(
            str(path), f"in use: {why}; stop the program that has it open and run again"
        )


def _splice_json(text: str, key: str, value: int, where: str) -> str:
    """`text` (a JSON object) with the top-level `key` set to `value`, other bytes unchanged."""
    from ctxfix.edits.document import Document

    doc = Document(Path(where), text, "json")
    doc.set((key,), value)
    return doc.text


def render(path: Path, before: bytes, edits: Sequence[Any]) -> bytes:
    """The database bytes after `edits` (FileEdit, key `(table, row id, column, json key)`).

    Computed on a private copy of `before` (0700 temp directory: the database
    holds password hashes), in one transaction; the original is not touched.
    Raises CtxfixError naming the file: in use, a row gone, a value unchanged.
    """
    import shutil  # only when writing: every scan imports this module (open_webui)
    import sqlite3
    import tempfile

    check_not_in_use(path)
    if not is_sqlite(before):
        raise CtxfixError(str(path), "not a SQLite database; not changed")
    tmpdir = tempfile.mkdtemp(prefix="ctxfix-sqlite-")
    copy = Path(tmpdir) / "db.sqlite"
    try:
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "wb") as fh:
            fh.write(before)
        con = sqlite3.connect(str(copy), timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            for e in edits:
                table, row_id, column, key = e.key
                q = f'SELECT "{column}" FROM "{table}" WHERE id = ?'  # table/column: our own names
                row = con.execute(q, (row_id,)).fetchone()
                if row is None or row[0] is None:
                    raise CtxfixError(str(path), f"{table} {row_id!r}: no {column}; not changed")
                raw = row[0]
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                new = _splice_json(text, key, int(e.new), f"{path}:{table}[{row_id}].{column}")
                value: str | bytes = new.encode("utf-8") if isinstance(raw, bytes) else new
                cur = con.execute(
                    f'UPDATE "{table}" SET "{column}" = ? WHERE id = ?',
                    (value, row_id),
                )
                if cur.rowcount != 1:
                    raise CtxfixError(str(path), f"{table} {row_id!r}: not updated; not changed")
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise CtxfixError(str(path), f"cannot edit a copy of the database: {exc}") from None
        finally:
            con.close()  # the last connection: a WAL copy is checkpointed into the file
        return copy.read_bytes()
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmpdir)
