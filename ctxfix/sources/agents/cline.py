"""Cline (VS Code extension, JetBrains, CLI): `~/.cline/data/`, and VS Code's `state.vscdb`.

Why: Cline talks to Ollama's native `/api/chat` and sends its "Model Context
Window" as `options.num_ctx` on every request, defaulting to 32,768: the
value in these files *is* the context the model is served with, and a 256k
model quietly runs at 32k when it is unset. Upstream facts (cline/cline, checked
at 21cb8d25, Aug 2026):

- Storage: `.clinerules/storage.md`, `apps/vscode/src/shared/storage/storage-context.ts`:
  VS Code, JetBrains and the CLI share file-backed JSON stores under
  `~/.cline/data/` (`$CLINE_DATA_DIR`, else `$CLINE_DIR/data`, else
  `~/.cline/data`; `sdk/packages/shared/src/storage/paths.ts`), on every OS:
  `globalState.json` (settings) and `settings/providers.json` (the SDK's
  provider settings). Windows: `%USERPROFILE%\\.cline\\data`.
- `globalState.json` keys (`apps/vscode/src/shared/storage/state-keys.ts`):
  `actModeApiProvider` / `planModeApiProvider` ("ollama"),
  `actModeOllamaModelId` / `planModeOllamaModelId`, `ollamaBaseUrl`,
  `ollamaApiOptionsCtxNum` (a *string*: `Number(raw.trim())` reads it, so it
  must stay a string), `requestTimeoutMs` (ms). Before the plan/act split:
  `apiProvider` and `ollamaModelId`.
- `settings/providers.json` (`sdk/packages/core/src/types/provider-settings.ts`,
  `services/llms/provider-settings.ts`): `{"version": 1, "providers":
  {"ollama": {"settings": {"provider", "model", "baseUrl", "contextWindow",
  "timeout"}}}}`. `contextWindow` is the source of truth and
  `ollamaApiOptionsCtxNum` the fallback, else `OLLAMA_DEFAULT_CONTEXT_WINDOW =
  32768` (`apps/vscode/src/sdk/cline-session-factory.ts resolveOllamaProviderConfig`,
  `sdk/packages/llms/src/providers/builtins.ts`).
- Wire: `sdk/packages/llms/src/providers/vendors/ollama.ts` uses `/api/chat`
  and strips a `/v1` or `/api` suffix from the base URL (default
  `http://localhost:11434`), so the API is always native;
  `routing/provider-option-rules.ts` sends `options.num_ctx` = the window.
  Timeout: `requestTimeoutMs`/`timeout`, default `OLLAMA_DEFAULT_TIMEOUT_MS =
  300_000` (time until the response starts, which includes prefill).
- VS Code before the file store kept the same keys in the extension's global
  state: SQLite `state.vscdb`, `ItemTable(key, value)`, one JSON value under
  `saoudrizwan.claude-dev`. `apps/vscode/src/hosts/vscode/vscode-to-file-migration.ts`
  copies it once into the file store ("file store wins") and leaves it in
  place, so it is read only as the setting of an extension that has not
  migrated. Its handler (`src/core/api/providers/ollama.ts` before 791d2389)
  sent `num_ctx: Number(ollamaApiOptionsCtxNum)`, default 32768, and timed out
  after `requestTimeoutMs || 30000`. ctxfix never writes `state.vscdb` (VS Code
  has it open): the binding has no slots and says which setting to change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Location, ModelRef, Slot, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    model_binding,
    to_float,
    to_int,
    to_str,
    vscode_user_dirs,
)

AGENT = "cline"
FILE_NAMES: tuple[str, ...] = ("globalState.json", "providers.json", "state.vscdb")

EXTENSION_KEY = "saoudrizwan.claude-dev"
DEFAULT_CONTEXT_WINDOW = 32768  # OLLAMA_DEFAULT_CONTEXT_WINDOW, sdk/packages/llms builtins.ts
DEFAULT_TIMEOUT_MS = 300_000  # OLLAMA_DEFAULT_TIMEOUT_MS, vendors/ollama.ts
LEGACY_TIMEOUT_MS = 30_000  # the pre-SDK handler: `requestTimeoutMs || 30000`
DEFAULT_HOST = "http://localhost:11434"
# (provider key, model-id key) per mode, newest first; `apiProvider`/`ollamaModelId`
# predate the plan/act split
_MODES: tuple[tuple[str, str], ...] = (
    ("actModeApiProvider", "actModeOllamaModelId"),
    ("planModeApiProvider", "planModeOllamaModelId"),
    ("apiProvider", "ollamaModelId"),
)
_STATE_KEYS = frozenset(k for pair in _MODES for k in pair) | {
    "ollamaBaseUrl",
    "ollamaApiOptionsCtxNum",
}
VSCDB_LIMIT = 1024 * 1024 * 1024  # state.vscdb holds every extension's state: bound it anyway
VALUE_LIMIT = 16 * 1024 * 1024
SQLITE_DEADLINE_S = 3.0
BUSY_TIMEOUT_S = 1.0  # wait this long for VS Code's write lock before reading immutable
_WHERE = "in Cline's settings (API Provider: Ollama) as"
_NEVER = "ctxfix never writes VS Code's state.vscdb"
MANUAL: dict[str, str] = {
    Slot.CONTEXT_WINDOW: f"{_WHERE} “Model Context Window” (ollamaApiOptionsCtxNum); {_NEVER}",
    Slot.TIMEOUT: f"{_WHERE} “Request Timeout (ms)” (requestTimeoutMs); {_NEVER}",
}
PINNED = f"Cline's VS Code settings are in state.vscdb: pick the model {_WHERE[:-3]}; {_NEVER}"


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """The CLI/extension data dir, then VS Code's (and forks') global state database."""
    if env.get("CLINE_DATA_DIR", "").strip():
        data = Path(env["CLINE_DATA_DIR"].strip()).expanduser()
    elif env.get("CLINE_DIR", "").strip():
        data = Path(env["CLINE_DIR"].strip()).expanduser() / "data"
    else:
        data = home / ".cline" / "data"
    out = [data / "settings" / "providers.json", data / "globalState.json"]
    return out + [d / "globalStorage" / "state.vscdb" for d in vscode_user_dirs(env, home)]


def _is_providers(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("providers"), dict)
        and "version" in data
        and all(isinstance(p, dict) and "settings" in p for p in data["providers"].values())
    )


def detect(path: Path, data: Any) -> bool:
    """Cline's global state (any of its Ollama/provider keys) or its SDK providers.json."""
    if not isinstance(data, dict):
        return False
    return _is_providers(data) or bool(_STATE_KEYS & data.keys())


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    path = Path(path)
    if path.suffix == ".vscdb":
        state = read_vscdb(path)
        return [] if state is None else _vscdb_bindings(path, state)
    from ctxfix.edits.document import load_document

    doc = load_document(path, text)
    if not detect(path, doc.data):
        return []
    if _is_providers(doc.data):
        return _providers_bindings(doc)
    return _state_bindings(doc)


