"""Never print a secret: one redaction shared by every output.

Why by value: a line-by-line pattern misses a secret that spans lines (a
JSON5 string continued with `\\`, a TOML `\"\"\"` string, a YAML `>-` block) and
one under a key it does not know (`X-Auth`, `Cookie`, `openaiKey`). So every
parsed config registers the values under its secret-like keys, whole and line
by line, exactly as written in the file and as parsed; every output (reports,
diffs, warnings, errors, history) is passed through `redact()`, which
replaces each registered value, strips the userinfo of every URL
(`http://admin:pw@host` -> `http://***@host`) and, as a last net, hides the
value of any `secret-key = value` pair on a line.

The registry is per process (a CLI run reads, then prints): `REGISTRY`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
_REMEMBER = 4096  # outputs at least this long are remembered (see Registry.__call__)
_MIN = 8  # shorter fragments (placeholder keys like "ollama") would mask ordinary text

_SECRET_WORDS = (
    "apikey",
    "password",
    "passwd",
    "secret",
    "authorization",
    "bearer",
    "credential",
    "accesskey",
    "privatekey",
    "clientkey",
    "cookie",
)
_SECRET_ENDINGS = ("token", "key", "auth", "pass", "cookie")


def _flat(text: str) -> str:
    """Lowercase letters and digits only: `X-Api_Key` -> `xapikey`."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


_NAME_PUNCTUATION = str.maketrans("", "", "_.$-")


@functools.lru_cache(maxsize=4096)
def is_secret_key(name: str) -> bool:
    """True for key names whose values must never be shown.

    `apiKey`, `openai_key`, `ANTHROPIC_KEY`, `GITHUB_TOKEN`, `X-Auth`, `Cookie`,
    `password`... Counts like `maxTokens` are not secrets: only a name that
    *ends* in "token" counts, not one containing "tokens".
    """
    flat = _flat(name)
    if not flat:
        return False
    if flat.endswith(_SECRET_ENDINGS):
        return True
    return any(word in flat for word in _SECRET_WORDS)


# ASCII classes, not (?i): case-insensitive classes cost 3x the compile time (issue 15)
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@\"'<>]+@")
# raw text of an unparseable file only: compiled on first use (re's cache)
# The lookbehind starts a name only where a run of name characters starts: the
# same matches (a run that is not followed by `:`/`=` fails from any of its
# positions), without retrying each position of a long run (issue 15).
_KEY_VALUE = (
    r"""(?P<key>(?P<kq>["']?)(?<![A-Za-z0-9_.$-])(?P<name>[A-Za-z0-9_.$-]+)(?P=kq)\s*[:=]\s*)"""
    r"""(?P<val>"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|(?![{\[])[^\s,#}\]]+)"""
)
_BEARER = r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{4,}"
# The same two patterns with whitespace that never crosses a "\n": run over a whole
# output at once they match exactly what they match line by line (none of their
# other parts can match a "\n"), without 20,000 calls for a 20,000-line report.
_LINE_KEY_VALUE = _KEY_VALUE.replace(r"\s*", r"[^\S\n]*")
_LINE_BEARER = _BEARER.replace(r"(\s+)", r"([^\S\n]+)")  # compiled when "bearer"/"basic" occurs


def strip_userinfo(text: str) -> str:
    """`http://admin:pw@host:11434` -> `http://***@host:11434`, anywhere in `text`."""
    if "://" not in text or "@" not in text:  # _USERINFO needs both
        return text
    return _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)


