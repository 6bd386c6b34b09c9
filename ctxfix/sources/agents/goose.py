"""Goose (`~/.config/goose/config.yaml`, flat upper-case keys).

Why: Goose's Ollama provider posts to `/v1/chat/completions` and puts
`options.num_ctx` in the body, but Ollama's OpenAI-compatible endpoint has
no `options` field (ollama `openai/openai.go` ChatCompletionRequest), so that
num_ctx is silently dropped: the served window is whatever the model or
server default gives, while Goose plans with GOOSE_CONTEXT_LIMIT (or its
128,000 default).

Format (verified in block/goose `crates/goose/src/providers/ollama.rs`,
`crates/goose/src/model.rs`, `crates/goose/src/config/base.rs`):

- `GOOSE_PROVIDER: ollama`, `GOOSE_MODEL` (provider default "qwen3");
- `OLLAMA_HOST` (default "localhost"; a bare localhost name gets port
  11434, a bare other host name gets none, i.e. port 80);
- `OLLAMA_TIMEOUT` seconds, default 600;
- `GOOSE_CONTEXT_LIMIT`: the window Goose plans with (quoted strings are
  accepted); unset: a per-model table, else 128,000;
- `GOOSE_INPUT_LIMIT`: sent as `options.num_ctx`, else the context limit;
- `GOOSE_MAX_TOKENS`: output cap.
- Every key can be overridden by an environment variable of the same name
  (`Config::get_param` checks the environment first); pass `env=` to `read`.
- Custom providers (`crates/goose/src/config/declarative_providers.rs`):
  `<config dir>/custom_providers/<name>.json`, `{name, engine, display_name,
  base_url, models[{name, context_limit}], timeout_seconds, ...}`, selected by
  `GOOSE_PROVIDER: <name>`. With `engine: "ollama"` Goose builds the same
  Ollama provider (`OllamaProvider::from_custom_config`, `/v1/chat/completions`
  with `options.num_ctx`): the base URL is `base_url` (port 11434 added when
  it has none and is not https), the timeout `timeout_seconds` (default 600).
  The window still comes from `GOOSE_CONTEXT_LIMIT` or Goose's model tables:
  the provider file's `models[].context_limit` is not used for it. The
  binding belongs to config.yaml; the timeout in the provider file is read,
  not edited (the report says where to change it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import AgentBinding, KeyPath, Location, Slot, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    OLLAMA_PORT,
    binding_value,
    default,
    inline_ignores,
    to_float,
    to_int,
    to_str,
    with_refs,
)

AGENT = "goose"
FILE_NAMES: tuple[str, ...] = ("config.yaml",)

DEFAULT_MODEL = "qwen3"
DEFAULT_HOST = "localhost"
DEFAULT_CONTEXT_LIMIT = 128_000
DEFAULT_TIMEOUT_S = 600.0


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`$XDG_CONFIG_HOME/goose/config.yaml` (default `~/.config`); Windows: %APPDATA%."""
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else home / ".config"
    paths = [base / "goose" / "config.yaml"]
    appdata = env.get("APPDATA")
    if appdata:
        paths.append(Path(appdata) / "Block" / "goose" / "config" / "config.yaml")
    return paths


def detect(path: Path, data: Any) -> bool:
    """A YAML mapping with Goose's upper-case `GOOSE_*` keys."""
    return isinstance(data, dict) and any(
        isinstance(k, str) and k.startswith("GOOSE_") for k in data
    )


def host_url(host: str) -> str:
    """OLLAMA_HOST as Goose turns it into a base URL (ollama.rs `from_env`)."""
    if host.startswith(("http://", "https://")):
        return host
    if host in ("localhost", "127.0.0.1"):
        return f"http://{host}:11434"
    return f"http://{host}"


