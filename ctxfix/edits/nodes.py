"""The node types every format editor shares: where a value is, and how it is written.

Why a module of its own: `document` loads a backend (jsonish, yaml_doc,
toml_doc) and each backend builds these nodes; with the types in
`document` the two imported each other. Now both import this module and
nothing imports upward.
"""

from __future__ import annotations

import bisect
from typing import Any

from ctxfix.records import field, record

Scalar = int | float | str | bool


@record
class Node:
    """A value in the text: where it is, and how it is written.

    `kind` is "map", "seq" or "scalar". `start`/`end` delimit the value's own
    characters (for a scalar: exactly the bytes to replace; anchors and tags in
    YAML are outside the span). `style` is backend-specific ("dq", "sq",
    "ident", "hex", "plain", "block", ...). `flow` marks inline `{}`/`[]`
    containers in YAML and TOML inline tables/arrays. `merges` holds YAML
    merge-key (`<<`) sources in priority order.
    """

    kind: str
    start: int
    end: int
    style: str = ""
    flow: bool = False
    entries: list[Entry] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    merges: list[Node] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    _index: tuple[int, dict[str, Entry]] | None = field(default=None, repr=False, compare=False)

    def entry(self, key: str) -> Entry | None:
        """The entry for `key` written in this mapping (last one wins, as parsers do).

        Indexed (rebuilt when entries were added): a TOML file of 20,000 tables
        looks keys up once per table, which a scan per lookup made quadratic.
        """
        n = len(self.entries)
        if self._index is None or self._index[0] > n:
            self._index = (0, {})
        seen, index = self._index
        for e in self.entries[seen:]:  # entries are only ever appended
            index[e.key] = e
        self._index = (n, index)
        return index.get(key)


@record
class Entry:
    """One `key: value` pair of a mapping, with the key's own span."""

    key: str
    start: int
    end: int
    value: Node
    style: str = ""


def offset_to_line_col(
    text: str, offset: int, line_starts: list[int] | None = None
) -> tuple[int, int]:
    """1-based (line, column) of a character offset; a leading BOM is not a column."""
    starts = line_starts if line_starts is not None else line_starts_of(text)
    i = bisect.bisect_right(starts, offset) - 1
    col = offset - starts[i] + 1
    if i == 0 and text.startswith("\ufeff"):
        col -= 1
    return i + 1, max(col, 1)


def line_starts_of(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts
