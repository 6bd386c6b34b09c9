"""TOML backend: a small span scanner for positions, the stdlib for data.

Why: neither tomllib nor tomlkit reports where a value is written, and the
Codex config ([model_providers.ollama], `model_context_window = ...`) needs
`path:line:col` in reports and a byte-exact splice for fixes. TOML's grammar
is line-oriented, so a scanner that records the span of every key and value
is small; `tomllib` (stdlib) gives the data and the validity check (every
edit is re-parsed); string values are written as TOML basic strings, whose
escapes are JSON's (`json.dumps`), so no TOML library is needed to write.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ctxfix.edits.nodes import Entry, Node, Scalar
from ctxfix.errors import CtxfixError

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BARE_FULL = re.compile(r"[A-Za-z0-9_-]+\Z")
_DATETIME_TAIL = re.compile(r" \d{2}:\d{2}")


def parse(text: str, where: str) -> tuple[Any, Node]:
    """Plain data (tomllib) and the span tree (scanner) of a TOML text."""
    import tomllib

    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", msg)
        if m:
            raise CtxfixError(f"{where}:{m.group(1)}:{m.group(2)}", reason) from None
        lines = text.count("\n") + 1
        raise CtxfixError(f"{where}:{lines}:1", reason) from None
    root = _Scanner(text).scan()
    return data, root


class _Scanner:
    """Records spans of keys, tables and values. Input is already valid TOML."""

    def __init__(self, text: str) -> None:
        self.t = text
        self.i = 1 if text.startswith("\ufeff") else 0
        self.root = Node("map", self.i, len(text), style="root")
        self.root.extra["section_end"] = None
        self.root.extra["first_header"] = None

    # -- low level ---------------------------------------------------------

    def ws(self, newlines: bool = False) -> None:
        t = self.t
        while self.i < len(t):
            c = t[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif c == "#" and newlines:
                while self.i < len(t) and t[self.i] != "\n":
                    self.i += 1
            else:
                break

    def key_part(self) -> tuple[str, int, int, str]:
        t, s = self.t, self.i
        if t[s] == '"':
            end = self._basic_end(s)
            self.i = end
            return json.loads(_json_escapes(t[s:end]), strict=False), s, end, '"'
        if t[s] == "'":
            end = t.index("'", s + 1) + 1
            self.i = end
            return t[s + 1 : end - 1], s, end, "'"
        m = _BARE.match(t, s)
        assert m is not None
        self.i = m.end()
        return m.group(), s, m.end(), "bare"

    def dotted_key(self) -> list[tuple[str, int, int, str]]:
        parts = [self.key_part()]
        self.ws()
        while self.i < len(self.t) and self.t[self.i] == ".":
            self.i += 1
            self.ws()
            parts.append(self.key_part())
            self.ws()
        return parts

    def _basic_end(self, s: int) -> int:
        t = self.t
        i = s + 1
        while t[i] != '"':
            i += 2 if t[i] == "\\" else 1
        return i + 1

    # -- structure ---------------------------------------------------------

    def scan(self) -> Node:
        t = self.t
        current = self.root
        while True:
            self.ws(newlines=True)
            if self.i >= len(t):
                break
            if t[self.i] == "[":
                header_start = self.i
                aot = t.startswith("[[", self.i)
                self.i += 2 if aot else 1
                self.ws()
                parts = self.dotted_key()
                self.i += 2 if aot else 1
                if self.root.extra["first_header"] is None:
                    self.root.extra["first_header"] = header_start
                current = self.header(parts, header_start, aot)
                current.extra["section_end"] = self.i
                current.extra["header_end"] = self.i
                continue
            kv_start = self.i
            parts = self.dotted_key()
            self.ws()
            self.i += 1  # '='
            self.ws()
            value = self.value()
            value.extra["kv_start"] = kv_start
            self.assign(current, parts, value, dotted_style="dotted")
            current.extra["section_end"] = value.end
            current.end = max(current.end, value.end)
        return self.root

    def child_map(self, parent: Node, part: tuple[str, int, int, str], style: str) -> Node:
        name, ks, ke, kstyle = part
        e = parent.entry(name)
        if e is not None:
            node = e.value
            if node.kind == "seq":  # [[aot]] then [aot.sub]: the last table of the array
                node = node.items[-1]
            return node
        node = Node("map", ks, ke, style=style)
        parent.entries.append(Entry(name, ks, ke, node, kstyle))
        return node

    def header(self, parts: list[tuple[str, int, int, str]], start: int, aot: bool) -> Node:
        parent = self.root
        for part in parts[:-1]:
            parent = self.child_map(parent, part, "implicit")
        name, ks, ke, kstyle = parts[-1]
        table = Node("map", start, self.i, style="table")
        if aot:
            e = parent.entry(name)
            if e is None:
                seq = Node("seq", start, self.i, style="aot")
                parent.entries.append(Entry(name, ks, ke, seq, kstyle))
            else:
                seq = e.value
            seq.items.append(table)
            seq.end = self.i
            return table
        e = parent.entry(name)
        if e is not None:  # defined implicitly before by [name.sub]: now explicit
            e.value.style, e.value.start = "table", start
            e.value.end = self.i
            return e.value
        parent.entries.append(Entry(name, ks, ke, table, kstyle))
        return table

    def assign(
        self, table: Node, parts: list[tuple[str, int, int, str]], value: Node, dotted_style: str
    ) -> None:
        parent = table
        for part in parts[:-1]:
            parent = self.child_map(parent, part, dotted_style)
            parent.end = max(parent.end, value.end)
            parent.extra.setdefault("kv_start", value.extra.get("kv_start"))
        name, ks, ke, kstyle = parts[-1]
        parent.entries.append(Entry(name, ks, ke, value, kstyle))

    # -- values ------------------------------------------------------------

    def value(self) -> Node:
        t, s = self.t, self.i
        c = t[s]
        if t.startswith('"""', s) or t.startswith("'''", s):
            q = t[s : s + 3]
            i = s + 3
            while True:
                if q == '"""' and t[i] == "\\":
                    i += 2
                    continue
                if t.startswith(q, i):
                    while t.startswith(q[0], i + 3):  # up to two quotes may end the body
                        i += 1
                    break
                i += 1
            self.i = i + 3
            return Node("scalar", s, self.i, style="ml" + q[0])
        if c == '"':
            self.i = self._basic_end(s)
            return Node("scalar", s, self.i, style='"')
        if c == "'":
            self.i = t.index("'", s + 1) + 1
            return Node("scalar", s, self.i, style="'")
        if c == "[":
            node = Node("seq", s, s, flow=True)
            self.i += 1
            while True:
                self.ws(newlines=True)
                if t[self.i] == "]":
                    break
                node.items.append(self.value())
                self.ws(newlines=True)
                if t[self.i] == ",":
                    self.i += 1
            self.i += 1
            node.end = self.i
            return node
        if c == "{":
            node = Node("map", s, s, flow=True, style="inline")
            self.i += 1
            while True:
                self.ws()
                if t[self.i] == "}":
                    break
                parts = self.dotted_key()
                self.ws()
                self.i += 1
                self.ws()
                v = self.value()
                self.assign(node, parts, v, dotted_style="inline-dotted")
                self.ws()
                if t[self.i] == ",":
                    self.i += 1
            self.i += 1
            node.end = self.i
            return node
        i = s
        while i < len(t) and t[i] not in " \t\r\n,]}#":
            i += 1
        m = _DATETIME_TAIL.match(t, i)
        if m and re.match(r"\d{4}-\d{2}-\d{2}\Z", t[s:i]):
            i = m.end()
            while i < len(t) and t[i] not in " \t\r\n,]}#":
                i += 1
        self.i = i
        return Node("scalar", s, i, style="bare")


