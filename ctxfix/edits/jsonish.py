"""JSON, JSONC and JSON5 backend: span tree from json-five's lossless model.

Why: agent configs (OpenClaw, opencode, Zed, Qwen Code, Crush) are JSON with
comments, trailing commas and sometimes JSON5 extras (unquoted keys, single
quotes, hex, `+Infinity`). json-five (imported as `json5`) parses all of it
into a model whose tokens carry character offsets, which is exactly what a
splice needs. Strict JSON is a subset, so one parser serves all three.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ctxfix.edits.nodes import Entry, Node, Scalar, offset_to_line_col
from ctxfix.errors import CtxfixError

# compiled on first use (re's cache): most scans never need it (issue 15)
_IDENT = r"[A-Za-z_$][A-Za-z0-9_$]*\Z"
_BOM = "\ufeff"


def flavour(text: str) -> str:
    """The JSON dialect of `text`: "json" (strict), "json5" (JSON5-only syntax) or "jsonc"."""
    try:
        json.loads(text.removeprefix(_BOM))
        return "json"
    except ValueError:
        pass
    if re.search(r"""(^|[{,]\s*)[A-Za-z_$][\w$]*\s*:|'|\b0[xX][0-9a-fA-F]|Infinity|NaN""", text):
        return "json5"
    return "jsonc"


def _error(text: str, where: str, exc: Exception) -> CtxfixError:
    msg = str(getattr(exc, "msg", None) or exc).strip()
    # json-five reports several errors on multiple lines: keep the primary one.
    skip = ("There were multiple errors", "The primary error was", "Additionally,")
    lines = [
        ln.strip() for ln in msg.splitlines() if ln.strip() and not ln.strip().startswith(skip)
    ]
    msg = lines[0] if lines else "invalid JSON"
    at = re.search(r"at: line \d+ column \d+ \(char (\d+)\)", msg)
    msg = re.sub(r"\s*at: line \d+ column \d+ \(char \d+\)", "", msg)
    msg = re.sub(r"\s+at:?$", "", msg)  # `.msg` can end where the position was cut off
    index = getattr(exc, "index", None)
    if at is not None:  # the message's own offset is right even where .index is 0 (EOF)
        index = int(at.group(1))
    illegal = re.search(r"^Illegal character .* at index (\d+)$", msg)
    if illegal is not None:  # json-five's tokenizer error has no token: .index is 0
        index = int(illegal.group(1))
    bom = 1 if text.startswith(_BOM) else 0
    if isinstance(index, int):
        line, col = offset_to_line_col(text, min(index + bom, len(text)))
    else:
        line, col = 1, 1
    return CtxfixError(f"{where}:{line}:{col}", msg)


def parse(text: str, where: str) -> tuple[Any, Node]:
    """Plain data and the span tree of a JSON/JSONC/JSON5 text.

    The standard-library scanner (`json_spans`) reads what configs contain;
    json-five, imported only then, decides everything else and words the errors.
    """
    from ctxfix.edits import json_spans

    bom = 1 if text.startswith(_BOM) else 0
    body = text[bom:]
    if not body.strip():
        raise CtxfixError(f"{where}:1:1", "empty document")
    # JSON5 ends a line at CR too; json-five only at LF, so a `//` comment in a
    # CR-only file swallowed the rest of it. A lone CR becomes LF for parsing
    # (same length: every span still points into the original text).
    if "\r" in body:
        body = re.sub(r"\r(?!\n)", "\n", body)
    try:
        return json_spans.parse(body, bom)
    except json_spans.Unsupported:
        pass
    from json5.loader import ModelLoader, loads

    try:
        model = loads(body, loader=ModelLoader())
    except Exception as exc:  # json-five raises JSON5DecodeError and, rarely, others
        raise _error(text, where, exc) from None
    return _convert(model.value, bom, where, text)


def _span(node: Any, shift: int) -> tuple[int, int]:
    return node._tok.index + shift, node._end_tok.end + shift


def _trailing(v: Any, shift: int) -> dict[str, Any]:
    tc = v.trailing_comma
    if tc is None or tc._tok is None:
        return {"trailing_comma": tc is not None}
    return {"trailing_comma": True, "trailing_comma_at": tc._tok.index + shift}


def _convert(v: Any, shift: int, where: str, text: str) -> tuple[Any, Node]:
    from json5 import model as m

    if isinstance(v, m.JSONObject):
        start, end = _span(v, shift)
        out: dict[str, Any] = {}
        node = Node("map", start, end, extra=_trailing(v, shift))
        for k, val in zip(v.keys, v.values, strict=True):
            if isinstance(k, m.Identifier):
                name, style = k.name, "ident"
            else:
                name, style = k.characters, ("sq" if isinstance(k, m.SingleQuotedString) else "dq")
            ks, ke = _span(k, shift)
            data, child = _convert(val, shift, where, text)
            out[name] = data
            node.entries.append(Entry(name, ks, ke, child, style))
        return out, node
    if isinstance(v, m.JSONArray):
        start, end = _span(v, shift)
        items: list[Any] = []
        node = Node("seq", start, end, extra=_trailing(v, shift))
        for val in v.values:
            data, child = _convert(val, shift, where, text)
            items.append(data)
            node.items.append(child)
        return items, node
    start, end = _span(v, shift)
    if isinstance(v, m.UnaryOp):
        inner, _ = _convert(v.value, shift, where, text)
        value = -inner if v.op == "-" else inner
        if isinstance(v.value, m.Infinity) and v.op == "-":
            value = -abs(inner)  # json-five's Infinity under a unary minus is already signed
        style = "hex" if getattr(v.value, "is_hex", False) else _num_style(v.value)
        return value, Node("scalar", start, end, style=style)
    if isinstance(v, m.String):
        style = "sq" if isinstance(v, m.SingleQuotedString) else "dq"
        return v.characters, Node("scalar", start, end, style=style)
    if isinstance(v, m.BooleanLiteral):
        return v.value, Node("scalar", start, end, style="bool")
    if isinstance(v, m.NullLiteral):
        return None, Node("scalar", start, end, style="null")
    if isinstance(v, m.Integer):
        style = "hex" if v.is_hex else ("octal" if v.is_octal else "int")
        return v.value, Node("scalar", start, end, style=style)
    if isinstance(v, m.Infinity):
        return v.value, Node("scalar", start, end, style="float")
    if isinstance(v, (m.Float, m.NaN)):
        return v.value, Node("scalar", start, end, style="float")
    line, col = offset_to_line_col(text, start)
    raise CtxfixError(f"{where}:{line}:{col}", f"unsupported JSON value {type(v).__name__}")


def _num_style(v: Any) -> str:
    from json5 import model as m

    return "int" if isinstance(v, m.Integer) else "float"


# -- writing ---------------------------------------------------------------


def _string(value: str, quote: str) -> str:
    if quote == '"':
        return json.dumps(value, ensure_ascii=False)
    body = json.dumps(value, ensure_ascii=False)[1:-1].replace('\\"', '"').replace("'", "\\'")
    return f"'{body}'"


def literal(value: Scalar, old: Node | None, text: str) -> str:
    """The JSON5 literal for `value`, in the style of the literal it replaces."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if old is not None and old.style == "hex" and value >= 0:
            raw = text[old.start : old.end].lstrip("+-")
            digits = format(value, "X" if any(c in "ABCDEF" for c in raw[2:]) else "x")
            return raw[:2] + digits
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        quote = "'" if old is not None and old.style == "sq" else '"'
        return _string(value, quote)
    raise CtxfixError(None, f"cannot write a {type(value).__name__} value")


def render_scalar(text: str, node: Node, value: Scalar) -> str:
    return literal(value, node, text)


def _line_indent(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    i = start
    while i < len(text) and text[i] in " \t":
        i += 1
    return text[start:i]


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


# Unquoted keys json-five cannot read back (it tokenizes them as numbers or literals).
# compiled on first use (re's cache): most scans never need it (issue 15)
_IDENT_UNSAFE = r"[eE]\d.*|Infinity|NaN|true|false|null\Z"


def _key_text(key: str, style: str) -> str:
    if style == "ident" and re.match(_IDENT, key) and not re.match(_IDENT_UNSAFE, key):
        return key
    return _string(key, "'" if style == "sq" else '"')


def _indent_step(text: str, root: Node) -> str:
    """The document's indentation unit, from the first nested multi-line key."""

    def walk(node: Node, parent_indent: str | None) -> str | None:
        if node.kind == "map" and node.entries:
            ind = _line_indent(text, node.entries[0].start)
            on_own_line = (
                text[text.rfind("\n", 0, node.entries[0].start) + 1 : node.entries[0].start].strip()
                == ""
            )
            if parent_indent is not None and on_own_line and len(ind) > len(parent_indent):
                return ind[len(parent_indent) :]
            for e in node.entries:
                r = walk(e.value, ind if on_own_line else parent_indent)
                if r:
                    return r
        if node.kind == "seq":
            for it in node.items:
                r = walk(it, parent_indent)
                if r:
                    return r
        return None

    if root.kind == "map" and root.entries:
        first = root.entries[0]
        line_start = text.rfind("\n", 0, first.start) + 1
        if text[line_start : first.start].strip() == "" and line_start > 0:
            ind = _line_indent(text, first.start)
            if ind:
                return ind
    return walk(root, "") or "  "


def _sep(text: str, parent: Node) -> str:
    """The `key: value` separator used by the last sibling (": " or ":")."""
    if parent.entries:
        e = parent.entries[-1]
        between = text[e.end : e.value.start]
        if "\n" not in between and "/" not in between and between.strip() == ":":
            return between
    return ": "


def _sibling_key_style(root: Node, parent: Node) -> str:
    if parent.entries:
        return parent.entries[-1].style
    return root.entries[0].style if root.kind == "map" and root.entries else "dq"


def _after_line_comment(text: str, pos: int) -> int:
    """End of the line at `pos` when only blanks or a comment follow; else `pos`.

    Why: a new member must not steal the comment written after the last value.
    """
    eol = text.find("\n", pos)
    eol = len(text) if eol == -1 else eol
    if eol > pos and text[eol - 1] == "\r":
        eol -= 1
    rest = text[pos:eol].strip()
    if not rest or rest.startswith("//") or (rest.startswith("/*") and rest.endswith("*/")):
        return eol
    return pos


def insert(
    text: str, root: Node, parent: Node, keys: list[str], value: Scalar
) -> tuple[int, int, str]:
    """Splice (start, end, new_text) that adds `keys...: value` to the `parent` object."""
    if parent.kind != "map":
        raise CtxfixError(None, "parent is not an object")
    nl = _newline(text)
    style = _sibling_key_style(root, parent)
    sep = _sep(text, parent)
    step = _indent_step(text, root)
    open_brace = parent.start
    doc_multiline = "\n" in text[root.start : root.end]
    habit = parent if parent.entries else root
    trailing = bool(habit.extra.get("trailing_comma"))
    if parent.entries:
        multiline = "\n" in text[open_brace : parent.entries[0].start]
        indent = _line_indent(text, parent.entries[-1].start) if multiline else ""
    else:
        # an empty object in a multi-line document is expanded, as a person would
        multiline = doc_multiline
        indent = _line_indent(text, open_brace) + step if multiline else ""
    pad = " " if not multiline and text[open_brace + 1 : open_brace + 2] == " " else ""
    tc = "," if trailing else ""

    def build(rest: list[str], ind: str) -> str:
        k = _key_text(rest[0], style)
        if len(rest) == 1:
            return f"{k}{sep}{literal(value, None, text)}"
        if multiline:
            inner = build(rest[1:], ind + step)
            return f"{k}{sep}{{{nl}{ind}{step}{inner}{tc}{nl}{ind}}}"
        return f"{k}{sep}{{{pad}{build(rest[1:], ind)}{pad}}}"

    member = build(keys, indent)
    if parent.entries:
        last = parent.entries[-1].value
        comma = parent.extra.get("trailing_comma_at")
        if comma is not None:
            if multiline:
                at = _after_line_comment(text, comma + 1)
                return at, at, f"{nl}{indent}{member},"
            return comma + 1, comma + 1, f" {member},"
        if multiline:
            at = _after_line_comment(text, last.end)
            return last.end, at, f",{text[last.end : at]}{nl}{indent}{member}"
        return last.end, last.end, f", {member}"
    close = parent.end - 1
    if multiline:
        line_start = text.rfind("\n", 0, close) + 1
        if "\n" in text[open_brace:close] and text[line_start:close].strip() == "":
            # "{\n}": put the member on its own line before the closing brace
            return line_start, line_start, f"{indent}{member}{tc}{nl}"
        close_indent = _line_indent(text, open_brace)
        return close, close, f"{nl}{indent}{member}{tc}{nl}{close_indent}"
    return open_brace + 1, close, f"{pad}{member}{pad}"


def render_key(key: str, style: str) -> str:
    """The key literal for a renamed entry, in the style the old key was written."""
    return _key_text(key, style)
