"""Crush's `crushrc`: the `provider` and `model` builtins of a Bash config, as a span tree.

Why: Crush's current config format is a Bash script run by its built-in
interpreter (charmbracelet/crush `README.md` "crushrc", `internal/shellconfig/`);
`crush.json` is the deprecated one. Its Ollama settings are flags of two
builtins, which this backend reads into the same shape `crush.json` has, with
the span of every flag value, so `Document` can report and splice them like
any other format:

    provider add <id> [--type T] [--base-url URL] [--disable true|false] ...
        -> providers.<id>.{type, base_url, disable, ...}   (repeats update the entry)
    provider remove <id>                       -> the entry is gone
    model add <provider>/<id> [--context-window N] [--default-max-tokens N] ...
        -> providers.<provider>.models[] {id, context_window, default_max_tokens, ...}
           (re-adding an id replaces it; `internal/shellconfig/model.go modelAdd`)
    model remove <provider>/<id>
    model large|small <provider>/<id> [--max-tokens N] ...
        -> models.large|small.{provider, model, max_tokens}

Flags take their value as the next word (`internal/shellconfig/flags.go
parseFlagValue`); ints parse with `strconv.ParseInt`. Bash is not executed:
a word with `$` or a backquote is dynamic (its value unknown; not read, never
edited), other commands (`if`, `source`, `mcp`, `lsp`...) are skipped, and
commands in both branches of an `if` are read. Quoting: '...', "..." (with
`\\"`, `\\\\`, `\\$`, `` \\` `` escapes), backslash-newline continuation, `#`
comments at the start of a word.

Editing: a value is rewritten in its own quoting style; a missing flag of a
`model add` / `model large|small` command is appended to that command
(` --context-window 262144`), before a trailing comment.
"""

from __future__ import annotations

import re
from typing import Any

from ctxfix.edits.nodes import Entry, Node, Scalar
from ctxfix.errors import CtxfixError
from ctxfix.records import record

# jsonKey per flag (internal/shellconfig/provider.go, model.go): the flags ctxfix reads
_PROVIDER_FLAGS = {
    "--name": "name",
    "--type": "type",
    "--base-url": "base_url",
    "--disable": "disable",
    "--discover-models": "discover_models",
}
_MODEL_FLAGS = {
    "--name": "name",
    "--context-window": "context_window",
    "--default-max-tokens": "default_max_tokens",
}
_SELECT_FLAGS = {"--max-tokens": "max_tokens"}
_NO_VALUE = frozenset({"--think"})  # flagBoolTrue flags (model large|small)
_INT_KEYS = frozenset({"context_window", "default_max_tokens", "max_tokens"})
_BOOL_KEYS = frozenset({"disable", "discover_models"})
FLAG_FOR = {
    **{v: k for k, v in _PROVIDER_FLAGS.items()},
    **{v: k for k, v in _MODEL_FLAGS.items()},
    **{v: k for k, v in _SELECT_FLAGS.items()},
}
_OPENERS = frozenset({"then", "else", "do", "{", "(", "!"})
_SEPARATORS = ("&&", "||", ";", "|", "&")
_SAFE_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


@record
class Word:
    """One shell word: its value, its span in the text, and how it was quoted."""

    value: str
    start: int
    end: int
    style: str  # "plain" | "sq" | "dq" | "mixed"
    dynamic: bool  # contains $ or a backquote: the value is known only at run time


