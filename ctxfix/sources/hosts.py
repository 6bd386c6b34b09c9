"""Which Ollama host to try when none is named: `$OLLAMA_HOST`, then the local default."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_HOST = "http://127.0.0.1:11434"


def default_host(environ: Mapping[str, str]) -> str:
    """The server `$OLLAMA_HOST` names, read as Ollama reads it (`envconfig.Host`).

    Why envconfig and not the python client's parser: the variable configures
    the server and the `ollama` CLI, which both use `envconfig.Host`
    (github:ollama/ollama envconfig/config.go); it never fails, so a value no
    parser accepts cannot stop a scan.
    """
    from ctxfix.policy.envconfig import connectable, host

    value = environ.get("OLLAMA_HOST", "")
    if not value.strip():
        return DEFAULT_HOST
    return connectable(host(value))
