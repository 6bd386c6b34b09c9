"""Cline: the file store (`~/.cline/data`) and VS Code's `state.vscdb`, read-only.

SQLite databases are built here with the standard library, the way VS Code
lays them out (`ItemTable(key, value)`, one JSON value per extension).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import run_ctxfix
from ollama_fixtures import QWEN3_CODER_30B, add_model
from ollama_server import OllamaDouble

from ctxfix.errors import CtxfixError
from ctxfix.facts import Slot
from ctxfix.sources.agents import cline

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "cline"

STATE = {
    "actModeApiProvider": "ollama",
    "planModeApiProvider": "ollama",
    "actModeOllamaModelId": "qwen3-coder:30b",
    "planModeOllamaModelId": "qwen3-coder:30b",
    "ollamaBaseUrl": "http://127.0.0.1:11434",
    "ollamaApiOptionsCtxNum": "32768",
    "requestTimeoutMs": 60000,
}


def make_vscdb(path: Path, value: str | None, *, wal: bool = False) -> Path:
    """A VS Code global state database with Cline's value (and another extension's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    con.execute("INSERT INTO ItemTable VALUES ('github.copilot-chat', '{\"x\": 1}')")
    if value is not None:
        con.execute("INSERT INTO ItemTable VALUES (?, ?)", (cline.EXTENSION_KEY, value))
    con.commit()
    con.close()
    return path


def snapshot(d: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in d.iterdir()}


# --------------------------------------------------------------------------- file store


def test_global_state_binding():
    (b,) = cline.read(FIX / "globalState.json")
    assert (b.agent, b.model, b.api, b.host) == (
        "cline",
        "qwen3-coder:30b",
        "native",
        "http://localhost:11434",
    )
    assert (b.context_window.value, b.context_window.location.line) == (32768, 10)
    assert b.num_ctx is not None and b.num_ctx.value == 32768  # sent on /api/chat
    assert (b.timeout_s.value, b.timeout_unit_s) == (30.0, 0.001)
    assert b.edit_paths[Slot.CONTEXT_WINDOW] == ("ollamaApiOptionsCtxNum",)
    assert b.edit_paths[Slot.MODEL_REF] == ("actModeOllamaModelId",)


def test_providers_json_wins_over_global_state():
    """The SDK reads providers.json first: the mirrored legacy file adds nothing."""
    assert cline.read(FIX / "sdk" / "globalState.json") == []
    (b,) = cline.read(FIX / "sdk" / "settings" / "providers.json")
    assert (b.model, b.context_window.value, b.context_window.location.key) == (
        "devstral:24b",
        16384,
        "providers.ollama.settings.contextWindow",
    )
    assert b.timeout_s.source == "default" and b.timeout_s.value == 300.0
    assert b.pinned  # the extension selects its model in globalState.json


def test_providers_json_without_window_falls_back(tmp_path: Path):
    data = tmp_path / "data"
    (data / "settings").mkdir(parents=True)
    settings = {"provider": "ollama", "model": "llama3.1:8b"}
    prov = {"version": 1, "providers": {"ollama": {"settings": settings}}}
    (data / "settings" / "providers.json").write_text(json.dumps(prov, indent=2))
    (b,) = cline.read(data / "settings" / "providers.json")
    assert (b.context_window.value, b.context_window.source) == (32768, "default")
    (data / "globalState.json").write_text(json.dumps({"ollamaApiOptionsCtxNum": " 65536 "}))
    (b,) = cline.read(data / "settings" / "providers.json")
    assert (b.context_window.value, b.context_window.location.key) == (
        65536,
        "ollamaApiOptionsCtxNum",
    )


def test_unset_window_is_not_inserted_as_a_number(tmp_path: Path):
    """Cline calls `.trim()` on ollamaApiOptionsCtxNum: ctxfix never writes a number there."""
    p = tmp_path / "globalState.json"
    p.write_text(json.dumps({"apiProvider": "ollama", "ollamaModelId": "llama3.1:8b"}))
    (b,) = cline.read(p)
    assert (b.context_window.value, b.context_window.source) == (32768, "default")
    assert Slot.CONTEXT_WINDOW not in b.edit_paths
    assert "Model Context Window" in b.manual[Slot.CONTEXT_WINDOW]


def test_other_providers_and_other_json_are_not_cline(tmp_path: Path):
    p = tmp_path / "globalState.json"
    p.write_text(json.dumps({"actModeApiProvider": "anthropic", "ollamaBaseUrl": "x"}))
    assert cline.read(p) == []
    q = tmp_path / "providers.json"
    q.write_text(json.dumps({"providers": [{"name": "x"}]}))
    assert cline.read(q) == []


def test_user_paths_per_os(tmp_path: Path):
    home = tmp_path / "home"
    got = cline.user_paths({}, home)
    assert home / ".cline/data/settings/providers.json" in got
    assert home / ".cline/data/globalState.json" in got
    assert home / ".config/Code/User/globalStorage/state.vscdb" in got
    assert home / "Library/Application Support/Cursor/User/globalStorage/state.vscdb" in got
    win = cline.user_paths({"APPDATA": str(tmp_path / "AppData/Roaming")}, home)
    assert tmp_path / "AppData/Roaming/Code/User/globalStorage/state.vscdb" in win
    env = {"CLINE_DATA_DIR": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path / "x")}
    got = cline.user_paths(env, home)
    assert got[:2] == [tmp_path / "d/settings/providers.json", tmp_path / "d/globalState.json"]
    assert tmp_path / "x/VSCodium/User/globalStorage/state.vscdb" in got


