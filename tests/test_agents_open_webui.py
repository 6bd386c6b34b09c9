"""Open WebUI: per-model Advanced Params in `webui.db`, read read-only, written only when closed.

The databases are built here with the standard library, with the `model`
table as Open WebUI's migrations create it (`migrations/versions/7e5b5dc7342b_init.py`,
then `access_control` and `is_active` added by later revisions) and the
`config` table in both of its layouts (one JSON blob before `3ff2c63645b8`,
one row per key after). `params` is written like Open WebUI's `JSONField`
writes it: `json.dumps(value)`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ollama_fixtures import QWEN3_CODER_30B, add_model
from ollama_server import OllamaDouble

from ctxfix import sqlite_edit
from ctxfix.errors import CtxfixError
from ctxfix.facts import Slot
from ctxfix.sources.agents import open_webui

MODEL_DDL = """
CREATE TABLE model (
\tid TEXT NOT NULL,
\tuser_id TEXT,
\tbase_model_id TEXT,
\tname TEXT,
\tparams TEXT,
\tmeta TEXT,
\tupdated_at BIGINT,
\tcreated_at BIGINT,
\taccess_control JSON,
\tis_active BOOLEAN DEFAULT 1 NOT NULL,
\tPRIMARY KEY (id)
)
"""
CONFIG_KEYS_DDL = (
    "CREATE TABLE config (key TEXT NOT NULL, value JSON NOT NULL, updated_at BIGINT, "
    "PRIMARY KEY (key))"
)
CONFIG_BLOB_DDL = (
    "CREATE TABLE config (id INTEGER NOT NULL, data JSON NOT NULL, version INTEGER NOT NULL, "
    "created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, updated_at DATETIME, "
    "PRIMARY KEY (id))"
)
# what the Advanced Params editor saves for a workspace model (Open WebUI's json.dumps)
CODER_PARAMS = {
    "system": "You are a careful senior engineer. Answer with code.",
    "temperature": 0.2,
    "top_k": 40,
    "num_ctx": 8192,
    "stop": ["<|im_end|>"],
    "function_calling": "native",
}
HOST = "http://127.0.0.1:11434"


def make_db(
    path: Path,
    *,
    wal: bool = False,
    config: str = "keys",
    params: Any = CODER_PARAMS,
    host: str = HOST,
) -> Path:
    """A webui.db with an Ollama workspace model, an OpenAI model and a base-model override."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
    con.execute(MODEL_DDL)
    meta = json.dumps({"profile_image_url": "/static/favicon.png", "description": "Coding"})
    raw = params if isinstance(params, str) else json.dumps(params)
    rows = [
        ("coder", "u-1", "qwen3-coder:30b", "Coder", raw, meta, 1764500000, 1764500000, None, 1),
        ("gpt-4o-mini", "u-1", None, "GPT-4o mini", json.dumps({"temperature": 0.5}), "{}", 1, 1,
         None, 1),
        ("assistant", "u-1", "gpt-4o-mini", "Assistant", json.dumps({"num_ctx": 4096}), "{}", 1,
         1, None, 1),
    ]  # fmt: skip
    con.executemany("INSERT INTO model VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    if config == "keys":
        con.execute(CONFIG_KEYS_DDL)
        con.execute(
            "INSERT INTO config VALUES (?, ?, ?)", ("ollama.base_urls", json.dumps([host]), 1)
        )
    elif config == "blob":
        con.execute(CONFIG_BLOB_DDL)
        blob = {"version": 0, "ollama": {"enable": True, "base_urls": [host], "api_configs": {}}}
        con.execute("INSERT INTO config (id, data, version) VALUES (1, ?, 0)", (json.dumps(blob),))
    con.commit()
    con.close()
    return path


def rows(path: Path) -> dict[str, tuple[Any, ...]]:
    """Every row of every table, by table and id (what a query sees; nothing has it open, and
    `immutable` leaves no -wal/-shm behind that would make it look in use)."""
    con = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            out[t] = tuple(con.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall())
        return out
    finally:
        con.close()


def snapshot(d: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in d.iterdir() if p.is_file()}


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("config", ["keys", "blob", "none"])
def test_one_binding_per_ollama_model(tmp_path: Path, config: str) -> None:
    db = make_db(tmp_path / "webui.db", config=config, host="http://gpu-box.local:11434")
    (b,) = open_webui.read(db)  # gpt-4o-mini and its preset are not Ollama models
    assert (b.agent, b.model, b.api) == ("open-webui", "qwen3-coder:30b", "native")
    assert b.host == (
        "http://localhost:11434" if config == "none" else "http://gpu-box.local:11434"
    )
    assert b.context_window is None and b.timeout_s is None  # Open WebUI plans no window
    assert b.num_ctx is not None and b.num_ctx.value == 8192
    assert b.num_ctx.location is not None
    assert (b.num_ctx.location.file, b.num_ctx.location.key) == (
        str(db),
        "model[coder].params.num_ctx",
    )
    assert b.edit_paths[Slot.NUM_CTX] == ("model", "coder", "params", "num_ctx")
    assert b.format == "sqlite-json" and b.pinned
    assert "Workspace > Models > Coder > Advanced Params" in b.manual[Slot.NUM_CTX]


def test_prefixed_connection_and_unset_num_ctx(tmp_path: Path) -> None:
    db = make_db(tmp_path / "webui.db", params={"temperature": 0.1})
    con = sqlite3.connect(db)
    con.execute("UPDATE model SET base_model_id = 'box.qwen3-coder:30b' WHERE id = 'coder'")
    con.execute(
        "INSERT INTO config VALUES ('ollama.api_configs', ?, 1)",
        (json.dumps({"0": {"prefix_id": "box", "enable": True}}),),
    )
    con.commit()
    con.close()
    (b,) = open_webui.read(db)
    assert b.model == "qwen3-coder:30b" and b.host == HOST
    assert b.num_ctx is None and Slot.NUM_CTX not in b.edit_paths  # nothing sent: not inserted


@pytest.mark.parametrize("wal", [False, True])
def test_read_never_writes(tmp_path: Path, wal: bool) -> None:
    make_db(tmp_path / "webui.db", wal=wal)
    before = snapshot(tmp_path)
    open_webui.read(tmp_path / "webui.db")
    assert snapshot(tmp_path) == before  # no -journal, -wal or -shm left, no byte changed


def test_user_paths(tmp_path: Path) -> None:
    venv = tmp_path / ".local" / "share" / "uv" / "tools" / "open-webui"
    (venv / "lib" / "python3.11").mkdir(parents=True)
    paths = open_webui.user_paths({"DATA_DIR": "/srv/owui"}, tmp_path)
    assert paths[:2] == [Path("/srv/owui/webui.db"), tmp_path / ".open-webui" / "webui.db"]
    assert venv / "lib/python3.11/site-packages/open_webui/data/webui.db" in paths


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"garbage" * 100, "not a SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "not a readable SQLite database"),
    ],
)
def test_corrupt_db_names_the_file(tmp_path: Path, content: bytes, problem: str) -> None:
    db = tmp_path / "webui.db"
    db.write_bytes(content)
    with pytest.raises(CtxfixError) as e:
        open_webui.read(db)
    assert e.value.where == str(db) and problem in e.value.problem