def _words(text: str) -> list[list[Word]]:
    """Commands (lists of words), split at newlines and ; && || | &."""
    commands: list[list[Word]] = []
    cur: list[Word] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r":
            i += 1
            continue
        if c == "\\" and text.startswith("\n", i + 1):
            i += 2
            continue
        if c == "\n":
            if cur:
                commands.append(cur)
            cur = []
            i += 1
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep is not None:
            if cur:
                commands.append(cur)
            cur = []
            i += len(sep)
            continue
        start = i
        out: list[str] = []
        styles: set[str] = set()
        dynamic = False
        while i < n and text[i] not in " \t\r\n;&|":
            c = text[i]
            if c == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise ValueError(f"unterminated ' at offset {i}")
                out.append(text[i + 1 : end])
                styles.add("sq")
                i = end + 1
            elif c == '"':
                j = i + 1
                while j < n and text[j] != '"':
                    if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                        if text[j + 1] != "\n":
                            out.append(text[j + 1])
                        j += 2
                        continue
                    if text[j] in "$`":
                        dynamic = True
                    out.append(text[j])
                    j += 1
                if j >= n:
                    raise ValueError(f'unterminated " at offset {i}')
                styles.add("dq")
                i = j + 1
            elif c == "\\" and i + 1 < n:
                if text[i + 1] != "\n":
                    out.append(text[i + 1])
                styles.add("plain")
                i += 2
            else:
                if c in "$`":
                    dynamic = True
                out.append(c)
                styles.add("plain")
                i += 1
        style = styles.pop() if len(styles) == 1 else "mixed"
        cur.append(Word("".join(out), start, i, style, dynamic))
    if cur:
        commands.append(cur)
    return commands


def _cast(key: str, w: Word) -> Any:
    if w.dynamic:
        return None
    if key in _INT_KEYS:
        return int(w.value) if re.fullmatch(r"[+-]?\d+", w.value) else w.value
    if key in _BOOL_KEYS:
        return {"true": True, "false": False}.get(w.value.lower(), w.value)
    return w.value


class _Map:
    """A mapping being built: plain data plus its span node."""

    def __init__(self, start: int, end: int) -> None:
        self.data: dict[str, Any] = {}
        self.node = Node("map", start, end)

    def set(self, key: str, value: Any, key_word: Word, value_node: Node) -> None:
        self.data[key] = value
        self.node.entries = [e for e in self.node.entries if e.key != key]
        self.node._index = None
        self.node.entries.append(Entry(key, key_word.start, key_word.end, value_node))

    def child(self, key: str, word: Word, kind: str = "map") -> _Map:
        """The mapping under `key`, created (spanning `word`) when absent."""
        e = self.node.entry(key)
        if e is not None and isinstance(self.data.get(key), dict):
            m = _Map(e.value.start, e.value.end)
            m.data, m.node = self.data[key], e.value
            return m
        m = _Map(word.start, word.end)
        self.set(key, m.data, word, m.node)
        return m

    def remove(self, key: str) -> None:
        self.data.pop(key, None)
        self.node.entries = [e for e in self.node.entries if e.key != key]
        self.node._index = None


def _scalar(w: Word, start: int | None = None) -> Node:
    return Node("scalar", w.start if start is None else start, w.end, style=w.style)


def _flags(
    words: list[Word], flags: dict[str, str], target: _Map, *, skip_unknown: bool = True
) -> None:
    """Read `--flag value` pairs into `target` (unknown flags skip their value too)."""
    i = 0
    while i < len(words):
        w = words[i]
        key = flags.get(w.value)
        if key is None:
            # an unknown flag skips its value, except the few that take none
            i += 2 if w.value.startswith("--") and w.value not in _NO_VALUE else 1
            continue
        if i + 1 >= len(words):
            break
        v = words[i + 1]
        value = _cast(key, v)
        if value is not None:
            target.set(key, value, w, _scalar(v))
        else:
            target.remove(key)  # set at run time: unknown here
        i += 2