# --------------------------------------------------------------------------- state.vscdb


@pytest.mark.parametrize("wal", [False, True])
def test_vscdb_is_read_and_never_written(tmp_path: Path, wal: bool):
    db = make_vscdb(tmp_path / "globalStorage" / "state.vscdb", json.dumps(STATE), wal=wal)
    before = snapshot(db.parent)
    (b,) = cline.read(db)
    assert (b.model, b.api, b.context_window.value, b.timeout_s.value) == (
        "qwen3-coder:30b",
        "native",
        32768,
        60.0,
    )
    assert (
        b.context_window.location.key == "ItemTable[saoudrizwan.claude-dev].ollamaApiOptionsCtxNum"
    )
    assert b.edit_paths == {} and "state.vscdb" in b.pinned
    assert "(ollamaApiOptionsCtxNum)" in b.manual[Slot.CONTEXT_WINDOW]
    assert snapshot(db.parent) == before


def test_vscdb_without_cline_is_nothing(tmp_path: Path):
    assert cline.read(make_vscdb(tmp_path / "state.vscdb", None)) == []


def test_locked_vscdb_is_read_without_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """VS Code holding a write lock: read `immutable=1`, never wait long, never write."""
    monkeypatch.setattr(cline, "BUSY_TIMEOUT_S", 0.05)
    db = make_vscdb(tmp_path / "state.vscdb", json.dumps(STATE))
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (b,) = cline.read(db)
        assert b.context_window.value == 32768
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"SQLite format 3\x00" + b"\xff" * 200, "not a readable SQLite database"),
        (b"not a database at all" * 50, "not a readable SQLite database"),
    ],
)
def test_corrupt_vscdb_names_the_file(tmp_path: Path, content: bytes, problem: str):
    db = tmp_path / "state.vscdb"
    db.write_bytes(content)
    with pytest.raises(CtxfixError) as e:
        cline.read(db)
    assert e.value.where == str(db) and problem in e.value.problem


def test_value_that_is_not_json(tmp_path: Path):
    db = make_vscdb(tmp_path / "state.vscdb", "{not json")
    with pytest.raises(CtxfixError, match=r"saoudrizwan\.claude-dev: value is not JSON"):
        cline.read(db)


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OllamaDouble]:
    store = tmp_path_factory.mktemp("cline") / "models"
    add_model(store, "qwen3-coder:30b", QWEN3_CODER_30B)
    with OllamaDouble(store) as srv:
        yield srv


def _cli(*args: str, cwd: Path, home: Path):
    env = {**os.environ, "HOME": str(home), "CTXFIX_STATE_DIR": str(home / "state")}
    env.pop("OLLAMA_HOST", None)
    return run_ctxfix(*args, cwd=cwd, env=env, timeout=60)


def test_apply_lists_the_vscdb_setting_as_not_fixed(tmp_path: Path, double: OllamaDouble):
    db = make_vscdb(tmp_path / "state.vscdb", json.dumps(STATE))
    before = snapshot(tmp_path)
    opts = ("--host", double.url, "--no-user", "--no-store", "--isolated", "--prefill-tps", "400")
    r = _cli("apply", "--dry-run", *opts, str(db), cwd=tmp_path, home=tmp_path / "h")
    assert r.returncode == 0, r.stdout + r.stderr  # nothing apply can change
    assert "not fixed (these findings stay):" in r.stdout
    lines = [ln for ln in r.stdout.splitlines() if "CTX202" in ln and "state.vscdb" in ln]
    assert lines and "set it to 262,144 in Cline's settings" in lines[0]
    assert "“Model Context Window” (ollamaApiOptionsCtxNum)" in lines[0]
    (t,) = [ln for ln in r.stdout.splitlines() if "CTX301" in ln]
    # 32,768 tokens at 400 tok/s: 82 s, 103 s with margin, in milliseconds
    assert "set it to at least 103,000 in Cline's settings" in t and "(requestTimeoutMs)" in t
    assert snapshot(tmp_path) == before


def test_bad_vscdb_on_command_line_is_exit_2(tmp_path: Path):
    db = tmp_path / "state.vscdb"
    db.write_bytes(b"garbage" * 100)
    opts = ("--no-server", "--no-user", "--no-store", "--isolated")
    r = _cli("scan", *opts, str(db), cwd=tmp_path, home=tmp_path / "h")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert str(db) in line and "SQLite" in line


def test_bad_vscdb_while_walking_is_one_warning(tmp_path: Path):
    (tmp_path / "a").mkdir()
    make_vscdb(tmp_path / "a" / "state.vscdb", "{not json")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "state.vscdb").write_bytes(b"garbage" * 100)
    good = tmp_path / "c" / "globalState.json"
    good.parent.mkdir()
    good.write_text(json.dumps(STATE))
    opts = ("--no-server", "--no-user", "--no-store", "--isolated", "--format", "json")
    r = _cli("scan", *opts, str(tmp_path), cwd=tmp_path, home=tmp_path / "h")
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr
    assert [b["file"] for b in json.loads(r.stdout)["agents"]] == [str(good)]
    warned = [ln for ln in r.stderr.splitlines() if "state.vscdb" in ln]
    assert len(warned) == 2, r.stderr
