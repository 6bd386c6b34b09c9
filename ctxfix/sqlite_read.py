"""Read another program's SQLite database without ever writing to it or waiting on it.

Why: the Ollama desktop app (and editors such as VS Code) keep settings in a
SQLite file that is open while we scan. Opening it the default way could
create a journal, take a lock, or block behind the owner's write. Here the
file is checked to be a regular file first (a FIFO named `db.sqlite` must not
hang the scan), opened through a `mode=ro` URI so SQLite refuses every write,
with a short busy timeout, and every failure becomes one `CtxfixError`
naming the file: a warning while walking, exit 2 when named on the command
line. `sqlite3` is imported here only, when a database is actually read, so
the pre-commit path never pays for it.

This is the one module that opens another program's SQLite database
read-only: `query` for a one-off read, and the parts the agent readers
(Cline's `state.vscdb`, Open WebUI's `webui.db`) combine, since each
needs its own snapshot and its own wording: `check_file`, `first_uri` /
`immutable_uri` (`immutable=1` for a WAL database no one has open, or
after a lock), `connect` (busy timeout, query deadline) and `is_locked`.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctxfix.errors import CtxfixError

if TYPE_CHECKING:
    import sqlite3

BUSY_TIMEOUT_S = 2.0
"""How long to wait for the owner's write lock before giving up (WAL readers rarely wait)."""

MAX_DB_BYTES = 2 * 1024 * 1024 * 1024
"""A settings database is kilobytes to megabytes; a larger file is not one to open."""


def check_file(path: Path, limit: int = MAX_DB_BYTES, *, name_limit: bool = True) -> None:
    """CtxfixError naming `path` unless it is a regular file of at most `limit` bytes.

    A FIFO or a device is refused before SQLite ever opens it (it could hang
    the scan). `name_limit`: the size message states the limit (the agent
    readers) or only ends with "not read" (`query`).
    """
    shown = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CtxfixError(shown, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise CtxfixError(shown, "not a regular file: not read")
    if st.st_size > limit:
        if name_limit:
            raise CtxfixError(shown, f"too large ({st.st_size:,} bytes; the limit is {limit:,})")
        raise CtxfixError(shown, f"too large ({st.st_size:,} bytes): not read")


def wal_closed(path: Path, header: bytes | None = None) -> bool:
    """The header says WAL mode (read/write versions 2) and there is no `-wal` file.

    Then no connection has it open and every change is in the main file.
    `header`: the file's first 20 bytes when the caller has read them already.
    """
    if header is None:
        try:
            with open(path, "rb") as f:
                header = f.read(20)
        except OSError:
            return False
    return header[18:20] == b"\x02\x02" and not os.path.exists(f"{path}-wal")


def immutable_uri(path: Path) -> str:
    """`path` opened `immutable=1`: read as it is, without locks and without a `-shm` file."""
    return f"{Path(path).absolute().as_uri()}?mode=ro&immutable=1"


def first_uri(path: Path, header: bytes | None = None) -> str:
    """The URI to try first: `mode=ro`, or `immutable=1` for a closed WAL database.

    A WAL database without its `-wal` is open nowhere; `mode=ro` would create a
    `-shm` file next to it, immutable does not.
    """
    if wal_closed(path, header):
        return immutable_uri(path)
    return f"{Path(path).absolute().as_uri()}?mode=ro"


def is_locked(exc: BaseException) -> bool:
    """The SQLite error says another connection holds the lock."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def connect(
    uri: str, *, busy_timeout_s: float, deadline_s: float | None = None, **kwargs: Any
) -> sqlite3.Connection:
    """A query-only connection to `uri` (a `mode=ro` URI), with a busy timeout.

    `deadline_s`: statements that run past it (counted from now) are aborted
    through `set_progress_handler` (a huge or pathological file). `kwargs` go
    to `sqlite3.connect`. sqlite3.Error propagates: the caller words it.
    """
    import sqlite3

    deadline = None if deadline_s is None else time.monotonic() + deadline_s
    con = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, **kwargs)
    try:
        if deadline is not None:
            con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        con.execute("PRAGMA query_only = 1")
    except BaseException:
        con.close()
        raise
    return con


def query(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` run on `path` opened read-only; CtxfixError on any problem."""
    shown = str(path)
    check_file(path, MAX_DB_BYTES, name_limit=False)
    import sqlite3

    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = connect(uri, busy_timeout_s=BUSY_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as exc:
        raise CtxfixError(shown, f"cannot open the SQLite database: {exc}") from None
    try:
        return list(conn.execute(sql, tuple(params)).fetchall())
    except sqlite3.Error as exc:
        raise CtxfixError(shown, f"cannot read the SQLite database: {exc}") from None
    finally:
        conn.close()
