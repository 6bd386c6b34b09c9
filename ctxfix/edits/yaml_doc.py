"""YAML backend: span tree from ruamel.yaml's event stream; edits are text splices.

Why: re-dumping YAML (even ruamel's round-trip dumper) can reflow flow maps,
requote strings and shift comments. The parser's events carry exact
character marks for every scalar, mapping and alias, so we locate values from
them and splice new text in, never re-dumping. Plain data comes from
ruamel's safe loader (YAML 1.2; anchors, aliases and merge keys resolved).

Merge keys: a value reached through `<<: *base` is located in the anchored
mapping (where it is written). Setting it inserts the key into the merging
mapping instead, so the other users of the anchor keep their value. A value
under an alias (`key: *x`) is located at the alias; setting a scalar alias
replaces the alias with the new value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ctxfix.edits.nodes import Entry, Node, Scalar
from ctxfix.errors import CtxfixError

_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./@~(][A-Za-z0-9_./:@+~() -]*\Z")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _mark_error(text: str, where: str, exc: Exception) -> CtxfixError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    msg = f"{problem} ({context})" if context else str(problem)
    if mark is not None:
        line, col = mark.line + 1, mark.column + 1
        if line == 1 and text.startswith("\ufeff"):
            col = max(col - 1, 1)
        return CtxfixError(f"{where}:{line}:{col}", " ".join(msg.split()))
    return CtxfixError(where, " ".join(msg.split()))


def parse(text: str, where: str) -> tuple[Any, Node]:
    """Plain data and span tree. Several documents (`---`) -> a list of documents."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        events = list(YAML(typ="rt").parse(text))
        docs = list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as exc:
        raise _mark_error(text, where, exc) from None
    except Exception as exc:  # constructor errors that are not YAMLError subclasses
        raise CtxfixError(where, " ".join(str(exc).split())) from None
    builder = _Builder(text, events)
    roots = builder.stream()
    budget = [MAX_VALUES]
    try:
        if len(roots) == 1:
            return _plain(docs[0], budget), roots[0]
        stream = Node("seq", 0, len(text), style="stream", items=roots)
        return [_plain(d, budget) for d in docs], stream
    except _TooBig:
        raise CtxfixError(
            where,
            f"aliases expand to more than {MAX_VALUES:,} values (a YAML bomb?): not read",
        ) from None


MAX_VALUES = 1_000_000
"""Values a config may expand to through aliases; a 679-byte "billion laughs" is 10^9."""


class _TooBig(Exception):
    pass


