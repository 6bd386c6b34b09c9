"""opencode: `opencode.json` / `opencode.jsonc` (JSON with comments).

Why: opencode reaches Ollama through an AI-SDK provider; with the usual
`@ai-sdk/openai-compatible` package and a `/v1` base URL no num_ctx can be
set per request, so the window it plans for (`limit.context`) must match
what the model serves. Upstream facts (sst/opencode
`packages/opencode/src/config/config.ts`, opencode.ai/docs/providers):

- `provider.<id>`: `npm`, `options.baseURL`, `options.timeout` (ms, no
  default), `options.headerTimeout` (ms, default 300000; `false` disables
  either; see `_wait_bounds`), `models.<modelId>`: `name`, `limit.context`,
  `limit.output`, `options` (passed to the SDK).
- No built-in Ollama address: an `ollama` provider without `options.baseURL` is
  taken to be the docs' example, `http://localhost:11434/v1`
  (`packages/web/src/content/docs/providers.mdx`, "Ollama").
- Model refs `<providerId>/<modelId>` in `model`, `small_model`,
  `agent.<name>.model`, `mode.<name>.model`.
- Config: `$OPENCODE_CONFIG`, `$XDG_CONFIG_HOME/opencode/opencode.json(c)` (or
  `~/.config/...`), project `opencode.json(c)` and `.opencode/opencode.json(c)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    is_ollama_url,
    is_v1_url,
    key_location,
    location,
    schema_names,
    to_float,
    to_int,
    with_refs,
)

AGENT = "opencode"
FILE_NAMES: tuple[str, ...] = ("opencode.json", "opencode.jsonc")

DEFAULT_HEADER_TIMEOUT_MS = 300000.0
"""`headerTimeout` when unset (provider.ts `timeoutFetch`:
`options["headerTimeout"] ?? 300_000`)."""
# opencode has no built-in Ollama address (sst/opencode packages/opencode/src/provider/
# provider.ts has no `ollama` loader): this is the `options.baseURL` of the Ollama example in
# packages/web/src/content/docs/providers.mdx ("### Ollama"), the same server `ollama launch
# opencode` writes (github:ollama/ollama cmd/launch/opencode.go `buildInlineConfig`:
# `envconfig.Host().String() + "/v1"`)
_DEFAULT_HOST = "http://localhost:11434/v1"


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$OPENCODE_CONFIG`, then the XDG config dir copies."""
    out: list[Path] = []
    if env.get("OPENCODE_CONFIG"):
        out.append(Path(env["OPENCODE_CONFIG"]).expanduser())
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    out += [xdg / "opencode" / n for n in ("opencode.json", "opencode.jsonc", "config.json")]
    return out


def detect(path: Path, data: Any) -> bool:
    """opencode's `$schema` URL, or a `provider` mapping of provider objects."""
    if not isinstance(data, dict):
        return False
    if schema_names(data, "opencode.ai"):
        return True
    prov = data.get("provider")
    return isinstance(prov, dict) and all(isinstance(v, dict) for v in prov.values()) and bool(prov)


def _is_ollama(pid: str, prov: Any) -> bool:
    if pid.lower() == "ollama":
        return True
    if not isinstance(prov, dict):
        return False
    opts = prov.get("options") if isinstance(prov.get("options"), dict) else {}
    return is_ollama_url(opts.get("baseURL")) or "ollama" in str(prov.get("npm", "")).lower()


def _refs(doc: Any) -> Iterator[tuple[str, KeyPath]]:
    for key in ("model", "small_model"):
        if isinstance(doc.get((key,)), str):
            yield doc.get((key,)), (key,)
    for section in ("agent", "mode"):
        block = doc.get((section,))
        if isinstance(block, dict):
            for name, conf in block.items():
                if isinstance(conf, dict) and isinstance(conf.get("model"), str):
                    yield conf["model"], (section, name, "model")


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    from ctxfix.edits import load_document

    doc = load_document(path, text)
    if not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    providers = doc.get(("provider",)) or {}
    refs: dict[tuple[str, str], tuple[str, KeyPath]] = {}
    for ref, ref_path in _refs(doc):
        if "/" in ref:
            pid, mid = ref.split("/", 1)
            refs.setdefault((pid, mid), (ref, ref_path))
    pairs: list[tuple[str, str]] = []
    for pid, prov in providers.items() if isinstance(providers, dict) else []:
        if _is_ollama(pid, prov) and isinstance(prov.get("models"), dict):
            pairs += [(pid, mid) for mid in prov["models"]]
    pairs += [p for p in refs if p not in pairs and _is_ollama(p[0], providers.get(p[0]))]
    out = []
    for pid, mid in pairs:
        if (pid, mid) in refs:
            ref, ref_path = refs[(pid, mid)]
            model_ref = Sourced(ref, "agent", location(doc, ref_path))
        else:
            ref_path = ("provider", pid, "models", mid)
            model_ref = Sourced(mid, "agent", key_location(doc, ref_path))
        out.append(_binding(doc, pid, mid, model_ref, ref_path, suppressed))
    return with_refs(out, doc, keys=True)


