"""Unified diffs of planned edits, with secrets redacted.

Why: `ctxfix apply --dry-run` shows the user exactly what will change, and
agent configs sit next to API keys and tokens. A diff is printed to
terminals, CI logs and issue reports, so any value of a secret-looking key is
replaced by `***` on every line shown: context and changed lines alike.
"""

from __future__ import annotations

_RESET = "\x1b[0m"
_COLORS = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m", "h": "\x1b[1m"}


def redact_line(line: str) -> str:
    """`line` with every registered secret and secret-looking value replaced by `***`."""
    from ctxfix.redact import redact

    return redact(line)


def unified_diff(path: str, old: str, new: str, *, color: bool = False, redact: bool = True) -> str:
    """A `diff -u` style text (`a/path`, `b/path`), empty when nothing changed.

    Line endings are not shown (a CRLF file diffs like an LF one); a missing
    final newline is marked as `diff` does.
    """
    if old == new:
        return ""
    old_lines = _lines(old)
    new_lines = _lines(new)
    out: list[str] = []
    import difflib  # only when a diff is shown: not on the scan path

    for raw in difflib.unified_diff(old_lines, new_lines, f"a/{path}", f"b/{path}", lineterm=""):
        line = raw
        if line.endswith("\n"):
            line = line[:-1]
        no_eol = line.endswith("\x00")
        if no_eol:
            line = line[:-1]
        if redact and not line.startswith(("---", "+++", "@@")):
            line = line[:1] + redact_line(line[1:])
        out.append(_paint(line, color))
        if no_eol:
            out.append("\\ No newline at end of file")
    return "\n".join(out) + "\n"


def _lines(text: str) -> list[str]:
    """Lines without their endings; the last one tagged with NUL when it has none."""
    parts = text.splitlines(keepends=True)
    lines = [p.rstrip("\r\n") for p in parts]
    if parts and not parts[-1].endswith(("\n", "\r")):
        lines[-1] += "\x00"
    return lines


def _paint(line: str, color: bool) -> str:
    if not color:
        return line
    if line.startswith(("---", "+++")):
        return f"{_COLORS['h']}{line}{_RESET}"
    c = _COLORS.get(line[:1])
    return f"{c}{line}{_RESET}" if c else line