def _redact_pairs(text: str) -> str:
    """Hide the value of each `secret-key: value` pair and `Bearer x` on any line of `text`."""

    def rep(m: re.Match[str]) -> str:
        val, name = m.group("val"), m.group("name")
        # a bare `key` is a report field (a finding's location key), and numbers and
        # JSON literals are counts and flags (`kv_bytes_per_token: 98304`), not secrets;
        # parsed configs register their secrets by value whatever the key
        if (
            not is_secret_key(name)
            or name.lower() == "key"
            or re.fullmatch(r"[-+]?[0-9.]+|null|true|false|None", val)
        ):
            return m.group(0)
        q = val[0] if val[:1] in "\"'" and len(val) > 1 and val[-1] == val[0] else ""
        return f"{m.group('key')}{q}{MASK}{q}"

    # A pair is hidden only when is_secret_key(name): `_fix_lines` runs the
    # pattern only on lines where a secret word can end a name (issue 15).
    text = _fix_lines(text, lambda line: re.sub(_LINE_KEY_VALUE, rep, line))
    low = text.lower()
    if "bearer" not in low and "basic" not in low:
        return text
    return re.sub(_LINE_BEARER, lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


_WORDS = tuple(sorted(set(_SECRET_WORDS + _SECRET_ENDINGS), key=len, reverse=True))
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
"""Lower case that keeps every position: str.lower() can lengthen a text (`İ` ->
`i̇`), and a name is ASCII anyway. (re.IGNORECASE took 10x as long: 60 ms.)"""
_SMALL = 64 * 1024
"""Texts up to this many characters find their secret words with str.find
(no regex to compile: ~2 ms in a fresh process, the demo's whole output is
2 KB); larger ones with one regex pass (32 finds over 300 KB cost more)."""


@functools.cache
def _secret_word_re() -> re.Pattern[str]:
    """Where a secret word can be part of a name: its letters with `_ . $ -` between
    them (`sec_ret`), as is_secret_key sees a name once those are removed."""
    return re.compile("|".join("[_.$-]*".join(map(re.escape, w)) for w in _WORDS))


def _word_ends(text: str) -> list[int]:
    """Sorted end positions in `text` of every secret word a name could hold.

    A pair's name is a run of [A-Za-z0-9_.$-] (`_KEY_VALUE`), and is_secret_key
    looks at it with `_ . $ -` removed and lower-cased; the same removal over
    the whole text keeps every name's flat form as a substring, so a word found
    nowhere in it is in no name (str.translate: ~1 ms for a 300 KB report).
    Small texts then find each word by str.find on the ASCII lower case,
    unless some word occurs more often once `_ . $ -` are removed (a split
    `sec_ret`: only the regex finds it). No word overlaps itself, so equal
    counts mean every occurrence is unsplit and found.
    """
    low = text.translate(_ASCII_LOWER)
    flat = low.translate(_NAME_PUNCTUATION)
    present = [w for w in _WORDS if w in flat]
    if not present:
        return []
    if len(text) <= _SMALL and all(flat.count(w) == low.count(w) for w in present):
        ends = []
        for w in present:
            i = low.find(w)
            while i >= 0:
                ends.append(i + len(w))
                i = low.find(w, i + 1)
        return sorted(ends)
    return [m.end() for m in _secret_word_re().finditer(low)]


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$-")


def _in_a_pair_name(text: str, end: int) -> bool:
    """Can the name run holding text[..end] be a pair's name? Only when the run is
    followed by an optional quote, blanks short of a line break, then `:` or `=`
    (what `_LINE_KEY_VALUE` needs after a name). `131,072-token prompt` is prose."""
    n = len(text)
    while end < n and text[end] in _NAME_CHARS:
        end += 1
    if end < n and text[end] in "\"'":
        end += 1
    while end < n and text[end] != "\n" and text[end].isspace():  # re's \s, less "\n"
        end += 1
    return end < n and text[end] in ":="


def _fix_lines(text: str, fix: Any) -> str:
    """`text` with `fix(line)` applied to each line holding a secret word that may
    be part of a pair's name (`_word_ends`, `_in_a_pair_name`).

    Sound for the line patterns: a pair lies on one line and a secret name
    holds a word, so the other lines come out of `fix` unchanged. The pattern
    then runs on a few hundred lines of a 20,000-line report, not on every one
    of its 7,000 pairs (issue 15: 22 ms -> ~11 ms on a 300 KB report), and is
    not even compiled (~3 ms in a fresh process) for prose like the demo's.
    """
    out: list[str] = []
    done = 0  # text[:done] is in out
    for end in _word_ends(text):
        if end <= done or not _in_a_pair_name(text, end):  # a line already fixed, or prose
            continue
        start = text.rfind("\n", 0, end) + 1
        stop = text.find("\n", end)
        stop = len(text) if stop < 0 else stop
        out += (text[done:start], fix(text[start:stop]))
        done = stop
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


class Registry:
    """The secret values met while reading, as parsed and as written."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._sorted: list[str] | None = None
        self._last: str | None = None  # the last output, known to be redacted

    def add(self, value: str) -> None:
        """Register one secret: whole, each of its lines, and its JSON-escaped form."""
        pieces = [value, *value.splitlines(), json.dumps(value)[1:-1]]
        for p in pieces:
            p = p.strip()
            if len(p) >= _MIN and p not in self._values:
                self._values.add(p)
                self._sorted = self._last = None

    def add_all(self, values: Iterable[str]) -> None:
        for v in values:
            self.add(v)

    def add_from_data(self, data: Any) -> None:
        """Register every string under a secret-like key in parsed data."""
        for _path, value in secret_values(data):
            self.add(value)

    def clear(self) -> None:
        self._values.clear()
        self._sorted = self._last = None

    def __call__(self, text: str) -> str:
        """`text` with every secret hidden.

        Redaction is idempotent (tests/test_redact_speed.py checks it with
        hypothesis): the values are replaced until none is left, even one that
        a replacement made (a secret holding `***`). So the very string this
        returned last is handed back as it is: a report is redacted by
        `report.render` and then written through a RedactingStream, and the
        second pass cost as much as the first (~20 ms on a 300 KB report).
        Registering a new secret forgets that string.
        """
        if text is self._last and text is not None:
            return text
        if self._sorted is None:
            self._sorted = sorted(self._values, key=len, reverse=True)
        for _ in range(len(self._sorted) + 1):
            hidden = False
            for v in self._sorted:
                if v in text:
                    text = text.replace(v, MASK)
                    hidden = True
            if not hidden:
                break
        out = _redact_pairs(strip_userinfo(text))
        if len(out) >= _REMEMBER:  # small writes (click probes with "") keep the report
            self._last = out
        return out


def secret_values(data: Any, path: tuple = (), depth: int = 0) -> Iterable[tuple[tuple, str]]:
    """(path, value) of every string under a secret-like key, however deep."""
    if depth > 200:
        return
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and is_secret_key(k):
                yield from _all_scalars(v, (*path, k), depth + 1)
            else:
                yield from secret_values(v, (*path, k), depth + 1)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from secret_values(v, (*path, i), depth + 1)


def _all_scalars(data: Any, path: tuple, depth: int) -> Iterable[tuple[tuple, str]]:
    """Everything under a secret key, lists and mappings included (`X-Api-Keys: [...]`)."""
    if depth > 200 or isinstance(data, bool) or data is None:
        return
    if isinstance(data, (str, int, float)):
        yield path, str(data)
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _all_scalars(v, (*path, k), depth + 1)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _all_scalars(v, (*path, i), depth + 1)


def register_text_pairs(text: str) -> None:
    """Register `secret-key: value` pairs found in raw text (a file that does not parse:
    its parser's error message may quote them)."""
    for m in re.finditer(_KEY_VALUE, text):
        if is_secret_key(m.group("name")):
            REGISTRY.add(m.group("val").strip("\"'"))


REGISTRY = Registry()


def redact(text: str) -> str:
    """The one redaction every output goes through."""
    return REGISTRY(text)


class RedactingStream:
    """A text stream that redacts everything written through it (stdout, stderr)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text) if isinstance(text, str) else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def register_environment(environ: Any) -> None:
    """Register the values of secret-like variables (`OPENAI_API_KEY`, `HF_TOKEN`...),
    and the credentials in a proxy variable's URL: strip_userinfo misses a password
    holding `/` (`http://alice:s3cr/et@proxy:3128`)."""
    for k, v in environ.items():
        if not isinstance(v, str):
            continue
        if is_secret_key(k):
            REGISTRY.add(v)
        elif k.lower() in _PROXY_VARIABLES and "@" in v:
            userinfo = v.split("://", 1)[-1].rsplit("@", 1)[0]
            REGISTRY.add(userinfo)
            REGISTRY.add(userinfo.partition(":")[2])
