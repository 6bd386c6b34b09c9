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
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError

BUSY_TIMEOUT_S = 2.0
"""How long to wait for the owner's write lock before giving up (WAL readers rarely wait)."""

MAX_DB_BYTES = 2 * 1024 * 1024 * 1024
"""A settings database is kilobytes to megabytes; a larger file is not one to open."""


def query(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` run on `path` opened read-only; CtxfixError on any problem."""
    shown = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CtxfixError(shown, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise CtxfixError(shown, "not a regular file: not read")
    if st.st_size > MAX_DB_BYTES:
        raise CtxfixError(shown, f"too large ({st.st_size:,} bytes): not read")
    import sqlite3

    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as exc:
        raise CtxfixError(shown, f"cannot open the SQLite database: {exc}") from None
    try:
        conn.execute("PRAGMA query_only = ON")
        return list(conn.execute(sql, tuple(params)).fetchall())
    except sqlite3.Error as exc:
        raise CtxfixError(shown, f"cannot read the SQLite database: {exc}") from None
    finally:
        conn.close()