def _plain(v: Any, budget: list[int] | None = None) -> Any:
    """Safe-loaded data as builtin types (ruamel may return subclasses for some scalars).

    Aliases are shared objects in the loaded data and become copies here, so
    the copy is counted against `budget` (a YAML bomb stops at MAX_VALUES).
    """
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig
    if isinstance(v, dict):
        return {
            (_plain(k, budget) if not isinstance(k, str) else k): _plain(x, budget)
            for k, x in v.items()
        }
    if isinstance(v, list):
        return [_plain(x, budget) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str(v)
    return v


class _Builder:
    """Turns parser events into `Node`s (a composer that keeps marks and aliases)."""

    def __init__(self, text: str, events: list[Any]) -> None:
        self.text = text
        self.events = events
        self.i = 0
        self.anchors: dict[str, Node] = {}

    def next(self) -> Any:
        ev = self.events[self.i]
        self.i += 1
        return ev

    def peek_name(self) -> str:
        return type(self.events[self.i]).__name__

    def stream(self) -> list[Node]:
        roots: list[Node] = []
        self.next()  # StreamStart
        while self.peek_name() == "DocumentStartEvent":
            self.next()
            self.anchors = {}
            roots.append(self.node())
            self.next()  # DocumentEnd
        return roots

    def _skip_props(self, start: int, end: int) -> int:
        """Offset of the value itself, after any `&anchor` / `!tag` prefix."""
        t = self.text
        i = start
        while i < end and t[i] in "&!":
            while i < end and t[i] not in " \t\r\n":
                i += 1
            while i < end and t[i] in " \t\r\n":
                i += 1
        return i

    def node(self) -> Node:
        ev = self.next()
        name = type(ev).__name__
        if name == "AliasEvent":
            target = self.anchors.get(ev.anchor)
            if target is None or target.kind == "scalar":
                return Node("scalar", ev.start_mark.index, ev.end_mark.index, style="alias")
            return target
        if name == "ScalarEvent":
            start = self._skip_props(ev.start_mark.index, ev.end_mark.index)
            end = ev.end_mark.index
            style = ev.style or "plain"
            if style in ("|", ">"):
                style = "block"
                # the span ends after the last content line, not after the blank lines
                end = start + len(self.text[start:end].rstrip())
            node = Node("scalar", start, end, style=style, extra={"tag": ev.tag})
        elif name == "MappingStartEvent":
            node = self.mapping(ev)
        elif name == "SequenceStartEvent":
            node = self.sequence(ev)
        else:  # pragma: no cover - the parser guarantees node events here
            raise CtxfixError(None, f"unexpected YAML event {name}")
        if getattr(ev, "anchor", None):
            self.anchors[ev.anchor] = node
        return node

    def mapping(self, ev: Any) -> Node:
        flow = bool(ev.flow_style)
        start = self._skip_props(ev.start_mark.index, max(ev.end_mark.index, ev.start_mark.index))
        node = Node("map", start, start, flow=flow)
        while self.peek_name() != "MappingEndEvent":
            kev = self.events[self.i]
            key = self.node()
            value = self.node()
            if value.kind == "scalar" and value.style == "plain" and value.start == value.end:
                value = self._empty_value(key, value)
            ktext = getattr(kev, "value", None)
            if type(kev).__name__ == "ScalarEvent" and ktext == "<<" and kev.style is None:
                node.merges.extend(value.items if value.kind == "seq" else [value])
                node.entries.append(Entry("<<", key.start, key.end, value, "merge"))
                continue
            kstyle = key.style if key.kind == "scalar" else "complex"
            node.entries.append(Entry(str(ktext), key.start, key.end, value, kstyle))
        end_ev = self.next()
        if flow:
            node.end = end_ev.end_mark.index
        elif node.entries:
            node.start = min(node.start, node.entries[0].start)
            node.end = _block_end(node.entries[-1].value)
        return node

    def _empty_value(self, key: Node, value: Node) -> Node:
        """`key:` with nothing after it: its span is just after the colon."""
        colon = self.text.find(":", key.end)
        pos = colon + 1 if colon != -1 else key.end
        return Node("scalar", pos, pos, style="empty", extra=value.extra)

    def sequence(self, ev: Any) -> Node:
        flow = bool(ev.flow_style)
        start = self._skip_props(ev.start_mark.index, max(ev.end_mark.index, ev.start_mark.index))
        node = Node("seq", start, start, flow=flow)
        while self.peek_name() != "SequenceEndEvent":
            node.items.append(self.node())
        end_ev = self.next()
        if flow:
            node.end = end_ev.end_mark.index
        elif node.items:
            node.end = _block_end(node.items[-1])
        return node


def _block_end(node: Node) -> int:
    return node.end


# -- writing ---------------------------------------------------------------


def _resolves_to_str(value: str) -> bool:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=True).load(value) == value
    except Exception:
        return False


def _plain_ok(value: str) -> bool:
    return (
        bool(_PLAIN_SAFE.match(value))
        and not value.endswith((" ", ":"))
        and ": " not in value
        and " #" not in value
        and _resolves_to_str(value)
    )


def _single(value: str) -> str | None:
    if any(c in value for c in "\n\r\t") or not value.isprintable():
        return None
    return "'" + value.replace("'", "''") + "'"


