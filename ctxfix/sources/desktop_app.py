"""The Ollama desktop app's context-length setting, read from its SQLite store.

Why: on macOS and Windows most people run Ollama through the desktop app,
and its "Context length" slider is where their window is set. The app keeps
it in `settings.context_length` of its database (0 = automatic, the VRAM
tier) and, when it is above 0, starts `ollama serve` with
`OLLAMA_CONTEXT_LENGTH` set to it, over whatever the user's environment said
(github:ollama/ollama app/server/server.go `cmd`: the process environment is
copied, then `env["OLLAMA_CONTEXT_LENGTH"] = strconv.Itoa(settings.ContextLength)`).

Where the database is (app/store/store.go `defaultDBPath`):
  Windows  %LOCALAPPDATA%\\Ollama\\db.sqlite
  macOS    $HOME/Library/Application Support/Ollama/db.sqlite
  other    $HOME/.ollama/db.sqlite
The schema is app/store/database.go: a one-row table `settings` (id = 1) with
`context_length INTEGER NOT NULL DEFAULT 0`. Databases from before schema 14
defaulted to 4096; the app's migration `migrateV13ToV14` turns 4096 into 0
when it next starts, so a stored 4096 under an old schema is reported with
that note rather than as the user's choice.

The file is read-only to us (`ctxfix.sqlite_read`): never written, even by
`apply`, which prints the setting to change instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import EnvValue, Location

KEY = "settings.context_length"
SCHEMA_ZERO_DEFAULT = 14
"""schema_version from which 0 (automatic) is the default (database.go migrateV13ToV14)."""


def database_paths(environ: Mapping[str, str], home: Path) -> list[Path]:
    """Every place the app keeps db.sqlite on some platform, as app/store/store.go builds it."""
    paths: list[Path] = []
    local = environ.get("LOCALAPPDATA")
    if local:
        paths.append(Path(local) / "Ollama" / "db.sqlite")
    paths.append(home / "Library" / "Application Support" / "Ollama" / "db.sqlite")
    paths.append(home / ".ollama" / "db.sqlite")
    return paths


def _read_one(path: Path) -> tuple[EnvValue | None, list[Warning_]]:
    from ctxfix.sqlite_read import query

    try:
        cols = {row[1] for row in query(path, "PRAGMA table_info(settings)")}
        if "context_length" not in cols:
            return None, []  # an app from before the setting existed (schema 1)
        has_version = "schema_version" in cols
        sql = "SELECT context_length" + (", schema_version" if has_version else "")
        rows = query(path, sql + " FROM settings WHERE id = 1")
    except CtxfixError as exc:
        return None, [Warning_(exc.where, exc.problem)]
    if not rows:
        return None, []
    value = rows[0][0]
    version = rows[0][1] if has_version else 0
    if not isinstance(value, int) or isinstance(value, bool):
        return None, [Warning_(str(path), f"{KEY} is {value!r}, not an integer: ignored")]
    if value <= 0:
        return None, []  # automatic: the app sets no OLLAMA_CONTEXT_LENGTH
    if value == 4096 and isinstance(version, int) and version < SCHEMA_ZERO_DEFAULT:
        note = (
            f"{KEY} is 4096 under app schema {version}: the app's own default before "
            "schema 14, which the current app resets to 0 (automatic) when it starts"
        )
        return None, [Warning_(str(path), note)]
    where = Location(str(path), key=KEY)
    return EnvValue("OLLAMA_CONTEXT_LENGTH", str(value), where), []


def read_desktop_app(
    environ: Mapping[str, str], home: Path
) -> tuple[dict[str, EnvValue], list[Warning_]]:
    """OLLAMA_CONTEXT_LENGTH as the desktop app will pass it, from the first database found."""
    for path in database_paths(environ, home):
        if not path.exists():
            continue
        value, warnings = _read_one(path)
        return ({value.name: value} if value else {}), warnings
    return {}, []