def _wait_bounds(doc: Any, pbase: KeyPath) -> list[tuple[KeyPath, Sourced[float]]]:
    """The settings that cut a request before its first token, in ms: (path, value).

    Ollama sends a streamed answer's headers with its first chunk
    (github:ollama/ollama server/routes.go `streamResponse`), so loading and
    the whole prefill happen before them. opencode's fetch wrapper
    (sst/opencode packages/opencode/src/provider/provider.ts `timeoutFetch`)
    bounds that wait twice: `options.timeout` (the whole request; no default:
    unset is no limit, whatever the docs' "default 300000" says) and
    `options.headerTimeout` (until the headers; 300000 ms when unset, for
    every provider since PR #46903, 2026-09). `false` switches either off.
    """
    out: list[tuple[KeyPath, Sourced[float]]] = []
    timeout_path: KeyPath = (*pbase, "options", "timeout")
    ms = binding_value(doc, timeout_path, to_float)
    if ms is not None and doc.get(timeout_path) is not False:
        out.append((timeout_path, ms))
    header_path: KeyPath = (*pbase, "options", "headerTimeout")
    raw = doc.get(header_path)
    if raw is None:
        out.append(
            (
                header_path,
                default(
                    DEFAULT_HEADER_TIMEOUT_MS,
                    "opencode default header timeout (ms)",
                    doc,
                    header_path,
                ),
            )
        )
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        header = binding_value(doc, header_path, to_float)
        if header is not None:
            out.append((header_path, header))
    # anything else (`false`, "5m", "900000") arms no timer: timeoutFetch starts one
    # only for `typeof headerTimeout === "number"`
    return out


def _binding(
    doc: Any,
    pid: str,
    mid: str,
    model_ref: Sourced[str],
    ref_path: KeyPath,
    suppressed: frozenset[str],
) -> AgentBinding:
    pbase: KeyPath = ("provider", pid)
    mbase: KeyPath = (*pbase, "models", mid)
    prov = doc.get(pbase) if isinstance(doc.get(pbase), dict) else {}
    opts = prov.get("options") if isinstance(prov.get("options"), dict) else {}
    base = opts.get("baseURL") if isinstance(opts.get("baseURL"), str) else None
    npm = str(prov.get("npm", "")).lower()
    native = "ollama-ai-provider" in npm and not is_v1_url(base)

    bounds = _wait_bounds(doc, pbase)
    timeout_path: KeyPath = (*pbase, "options", "timeout")
    timeout: Sourced[float] | None = None
    also: tuple[tuple[KeyPath, float], ...] = ()
    if bounds:
        (timeout_path, ms), *others = sorted(bounds, key=lambda b: b[1].value)
        timeout = Sourced(ms.value / 1000.0, ms.source, ms.location, note=ms.note)
        also = tuple((path, other.value) for path, other in others)

    num_ctx = binding_value(doc, (*mbase, "options", "num_ctx"), to_int)
    return AgentBinding(
        agent=AGENT,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(mid),
        api="native" if native else "openai",
        host=base or (_DEFAULT_HOST if pid.lower() == "ollama" else None),
        context_window=binding_value(doc, (*mbase, "limit", "context"), to_int),
        num_ctx=num_ctx,
        max_tokens=binding_value(doc, (*mbase, "limit", "output"), to_int),
        timeout_s=timeout,
        timeout_unit_s=0.001,
        timeout_also=also,
        edit_paths={
            "model_ref": ref_path,
            "context_window": (*mbase, "limit", "context"),
            "max_tokens": (*mbase, "limit", "output"),
            "num_ctx": (*mbase, "options", "num_ctx"),
            "timeout": timeout_path,
        },
        format=doc.fmt,
        suppressed=suppressed,
    )
