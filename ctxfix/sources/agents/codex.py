"""Codex CLI (`$CODEX_HOME/config.toml`, default `~/.codex/config.toml`).

Why: Codex talks to Ollama only through the OpenAI-compatible `/v1` API, so
it never sends num_ctx; whatever window it plans with (`model_context_window`)
must match what the server already serves, and its stream idle timeout must
cover the prefill of that window.

Format (verified in openai/codex `docs/config.md`,
`codex-rs/core/src/model_provider_info.rs`, `config_profile.rs`):

- root keys `model`, `model_provider` (default "openai"),
  `model_context_window`, `model_max_output_tokens`, `profile`;
- `[model_providers.<id>]`: `name`, `base_url` (Codex appends
  `/chat/completions` or `/responses`), `wire_api`, `stream_idle_timeout_ms`
  (ms, default 300000), `request_max_retries`;
- `[profiles.<name>]` with their own `model`, `model_provider`,
  `model_context_window`, `model_max_output_tokens`; unset keys fall back to
  the root.
- Built-in providers: "openai", "ollama" (`http://localhost:11434/v1`, or
  `$CODEX_OSS_BASE_URL` / `$CODEX_OSS_PORT`) and "lmstudio". Current releases
  merge user tables with `entry(key).or_insert(...)`, so a user
  `[model_providers.ollama]` table does NOT replace the built-in one: its
  `base_url` and `stream_idle_timeout_ms` are only honoured by older releases.
  The binding still reports what the file says, with a note.
- No documented window for Ollama model names (Codex's table only knows
  OpenAI slugs such as "gpt-oss-20b"), so an unset window stays unset.
- `codex --oss` (verified in `codex-rs/tui/src/lib.rs`, `codex-rs/exec/src/lib.rs`,
  `codex-rs/utils/oss/src/lib.rs`): the provider is `--local-provider`, else
  `oss_provider` of the active profile, else the root `oss_provider`
  ("ollama" or "lmstudio"); the model is `-m`, else the provider's default,
  `gpt-oss:20b` for Ollama (`codex-rs/ollama/src/lib.rs DEFAULT_OSS_MODEL`),
  which overrides a `model` key; `model_context_window` still applies. The
  built-in provider's URL comes from `$CODEX_OSS_BASE_URL`, else
  `http://localhost:$CODEX_OSS_PORT/v1` (default port 11434)
  (`codex-rs/model-provider-info/src/lib.rs create_oss_provider`); those
  environment variables are not read here (a reader sees only its file).

- `ollama launch codex` (github:ollama/ollama `cmd/launch/codex.go
  ensureCodexConfig`) writes `~/.codex/ollama-launch.config.toml` (`model`,
  `model_provider = "ollama-launch"`, `model_catalog_json`, and
  `[model_providers.ollama-launch]` on `$OLLAMA_HOST/v1/`) and the catalog
  `~/.codex/model.json` beside it, `{"models": [{"slug", "context_window", ...}]}`,
  whose `context_window` is the `/api/tags` native context
  (`buildCodexModelEntry`; `OLLAMA_CONTEXT_LENGTH` when set in the launching
  shell). Codex plans with the catalog entry of its model unless
  `model_context_window` is set. Both files are rewritten on every launch, so
  the binding is marked as written by `ollama launch`, and neither its model
  nor its catalog window is edited: the fix is on the server side.
- `ollama launch chatgpt` (the Codex desktop app; github:ollama/ollama
  `cmd/launch/codex_app.go writeCodexAppConfig`, `writeCodexAppModelCatalog`)
  writes into the user's own `config.toml`: root `model`, `model_provider =
  "ollama-launch-codex-app"`, `model_catalog_json` naming
  `ollama-launch-models.json` beside it, and
  `[model_providers.ollama-launch-codex-app]` on `$OLLAMA_HOST/v1/`
  (`wire_api = "responses"`); the catalog's `context_window` is again the
  `/api/tags` native context (128,000 when unknown). A catalog window is marked
  as written by `ollama launch`; it is rewritten only when launch
  (re)configures the app, and the file is the user's, so the fix sets
  `model_context_window`, which Codex prefers and launch leaves alone. The
  model is pinned: launch puts back the model it saved when they differ.

One binding for the root settings and one per profile whose effective
provider is Ollama (provider id "ollama" or a base URL on port 11434), and,
when `oss_provider = "ollama"` is set and that scope's own provider is not
Ollama, one for `codex --oss` (model `gpt-oss:20b`, pinned: it is not
written in the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "codex"
FILE_NAMES: tuple[str, ...] = ("config.toml", "ollama-launch.config.toml")

LAUNCH_PROVIDER = "ollama-launch"  # cmd/launch/codex.go codexProfileName
APP_PROVIDER = "ollama-launch-codex-app"  # cmd/launch/codex_app.go codexAppProfileName
APP_CATALOG = "ollama-launch-models.json"  # codexAppModelCatalogFilename

BUILTIN_OLLAMA_URL = "http://localhost:11434/v1"
DEFAULT_IDLE_TIMEOUT_MS = 300_000
OSS_DEFAULT_MODEL = "gpt-oss:20b"  # codex-rs/ollama/src/lib.rs DEFAULT_OSS_MODEL

# Root keys only Codex's config.toml has (a Cargo or OpenHands config has none).
_CODEX_KEYS = frozenset(
    {
        "model_provider",
        "model_providers",
        "profiles",
        "profile",
        "model_context_window",
        "model_max_output_tokens",
        "model_auto_compact_token_limit",
        "model_reasoning_effort",
        "model_reasoning_summary",
        "approval_policy",
        "sandbox_mode",
        "oss_provider",
    }
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$CODEX_HOME/config.toml`, else `~/.codex/config.toml`."""
    codex_home = env.get("CODEX_HOME")
    base = Path(codex_home).expanduser() if codex_home else home / ".codex"
    return [base / "config.toml", base / "ollama-launch.config.toml"]