def literal(value: Scalar, old: Node | None, text: str) -> str:
    """The YAML literal for `value`, in the style of the scalar it replaces."""
    raw = text[old.start : old.end] if old is not None else ""
    if isinstance(value, bool):
        word = "true" if value else "false"
        if raw[:1].isupper():
            word = word.upper() if raw.isupper() and len(raw) > 1 else word.capitalize()
        return word
    if isinstance(value, int):
        if raw.lower().startswith("0x") and value >= 0:
            return raw[:2] + format(value, "X" if any(c in "ABCDEF" for c in raw[2:]) else "x")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, str):
        style = old.style if old is not None else "plain"
        if style == "'":
            s = _single(value)
            if s is not None:
                return s
        if style in ("plain", "empty", "alias") and _plain_ok(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    raise CtxfixError(None, f"cannot write a {type(value).__name__} value")


def render_scalar(text: str, node: Node, value: Scalar) -> str:
    lit = literal(value, node, text)
    return " " + lit if node.style == "empty" else lit


def _key_text(key: str, style: str) -> str:
    if style == "'":
        s = _single(key)
        if s is not None:
            return s
    if style == '"' or not _plain_ok(key):
        return json.dumps(key, ensure_ascii=False)
    return key


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _col(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1)


def _indent_step(text: str, root: Node) -> int:
    """The document's block indentation unit, from the first nested block mapping."""
    stack: list[tuple[Node, int | None]] = [(root, None)]
    while stack:
        node, parent_col = stack.pop(0)
        if node.kind == "map" and not node.flow and node.entries:
            col = _col(text, node.entries[0].start)
            if parent_col is not None and col > parent_col:
                return col - parent_col
            for e in node.entries:
                stack.append((e.value, col))
        elif node.kind == "seq" and not node.flow:
            for it in node.items:
                stack.append((it, parent_col))
    return 2


def _sibling_style(root: Node, parent: Node) -> str:
    for e in reversed(parent.entries):
        if e.style != "merge":
            return e.style
    if root.kind == "map":
        for e in root.entries:
            if e.style != "merge":
                return e.style
    return "plain"


def insert(
    text: str, root: Node, parent: Node, keys: list[str], value: Scalar
) -> tuple[int, int, str]:
    """Splice (start, end, new_text) adding `keys...: value` to mapping `parent`."""
    if parent.kind != "map":
        raise CtxfixError(None, "parent is not a mapping")
    kstyle = _sibling_style(root, parent)
    lit = literal(value, None, text)
    if parent.flow:

        def flow(rest: list[str]) -> str:
            k = _key_text(rest[0], kstyle)
            return f"{k}: {lit}" if len(rest) == 1 else f"{k}: {{{flow(rest[1:])}}}"

        if parent.entries:
            at = parent.entries[-1].value.end
            return at, at, f", {flow(keys)}"
        return parent.start + 1, parent.end - 1, flow(keys)
    if not parent.entries:
        raise CtxfixError(None, "cannot add a key to an empty block mapping")
    nl = _newline(text)
    step = _indent_step(text, root)
    col = _col(text, parent.entries[-1].start)

    def block(rest: list[str], c: int) -> str:
        k = " " * c + _key_text(rest[0], kstyle)
        if len(rest) == 1:
            return f"{k}: {lit}"
        return f"{k}:{nl}{block(rest[1:], c + step)}"

    member = block(keys, col)
    end = parent.entries[-1].value.end
    line_start = text.rfind("\n", 0, end) + 1
    if end == line_start and end > 0:
        # the last value (a block scalar) ends at a line start: insert a whole line here
        return end, end, member + nl
    eol = text.find("\n", end)
    if eol == -1:
        return len(text), len(text), nl + member
    if eol > 0 and text[eol - 1] == "\r":
        eol -= 1
    return eol, eol, nl + member
