"""Small helpers shared by the agent readers (keep this module tiny).

Why: every reader turns "value at key path P of document D" into a
`Sourced` with the file, line, column and display key, parses the same
inline suppression comments, and tolerates the same sloppy numbers
("131072", 131072.0). Doing it once keeps locations and casts identical
across agents, which the report and the fixer rely on. For the same reason
the binding of a model named as a string in the file being read is built
once (`model_binding`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ctxfix.facts import AgentBinding, KeyPath, Location, ModelRef, Sourced, format_key_path

if TYPE_CHECKING:
    from ctxfix.edits.document import Document

T = TypeVar("T")

# Ollama's default port: github:ollama/ollama envconfig/config.go `Host` (`defaultPort := "11434"`)
OLLAMA_PORT = 11434
# VS Code and its forks: the user-data directory name of each (Cline, Roo Code, Kilo Code)
VSCODE_APPS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")

# compiled on first use: only a file that mentions ctxfix needs it
_IGNORE_RE = r"ctxfix:\s*ignore\[([A-Za-z0-9_,\s]*)\]"


def binding_value(
    doc: Document, path: KeyPath, cast: Callable[[Any], T | None]
) -> Sourced[T] | None:
    """The value at `path` cast with `cast`, located in `doc`; None when absent or uncastable."""
    raw = doc.get(path)
    if raw is None:
        return None
    value = cast(raw)
    if value is None:
        return None
    pos = doc.locate(path)
    line, col = pos if pos is not None else (None, None)
    return Sourced(value, "agent", Location(str(doc.path), line, col, key=format_key_path(path)))


def model_binding(
    doc: Document,
    ref_path: KeyPath,
    *,
    agent: str,
    suppressed: frozenset[str] = frozenset(),
    edit_paths: Mapping[str, KeyPath] | None = None,
    **fields: Any,
) -> AgentBinding:
    """The binding of the model named by the string at `ref_path` of `doc`.

    Why shared: most readers find the model as a string in the very file they
    read (Claude Code `env.ANTHROPIC_MODEL`, Crush `providers.*.models[].id`,
    Droid `customModels[].model`, Kimi `models.*.model`, ...), and then the
    parts of `ctxfix.facts.AgentBinding` that locate the binding follow from
    that one path the same way for every agent: `model_ref` is the string as
    written, located like `binding_value`; `model` its canonical Ollama name
    (`ctxfix.names.canonical`); `file` and `format` are the document's; the
    `model_ref` slot of `edit_paths` (first, before the reader's
    `edit_paths`) is `ref_path`, so the binding's key and the planner's
    rename target are the same place. `fields` are the rest of the binding
    (api, host, window, ...), which each reader takes from its own upstream.
    The caller has checked that a non-empty string is there.
    """
    from ctxfix.names import canonical

    model_ref = binding_value(doc, ref_path, to_str)
    assert model_ref is not None, ref_path
    return AgentBinding(
        agent=agent,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(model_ref.value),
        edit_paths={"model_ref": ref_path, **(edit_paths or {})},
        format=doc.fmt,
        suppressed=suppressed,
        **fields,
    )


def schema_names(data: Mapping[str, Any], part: str) -> bool:
    """True when the document's `$schema` URL contains `part` (the agent's schema name).

    Why shared: a JSON config that declares its JSON Schema (the `$schema`
    keyword editors read) says whose file it is, so it is the first thing a
    `detect` checks: Claude Code's settings (json.schemastore.org
    `claude-code-settings.json`), Crush's `crush.json` and opencode's
    (`opencode.ai`) each carry theirs; see those readers' sources.
    """
    schema = data.get("$schema")
    return isinstance(schema, str) and part in schema


def vscode_user_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    """`<config root>/<app>/User` of VS Code and its forks, on every OS (may not exist)."""
    roots = [
        Path(env["XDG_CONFIG_HOME"]).expanduser() if env.get("XDG_CONFIG_HOME") else None,
        home / ".config",
        home / "Library" / "Application Support",
        Path(env["APPDATA"]) if env.get("APPDATA") else None,
    ]
    return [
        root / app / "User"
        for root in dict.fromkeys(r for r in roots if r is not None)
        for app in VSCODE_APPS
    ]


def inline_ignores(text: str) -> frozenset[str]:
    """Codes named in `ctxfix: ignore[CTX202,CTX301]` comments anywhere in the file."""
    codes: set[str] = set()
    if "ctxfix" not in text:
        return frozenset()
    for m in re.finditer(_IGNORE_RE, text):
        codes.update(c.strip().upper() for c in m.group(1).split(",") if c.strip())
    return frozenset(codes)


def to_int(value: Any) -> int | None:
    """An integer from 131072, 131072.0 or "131072" (configs quote numbers); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        s = value.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d+", s):
            return int(s)
    return None