def detect(path: Path, data: Any) -> bool:
    """A TOML table with Codex-only root keys (or a bare `model` in a `.codex/` dir)."""
    if not isinstance(data, dict):
        return False
    if _CODEX_KEYS & data.keys():
        return True
    return path.parent.name == ".codex" and isinstance(data.get("model"), str)


def read(
    path: Path, text: str | None = None, env: Mapping[str, str] | None = None
) -> list[AgentBinding]:
    """Bindings for the root settings and each profile that use an Ollama provider.

    `env` is the environment `codex --oss` would run in: `$CODEX_OSS_BASE_URL`
    or `$CODEX_OSS_PORT` move its built-in Ollama provider.
    """
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "toml")
    if not detect(path, doc.data):
        return []
    data = doc.data
    providers = data.get("model_providers")
    if providers is not None and not isinstance(providers, dict):
        raise CtxfixError(
            str(location(doc, ("model_providers",))), "model_providers must be a table"
        )
    profiles = data.get("profiles")
    if profiles is not None and not isinstance(profiles, dict):
        raise CtxfixError(str(location(doc, ("profiles",))), "profiles must be a table")
    suppressed = inline_ignores(doc.text)

    out: list[AgentBinding] = []
    oss: list[AgentBinding] = []
    root = _binding(doc, None, suppressed)
    if root is not None:
        out.append(root)
    elif (b := _oss_binding(doc, None, suppressed, env)) is not None:
        oss.append(b)
    for name, prof in (profiles or {}).items():
        if isinstance(prof, dict):
            b = _binding(doc, name, suppressed)
            if b is not None:
                out.append(b)
            elif "oss_provider" in prof and (b := _oss_binding(doc, name, suppressed, env)):
                oss.append(b)
    # the --oss model is not written in the file: nothing in it refers to it
    return with_refs(out, doc) + oss


def _pick(doc: Any, profile: str | None, key: str) -> tuple[KeyPath, Any]:
    """(path, value) of `key` in the profile when set there, else at the root."""
    if profile is not None:
        p: KeyPath = ("profiles", profile, key)
        if doc.get(p) is not None:
            return p, doc.get(p)
    return (key,), doc.get((key,))


def _binding(doc: Any, profile: str | None, suppressed: frozenset[str]) -> AgentBinding | None:
    model_path, model = _pick(doc, profile, "model")
    prov_path, provider_id = _pick(doc, profile, "model_provider")
    if to_str(model) is None:
        return None
    provider_id = provider_id if isinstance(provider_id, str) else "openai"
    table = doc.get(("model_providers", provider_id))
    table = table if isinstance(table, dict) else None
    user_url = to_str(table.get("base_url")) if table else None
    if provider_id != "ollama" and not is_ollama_url(user_url):
        return None

    note = ""
    if provider_id == "ollama" and table is not None:
        note = (
            "current Codex keeps its built-in 'ollama' provider and ignores a user "
            "[model_providers.ollama] table; use another provider id for this to apply"
        )
    host = user_url or BUILTIN_OLLAMA_URL

    prefix: KeyPath = ("profiles", profile) if profile is not None else ()
    window_path, _ = _pick(doc, profile, "model_context_window")
    max_path, _ = _pick(doc, profile, "model_max_output_tokens")

    edit_paths: dict[str, KeyPath] = {
        "context_window": (*prefix, "model_context_window"),
        "max_tokens": (*prefix, "model_max_output_tokens"),
    }
    timeout: Sourced[float] | None
    if table is not None:
        tpath: KeyPath = ("model_providers", provider_id, "stream_idle_timeout_ms")
        edit_paths["timeout"] = tpath
        ms = binding_value(doc, tpath, to_float)
        if ms is not None:
            timeout = Sourced(ms.value / 1000.0, "agent", ms.location, note=note)
        else:
            timeout = default(
                DEFAULT_IDLE_TIMEOUT_MS / 1000.0,
                "Codex stream_idle_timeout_ms default 300000 ms",
                doc,
                tpath,
            )
    else:
        timeout = default(
            DEFAULT_IDLE_TIMEOUT_MS / 1000.0,
            "built-in 'ollama' provider: stream_idle_timeout_ms default 300000 ms, "
            "not configurable (define a provider with another id to change it)",
            doc,
            prov_path,
        )

    window = binding_value(doc, window_path, to_int)
    launched = provider_id == LAUNCH_PROVIDER
    from_app_catalog = False
    if window is None and isinstance(doc.get(("model_catalog_json",)), str):
        window = _catalog_window(doc, model)
        # `ollama launch chatgpt` (codex_app.go) wrote this catalog window, the native one
        from_app_catalog = provider_id == APP_PROVIDER and window is not None
    pinned = None
    if launched:  # `ollama launch codex` rewrites this file and its catalog on every launch
        pinned = "ollama launch codex rewrites this file on every launch"
        edit_paths = {}  # the model reference only
    elif provider_id == APP_PROVIDER:  # launch rewrites config.toml when its model drifts
        pinned = "ollama launch chatgpt keeps the model it launched and rewrites it here"
    return model_binding(
        doc,
        model_path,
        agent=AGENT,
        suppressed=suppressed,
        edit_paths=edit_paths,
        api="openai",
        host=host,
        context_window=window,
        max_tokens=binding_value(doc, max_path, to_int),
        timeout_s=timeout,
        timeout_unit_s=0.001,
        pinned=pinned,
        written_by="ollama launch"
        if (launched or from_app_catalog) and window is not None
        else None,
    )