def _json_escapes(s: str) -> str:
    """A TOML basic string as JSON: \\UXXXXXXXX and \\e have no JSON spelling."""

    def rep(m: re.Match[str]) -> str:
        if m.group(0).startswith("\\U"):
            return json.dumps(chr(int(m.group(0)[2:], 16)))[1:-1]
        return "\\u001b" if m.group(0) == "\\e" else m.group(0)

    return re.sub(r"\\U[0-9a-fA-F]{8}|\\e|\\\\", rep, s)


# -- writing ---------------------------------------------------------------


def literal(value: Scalar, old: Node | None, text: str) -> str:
    """The TOML literal for `value`, in the style of the literal it replaces."""
    raw = text[old.start : old.end] if old is not None else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        low = raw.lower()
        if value >= 0 and low.startswith(("0x", "0o", "0b")):
            base = {"x": "x", "o": "o", "b": "b"}[low[1]]
            digits = format(value, base)
            if base == "x" and any(c in "ABCDEF" for c in raw[2:]):
                digits = digits.upper()
            return raw[:2] + digits
        if "_" in raw and not low.startswith("0x"):
            return f"{value:_}"
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        style = old.style if old is not None else '"'
        if style in ("'", "ml'") and "'" not in value and value.isprintable():
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False).replace("\\u007f", "\\u007F")
    raise CtxfixError(None, f"cannot write a {type(value).__name__} value")


