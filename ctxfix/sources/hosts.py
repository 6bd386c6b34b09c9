"""Which Ollama host to try when none is named: `$OLLAMA_HOST`, then the local default."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_HOST = "http://127.0.0.1:11434"


def default_host(environ: Mapping[str, str]) -> str:
    value = environ.get("OLLAMA_HOST", "").strip()
    if not value:
        return DEFAULT_HOST
    from ctxfix.sources.server import parse_host

    return parse_host(value)
