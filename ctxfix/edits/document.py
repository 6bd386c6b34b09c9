"""One structured config file, parsed for reading and edited byte-surgically.

Why: ctxfix both *reports* values ("contextWindow is 131072 at
openclaw.json:14:22") and *fixes* them, and a fix the user can trust must
change only the bytes of the values it targets. Re-dumping a parsed document
loses comments, quoting, trailing commas, hex literals and indentation, so no
backend here ever re-serialises a whole document. Each format backend
(`jsonish`, `yaml_doc`, `toml_doc`) parses text into a small *span tree*
(`Node`: where every value and key sits in the text) plus plain Python data;
`Document` walks key paths over that tree, and an edit is a splice of new
bytes into one span followed by a re-parse that checks the result.

Offsets in the tree are character offsets into `Document.text` (a str), so
CRLF line endings and a UTF-8 BOM survive untouched; line/column numbers are
1-based and count characters (the BOM is not counted as a column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn, Protocol

from ctxfix.edits.nodes import Entry, Node, Scalar, line_starts_of, offset_to_line_col
from ctxfix.errors import CtxfixError
from ctxfix.facts import KeyPath, format_key_path

FORMATS = ("json", "jsonc", "json5", "yaml", "toml", "crushrc")

_SUFFIX_FMT = {
    ".json": "json",
    ".jsonc": "jsonc",
    ".json5": "json5",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".toml": "toml",
}


class Backend(Protocol):
    """What a format module provides (see jsonish.py, yaml_doc.py, toml_doc.py)."""

    def parse(self, text: str, where: str) -> tuple[Any, Node]: ...

    def render_scalar(self, text: str, node: Node, value: Scalar) -> str: ...

    def insert(
        self, text: str, root: Node, parent: Node, keys: list[str], value: Scalar
    ) -> tuple[int, int, str]: ...


def _backend(fmt: str) -> Backend:
    if fmt in ("json", "jsonc", "json5"):
        from ctxfix.edits import jsonish

        return jsonish  # type: ignore[return-value]
    if fmt == "yaml":
        from ctxfix.edits import yaml_doc

        return yaml_doc  # type: ignore[return-value]
    if fmt == "toml":
        from ctxfix.edits import toml_doc

        return toml_doc  # type: ignore[return-value]
    if fmt == "crushrc":  # Crush's Bash config: its provider/model builtins only
        from ctxfix.edits import crushrc

        return crushrc  # type: ignore[return-value]
    raise CtxfixError(None, f"unknown document format {fmt!r} (expected one of {FORMATS})")


def guess_format(path: Path) -> str:
    """Format from the file suffix; unknown suffixes are treated as JSON5-ish JSON."""
    return _SUFFIX_FMT.get(path.suffix.lower(), "json")


class Document:
    """A parsed config file that can report positions and take surgical edits.

    `data` is plain Python for the *current* text (YAML anchors/aliases and
    merge keys resolved, TOML as plain dicts). `set()` splices new bytes into
    `text` and re-parses, so `data`, `locate()` and `get()` always describe
    `text`. `original` is the text as loaded (for diffs).
    """

    def __init__(self, path: Path, text: str, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.original = text
        self.text = text
        self._backend = _backend(fmt)
        self._reparse()

    # -- reading -----------------------------------------------------------

    def _reparse(self) -> None:
        try:
            self.data, self._root = self._backend.parse(self.text, str(self.path))
        except RecursionError:  # 100,000 nested brackets: a hostile file, not a config
            raise CtxfixError(str(self.path), "nested too deep to be a config: not read") from None
        self._starts = line_starts_of(self.text)

    def _pos(self, offset: int) -> tuple[int, int]:
        return offset_to_line_col(self.text, offset, self._starts)

    def get(self, path: KeyPath, default: Any = None) -> Any:
        """The plain value at `path`, or `default` when any step is missing."""
        cur = self.data
        for part in path:
            if isinstance(part, int) and isinstance(cur, list) and not isinstance(part, bool):
                if not -len(cur) <= part < len(cur):
                    return default
                cur = cur[part]
            elif isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                return default
        return cur

    def _walk(self, path: KeyPath) -> tuple[Node | None, Entry | None]:
        """The node at `path` and the entry that holds it (None, None when absent)."""
        node: Node | None = self._root
        entry: Entry | None = None
        for part in path:
            if node is None:
                return None, None
            if node.kind == "seq" and isinstance(part, int) and not isinstance(part, bool):
                if not -len(node.items) <= part < len(node.items):
                    return None, None
                node, entry = node.items[part], None
            elif node.kind == "map" and isinstance(part, str):
                entry = _lookup(node, part)
                if entry is None:
                    return None, None
                node = entry.value
            else:
                return None, None
        return node, entry

    def locate(self, path: KeyPath) -> tuple[int, int] | None:
        """1-based (line, col) where the value at `path` is written; None if absent.

        A YAML value reached through a merge key (`<<: *base`) is located where
        the anchored mapping writes it; an alias (`*x`) is located at the alias.
        """
        node, _ = self._walk(path)
        return None if node is None else self._pos(node.start)

    def locate_key(self, path: KeyPath) -> tuple[int, int] | None:
        """1-based (line, col) of the key of the mapping entry at `path`."""
        if not path or not isinstance(path[-1], str):
            return None
        node, entry = self._walk(path)
        if node is None or entry is None:
            return None
        return self._pos(entry.start)

    def span(self, path: KeyPath) -> tuple[int, int] | None:
        """Character offsets [start, end) of the value at `path` in `text`."""
        node, _ = self._walk(path)
        return None if node is None else (node.start, node.end)

    def render(self) -> str:
        return self.text

    # -- editing -----------------------------------------------------------

    def set(self, path: KeyPath, value: Scalar) -> None:
        """Write `value` at `path`, changing only that value's bytes.

        The new literal keeps the old one's style where the type allows it
        (quote character, hex, `True` vs `true`). A missing key is inserted in
        the style of its siblings; missing intermediate mappings are created.
        Going through a missing list index or through a scalar is an error.
        """
        if not path:
            raise CtxfixError(str(self.path), "cannot replace the whole document")
        where = f"{self.path}: {format_key_path(path)}"
        parent = self._root
        i = 0
        while i < len(path):
            part = path[i]
            here = format_key_path(path[:i]) or "the document root"
            if parent.kind == "seq":
                if not isinstance(part, int) or isinstance(part, bool):
                    raise CtxfixError(where, f"{here} is a list, not a mapping")
                if not -len(parent.items) <= part < len(parent.items):
                    raise CtxfixError(where, f"list {here} has no item {part}")
                parent = parent.items[part]
            elif parent.kind == "map":
                if not isinstance(part, str):
                    raise CtxfixError(where, f"{here} is a mapping, not a list")
                e = parent.entry(part)
                if e is None:
                    if i < len(path) - 1 and _lookup(parent, part) is not None:
                        raise CtxfixError(
                            where,
                            f"{format_key_path(path[: i + 1])} comes from a YAML merge key"
                            " (<<); edit the anchored mapping or set the whole value",
                        )
                    break  # missing (or only inherited through <<): insert here
                parent = e.value
            else:
                raise CtxfixError(where, f"{here} is a single value, not a mapping")
            i += 1
        if i == len(path):
            if parent.kind != "scalar":
                raise CtxfixError(where, f"is a {_kind_name(parent)}, not a single value")
            try:
                new = self._backend.render_scalar(self.text, parent, value)
            except CtxfixError as exc:
                raise CtxfixError(where, exc.problem) from None
            self._splice(parent.start, parent.end, new, path, value)
            return
        rest = path[i:]
        if any(not isinstance(p, str) for p in rest):
            raise CtxfixError(where, "cannot create list items that do not exist")
        try:
            start, end, new = self._backend.insert(
                self.text, self._root, parent, [str(p) for p in rest], value
            )
        except CtxfixError as exc:
            raise CtxfixError(where, exc.problem) from None
        self._splice(start, end, new, path, value)

    def rename_key(self, path: KeyPath, new_key: str) -> None:
        """Rename the key of the mapping entry at `path`, changing only the key's bytes.

        Why: opencode keys a model's settings by its id; repointing the agent
        must move the entry with it. JSON family only (the key keeps its
        quoting style); the value and everything around it stay byte-identical.
        """
        where = f"{self.path}: {format_key_path(path)}"
        if not path or not isinstance(path[-1], str):
            raise CtxfixError(where, "is not a mapping entry")
        node, entry = self._walk(path)
        if node is None or entry is None:
            raise CtxfixError(where, "no such key")
        parent, _ = self._walk(path[:-1]) if len(path) > 1 else (self._root, None)
        if parent is not None and parent.entry(new_key) is not None:
            raise CtxfixError(where, f"{new_key!r} already exists; not renamed")
        render = getattr(self._backend, "render_key", None)
        if render is None:
            raise CtxfixError(where, f"cannot rename a key in a {self.fmt} file")
        old_text = self.text
        value = self.get(path)
        self.text = old_text[: entry.start] + render(new_key, entry.style) + old_text[entry.end :]
        new_path = (*path[:-1], new_key)
        try:
            self._reparse()
        except CtxfixError as exc:
            self.text = old_text
            self._reparse()
            raise CtxfixError(
                where, f"rename would make the file invalid ({exc.problem})"
            ) from None
        if self.get(new_path, _MISSING) != value or self.get(path, _MISSING) is not _MISSING:
            self.text = old_text
            self._reparse()
            raise CtxfixError(where, f"rename to {new_key!r} did not read back; left unchanged")

    def _merged(self, path: KeyPath) -> bool:
        """Is the value at `path` read through a YAML merge key (`<<`) somewhere on the way?"""
        node = self._root
        for part in path:
            if node.kind == "map" and isinstance(part, str):
                e = node.entry(part)
                if e is None:
                    return bool(node.merges)
                node = e.value
            elif (
                node.kind == "seq"
                and isinstance(part, int)
                and -len(node.items) <= part < len(node.items)
            ):
                node = node.items[part]
            else:
                return False
        return False

    def _splice(self, start: int, end: int, new: str, path: KeyPath, value: Scalar) -> None:
        old_text, old_data = self.text, self.data
        where = f"{self.path}: {format_key_path(path)}"
        self.text = old_text[:start] + new + old_text[end:]
        try:
            self._reparse()
        except CtxfixError as exc:
            self._refuse(old_text, where, f"edit would make the file invalid ({exc.problem})")
        got = self.get(path, _MISSING)
        if not _same(got, value):
            shown = "nothing" if got is _MISSING else repr(got)
            self._refuse(old_text, where, f"edit did not read back as {value!r} (got {shown})")
        # values reached through a YAML merge key (`<<: *defaults`) follow the anchored
        # mapping by design; any other change (a `*alias` of an edited scalar, a `|+`
        # block that took the inserted line) is refused
        others = [p for p in _changed_paths(old_data, self.data, path) if not self._merged(p)]
        if others:  # an alias of an anchored value, a `|+` block that took the new line...
            listed = ", ".join(format_key_path(p) or "(root)" for p in others[:3])
            self._refuse(
                old_text,
                where,
                f"the edit would also change {listed} (an alias or a neighbouring block); "
                "edit it by hand",
            )

    def _refuse(self, old_text: str, where: str, problem: str) -> NoReturn:
        """Put the text back as it was and refuse the edit with one line."""
        self.text = old_text
        self._reparse()
        suffix = "" if problem.endswith("left unchanged") else "; left unchanged"
        raise CtxfixError(where, problem + suffix)


_MISSING = object()


def _changed_paths(old: Any, new: Any, edited: KeyPath, here: KeyPath = ()) -> list[KeyPath]:
    """Paths whose values differ between two parses, except the edited one (and the
    mappings an insert creates on the way to it)."""
    n = min(len(here), len(edited))
    if here[:n] == edited[:n] and len(here) >= len(edited):
        return []  # the edited value itself (or below it)
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[KeyPath] = []
        for k in dict.fromkeys([*old, *new]):
            p = (*here, k)
            if k not in old or k not in new:
                if edited[: len(p)] != p:  # a key the edit did not create
                    out.append(p)
                continue
            out += _changed_paths(old[k], new[k], edited, p)
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [here]
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _changed_paths(a, b, edited, (*here, i))
        return out
    return [] if _same(old, new) else [here]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN
    return type(a) is type(b) and a == b


def _kind_name(node: Node) -> str:
    return {"map": "mapping", "seq": "list"}.get(node.kind, "value")


def _lookup(node: Node, key: str) -> Entry | None:
    """Entry for `key` in a mapping, following YAML merge keys (own keys win)."""
    e = node.entry(key)
    if e is not None:
        return e
    for src in node.merges:
        if src.kind == "map":
            e = _lookup(src, key)
            if e is not None:
                return e
    return None


def load_document(path: Path, text: str | None = None, fmt: str | None = None) -> Document:
    """Parse `path` (or `text` given for it) as `fmt` (guessed from the suffix when None).

    Unreadable or malformed input raises a one-line `CtxfixError`
    ("path:line:col", reason). A `.json` file is parsed as JSON first; if it
    is not strict JSON it is read with JSON5 rules (comments, trailing commas,
    unquoted keys), and `fmt` becomes "jsonc" or "json5" accordingly.
    """
    path = Path(path)
    if text is None:
        from ctxfix.safe_read import read_bytes

        raw = read_bytes(path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CtxfixError(
                f"{path}", f"not UTF-8 text (byte offset {exc.start}: {exc.reason})"
            ) from None
    if fmt is None:
        fmt = guess_format(path)
    if fmt not in FORMATS:
        raise CtxfixError(str(path), f"unknown format {fmt!r} (expected one of {FORMATS})")
    if fmt in ("json", "jsonc", "json5") and _nesting(text) > MAX_DEPTH:
        raise CtxfixError(str(path), "nested too deep to be a config: not read")
    try:
        if fmt == "json":
            from ctxfix.edits.jsonish import flavour

            fmt = flavour(text)
        doc = Document(path, text, fmt)
    except RecursionError:
        raise CtxfixError(str(path), "nested too deep to be a config: not read") from None
    except CtxfixError:
        # a parser's message may quote values (ruamel's duplicate-key error quotes
        # both): register what looks secret before the message is printed
        from ctxfix.redact import register_text_pairs

        register_text_pairs(text)
        raise
    register_secrets(doc)
    return doc


TQ, TS = '"' * 3, "'" * 3  # TOML multi-line string quotes
MAX_DEPTH = 256
"""Real configs nest a few levels; parsers recurse per level (json-five takes
seconds to fail on 50,000), so deeper text is refused before it is parsed."""
_BRACKETS = __import__("re").compile(r"[\[{]|[\]}]|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def _nesting(text: str) -> int:
    """The deepest bracket nesting outside strings (a linear pre-check)."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(text):
        c = m.group(0)
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif c in "]}":
            depth -= 1
    return deepest


def register_secrets(doc: Document) -> None:
    """Tell the redaction every secret this file holds: parsed, and as written.

    The written form (the value's own span, quotes, escapes and line
    continuations included) is what a diff shows line by line.
    """
    from ctxfix.redact import REGISTRY, secret_values

    for path, value in secret_values(doc.data):
        REGISTRY.add(value)
        span = doc.span(path)
        if span is not None:  # as written, without its quotes (a diff keeps them)
            raw = doc.text[span[0] : span[1]]
            for q in (TQ, TS, '"', "'"):
                if len(raw) >= 2 * len(q) and raw.startswith(q) and raw.endswith(q):
                    raw = raw[len(q) : -len(q)]
                    break
            REGISTRY.add(raw)