def _catalog_window(doc: Any, model: str) -> Sourced[int] | None:
    """`context_window` of the `model_catalog_json` entry whose slug is `model`.

    The path is used as written; when it does not exist (a config copied from
    another machine) the `model.json` beside the config, where `ollama launch`
    writes it, is tried.
    """
    from ctxfix.edits.document import load_document

    written = Path(str(doc.get(("model_catalog_json",)))).expanduser()
    here = Path(doc.path).parent
    candidates = [
        written if written.is_absolute() else here / written,
        here / "model.json",
        here / APP_CATALOG,
    ]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        return None
    catalog = load_document(path, None, "json")
    models = catalog.get(("models",))
    for i, entry in enumerate(models if isinstance(models, list) else []):
        if isinstance(entry, dict) and entry.get("slug") == model:
            return binding_value(catalog, ("models", i, "context_window"), to_int)
    return None


def oss_base_url(env: Mapping[str, str] | None) -> str:
    """The built-in Ollama provider's URL for `codex --oss`.

    codex-rs/model-provider-info/src/lib.rs `create_oss_provider`:
    `$CODEX_OSS_BASE_URL` as written if it is not blank, else
    `http://localhost:$CODEX_OSS_PORT/v1` where the port is the value parsed
    as Rust's `u16` (digits with an optional `+`, untrimmed, at most 65535),
    else 11434.
    """
    env = env or {}
    base = env.get("CODEX_OSS_BASE_URL") or ""
    if base.strip():
        return base
    port = env.get("CODEX_OSS_PORT") or ""
    digits = port[1:] if port.startswith("+") else port
    if (
        digits.isascii()
        and digits.isdigit()
        and int(digits[-6:]) <= 65535
        and len(digits.lstrip("0")) <= 5
    ):
        return f"http://localhost:{int(digits)}/v1"
    return BUILTIN_OLLAMA_URL


def _oss_binding(
    doc: Any, profile: str | None, suppressed: frozenset[str], env: Mapping[str, str] | None
) -> AgentBinding | None:
    """`codex --oss [-p profile]` with `oss_provider = "ollama"`: the built-in provider and
    Codex's default Ollama model, planning with the file's `model_context_window`."""
    oss_path, provider = _pick(doc, profile, "oss_provider")
    if provider != "ollama":
        return None
    where = location(doc, oss_path)
    model_ref = Sourced(
        OSS_DEFAULT_MODEL,
        "default",
        where,
        note=f"codex --oss without -m uses {OSS_DEFAULT_MODEL} on oss_provider 'ollama'",
    )
    prefix: KeyPath = ("profiles", profile) if profile is not None else ()
    window_path, _ = _pick(doc, profile, "model_context_window")
    max_path, _ = _pick(doc, profile, "model_max_output_tokens")
    timeout = Sourced(
        DEFAULT_IDLE_TIMEOUT_MS / 1000.0,
        "default",
        where,
        note="built-in 'ollama' provider: stream_idle_timeout_ms default 300000 ms, "
        "not configurable",
    )
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=model_ref,
        model=OSS_DEFAULT_MODEL,
        api="openai",
        host=oss_base_url(env),
        context_window=binding_value(doc, window_path, to_int),
        num_ctx=None,
        max_tokens=binding_value(doc, max_path, to_int),
        timeout_s=timeout,
        timeout_unit_s=0.001,
        edit_paths={
            "model_ref": oss_path,
            "context_window": (*prefix, "model_context_window"),
            "max_tokens": (*prefix, "model_max_output_tokens"),
        },
        format="toml",
        suppressed=suppressed,
        pinned=f"codex --oss picks {OSS_DEFAULT_MODEL} itself (pass -m to choose another model)",
    )