def to_float(value: Any) -> float | None:
    """A number of seconds/milliseconds from 300, 300.5 or "300"; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace("_", ""))
        except ValueError:
            return None
    return None


def to_str(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def is_ollama_url(url: str | None) -> bool:
    """True when a base URL points at Ollama's default port 11434.

    The port is `envconfig.Host`'s default (github:ollama/ollama
    envconfig/config.go; see `OLLAMA_PORT`): a server on another port is not
    recognised by its URL alone, which is why readers also look at provider
    ids and model prefixes.
    """
    if not url:
        return False
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        return parts.port == OLLAMA_PORT
    except ValueError:
        return False


def api_for_url(url: str | None, default: str = "openai") -> str:
    """ "openai" when the base URL ends in /v1 (OpenAI-compatible API), "native" when it
    names the server root or /api, `default` when there is no URL.

    Ollama's routes (github:ollama/ollama server/routes.go `GenerateRoutes`):
    the native API is `/api/chat`, `/api/generate`, ...; the OpenAI-compatible
    one is under `/v1` (`/v1/chat/completions`, `/v1/completions`,
    `/v1/responses`, `/v1/models`, ...), so a client whose base URL ends in
    `/v1` appends those paths. (`/v1/messages`, the Anthropic API, is under
    `/v1` too; the Claude Code reader sets its api itself.)
    """
    if not url:
        return default
    path = _url_path(url)
    if path.endswith("/v1"):
        return "openai"
    return "native"


def location(doc: Document, path: KeyPath) -> Location:
    """Where the value at `path` is written in `doc` (line/col None when absent)."""
    pos = doc.locate(path)
    line, col = pos if pos is not None else (None, None)
    return Location(str(doc.path), line, col, key=format_key_path(path))


def key_location(doc: Document, path: KeyPath) -> Location:
    """Where the *key* of the entry at `path` is written (for refs that are mapping keys)."""
    pos = doc.locate_key(path)
    line, col = pos if pos is not None else (None, None)
    return Location(str(doc.path), line, col, key=format_key_path(path))


def default(
    value: T, note: str, doc: Document | None = None, path: KeyPath | None = None
) -> Sourced[T]:
    """An agent's documented default for an unset value, keyed where it would be written."""
    loc = Location(str(doc.path), key=format_key_path(path)) if doc is not None and path else None
    return Sourced(value, "default", loc, note=note)


def is_v1_url(url: str | None) -> bool:
    """True when a base URL ends in /v1 (the OpenAI-compatible API, which ignores num_ctx).

    Routes: `api_for_url`. "The OpenAI API does not have a way of setting the
    context size for a model" (github:ollama/ollama
    docs/api/openai-compatibility.mdx, "Setting the context size").
    """
    return isinstance(url, str) and _url_path(url).endswith("/v1")


def _url_path(url: str) -> str:
    """The path of a base URL without its trailing slash (the URL itself when it does not
    parse: `http://[::1:11434/v1` is the user's typo, not ctxfix's crash)."""
    try:
        return urlsplit(url if "://" in url else f"http://{url}").path.rstrip("/")
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].rstrip("/")


def model_refs(
    data: Any, model: str, *, keys: bool = False, exclude_keys: tuple[str, ...] = ()
) -> tuple[ModelRef, ...]:
    """Every place in a parsed config that names `model`, as written.

    String values that name it (with or without a provider prefix), and with
    `keys` the mapping keys that do (opencode keys its model settings by id).
    Keys in `exclude_keys` are never references (LiteLLM's `model_name` is
    the public alias clients call: renaming it would break them).
    """
    from ctxfix.names import split_ref

    out: list[ModelRef] = []

    def names(text: str) -> bool:
        try:
            return split_ref(text, model) is not None
        except (ValueError, IndexError):
            return False

    def walk(node: Any, path: KeyPath, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(node, dict):
            for k, v in node.items():
                if not isinstance(k, str) or k in exclude_keys:
                    continue
                if keys and (":" in k or "/" in k) and names(k):
                    out.append(ModelRef((*path, k), k, is_key=True))
                walk(v, (*path, k), depth + 1)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i), depth + 1)
        elif isinstance(node, str) and names(node):
            out.append(ModelRef(path, node))

    walk(data, (), 0)
    return tuple(out)


def with_refs(
    bindings: list[AgentBinding],
    doc: Document,
    *,
    keys: bool = False,
    exclude_keys: tuple[str, ...] = (),
) -> list[AgentBinding]:
    """The bindings with `refs` filled from the document they were read from."""
    from ctxfix.records import replace

    out = []
    for b in bindings:
        if b.file != str(doc.path):
            out.append(b)
            continue
        refs = model_refs(doc.data, b.model, keys=keys, exclude_keys=exclude_keys)
        out.append(replace(b, refs=refs))
    return out
