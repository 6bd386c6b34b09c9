"""Open WebUI: per-model "Advanced Params" in its SQLite database `webui.db`.

Why: Open WebUI sends a model's saved `num_ctx` as `options.num_ctx` on
Ollama's native `/api/chat`, so the value in the database *is* the context the
model is served with in every chat. Set once (often to 2048 or 8192, from an
old default) it silently caps a 256k model. Upstream facts (open-webui/open-webui;
newest stored versions read Dec 2026, e.g. env.py and internal/db.py at 02530d50):

- Table (`backend/open_webui/models/models.py`, DDL in
  `migrations/versions/7e5b5dc7342b_init.py`): `model(id TEXT PK, user_id,
  base_model_id TEXT NULL, name, params JSON, meta JSON, ...)`. `params` is a
  `JSONField` (`internal/db.py`): TEXT written with `json.dumps(value)`. A row
  with `base_model_id` is a workspace model ("Workspace > Models") that proxies
  to that base model; a row without one overrides the settings of the model
  whose id it has (Admin Settings > Models). Both carry Advanced Params.
- Wire (`routers/ollama.py generate_chat_completion`): the row is looked up by
  the requested id, `payload["model"] = base_model_id`, then
  `utils/payload.py apply_model_params_to_body_ollama` copies `num_ctx`
  (cast with `int`) into `payload["options"]`, overriding a chat's own value;
  `custom_params` are merged over `params` first; the request goes to
  `{url}/api/chat`. So the API is native and `num_ctx` is sent. Open WebUI
  plans no context window of its own (it does not trim history to a token
  budget), so the binding has none. A model with a connection `prefix_id`
  (`ollama.api_configs`) is named `<prefix>.<model>`; the prefix is stripped.
- Which rows are Ollama models: Open WebUI lists Ollama models by their
  `/api/tags` names, which always carry a tag (`name:tag`); ids of
  OpenAI-compatible connections rarely do. Rows naming no `name:tag` model are
  not read (Open WebUI keeps no provider column).
- Ollama URL (`config.py`): `OLLAMA_BASE_URLS` (";"-separated) else
  `OLLAMA_BASE_URL`, default `http://localhost:11434`, persisted in the
  `config` table as `ollama.base_urls`: one JSON blob `config(id, data)` with
  `data.ollama.base_urls` before migration `3ff2c63645b8` (Jun 2026), one row
  per key `config(key, value)` after. The first URL is the binding's host.
- Location (`env.py`): `DATA_DIR` (env), else `backend/data` of a source
  checkout; `open-webui serve` (pip/uv/pipx, `FROM_INIT_PY`) uses
  `<site-packages>/open_webui/data`; Docker `/app/backend/data` (a volume);
  the docs' uv recipe sets `DATA_DIR=~/.open-webui`. The file is `webui.db`
  (`DATABASE_URL` default `sqlite:///{DATA_DIR}/webui.db`); Postgres and
  SQLCipher databases are not read (the latter fails as "not a database").

Reading is read-only and snapshot-consistent (one read transaction on a
`mode=ro` connection, `immutable` when a WAL-mode file has no `-wal`), bounded
by file size, value size and a deadline. ctxfix writes `params.num_ctx` (and
nothing else) only when Open WebUI is not running (`ctxfix.sqlite_edit.in_use`);
otherwise the binding says what to set in the UI, and apply lists it as not
fixed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Location, Slot, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import to_int, to_str
from ctxfix.sqlite_edit import SQLITE_JSON, in_use, is_sqlite

AGENT = "open-webui"
FILE_NAMES: tuple[str, ...] = ("webui.db",)

DEFAULT_HOST = "http://localhost:11434"  # config.py: OLLAMA_API_BASE_URL default, minus /api
DB_LIMIT = 2 * 1024 * 1024 * 1024  # chats live here too: large, but bounded
PARAMS_LIMIT = 1024 * 1024  # one model's params JSON
MAX_ROWS = 10_000
DEADLINE_S = 5.0
BUSY_TIMEOUT_S = 1.0
FIELD = "“Context Length (num_ctx)”"
# an Ollama model name as /api/tags lists it: [namespace/]name:tag
_OLLAMA_NAME = re.compile(r"^[A-Za-z0-9][\w.\-/]*:[A-Za-z0-9_][\w.\-]{0,127}$")


def _site_packages_dbs(venv: Path) -> list[Path]:
    """`<venv>/lib/python3.*/site-packages/open_webui/data/webui.db` (and Windows' `Lib`)."""
    out: list[Path] = []
    lib = venv / "lib"
    try:
        pythons = sorted(p for p in lib.iterdir() if p.name.startswith("python3"))
    except OSError:
        pythons = []
    for py in pythons:
        out.append(py / "site-packages" / "open_webui" / "data" / "webui.db")
    out.append(venv / "Lib" / "site-packages" / "open_webui" / "data" / "webui.db")
    return out


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$DATA_DIR`, the docs' `~/.open-webui`, and the uv-tool / pipx installs' package data."""
    out: list[Path] = []
    if env.get("DATA_DIR", "").strip():
        out.append(Path(env["DATA_DIR"].strip()).expanduser() / "webui.db")
    out.append(home / ".open-webui" / "webui.db")
    data_home = (
        Path(env["XDG_DATA_HOME"]).expanduser()
        if env.get("XDG_DATA_HOME", "").strip()
        else home / ".local" / "share"
    )
    uv_tools = (
        Path(env["UV_TOOL_DIR"]).expanduser()
        if env.get("UV_TOOL_DIR", "").strip()
        else data_home / "uv" / "tools"
    )
    venvs = [uv_tools / "open-webui", data_home / "pipx" / "venvs" / "open-webui"]
    if env.get("APPDATA", "").strip():
        venvs.append(Path(env["APPDATA"]) / "uv" / "data" / "tools" / "open-webui")
    for v in venvs:
        out += _site_packages_dbs(v)
    return out


def detect(path: Path, data: Any) -> bool:
    """A SQLite database (Open WebUI's own schema is checked when it is read)."""
    if isinstance(data, (bytes, bytearray)):
        return is_sqlite(bytes(data))
    try:
        with open(path, "rb") as f:
            return is_sqlite(f.read(16))
    except OSError:
        return False


# --------------------------------------------------------------------------- reading


def _query_all(path: Path) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """(model rows, {config key: parsed value}) read in one read-only snapshot."""
    import sqlite3

    from ctxfix import sqlite_read

    where = str(path)
    sqlite_read.check_file(path, DB_LIMIT)
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError as exc:
        raise CtxfixError(where, f"cannot read: {exc.strerror or exc}") from None
    if not is_sqlite(header):
        raise CtxfixError(where, "not a SQLite database (an encrypted one is not read)")
    # a WAL file without its -wal: nobody has it open; `mode=ro` would create a -shm
    first = sqlite_read.first_uri(path, header)
    try:
        return _snapshot(first)
    except sqlite3.OperationalError as exc:
        if sqlite_read.is_locked(exc):
            raise CtxfixError(where, f"locked by another process, not read ({exc})") from None
        raise CtxfixError(where, f"not a readable SQLite database: {exc}") from None
    except sqlite3.Error as exc:
        raise CtxfixError(where, f"not a readable SQLite database: {exc}") from None
    except _Schema as exc:
        raise CtxfixError(where, f"not Open WebUI's schema: {exc}") from None


class _Schema(Exception):
    """The database is not laid out the way Open WebUI lays out webui.db."""


def _columns(con: Any, table: str) -> set[str]:
    return {r[1] for r in con.execute(f'PRAGMA table_info("{table}")').fetchall()}


def _snapshot(uri: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    from ctxfix.sqlite_read import connect

    con = connect(uri, busy_timeout_s=BUSY_TIMEOUT_S, deadline_s=DEADLINE_S, isolation_level=None)
    try:
        con.execute("BEGIN")  # one snapshot for every query below
        cols = _columns(con, "model")
        if not {"id", "base_model_id", "params"} <= cols:
            raise _Schema("no model table with id, base_model_id and params")
        name_col = '"name"' if "name" in cols else "NULL"
        rows = con.execute(
            f"SELECT id, base_model_id, {name_col}, length(params), "
            f"CASE WHEN length(params) <= {PARAMS_LIMIT} THEN params END "
            f"FROM model LIMIT {MAX_ROWS}"
        ).fetchall()
        config = _config(con)
        con.execute("COMMIT")
        return rows, config
    finally:
        con.close()


_CONFIG_KEYS = ("ollama.enable", "ollama.base_urls", "ollama.api_configs")


def _config(con: Any) -> dict[str, Any]:
    """The Ollama settings Open WebUI persisted, in either layout of its `config` table."""
    cols = _columns(con, "config")
    out: dict[str, Any] = {}
    if {"key", "value"} <= cols:  # per-key rows (migration 3ff2c63645b8)
        marks = ",".join("?" for _ in _CONFIG_KEYS)
        q = f"SELECT key, value FROM config WHERE key IN ({marks}) AND length(value) < 1048576"
        for key, raw in con.execute(q, _CONFIG_KEYS).fetchall():
            out[key] = _json_or_none(raw)
    elif {"id", "data"} <= cols:  # one JSON blob, newest row
        row = con.execute(
            "SELECT data FROM config WHERE length(data) < 16777216 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        blob = _json_or_none(row[0]) if row else None
        ollama = blob.get("ollama") if isinstance(blob, dict) else None
        if isinstance(ollama, dict):
            for key in _CONFIG_KEYS:
                if key.split(".", 1)[1] in ollama:
                    out[key] = ollama[key.split(".", 1)[1]]
    return out


def _json_or_none(raw: Any) -> Any:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _hosts(config: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(the first Ollama URL, {prefix_id: URL}) from the persisted config."""
    urls = config.get("ollama.base_urls")
    if isinstance(urls, str):
        urls = [u.strip() for u in urls.split(";")]
    urls = [u for u in urls if isinstance(u, str) and u.strip()] if isinstance(urls, list) else []
    prefixes: dict[str, str] = {}
    confs = config.get("ollama.api_configs")
    if isinstance(confs, dict):
        for idx, conf in confs.items():
            prefix = conf.get("prefix_id") if isinstance(conf, dict) else None
            i = to_int(idx)
            if isinstance(prefix, str) and prefix and i is not None and 0 <= i < len(urls):
                prefixes[prefix] = urls[i].strip()
    return (urls[0].strip() if urls else DEFAULT_HOST), prefixes


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    path = Path(path)
    rows, config = _query_all(path)
    if config.get("ollama.enable") is False:  # Admin > Connections: Ollama API off
        return []
    host, prefixes = _hosts(config)
    why_busy: str | None = None
    checked = False
    out: list[AgentBinding] = []
    for row_id, base, name, size, raw in rows:
        if not isinstance(row_id, str):
            continue
        target = to_str(base) or row_id
        row_host = host
        for prefix, url in prefixes.items():
            if target.startswith(f"{prefix}."):
                target, row_host = target[len(prefix) + 1 :], url
                break
        if not _OLLAMA_NAME.match(target):
            continue  # not an Ollama model (an OpenAI-compatible connection's)
        if raw is None and size is not None:
            raise CtxfixError(
                str(path), f"model {row_id!r}: params is over {PARAMS_LIMIT:,} bytes; not read"
            )
        params = _params(path, row_id, raw)
        if not checked:
            why_busy, checked = in_use(path), True
        out.append(
            _binding(path, row_id, to_str(name) or row_id, target, row_host, params, why_busy)
        )
    return out


def _params(path: Path, row_id: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise CtxfixError(str(path), f"model {row_id!r}: params is not JSON ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CtxfixError(str(path), f"model {row_id!r}: params is not a JSON object")
    return data


def _binding(
    path: Path,
    row_id: str,
    name: str,
    target: str,
    host: str,
    params: Mapping[str, Any],
    why_busy: str | None,
) -> AgentBinding:
    num_ctx_path: KeyPath = ("model", row_id, "params", "num_ctx")
    loc = Location(str(path), key=f"model[{row_id}].params.num_ctx")
    num_ctx: Sourced[int] | None = None
    editable = False
    custom = params.get("custom_params")
    custom_ctx = custom.get("num_ctx") if isinstance(custom, dict) else None
    if custom_ctx is not None:  # merged over params before sending (deep_update)
        value = to_int(_json_or_none(custom_ctx) if isinstance(custom_ctx, str) else custom_ctx)
        if value is not None and value > 0:
            cloc = Location(str(path), key=f"model[{row_id}].params.custom_params.num_ctx")
            num_ctx = Sourced(value, "agent", cloc, note="sent as options.num_ctx")
    elif params.get("num_ctx") is not None:
        value = to_int(params["num_ctx"])
        if value is not None and value > 0:
            num_ctx = Sourced(value, "agent", loc, note="sent as options.num_ctx")
            editable = isinstance(params["num_ctx"], int) and not isinstance(
                params["num_ctx"], bool
            )
    where = (
        f"in Open WebUI: Workspace > Models > {name} > Advanced Params > {FIELD}"
        if target != row_id
        else f"in Open WebUI: Admin Settings > Models > {name} > Advanced Params > {FIELD}"
    )
    manual = {Slot.NUM_CTX: where}
    edit_paths: dict[str, KeyPath] = {Slot.MODEL_REF: ("model", row_id, "base_model_id")}
    if why_busy is not None:
        manual[Slot.NUM_CTX] = f"{where} (ctxfix does not write {path.name}: {why_busy})"
    elif editable:
        edit_paths[Slot.NUM_CTX] = num_ctx_path
    return AgentBinding(
        agent=AGENT,
        file=str(path),
        model_ref=Sourced(target, "agent", Location(str(path), key=f"model[{row_id}]")),
        model=canonical(target),
        api="native",
        host=host,
        context_window=None,
        num_ctx=num_ctx,
        edit_paths=edit_paths,
        format=SQLITE_JSON,
        pinned=f"Open WebUI picks the base model of {name} in its UI; ctxfix does not repoint it",
        manual=manual,
    )