def test_params_that_do_not_parse_and_unknown_schema(tmp_path: Path) -> None:
    db = make_db(tmp_path / "a" / "webui.db", params='{"num_ctx": 8192,')
    with pytest.raises(CtxfixError, match="model 'coder': params is not JSON"):
        open_webui.read(db)
    other = tmp_path / "b" / "webui.db"
    other.parent.mkdir()
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (id TEXT)")
    con.close()
    with pytest.raises(CtxfixError, match="not Open WebUI's schema"):
        open_webui.read(other)


def test_locked_db_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = make_db(tmp_path / "webui.db")
    monkeypatch.setattr(open_webui, "BUSY_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # a writer committing: readers must wait
        with pytest.raises(CtxfixError, match="locked by another process") as e:
            open_webui.read(db)
        assert e.value.where == str(db)
    finally:
        holder.close()


# --------------------------------------------------------------------------- not in use


def test_in_use_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = make_db(tmp_path / "webui.db")
    assert sqlite_edit.in_use(db) is None
    idle = sqlite3.connect(db)  # a pooled connection: no lock, only an open descriptor
    idle.execute("SELECT 1 FROM model").fetchall()
    try:
        if Path("/proc/self/fd").is_dir():
            assert "has it open" in (sqlite_edit.in_use(db) or "")
        monkeypatch.setattr(sqlite_edit, "_proc_holders", lambda p: [])
        idle.execute("BEGIN")
        idle.execute("SELECT count(*) FROM model").fetchall()  # a shared lock
        assert "holds a lock" in (sqlite_edit.in_use(db) or "")
    finally:
        idle.close()
    wal = make_db(tmp_path / "w" / "webui.db", wal=True)
    con = sqlite3.connect(wal)
    con.execute("SELECT 1 FROM model").fetchall()
    try:
        assert "webui.db-wal exists" in (sqlite_edit.in_use(wal) or "")
    finally:
        con.close()
    assert sqlite_edit.in_use(wal) is None  # closed cleanly: -wal and -shm are gone


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OllamaDouble]:
    store = tmp_path_factory.mktemp("open-webui") / "models"
    add_model(store, "qwen3-coder:30b", QWEN3_CODER_30B)
    with OllamaDouble(store) as srv:
        yield srv


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    double: OllamaDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Run]:
    """`cli(command, *args)`: the real CLI entry point, in process (a subprocess costs 0.4 s),
    against the double, with HOME and the journal directory in tmp."""
    from ctxfix.cli import main

    home = tmp_path / "h"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(home / "state"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    opts = ("--host", double.url, "--no-user", "--no-store", "--isolated", "--prefill-tps", "400")

    def run(command: str, *args: str) -> Run:
        capsys.readouterr()
        argv = [command, *(opts if command != "rollback" else ()), *args]
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def _db_for(double: OllamaDouble, path: Path, **kw: Any) -> Path:
    return make_db(path, host=double.url, **kw)


@pytest.mark.parametrize("wal", [False, True])
def test_apply_edits_num_ctx_and_rollback_restores_bytes(
    tmp_path: Path, double: OllamaDouble, cli: Callable[..., Run], wal: bool
) -> None:
    db = _db_for(double, tmp_path / "data" / "webui.db", wal=wal)
    original, before_rows = db.read_bytes(), rows(db)
    r = cli("scan", "--format", "json", str(db))
    (f,) = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "CTX202"]
    assert f["agent"] == "open-webui" and f["model"] == "qwen3-coder:30b"
    assert {k: f["data"][k] for k in ("cap", "served", "native", "target")} == {
        "cap": 8192,
        "served": 8192,
        "native": 262144,
        "target": 262144,
    }
    assert (f["location"]["file"], f["location"]["key"]) == (str(db), "model[coder].params.num_ctx")

    r = cli("apply", "--dry-run", str(db))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "data/webui.db: model 'coder': params.num_ctx 8,192 -> 262,144\n" in r.stdout
    assert "@@" not in r.stdout  # no text diff of a binary file
    assert db.read_bytes() == original

    r = cli("apply", "--yes", str(db))
    assert r.returncode == 0, r.stdout + r.stderr
    after_rows = rows(db)
    changed = {t for t in before_rows if before_rows[t] != after_rows[t]}
    assert changed == {"model"}
    coder = next(r for r in after_rows["model"] if r[0] == "coder")
    old_coder = next(r for r in before_rows["model"] if r[0] == "coder")
    assert coder[:4] == old_coder[:4] and coder[5:] == old_coder[5:]  # only params
    assert coder[4] == json.dumps({**CODER_PARAMS, "num_ctx": 262144})  # same bytes otherwise
    assert [r for r in after_rows["model"] if r[0] != "coder"] == [
        r for r in before_rows["model"] if r[0] != "coder"
    ]
    assert not list(db.parent.glob("*-wal")) and not list(db.parent.glob("*ctxfix-tmp"))
    r = cli("scan", "--format", "json", str(db))
    assert not [f for f in json.loads(r.stdout)["findings"] if f["code"] == "CTX202"]

    r = cli("rollback", "--last")
    assert r.returncode == 0, r.stdout + r.stderr
    assert db.read_bytes() == original  # byte-identical