# --------------------------------------------------------------------------- file store


def _sibling_state(providers_path: Path) -> dict[str, Any]:
    """`<data>/globalState.json` next to `<data>/settings/providers.json` ({} when absent)."""
    p = providers_path.parent.parent / "globalState.json"
    return _load_json_quietly(p)


def _sibling_providers(state_path: Path) -> dict[str, Any]:
    return _load_json_quietly(state_path.parent / "settings" / "providers.json")


def _load_json_quietly(p: Path) -> dict[str, Any]:
    """A sibling store, for precedence only; its own read reports it if broken."""
    from ctxfix.safe_read import is_regular, read_text

    if not is_regular(p):
        return {}
    try:
        data = json.loads(read_text(p))
    except (CtxfixError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ollama_settings(data: Mapping[str, Any]) -> dict[str, Any] | None:
    entry = data.get("providers", {}).get("ollama") if isinstance(data, Mapping) else None
    settings = entry.get("settings") if isinstance(entry, dict) else None
    return settings if isinstance(settings, dict) else None


def _providers_bindings(doc: Any) -> list[AgentBinding]:
    """The SDK store: one binding for `providers.ollama` when it names a model."""
    settings = _ollama_settings(doc.data)
    if settings is None or to_str(settings.get("model")) is None:
        return []
    sp: KeyPath = ("providers", "ollama", "settings")
    ctx_path: KeyPath = (*sp, "contextWindow")
    window = binding_value(doc, ctx_path, to_int)
    if window is None or window.value <= 0:
        legacy = to_int(str(_sibling_state(doc.path).get("ollamaApiOptionsCtxNum", "")).strip())
        if legacy and legacy > 0:
            state = doc.path.parent.parent / "globalState.json"
            loc = Location(str(state), key="ollamaApiOptionsCtxNum")
            window = Sourced(legacy, "agent", loc, note="Cline's legacy ollamaApiOptionsCtxNum")
        else:
            window = default(
                DEFAULT_CONTEXT_WINDOW, "Cline's Ollama default context window", doc, ctx_path
            )
    timeout_path: KeyPath = (*sp, "timeout")
    timeout = _timeout_s(doc, timeout_path)
    ref_path: KeyPath = (*sp, "model")
    base = to_str(settings.get("baseUrl"))
    return [
        model_binding(
            doc,
            ref_path,
            agent=AGENT,
            suppressed=inline_ignores(doc.text),
            edit_paths={
                Slot.CONTEXT_WINDOW: ctx_path,
                Slot.NUM_CTX: ctx_path,
                Slot.TIMEOUT: timeout_path,
            },
            api="native",
            host=base or DEFAULT_HOST,
            context_window=window,
            num_ctx=Sourced(window.value, window.source, window.location, note="sent as num_ctx"),
            timeout_s=timeout,
            timeout_unit_s=0.001,
            refs=(ModelRef(ref_path, settings["model"]),),
            # the extension selects its model by actModeOllamaModelId in globalState.json
            pinned=(
                "Cline also selects the model by actModeOllamaModelId in globalState.json: "
                "pick the new model in Cline's settings"
            ),
        )
    ]


def _timeout_s(doc: Any, path: KeyPath) -> Sourced[float]:
    """The timeout in milliseconds at `path`, in seconds; Cline's default when unset or <= 0."""
    timeout = binding_value(doc, path, to_float)
    if timeout is None or timeout.value <= 0:
        return default(DEFAULT_TIMEOUT_MS / 1000, "Cline's Ollama default timeout", doc, path)
    return Sourced(timeout.value / 1000, timeout.source, timeout.location)


def _mode_models(state: Mapping[str, Any]) -> dict[str, list[str]]:
    """Model id -> the keys that select it, for every mode whose provider is Ollama."""
    out: dict[str, list[str]] = {}
    for provider_key, model_key in _MODES:
        if str(state.get(provider_key, "")).lower() != "ollama":
            continue
        model = to_str(state.get(model_key))
        if model is not None:
            out.setdefault(model, []).append(model_key)
    return out


def _state_bindings(doc: Any) -> list[AgentBinding]:
    """globalState.json: one binding per Ollama model a mode selects.

    When providers.json has an Ollama entry the SDK reads that one (it wins),
    and this file is only its fallback: no binding here, so nothing is judged
    or fixed twice.
    """
    if _ollama_settings(_sibling_providers(doc.path)) is not None:
        return []
    state = doc.data
    ctx_path: KeyPath = ("ollamaApiOptionsCtxNum",)
    raw = state.get("ollamaApiOptionsCtxNum")
    window = binding_value(doc, ctx_path, to_int)
    if window is None or window.value <= 0:
        window = default(
            DEFAULT_CONTEXT_WINDOW, "Cline's Ollama default context window", doc, ctx_path
        )
    timeout_path: KeyPath = ("requestTimeoutMs",)
    timeout = _timeout_s(doc, timeout_path)
    edit_paths: dict[str, KeyPath] = {Slot.TIMEOUT: timeout_path}
    if isinstance(raw, str):
        # Cline calls raw.trim(): only an existing string is rewritten (as a string);
        # inserting a number would break it
        edit_paths[Slot.CONTEXT_WINDOW] = ctx_path
        edit_paths[Slot.NUM_CTX] = ctx_path
    base = to_str(state.get("ollamaBaseUrl"))
    out: list[AgentBinding] = []
    for model, keys in _mode_models(state).items():
        out.append(
            model_binding(
                doc,
                (keys[0],),
                agent=AGENT,
                suppressed=inline_ignores(doc.text),
                edit_paths=edit_paths,
                api="native",
                host=base or DEFAULT_HOST,
                context_window=window,
                num_ctx=Sourced(
                    window.value, window.source, window.location, note="sent as num_ctx"
                ),
                timeout_s=timeout,
                timeout_unit_s=0.001,
                refs=tuple(ModelRef((k,), model) for k in keys),
                manual={}
                if isinstance(raw, str)
                else {
                    Slot.CONTEXT_WINDOW: f"{_WHERE} “Model Context Window” (Cline reads "
                    "ollamaApiOptionsCtxNum as a string: ctxfix does not insert it)"
                },
            )
        )
    return out


# --------------------------------------------------------------------------- state.vscdb


def read_vscdb(path: Path) -> dict[str, Any] | None:
    """Cline's global state from VS Code's `state.vscdb`, read-only; None when absent.

    Opened with `mode=ro` (never written: VS Code has it open); only when that
    open fails because the database is locked is it opened `immutable=1`,
    which reads the file as it is without taking locks. Bounded: the file
    size, the value size, a busy timeout and a deadline on the query.
    """
    import sqlite3  # only when a database is read: every scan imports this module

    from ctxfix import sqlite_read

    where = str(path)
    sqlite_read.check_file(path, VSCDB_LIMIT)
    # WAL mode and no `-wal` file: opened immutable (`mode=ro` would create a `-shm`)
    first = sqlite_read.first_uri(path)
    try:
        raw = _query(first)
    except sqlite3.OperationalError as exc:
        if not sqlite_read.is_locked(exc):
            raise CtxfixError(where, f"not a readable SQLite database: {exc}") from None
        try:
            raw = _query(sqlite_read.immutable_uri(path))
        except sqlite3.Error as exc2:
            raise CtxfixError(where, f"locked and not readable: {exc2}") from None
    except sqlite3.Error as exc:
        raise CtxfixError(where, f"not a readable SQLite database: {exc}") from None
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CtxfixError(where, f"ItemTable {EXTENSION_KEY}: value is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CtxfixError(where, f"ItemTable {EXTENSION_KEY}: value is not a JSON object")
    return data


def _query(uri: str) -> str | bytes | None:
    import sqlite3

    from ctxfix.sqlite_read import connect

    con = connect(
        uri, busy_timeout_s=BUSY_TIMEOUT_S, deadline_s=SQLITE_DEADLINE_S, isolation_level=None
    )
    try:
        row = con.execute(
            "SELECT length(value) FROM ItemTable WHERE key = ?", (EXTENSION_KEY,)
        ).fetchone()
        if row is None:
            return None
        if row[0] is not None and row[0] > VALUE_LIMIT:
            raise sqlite3.DatabaseError(f"the {EXTENSION_KEY} value is over {VALUE_LIMIT:,} bytes")
        row = con.execute("SELECT value FROM ItemTable WHERE key = ?", (EXTENSION_KEY,)).fetchone()
        return None if row is None else row[0]
    finally:
        con.close()


def _vscdb_bindings(path: Path, state: Mapping[str, Any]) -> list[AgentBinding]:
    """The extension's settings as VS Code stores them: read, never written (no slots)."""

    def loc(key: str) -> Location:
        return Location(str(path), key=f"ItemTable[{EXTENSION_KEY}].{key}")

    raw_ctx = to_int(str(state.get("ollamaApiOptionsCtxNum", "")).strip())
    if raw_ctx and raw_ctx > 0:
        window: Sourced[int] = Sourced(raw_ctx, "agent", loc("ollamaApiOptionsCtxNum"))
    else:
        window = Sourced(
            DEFAULT_CONTEXT_WINDOW,
            "default",
            loc("ollamaApiOptionsCtxNum"),
            note="Cline's Ollama default context window",
        )
    t = to_float(state.get("requestTimeoutMs"))
    timeout: Sourced[float] = (
        Sourced(t / 1000, "agent", loc("requestTimeoutMs"))
        if t and t > 0
        else Sourced(
            LEGACY_TIMEOUT_MS / 1000,
            "default",
            loc("requestTimeoutMs"),
            note="Cline's pre-4.0 Ollama timeout (requestTimeoutMs || 30000)",
        )
    )
    base = to_str(state.get("ollamaBaseUrl"))
    out = []
    for model, keys in _mode_models(state).items():
        out.append(
            AgentBinding(
                agent=AGENT,
                file=str(path),
                model_ref=Sourced(model, "agent", loc(keys[0])),
                model=canonical(model),
                api="native",
                host=base or DEFAULT_HOST,
                context_window=window,
                num_ctx=Sourced(window.value, window.source, window.location, "sent as num_ctx"),
                timeout_s=timeout,
                timeout_unit_s=0.001,
                edit_paths={},
                format="sqlite",
                pinned=PINNED,
                manual=MANUAL,
            )
        )
    return out
