"""`echo`: click.echo's behaviour for text, without importing click.

Why: `scan` runs without click on the pre-commit path (issue 15,
ctxfix.commands._fast) and must print exactly what the click path prints.
Same rules as `click.echo` (pallets/click src/click/utils.py `echo`,
src/click/_compat.py `should_strip_ansi`, `_ansi_re`, click 8.x):

- the message goes to `sys.stdout` (`err=True`: `sys.stderr`) as it is at
  the call, so the redacting streams of ctxfix.guard see it;
- a newline is appended unless `nl=False`; the stream is always flushed;
- ANSI escape sequences are removed when `color` is False, or when it is
  None and the stream is not a terminal.

Left out: bytes messages (ctxfix prints text only), the Windows console
wrappers (the fast path is not taken on Windows) and the pager stream click
leaves unstripped (ctxfix has no pager).

One deliberate difference: a character the stream cannot encode is written
as `?`. click rewraps a stream that claims ASCII around its byte buffer as
UTF-8 (which would bypass the redacting wrapper, so it is not copied) and
fails with UnicodeEncodeError on any other narrow encoding (latin-1), which
ctxfix reported as an internal error.
"""

from __future__ import annotations

import sys
from typing import Any

# click _compat.py `_ansi_re`
_ANSI = None


def _strip_ansi(text: str) -> str:
    global _ANSI
    if "\033" not in text:
        return text
    if _ANSI is None:
        import re

        _ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")
    return _ANSI.sub("", text)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:  # click `isatty`: a stream that cannot tell is not a terminal
        return False


def echo(
    message: str = "", *, err: bool = False, nl: bool = True, color: bool | None = None
) -> None:
    """Print `message` as click.echo does (see the module docstring)."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no standard stream (pythonw)
        return
    out = message + "\n" if nl else message
    if not out:
        stream.flush()
        return
    strip = (not _isatty(stream)) if color is None else not color
    if strip:
        out = _strip_ansi(out)
    try:
        stream.write(out)
    except UnicodeEncodeError:  # TextIOWrapper encodes the whole text before writing a byte
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(out.encode(encoding, "replace").decode(encoding))
    stream.flush()
