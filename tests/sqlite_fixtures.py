"""SQLite fixtures kept as text: built into databases by the tests, compared as SQL dumps.

Why: agents such as Open WebUI keep their settings in a SQLite file, and the
repository commits no binaries. `fixtures/configs/<agent>/*.sql` is the
database as SQL text; `build_databases` turns each into the `.db` file the
agent reads (webui.sql -> webui.db), and `dump` gives a database's content
as text for golden comparisons, where the file's own bytes (page layout,
free lists) say nothing a user would notice.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path


def build_databases(root: Path) -> None:
    """Replace every `X.sql` under `root` with the database `X.db` it describes."""
    for sql in sorted(root.rglob("*.sql")):
        con = sqlite3.connect(sql.with_suffix(".db"))
        con.executescript(sql.read_text(encoding="utf-8"))
        con.close()
        sql.unlink()


def dump(data: bytes) -> bytes:
    """The SQL text of a database given as bytes (`sqlite3 .dump`)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db"
        path.write_bytes(data)
        con = sqlite3.connect(path)
        try:
            return ("\n".join(con.iterdump()) + "\n").encode()
        finally:
            con.close()