@pytest.mark.parametrize("hold", ["wal", "write"])
def test_db_in_use_is_not_written_and_the_change_is_printed(
    tmp_path: Path, double: OllamaDouble, cli: Callable[..., Run], hold: str
) -> None:
    db = _db_for(double, tmp_path / "data" / "webui.db", wal=hold == "wal")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        if hold == "write":  # Open WebUI in the middle of saving a chat
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("UPDATE model SET updated_at = 2 WHERE id = 'gpt-4o-mini'")
        else:  # Open WebUI running (WAL): an open connection
            holder.execute("SELECT count(*) FROM model").fetchall()
        files = snapshot(db.parent)
        r = cli("apply", "--dry-run", str(db))
        assert "not fixed (these findings stay):" in r.stdout, r.stdout + r.stderr
        (line,) = [ln for ln in r.stdout.splitlines() if "CTX202" in ln and "webui.db" in ln]
        assert "sends num_ctx 8,192 for qwen3-coder:30b: set it to 262,144 in Open WebUI" in line
        assert "Coder > Advanced Params > “Context Length (num_ctx)”" in line
        r = cli("apply", "--yes", str(db))
        assert "Traceback" not in r.stderr
        assert snapshot(db.parent) == files  # nothing written, not even a temp file
    finally:
        holder.close()