def parse(text: str, where: str) -> tuple[Any, Node]:
    """The providers and selected models a crushrc declares, with their spans."""
    try:
        commands = _words(text)
    except ValueError as exc:
        raise CtxfixError(where, f"not a readable crushrc ({exc})") from None
    root = _Map(0, len(text))
    models_by: dict[str, dict[str, tuple[dict[str, Any], Node]]] = {}
    for cmd in commands:
        while cmd and cmd[0].value in _OPENERS:
            cmd = cmd[1:]
        if len(cmd) < 3 or cmd[0].dynamic or cmd[1].dynamic or cmd[2].dynamic:
            continue
        name, sub, target = cmd[0].value, cmd[1].value, cmd[2]
        end = cmd[-1].end
        if name == "provider" and sub == "add":
            prov = root.child("providers", cmd[0]).child(target.value, target)
            prov.node.extra["append_at"] = end
            _flags(cmd[3:], _PROVIDER_FLAGS, prov)
        elif name == "provider" and sub in ("remove", "rm"):
            root.child("providers", cmd[0]).remove(target.value)
            models_by.pop(target.value, None)
        elif name == "model" and sub in ("add", "remove", "rm"):
            pid, slash, mid = target.value.partition("/")
            if not slash or not pid or not mid:
                continue
            providers = root.child("providers", cmd[0])
            if sub == "add" and pid not in providers.data:
                continue  # Crush refuses it: the provider must be declared first
            entries = models_by.setdefault(pid, {})
            entries.pop(mid, None)
            if sub == "add":
                m = _Map(cmd[0].start, end)
                m.node.extra["append_at"] = end
                # the id is the part after "<provider>/" of an unquoted word
                id_start = target.start + len(pid) + 1 if target.style == "plain" else target.start
                m.set("id", mid, target, _scalar(target, id_start))
                if target.style != "plain":
                    m.node.entries[-1].value.extra["whole"] = True
                _flags(cmd[3:], _MODEL_FLAGS, m)
                entries[mid] = (m.data, m.node)
        elif name == "model" and sub in ("large", "small"):
            pid, slash, mid = target.value.partition("/")
            if not slash:
                continue
            sel = root.child("models", cmd[0]).child(sub, cmd[1])
            sel.data.clear()
            sel.node.entries = []
            sel.node._index = None
            sel.node.start, sel.node.end = cmd[0].start, end
            sel.node.extra["append_at"] = end
            sel.data["provider"] = pid
            model_node = _scalar(target, target.start + len(pid) + 1)
            if target.style != "plain":
                model_node = _scalar(target)
                model_node.extra["whole"] = True
            sel.set("model", mid, target, model_node)
            _flags(cmd[3:], _SELECT_FLAGS, sel)
    # attach each provider's model list (as a sequence, in declaration order)
    providers = root.data.get("providers", {})
    for pid, entries in models_by.items():
        if pid not in providers or not entries:
            continue
        e = root.node.entry("providers")
        assert e is not None
        pe = e.value.entry(pid)
        assert pe is not None
        items = list(entries.values())
        seq = Node("seq", items[0][1].start, items[-1][1].end, items=[n for _, n in items])
        providers[pid]["models"] = [d for d, _ in items]
        pe.value.entries.append(Entry("models", seq.start, seq.start, seq))
        pe.value._index = None
    return root.data, root.node


def render_scalar(text: str, node: Node, value: Scalar) -> str:
    """`value` as a shell word in the quoting style of the word it replaces."""
    s = str(value).lower() if isinstance(value, bool) else str(value)
    if node.extra.get("whole"):  # a quoted "<provider>/<id>" word: keep the provider part
        old = text[node.start : node.end]
        quote = old[0] if old[:1] in ("'", '"') else ""
        inner = old[len(quote) : len(old) - len(quote)]
        pid = inner.partition("/")[0]
        s = f"{pid}/{s}"
        return f"{quote}{s}{quote}" if quote else _word(s)
    if node.style == "dq":
        return '"' + re.sub(r'(["\\$`])', r"\\\1", s) + '"'
    if node.style == "sq" and "'" not in s:
        return f"'{s}'"
    return _word(s)


def _word(s: str) -> str:
    if _SAFE_WORD.fullmatch(s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def insert(
    text: str, root: Node, parent: Node, keys: list[str], value: Scalar
) -> tuple[int, int, str]:
    """Append `--flag value` to the command that declares `parent`."""
    at = parent.extra.get("append_at")
    if at is None or len(keys) != 1 or keys[0] not in FLAG_FOR:
        raise CtxfixError(None, f"cannot add {'.'.join(keys)} to a crushrc command")
    s = str(value).lower() if isinstance(value, bool) else str(value)
    return at, at, f" {FLAG_FOR[keys[0]]} {_word(s)}"
