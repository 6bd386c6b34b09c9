"""OpenClaw (formerly Clawdbot/Moltbot): `openclaw.json`, JSON5.

Why this reader exists: OpenClaw is the motivating case. Its provider entry
declares the window it plans for (`contextWindow` / `contextTokens`) and the
request timeout (`timeoutSeconds`), while Ollama serves whatever num_ctx the
model or the request says. Upstream facts used here (openclaw/openclaw
`src/config/zod-schema.core.ts`, `src/config/paths.ts`,
`docs/providers/ollama/advanced.md`):

- `models.providers.<id>`: `baseUrl`, `api` ("ollama" = native `/api/chat`,
  "openai-completions" = `/v1`), `timeoutSeconds` (s), provider-level
  `contextWindow`, `contextTokens`, `maxTokens`, `params`,
  `injectNumCtxForOpenAICompat` (default true); `models[]`: `id`,
  `contextWindow` (native window metadata), `contextTokens` (caps active
  input), `maxTokens`, `params` (e.g. `num_ctx`).
- Native requests send `options.num_ctx` from `params.num_ctx`, else from the
  effective `contextTokens`; otherwise none (Ollama decides). The `/v1`
  adapter injects `params.num_ctx`, else `contextTokens`, else `contextWindow`
  (which `/v1` then ignores).
- No `baseUrl`: `OLLAMA_DEFAULT_BASE_URL` = `http://127.0.0.1:11434`
  (`extensions/ollama/src/defaults.ts`; `extensions/ollama/src/stream.ts`
  `resolveOllamaBaseUrlForRun` falls back to it).
- Model refs are `<providerId>/<modelId>`: `agents.defaults.model` (string or
  `{primary, fallbacks}`), `agents.defaults.models` keys, `agents.list[].model`.
- Config path: `$OPENCLAW_CONFIG_PATH`, else `$OPENCLAW_STATE_DIR/openclaw.json`,
  else `~/.openclaw/openclaw.json`; legacy `~/.clawdbot/clawdbot.json` (and
  `.moltbot`/`.moldbot`); `$OPENCLAW_HOME` replaces the home directory.
- `ollama launch openclaw` (github:ollama/ollama `cmd/launch/openclaw.go`,
  `writeOpenclawConfig`, `openclawModelConfig`) writes `models.providers.ollama`
  with `apiKey: "ollama-local"` ("needed to register provider"), `api: "ollama"`
  and `baseUrl` `$OLLAMA_HOST`, and per launched model `{id, name, input, cost,
  reasoning, contextWindow, maxTokens}` with `contextWindow` from `/api/tags`
  `details.context_length` (the native context). That `apiKey` value is its
  mark: a model entry's `contextWindow` under such a provider is reported as
  written by `ollama launch`. Launch writes it again only when it reconfigures.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    is_ollama_url,
    is_v1_url,
    key_location,
    location,
    to_float,
    with_refs,
)

AGENT = "openclaw"
FILE_NAMES: tuple[str, ...] = ("openclaw.json", "clawdbot.json", "moltbot.json", "moldbot.json")

_STATE_DIRS = (".openclaw", ".clawdbot", ".moldbot", ".moltbot")
# openclaw/openclaw extensions/ollama/src/defaults.ts `OLLAMA_DEFAULT_BASE_URL`: what
# extensions/ollama/src/stream.ts `resolveOllamaBaseUrlForRun` uses with no `baseUrl`
_DEFAULT_HOST = "http://127.0.0.1:11434"
LAUNCH_API_KEY = "ollama-local"  # cmd/launch/openclaw.go writeOpenclawConfig
_OPENAI_APIS = ("openai-completions", "openai-responses", "openai-chat")


def _expand(raw: str, home: Path) -> Path:
    raw = raw.strip()
    if raw.startswith("~"):
        return home / raw[1:].lstrip("/\\")
    return Path(raw)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """The config OpenClaw reads: the first existing candidate, in its own order.

    OpenClaw (resolveConfigPathCandidate) reads only the first candidate that
    exists, so a leftover legacy `~/.clawdbot/clawdbot.json` or a default
    `~/.openclaw/openclaw.json` shadowed by `$OPENCLAW_STATE_DIR` is never
    read by it and must not produce findings. With none existing, all
    candidates are returned (discovery skips the missing ones).
    """
    if env.get("OPENCLAW_HOME", "").strip():
        home = _expand(env["OPENCLAW_HOME"], home)
    explicit = (
        env.get("OPENCLAW_CONFIG_PATH", "").strip() or env.get("CLAWDBOT_CONFIG_PATH", "").strip()
    )
    if explicit:
        return [_expand(explicit, home)]
    out: list[Path] = []
    state = env.get("OPENCLAW_STATE_DIR", "").strip() or env.get("CLAWDBOT_STATE_DIR", "").strip()
    if state:
        base = _expand(state, home)
        out += [base / name for name in FILE_NAMES]
    for d in _STATE_DIRS:
        out += [home / d / name for name in FILE_NAMES]
    existing = next((p for p in out if p.exists()), None)
    return [existing] if existing is not None else out


def detect(path: Path, data: Any) -> bool:
    """An OpenClaw config has `models.providers` or `agents.defaults`/`agents.list`."""
    if not isinstance(data, dict):
        return False
    models = data.get("models")
    if isinstance(models, dict) and isinstance(models.get("providers"), dict):
        return True
    agents = data.get("agents")
    return isinstance(agents, dict) and ("defaults" in agents or "list" in agents)


def _refs(doc: Any) -> Iterator[tuple[str, KeyPath, bool]]:
    """(ref, key path, is-a-mapping-key) for every model reference, primary first."""

    def model_field(base: KeyPath) -> Iterator[tuple[str, KeyPath, bool]]:
        value = doc.get(base)
        if isinstance(value, str):
            yield value, base, False
        elif isinstance(value, dict):
            if isinstance(value.get("primary"), str):
                yield value["primary"], (*base, "primary"), False
            for i, fb in enumerate(value.get("fallbacks") or []):
                if isinstance(fb, str):
                    yield fb, (*base, "fallbacks", i), False

    yield from model_field(("agents", "defaults", "model"))
    allow = doc.get(("agents", "defaults", "models"))
    if isinstance(allow, dict):
        for key in allow:
            yield key, ("agents", "defaults", "models", key), True
    agents = doc.get(("agents", "list"))
    if isinstance(agents, list):
        for i, _ in enumerate(agents):
            yield from model_field(("agents", "list", i, "model"))


def _is_ollama_provider(pid: str, prov: Any) -> bool:
    if pid.lower() == "ollama":
        return True
    if not isinstance(prov, dict):
        return False
    return prov.get("api") == "ollama" or is_ollama_url(prov.get("baseUrl"))


def _first(doc: Any, paths: list[KeyPath], cast: Any) -> tuple[Sourced[Any] | None, KeyPath | None]:
    for p in paths:
        v = binding_value(doc, p, cast)
        if v is not None:
            return v, p
    return None, None


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    from ctxfix.edits import load_document

    doc = load_document(path, text)
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    providers = doc.get(("models", "providers")) or {}
    seen: set[tuple[str, str]] = set()
    out: list[AgentBinding] = []
    for ref, ref_path, is_key in _refs(doc):
        if "/" not in ref:
            continue
        pid, mid = ref.split("/", 1)
        prov = providers.get(pid) if isinstance(providers, dict) else None
        if not _is_ollama_provider(pid, prov) or (pid, mid) in seen:
            continue
        seen.add((pid, mid))
        loc = key_location(doc, ref_path) if is_key else location(doc, ref_path)
        out.append(_binding(doc, pid, prov, mid, Sourced(ref, "agent", loc), ref_path, suppressed))
    return with_refs(out, doc)


def _binding(
    doc: Any,
    pid: str,
    prov: Any,
    mid: str,
    model_ref: Sourced[str],
    ref_path: KeyPath,
    suppressed: frozenset[str],
) -> AgentBinding:
    pbase: KeyPath = ("models", "providers", pid)
    prov = prov if isinstance(prov, dict) else {}
    models = prov.get("models") if isinstance(prov.get("models"), list) else []
    idx = next(
        (i for i, m in enumerate(models) if isinstance(m, dict) and m.get("id") == mid), None
    )
    mbase: KeyPath | None = (*pbase, "models", idx) if idx is not None else None
    entry = models[idx] if idx is not None else {}
    allow_base: KeyPath = ("agents", "defaults", "models", f"{pid}/{mid}")

    host = prov.get("baseUrl") if isinstance(prov.get("baseUrl"), str) else None
    api_name = entry.get("api") or prov.get("api")
    if api_name in _OPENAI_APIS:
        api = "openai"
    elif api_name == "ollama":
        api = "native"
    else:
        api = "openai" if is_v1_url(host) else "native"
    if host is None and pid.lower() == "ollama":
        host = _DEFAULT_HOST

    def chain(key: str) -> list[KeyPath]:
        return ([(*mbase, key)] if mbase else []) + [(*pbase, key)]

    window_tokens, tokens_path = _first(doc, chain("contextTokens"), _pos_int)
    window_native, native_path = _first(doc, chain("contextWindow"), _pos_int)
    context_window = window_tokens or window_native
    window_path = tokens_path or native_path or ((*mbase, "contextWindow") if mbase else None)

    num_paths = ([(*mbase, "params", "num_ctx")] if mbase else []) + [
        (*allow_base, "params", "num_ctx"),
        (*pbase, "params", "num_ctx"),
    ]
    num_ctx, num_path = _first(doc, num_paths, _pos_int)
    if num_ctx is None:
        inject = prov.get("injectNumCtxForOpenAICompat", True) is not False
        if api == "native" and window_tokens is not None:
            num_ctx = _as_request(window_tokens, "contextTokens sent as num_ctx")
        elif api == "openai" and inject and context_window is not None:
            num_ctx = _as_request(context_window, "injected as options.num_ctx on /v1")
    num_edit = num_path or (
        (*mbase, "params", "num_ctx") if mbase else (*allow_base, "params", "num_ctx")
    )

    max_tokens, max_path = _first(doc, chain("maxTokens"), _pos_int)
    timeout = binding_value(doc, (*pbase, "timeoutSeconds"), to_float)

    edit_paths: dict[str, KeyPath] = {"model_ref": ref_path, "num_ctx": num_edit}
    edit_paths["timeout"] = (*pbase, "timeoutSeconds")
    if window_path is not None:
        edit_paths["context_window"] = window_path
    if mbase is not None:
        edit_paths["model_id"] = (*mbase, "id")
        edit_paths["max_tokens"] = max_path or (*mbase, "maxTokens")

    launched = (
        pid == "ollama" and prov.get("apiKey") == LAUNCH_API_KEY and prov.get("api") == "ollama"
    )
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(mid),
        api=api,
        host=host,
        context_window=context_window,
        num_ctx=num_ctx,
        max_tokens=max_tokens,
        timeout_s=timeout,
        timeout_unit_s=1.0,
        edit_paths=edit_paths,
        format=doc.fmt,
        suppressed=suppressed,
        written_by=(
            "ollama launch"
            if launched
            and window_tokens is None
            and mbase
            and native_path == (*mbase, "contextWindow")
            else None
        ),
    )


def _pos_int(value: Any) -> int | None:
    """OpenClaw's schema takes positive numbers; a float like 131072.0 still counts."""
    f = to_float(value)
    if f is None or f <= 0 or not f.is_integer():
        return None
    return int(f)


def _as_request(value: Sourced[int], note: str) -> Sourced[int]:
    return Sourced(value.value, value.source, value.location, note=note)