def test_rollback_waits_for_the_db_to_close(
    tmp_path: Path, double: OllamaDouble, cli: Callable[..., Run]
) -> None:
    db = _db_for(double, tmp_path / "data" / "webui.db")
    original = db.read_bytes()
    assert cli("apply", "--yes", str(db)).returncode == 0
    applied = db.read_bytes()
    holder = sqlite3.connect(db)
    holder.execute("SELECT 1 FROM model").fetchall()
    holder.execute("PRAGMA journal_mode").fetchall()
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM model").fetchall()  # seen by /proc and by the lock
        r = cli("rollback", "--last")
        assert r.returncode == 2 and "Traceback" not in r.stderr
        (line,) = r.stderr.strip().splitlines()
        assert str(db) in line and "in use" in line
        assert db.read_bytes() == applied
    finally:
        holder.close()
    assert cli("rollback", "--last").returncode == 0
    assert db.read_bytes() == original


def test_bad_db_named_is_exit_2_walking_is_one_warning(
    tmp_path: Path, double: OllamaDouble, cli: Callable[..., Run]
) -> None:
    bad = tmp_path / "a" / "webui.db"
    bad.parent.mkdir()
    bad.write_bytes(b"garbage" * 100)
    r = cli("scan", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert str(bad) in line and "SQLite" in line
    make_db(tmp_path / "b" / "webui.db", params="[1,")
    good = _db_for(double, tmp_path / "c" / "webui.db")
    r = cli("scan", "--format", "json", str(tmp_path))
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr
    assert {b["file"] for b in json.loads(r.stdout)["agents"]} == {str(good)}
    warned = [ln for ln in r.stderr.splitlines() if "webui.db" in ln]
    assert len(warned) == 2, r.stderr


# --------------------------------------------------------------------------- apply hooks


def _edit(db: Path, new: int = 262144) -> Any:
    from ctxfix.plan import FileEdit

    key = ("model", "coder", "params", "num_ctx")
    return FileEdit(str(db), "sqlite-json", key, None, 8192, new, ("CTX202",), "test", "s")


def test_render_while_in_use_is_listed_not_fixed(tmp_path: Path) -> None:
    from ctxfix.apply_ops import describe, render
    from ctxfix.plan import FixPlan

    db = make_db(tmp_path / "webui.db", wal=True)
    holder = sqlite3.connect(db)
    holder.execute("SELECT 1 FROM model").fetchall()
    try:
        rendered = render(FixPlan(edits=(_edit(db),)))
    finally:
        holder.close()
    assert rendered.changes == []
    (u,) = rendered.unfixed
    assert "in use: webui.db-wal exists" in u.reason
    assert "model 'coder': params.num_ctx 8,192 -> 262,144" in u.reason
    assert "ctxfix: nothing to change" in describe(rendered)


def test_journal_does_not_replace_a_db_opened_after_planning(tmp_path: Path) -> None:
    from ctxfix.journal import FileChange, JournalStore, Transaction

    db = make_db(tmp_path / "data" / "webui.db")
    before = db.read_bytes()
    after = sqlite_edit.render(db, before, [_edit(db)])
    assert after != before
    holder = sqlite3.connect(db)  # Open WebUI started between planning and writing
    holder.execute("SELECT 1 FROM model").fetchall()
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM model").fetchall()
    try:
        store = JournalStore(tmp_path / "journal")
        with pytest.raises(CtxfixError, match="in use"):
            Transaction(store, "apply").commit([FileChange(db, before, after, ("CTX202",))])
    finally:
        holder.close()
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["webui.db"]
