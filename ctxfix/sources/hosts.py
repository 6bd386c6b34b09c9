"""Which Ollama host to try when none is named: `$OLLAMA_HOST`, then the local default."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

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


def dial_problem(url: str) -> str | None:
    """Why no HTTP client can dial `url` (a bad address or name), or None when it can.

    Why: `envconfig.Host` never fails, so `$OLLAMA_HOST` can name a host no
    dialler accepts (`::1:99999999999`, undecodable bytes). Go's client then
    fails to connect; ctxfix must say so, not stop (exit 2) or crash while
    encoding a non-ASCII name. What counts is what ctxfix/ollama_http.py dials
    (`ascii_host`), decided there once.
    """
    import urllib.parse

    from ctxfix.errors import CtxfixError
    from ctxfix.redact import strip_userinfo
    from ctxfix.sources.server import parse_host

    try:
        parsed = parse_host(url)
    except CtxfixError as exc:
        if "@" in url:  # the parser's message would echo the userinfo
            return "not a valid host address"
        return exc.problem.removeprefix("invalid Ollama host: ")
    from ctxfix.ollama_http import ascii_host

    try:
        ascii_host(urllib.parse.urlsplit(parsed).hostname or "")
    except ValueError as exc:
        return strip_userinfo(str(exc))
    return None


MAX_HOSTS_FILE_BYTES = 1024 * 1024
"""A hosts file of 1 MiB is ~30,000 URLs; anything bigger is not a hosts file."""


def read_hosts_file(path: Path) -> tuple[str, ...]:
    """The hosts a `--hosts-file` lists: one URL per line, `#` starts a comment.

    Why strict: a fleet scan that silently skipped a mistyped line would report
    a clean fleet. Any fault (missing, unreadable, not UTF-8, too big, a line
    that is not a host, no host at all) is one `CtxfixError` naming the file
    (and the line), which the CLI prints on one line and exits 2. A URL's
    userinfo (`http://user:pw@host`) is never echoed.
    """
    from ctxfix.errors import CtxfixError
    from ctxfix.redact import strip_userinfo

    where = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_HOSTS_FILE_BYTES + 1)
    except OSError as exc:
        raise CtxfixError(where, f"cannot read hosts file: {exc.strerror or exc}") from None
    if len(data) > MAX_HOSTS_FILE_BYTES:
        raise CtxfixError(where, f"hosts file is larger than {MAX_HOSTS_FILE_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CtxfixError(where, f"hosts file is not UTF-8 (byte {exc.start})") from None
    hosts: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        value = _HOSTS_COMMENT.sub("", line).strip()
        if not value:
            continue
        if any(c.isspace() for c in value):
            shown = strip_userinfo(value)
            raise CtxfixError(f"{where}:{n}", f"one host per line, got {shown!r}")
        problem = dial_problem(value)
        if problem is not None:
            raise CtxfixError(f"{where}:{n}", f"invalid Ollama host: {strip_userinfo(problem)}")
        hosts.append(value)
    if not hosts:
        raise CtxfixError(where, "hosts file lists no host")
    return tuple(dict.fromkeys(hosts))


_HOSTS_COMMENT = re.compile(r"(^|\s)#.*$")