def _custom_provider(config: Path, name: str, notes: list[Warning_] | None) -> Any | None:
    """The custom provider `name` (a Document) next to config.yaml when its engine is Ollama."""
    from ctxfix.edits.document import load_document
    from ctxfix.safe_read import is_regular

    p = config.parent / "custom_providers" / f"{name}.json"
    if not is_regular(p):
        return None
    try:
        cdoc = load_document(p)
    except CtxfixError as exc:
        if notes is not None:
            notes.append(Warning_(exc.where, f"custom provider not read: {exc.problem}"))
        return None
    data = cdoc.data
    if not isinstance(data, dict) or str(data.get("engine", "")).lower() != "ollama":
        return None
    return cdoc


def custom_host_url(base_url: str) -> str:
    """A custom provider's base_url as `from_custom_config` completes it."""
    url = base_url if base_url.startswith(("http://", "https://")) else f"http://{base_url}"
    parts = urlsplit(url)
    explicit_default = base_url.endswith((":80", ":443"))
    if parts.port is None and not explicit_default and parts.scheme != "https":
        url = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{OLLAMA_PORT}"))
    return url


def read(
    path: Path,
    text: str | None = None,
    env: Mapping[str, str] | None = None,
    notes: list[Warning_] | None = None,
) -> list[AgentBinding]:
    """The single Ollama binding of a Goose config, or [] for other providers."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "yaml")
    if not detect(path, doc.data):
        return []
    env = env or {}

    def value(key: str, cast: Any) -> Sourced[Any] | None:
        if key in env and cast(env[key]) is not None:
            return Sourced(cast(env[key]), "env", Location("environment", key=key))
        return binding_value(doc, (key,), cast)

    provider = value("GOOSE_PROVIDER", to_str)
    if provider is None:
        return []
    custom = None
    if provider.value.strip().lower() != "ollama":
        custom = _custom_provider(path, provider.value.strip(), notes)
        if custom is None:
            return []
    model_ref = value("GOOSE_MODEL", to_str) or default(
        DEFAULT_MODEL, "Goose's Ollama provider default model", doc, ("GOOSE_MODEL",)
    )
    host = value("OLLAMA_HOST", to_str)
    window = value("GOOSE_CONTEXT_LIMIT", to_int)
    input_limit = value("GOOSE_INPUT_LIMIT", to_int)
    if input_limit is not None and input_limit.value <= 0:
        input_limit = None
    timeout = value("OLLAMA_TIMEOUT", to_float) or default(
        DEFAULT_TIMEOUT_S, "Goose OLLAMA_TIMEOUT default 600 s", doc, ("OLLAMA_TIMEOUT",)
    )
    edit_paths: dict[str, KeyPath] = {
        "model_ref": ("GOOSE_MODEL",),
        "context_window": ("GOOSE_CONTEXT_LIMIT",),
        "num_ctx": ("GOOSE_INPUT_LIMIT",),
        "max_tokens": ("GOOSE_MAX_TOKENS",),
        "timeout": ("OLLAMA_TIMEOUT",),
    }
    manual: dict[str, str] = {}
    base_url = host_url(host.value.strip() if host else DEFAULT_HOST)
    if custom is not None:
        cpath = custom.path
        base_url = custom_host_url(str(custom.data.get("base_url") or DEFAULT_HOST))
        timeout = binding_value(custom, ("timeout_seconds",), to_float) or default(
            DEFAULT_TIMEOUT_S, "custom provider default 600 s", custom, ("timeout_seconds",)
        )
        del edit_paths["timeout"]  # it lives in the provider's own file
        manual[Slot.TIMEOUT] = f"as timeout_seconds (seconds) in {cpath}"
    bindings = [
        AgentBinding(
            agent=AGENT,
            file=str(doc.path),
            model_ref=model_ref,
            model=canonical(model_ref.value),
            api="openai",
            host=base_url,
            context_window=window
            or default(
                DEFAULT_CONTEXT_LIMIT,
                "Goose default context limit for models not in its table",
                doc,
                ("GOOSE_CONTEXT_LIMIT",),
            ),
            num_ctx=input_limit or window,
            max_tokens=value("GOOSE_MAX_TOKENS", to_int),
            timeout_s=timeout,
            timeout_unit_s=1.0,
            edit_paths=edit_paths,
            format="yaml",
            suppressed=inline_ignores(doc.text),
            manual=manual,
        )
    ]
    return with_refs(bindings, doc)