def render_scalar(text: str, node: Node, value: Scalar) -> str:
    return literal(value, node, text)


def _key(name: str, style: str = "bare") -> str:
    if style == "'" and "'" not in name and name.isprintable():
        return f"'{name}'"
    if style == '"' or not _BARE_FULL.match(name):
        return json.dumps(name, ensure_ascii=False)
    return name


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _table_path(root: Node, target: Node) -> list[tuple[str, str]] | None:
    """Key names (with key styles) from the root to `target`, through tables and AoTs."""

    def walk(node: Node, acc: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
        if node is target:
            return acc
        if node.kind == "map":
            for e in node.entries:
                r = walk(e.value, [*acc, (e.key, e.style)])
                if r is not None:
                    return r
        elif node.kind == "seq" and node.style == "aot":
            for it in node.items:
                r = walk(it, acc)
                if r is not None:
                    return r
        return None

    return walk(root, [])


def _line_end(text: str, at: int) -> int:
    eol = text.find("\n", at)
    if eol == -1:
        return len(text)
    return eol - 1 if eol > 0 and text[eol - 1] == "\r" else eol


def _indent_of(text: str, at: int) -> str:
    ls = text.rfind("\n", 0, at) + 1
    m = re.match(r"[ \t]*", text[ls:at])
    return m.group() if m else ""


def insert(
    text: str, root: Node, parent: Node, keys: list[str], value: Scalar
) -> tuple[int, int, str]:
    """Splice adding `keys... = value` under `parent` in the file's own style."""
    if parent.kind != "map":
        raise CtxfixError(None, "parent is not a table")
    lit = literal(value, None, text)
    nl = _newline(text)
    if parent.flow:  # inline table: `{ a = 1, new = 2 }`
        member = ".".join(_key(k) for k in keys) + " = " + lit
        if parent.entries:
            at = parent.entries[-1].value.end
            return at, at, f", {member}"
        return parent.start + 1, parent.end - 1, f" {member} "
    if parent.style in ("dotted", "inline-dotted"):
        last = parent.entries[-1]
        kv_start = last.value.extra.get("kv_start", last.start)
        prefix = text[kv_start : last.start]
        member = prefix + ".".join(_key(k) for k in keys) + " = " + lit
        if parent.style == "inline-dotted":
            return last.value.end, last.value.end, f", {member}"
        at = _line_end(text, last.value.end)
        return at, at, nl + _indent_of(text, kv_start) + member
    if len(keys) > 1 and parent.style in ("table", "root", "implicit"):
        # Missing sub-tables: a new [a.b.c] header at the end of the file.
        base = _table_path(root, parent)
        if base is None:
            raise CtxfixError(None, "cannot find the table to extend")
        header = ".".join(_key(k, s) for k, s in base) + ("." if base else "")
        header += ".".join(_key(k) for k in keys[:-1])
        lead = "" if text.endswith(("\n", "\r\n")) or not text else nl
        sep = nl if text.strip() else ""
        return len(text), len(text), f"{lead}{sep}[{header}]{nl}{_key(keys[-1])} = {lit}{nl}"
    member = _key(keys[0]) + " = " + lit
    if parent.style == "implicit":
        # [a.b] exists but [a] has no section: add a [a] header at the end
        base = _table_path(root, parent) or []
        header = ".".join(_key(k, s) for k, s in base)
        lead = "" if text.endswith("\n") else nl
        return len(text), len(text), f"{lead}{nl}[{header}]{nl}{member}{nl}"
    own = [e for e in parent.entries if "kv_start" in e.value.extra or e.value.style == "dotted"]
    if own:
        last = own[-1]
        kv_start = last.value.extra.get("kv_start", last.start)
        at = _line_end(text, parent.extra.get("section_end") or last.value.end)
        return at, at, nl + _indent_of(text, kv_start) + member
    if parent.style == "root":
        first = parent.extra.get("first_header")
        if first is None:
            lead = "" if not text or text.endswith("\n") else nl
            return len(text), len(text), f"{lead}{member}{nl}"
        return first, first, f"{member}{nl}{nl}"
    at = parent.extra.get("header_end", parent.end)
    at = _line_end(text, at)
    return at, at, nl + member
