"""The desktop app's context-length setting: read from its real SQLite store, never written.

Why: on macOS and Windows the app's "Context length" slider is where most
people set their window; the app passes it to the server it starts as
OLLAMA_CONTEXT_LENGTH (github:ollama/ollama app/server/server.go), over the
shell's value. The databases here are built with the app's own `settings`
DDL (app/store/database.go, schema 14+), by sqlite3, not committed binaries.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from ctxfix.sources.desktop_app import database_paths, read_desktop_app
from ctxfix.sources.environment import read_environment

# The columns of app/store/database.go's `CREATE TABLE IF NOT EXISTS settings` that
# matter here, with the upstream defaults.
SETTINGS_DDL = """
CREATE TABLE settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL DEFAULT '',
    expose BOOLEAN NOT NULL DEFAULT 0,
    models TEXT NOT NULL DEFAULT '',
    context_length INTEGER NOT NULL DEFAULT 0,
    schema_version INTEGER NOT NULL DEFAULT 16
);
INSERT OR IGNORE INTO settings (id) VALUES (1);
"""


def make_db(path: Path, context_length: int | None = None, schema: int = 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SETTINGS_DDL)
    conn.execute("UPDATE settings SET schema_version = ?", (schema,))
    if context_length is not None:
        conn.execute("UPDATE settings SET context_length = ?", (context_length,))
    conn.commit()
    conn.close()
    return path


def test_paths_are_the_apps_own_per_platform(tmp_path: Path) -> None:
    home = tmp_path
    paths = database_paths({"LOCALAPPDATA": "C:/Users/u/AppData/Local"}, home)
    assert paths == [
        Path("C:/Users/u/AppData/Local/Ollama/db.sqlite"),
        home / "Library" / "Application Support" / "Ollama" / "db.sqlite",
        home / ".ollama" / "db.sqlite",
    ]


@pytest.mark.parametrize(
    "where", [".ollama/db.sqlite", "Library/Application Support/Ollama/db.sqlite"]
)
def test_slider_value_becomes_the_servers_context_length_with_the_file(
    tmp_path: Path, where: str
) -> None:
    db = make_db(tmp_path / where, 32768)
    values, warnings = read_desktop_app({}, tmp_path)
    assert warnings == []
    v = values["OLLAMA_CONTEXT_LENGTH"]
    assert v.value == "32768"
    assert v.location.file == str(db)
    assert v.location.key == "settings.context_length"


def test_zero_is_automatic_and_sets_nothing(tmp_path: Path) -> None:
    make_db(tmp_path / ".ollama/db.sqlite", 0)
    assert read_desktop_app({}, tmp_path) == ({}, [])


def test_old_schema_4096_is_the_old_default_not_a_choice(tmp_path: Path) -> None:
    make_db(tmp_path / ".ollama/db.sqlite", 4096, schema=13)
    values, warnings = read_desktop_app({}, tmp_path)
    assert values == {}
    assert "resets to 0" in warnings[0].problem


def test_the_app_outranks_the_shell_and_says_so(tmp_path: Path) -> None:
    db = make_db(tmp_path / ".ollama/db.sqlite", 65536)
    env, warnings = read_environment(
        [], {"OLLAMA_CONTEXT_LENGTH": "8192"}, system_units=False, home=tmp_path
    )
    assert env.get("OLLAMA_CONTEXT_LENGTH").value == "65536"
    assert [str(w) for w in warnings] == [
        f"{db}: OLLAMA_CONTEXT_LENGTH=65536 here, but OLLAMA_CONTEXT_LENGTH=8192 in "
        "environment; using 65536"
    ]


def test_database_is_never_written_even_while_the_app_holds_it(tmp_path: Path) -> None:
    db = make_db(tmp_path / ".ollama/db.sqlite", 32768)
    owner = sqlite3.connect(db)
    owner.execute("PRAGMA journal_mode=WAL")
    owner.execute("UPDATE settings SET device_id = 'x'")  # an open write transaction
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    values, warnings = read_desktop_app({}, tmp_path)
    assert values["OLLAMA_CONTEXT_LENGTH"].value == "32768"  # the committed value
    assert warnings == []
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before
    owner.rollback()
    owner.close()


def test_corrupt_database_is_one_warning_naming_it(tmp_path: Path) -> None:
    db = tmp_path / ".ollama" / "db.sqlite"
    db.parent.mkdir()
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(64))
    values, warnings = read_desktop_app({}, tmp_path)
    assert values == {}
    assert len(warnings) == 1 and warnings[0].where == str(db)


def test_fifo_named_db_sqlite_does_not_hang(tmp_path: Path) -> None:
    db = tmp_path / ".ollama" / "db.sqlite"
    db.parent.mkdir()
    os.mkfifo(db)
    values, warnings = read_desktop_app({}, tmp_path)
    assert values == {}
    assert "not a regular file" in warnings[0].problem


def test_scan_on_a_users_machine_serves_the_apps_context(tmp_path: Path, ollama_double) -> None:
    """The real CLI with HOME moved: a model without num_ctx is served the app's setting."""
    import json

    from cli_run import run_ctxfix

    home = tmp_path / "home"
    db = make_db(home / ".ollama" / "db.sqlite", 8192)
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "XDG_"))}
    env.update(HOME=str(home), OLLAMA_CONTEXT_LENGTH="2048")
    r = run_ctxfix(
        "scan", "--format", "json", "--host", ollama_double.url, "--no-store", cwd=project, env=env
    )
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    models = {m["name"]: m for m in report["models"]}
    assert models["qwen3-coder:30b"]["served_ctx"] == 8192
    ctx303 = [f for f in report["findings"] if f["code"] == "CTX303"]
    assert ctx303 and {f["location"]["file"] for f in ctx303} == {str(db)}
    assert "OLLAMA_CONTEXT_LENGTH=8192 here" in r.stderr
