"""A small, fast span scanner for the JSON, JSONC and JSON5 that agent configs use.

Why: ctxfix runs on every commit. json-five builds a lossless model of the
file, which is what an edit needs, but importing it (and the `regex` module
it pulls in) costs more than the rest of a demo scan together. Configs are
kilobytes of plain objects, strings and numbers; this scanner builds the same
span tree (`ctxfix.edits.nodes`) and the same data as `jsonish._convert` does
from json-five's model, using only the standard library.

It is deliberately conservative: anything it does not handle exactly as
json-five does (an escape beyond the common ones, a non-ASCII identifier or
space, a legacy octal number, a syntax error) raises `Unsupported`, and the
caller hands the whole text to json-five, which gives the real answer or the
real error message. So the scanner can only ever be faster, never different;
tests/edits/test_json_spans.py checks trees and data against json-five on the
fixtures and on generated documents.

Grammar followed: JSON5 (https://spec.json5.org/), as json-five parses it:
`//` and `/* */` comments, trailing commas, unquoted ASCII identifier keys,
single-quoted strings, hexadecimal integers, leading/trailing decimal points,
a leading `+`, `Infinity` and `NaN`.
"""

from __future__ import annotations

import re
from typing import Any

from ctxfix.edits.nodes import Entry, Node


class Unsupported(Exception):
    """This text needs json-five (a construct the scanner leaves to it, or an error)."""


_WS = " \t\n\r\v\f"
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# compiled on first use (re's cache): plain integers, the common case, are scanned by hand
_NUMBER = r"(?:0[xX][0-9A-Fa-f]+|(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
_SIMPLE_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_RUN = {q: re.compile(rf"[^{q}\\\x00-\x1f]*") for q in "\"'"}
"""The characters of a string up to its closing quote, a backslash or a control character."""
_LITERALS = {"true": (True, "bool"), "false": (False, "bool"), "null": (None, "null")}


class _Scanner:
    def __init__(self, text: str, shift: int) -> None:
        self.s = text
        self.n = len(text)
        self.shift = shift

    # -- whitespace and comments -------------------------------------------
    def skip(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n:
            c = s[i]
            if c in _WS:
                i += 1
            elif c == "/" and i + 1 < n and s[i + 1] == "/":
                j = s.find("\n", i + 2)
                i = n if j < 0 else j + 1
            elif c == "/" and i + 1 < n and s[i + 1] == "*":
                j = s.find("*/", i + 2)
                if j < 0:
                    raise Unsupported
                i = j + 2
            elif c.isascii():
                return i
            else:
                raise Unsupported  # a Unicode space (or garbage): json-five decides
        return i

    # -- values ---------------------------------------------------------------
    def value(self, i: int) -> tuple[Any, Node, int]:
        if i >= self.n:
            raise Unsupported
        c = self.s[i]
        if c == "{":
            return self.obj(i)
        if c == "[":
            return self.arr(i)
        if c == '"' or c == "'":
            text, j = self.string(i)
            style = "dq" if c == '"' else "sq"
            return text, Node("scalar", i + self.shift, j + self.shift, style=style), j
        return self.scalar(i)

    def scalar(self, i: int) -> tuple[Any, Node, int]:
        s = self.s
        sign = ""
        j = i
        if s[j] in "+-":
            sign = s[j]
            j += 1
            if j >= self.n:
                raise Unsupported
        m = _IDENT.match(s, j)
        if m is not None:
            word = m.group()
            end = m.end()
            if word in _LITERALS and not sign:
                value, style = _LITERALS[word]
                return value, Node("scalar", i + self.shift, end + self.shift, style=style), end
            if word == "Infinity":
                value = float("-inf") if sign == "-" else float("inf")
            elif word == "NaN":
                value = float("nan")
            else:
                raise Unsupported
            return value, Node("scalar", i + self.shift, end + self.shift, style="float"), end
        end = j
        while end < self.n and s[end] in "0123456789":
            end += 1
        if end == j or (s[j] == "0" and end - j > 1) or (end < self.n and s[end] in ".eExX"):
            # not a plain integer: the full JSON5 number grammar
            m = re.compile(_NUMBER).match(s, j)
            if m is None:
                raise Unsupported
            end = m.end()
        if end < self.n and (s[end].isalnum() or s[end] in "_$."):
            raise Unsupported  # `01`, `1x`, `1.2.3`: not a number json-five reads this way
        body = s[j:end]
        try:
            if body[:2] in ("0x", "0X"):
                value: int | float = int(body, 16)
                style = "hex"
            elif any(ch in body for ch in ".eE"):
                value, style = float(body), "float"
            else:
                value, style = int(body), "int"
        except ValueError:  # past Python's 4,300-digit int conversion limit: json-five decides
            raise Unsupported from None
        if sign == "-":
            value = -value
        return value, Node("scalar", i + self.shift, end + self.shift, style=style), end

    def string(self, i: int) -> tuple[str, int]:
        s = self.s
        quote = s[i]
        j = i + 1
        parts: list[str] = []
        run = _RUN[quote]
        while True:
            k = run.match(s, j).end()
            if k >= self.n or s[k] not in "\\'\"":
                raise Unsupported  # unterminated, or a raw control character or line break
            parts.append(s[j:k])
            if s[k] == quote:
                return "".join(parts), k + 1
            esc = s[k + 1] if k + 1 < self.n else ""
            if esc in _SIMPLE_ESCAPES:
                parts.append(_SIMPLE_ESCAPES[esc])
                j = k + 2
            elif esc == "u":
                hexd = s[k + 2 : k + 6]
                if len(hexd) != 4 or not all(h in "0123456789abcdefABCDEF" for h in hexd):
                    raise Unsupported
                code = int(hexd, 16)
                if 0xD800 <= code <= 0xDFFF:
                    raise Unsupported  # surrogate pairs: json-five's rules
                parts.append(chr(code))
                j = k + 6
            else:
                raise Unsupported  # \x, \0, line continuations, identity escapes

    def key(self, i: int) -> tuple[str, str, int]:
        c = self.s[i]
        if c == '"' or c == "'":
            text, j = self.string(i)
            return text, ("dq" if c == '"' else "sq"), j
        m = _IDENT.match(self.s, i)
        if m is None:
            raise Unsupported
        return m.group(), "ident", m.end()

    def obj(self, i: int) -> tuple[dict[str, Any], Node, int]:
        out: dict[str, Any] = {}
        entries: list[Entry] = []
        comma_at: int | None = None
        j = self.skip(i + 1)
        while True:
            if j >= self.n:
                raise Unsupported
            if self.s[j] == "}":
                break
            name, style, ke = self.key(j)
            k = self.skip(ke)
            if k >= self.n or self.s[k] != ":":
                raise Unsupported
            data, child, after = self.value(self.skip(k + 1))
            out[name] = data
            entries.append(Entry(name, j + self.shift, ke + self.shift, child, style))
            j = self.skip(after)
            comma_at = None
            if j < self.n and self.s[j] == ",":
                comma_at = j
                j = self.skip(j + 1)
            elif j >= self.n or self.s[j] != "}":
                raise Unsupported
        node = Node("map", i + self.shift, j + 1 + self.shift, extra=self._trailing(comma_at))
        node.entries.extend(entries)
        return out, node, j + 1

    def arr(self, i: int) -> tuple[list[Any], Node, int]:
        items: list[Any] = []
        nodes: list[Node] = []
        comma_at: int | None = None
        j = self.skip(i + 1)
        while True:
            if j >= self.n:
                raise Unsupported
            if self.s[j] == "]":
                break
            data, child, after = self.value(j)
            items.append(data)
            nodes.append(child)
            j = self.skip(after)
            comma_at = None
            if j < self.n and self.s[j] == ",":
                comma_at = j
                j = self.skip(j + 1)
            elif j >= self.n or self.s[j] != "]":
                raise Unsupported
        node = Node("seq", i + self.shift, j + 1 + self.shift, extra=self._trailing(comma_at))
        node.items.extend(nodes)
        return items, node, j + 1

    def _trailing(self, comma_at: int | None) -> dict[str, Any]:
        if comma_at is None:
            return {"trailing_comma": False}
        return {"trailing_comma": True, "trailing_comma_at": comma_at + self.shift}


def parse(body: str, shift: int) -> tuple[Any, Node]:
    """Data and span tree of `body` (BOM removed, lone CRs made LF); spans moved by `shift`.

    Raises `Unsupported` for anything json-five must decide.
    """
    sc = _Scanner(body, shift)
    data, node, end = sc.value(sc.skip(0))
    if sc.skip(end) != sc.n:
        raise Unsupported
    return data, node
