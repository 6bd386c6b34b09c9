"""Context labels in model names: what context a name claims, and naming new models.

Why: people put the context in the model name (`qwen3-coder:30b-v-128k`,
`yarn-mistral:7b-128k`, `llama3-gradient:8b-instruct-1048k`,
`hf.co/unsloth/Qwen3-30B-A3B-128K-GGUF`), then forget it when num_ctx or the
model changes. The label is a claim ctxfix checks (CTX102), and a fix must
give the new model a label that reads back as the target.

What counts as a label (one token of the name, between `-`, `_`, `:`, `/`,
`.` boundaries):
  `128k` `128K` `1m` `1M`   a number with k or m; k means 1000 or 1024, so
                             `128k` matches 128,000 and 131,072, and a
                             truncated reading of a binary size matches too
                             (`262k` -> 262,144; `1048k` -> 1,048,576)
  `v-128k` `v128k`           a `v`/`v-` prefix belongs to the label
  `ctx32k` `ctx-32k` `32kctx` `32k-ctx` `ctx32768` (any number after ctx)
  `32768` `131072`           a bare number only when it is a multiple of
                             1024 and >= 2048 (so `2507`, `2407`, `0324`
                             version/date tags are not labels)
Never labels: parameter sizes (`30b`, `8x7b`, `a3b`, `1.5b`, `e4b`, and `m`
sizes above 10 such as `135m`, `270m`), quantizations (`q4_K_M`, `q8_0`,
`iq2_xxs`, `fp16`), versions (`v0.3`, `3.1`, `2507`).

Naming conventions for new labels (`format_label`):
  "k1000" (DEFAULT): thousands, truncated: 262144 -> `262k`,
          131072 -> `131k`, 32768 -> `32k`, 1048576 -> `1m`.
          Chosen because the motivating fix in DESIGN.md names the model
          `qwen3-coder:30b-262k`, and `262k` reads unambiguously as
          "more than 256,000" where `256k` could be read as 256,000.
  "k1024": binary: 262144 -> `256k`, 131072 -> `128k`, 1048576 -> `1m`.
  Either way `find_label(format_label(n))` matches n; a context that is a
  multiple of neither 1000 nor 1024 is written `ctx<n>` so it reads back
  exactly.
"""

from __future__ import annotations

import functools
import re

from ctxfix.names import MAX_PART
from ctxfix.records import record

CONVENTIONS = ("k1000", "k1024")
DEFAULT_CONVENTION = "k1000"

# A label token: optional prefix (v, v-, ctx, ctx-), a number, a unit, optional
# ctx suffix. Boundaries: not preceded by a letter/digit/dot, not followed by
# a letter/digit (so `q4_K_M`, `v0.3`, `30b`, `a3b` never match).
_LABEL_RE = re.compile(
    r"(?<![A-Za-z0-9.])"
    r"(?P<prefix>(?:[vV][-_]?|[cC][tT][xX][-_]?))?"
    r"(?P<num>\d+)"
    r"(?P<unit>[kKmM])?"
    r"(?P<suffix>[-_]?[cC][tT][xX])?"
    r"(?![A-Za-z0-9])"
)
_MAX_M = 10  # `1m`..`10m` are contexts; `22m`, `135m`, `270m` are parameter counts


@record(frozen=True)
class Label:
    """A context label found in a name.

    `text` is the label as written (with a `v-`/`ctx` prefix that belongs to
    it), `start:end` its span in the name string, `values` every context it
    can mean, `value` the single most likely reading (a power of two when the
    label can mean one, else the decimal reading) for display.
    """

    text: str
    values: frozenset[int]
    start: int
    end: int
    value: int


def _label_values(num: int, unit: str | None) -> frozenset[int] | None:
    """Every context `num` + `unit` can mean, or None when it is not a context label."""
    if unit is None:
        return None
    u = unit.lower()
    if num <= 0:
        return None
    if u == "k":
        vals = {num * 1000, num * 1024}
        # a binary size written as truncated thousands: 262144 -> "262k"
        lo, hi = num * 1000, (num + 1) * 1000
        first = -(-lo // 1024) * 1024
        vals.update(range(first, hi, 1024))
        return frozenset(vals)
    if num > _MAX_M:
        return None
    return frozenset({num * 1_000_000, num * 1_048_576})


def _nominal(values: frozenset[int], num: int, unit: str | None) -> int:
    powers = [v for v in values if v & (v - 1) == 0]
    if powers:
        return min(powers)
    if unit is None:
        return num
    return num * (1000 if unit.lower() == "k" else 1_000_000)


def _tag_start(name: str) -> int:
    """Offset where the tag starts (after the last ':' that follows the last '/'), or -1."""
    colon = name.rfind(":")
    return colon + 1 if colon > name.rfind("/") else -1


def _scan(name: str, lo: int, hi: int) -> Label | None:
    """The last label in `name[lo:hi]`."""
    found: Label | None = None
    for m in _LABEL_RE.finditer(name, lo, hi):
        num = int(m.group("num"))
        unit = m.group("unit")
        has_ctx = bool(
            (m.group("prefix") and "x" in m.group("prefix").lower()) or m.group("suffix")
        )
        decorated = bool(m.group("prefix") or m.group("suffix"))
        if unit is not None:
            values = _label_values(num, unit)
        elif (has_ctx and num > 0) or (num >= 2048 and num % 1024 == 0 and not decorated):
            values = frozenset({num})
        else:
            values = None
        if values is None:
            continue
        found = Label(m.group(), values, m.start(), m.end(), _nominal(values, num, unit))
    return found


def find_label(name: str) -> Label | None:
    """The context label a model name claims, or None.

    Looks in the tag first (`qwen3-coder:30b-v-128k`), then in the model
    part (`hf.co/unsloth/Qwen3-30B-A3B-128K-GGUF:Q4_K_M`, `qwen2.5-coder-32k`);
    never in the host or namespace. Within a part the last label wins. A bare
    string without ':' or '/' (`v-128k`, `30b-262k`) is searched whole.
    """
    tag = _tag_start(name)
    model_start = name.rfind("/") + 1
    if tag >= 0:
        label = _scan(name, tag, len(name))
        if label is not None:
            return label
        return _scan(name, model_start, tag - 1)
    return _scan(name, model_start, len(name))


def label_matches(label: Label, ctx: int) -> bool:
    """True when the label can mean `ctx` (k as 1000 or 1024, truncated binary sizes)."""
    return ctx in label.values


def format_label(ctx: int, convention: str = DEFAULT_CONVENTION) -> str:
    """The label ctxfix writes for `ctx` under a naming convention (see module doc)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown label convention {convention!r} (use one of {CONVENTIONS})")
    if ctx <= 0:
        raise ValueError(f"context must be positive, not {ctx}")
    binary_m = ctx % 1_048_576 == 0 and ctx // 1_048_576 <= _MAX_M
    decimal_m = ctx % 1_000_000 == 0 and ctx // 1_000_000 <= _MAX_M
    if convention == "k1024":
        if binary_m:
            return f"{ctx // 1_048_576}m"
        if ctx % 1024 == 0:
            return f"{ctx // 1024}k"
        if decimal_m:
            return f"{ctx // 1_000_000}m"
        if ctx % 1000 == 0:
            return f"{ctx // 1000}k"
        return f"ctx{ctx}"
    if decimal_m:
        return f"{ctx // 1_000_000}m"
    if binary_m:
        return f"{ctx // 1_048_576}m"
    if ctx % 1000 == 0 or ctx % 1024 == 0:
        return f"{ctx // 1000}k"
    return f"ctx{ctx}"


@functools.lru_cache(maxsize=4096)
def relabel(name: str, ctx: int, convention: str = DEFAULT_CONVENTION) -> str:
    """The name with its context label made to say `ctx`.

    Cached: a pure function the plan and the rules ask several times per model
    (three times each for a 200-model fleet).

    - A stale label is replaced in place, prefix and all:
      `qwen3-coder:30b-v-128k` -> `qwen3-coder:30b-262k`; an upper-case
      label stays upper-case (`...-128K-GGUF` -> `...-262K-GGUF`).
    - No label: appended to the tag: `qwen3-coder:30b` -> `qwen3-coder:30b-262k`.
    - No tag, or the implied `latest`: the label becomes the tag:
      `qwen3-coder` and `qwen3-coder:latest` -> `qwen3-coder:262k`
      (`latest-262k` would read as a version of "latest").
    Provider prefixes (`ollama/`) and hosts are kept as written.

    Length: Ollama refuses a tag or model part over 80 bytes
    (github:ollama/ollama types/model/name.go `isValidLen`), so an 80-character
    tag cannot simply grow by `-131k`. Decision: the new label is never cut
    (it is the point of the name) and the text after it is kept; the text
    *before* the label is truncated from its end, trailing `-`/`_`/`.` dropped,
    until the part fits. The result still starts like the old name, so
    `ollama list` sorts it next to it, and the label still reads back as `ctx`.
    Two long names that truncate alike are caught by the plan as one new name
    claimed twice (pass `--name OLD=NEW`).
    """
    new = format_label(ctx, convention)
    label = find_label(name)
    if label is not None:
        if any(c in "KM" for c in label.text) and not new.startswith("ctx"):
            new = new.upper()
        return _fit_part(name[: label.start], new, name[label.end :])
    tag = _tag_start(name)
    if tag < 0:
        return f"{name}:{new}"
    if name[tag:].lower() in ("", "latest"):
        return name[:tag] + new
    return _fit_part(name + "-", new, "")


def _fit_part(before: str, label: str, after: str) -> str:
    """`before + label + after`, with the part that holds the label cut to 80 bytes.

    The part starts after the last `:` or `/` of `before` and ends at the first
    `:` of `after` (a label in the model part: `...-128K-GGUF:Q4_K_M`). Only
    the text before the label is shortened; `sep` (the `-` or `_` that joins
    it to the label) is kept so the label keeps its word boundary.
    """
    start = max(before.rfind(":"), before.rfind("/")) + 1
    prefix, head = before[:start], before[start:]
    end = after.find(":")
    tail, rest = (after, "") if end < 0 else (after[:end], after[end:])
    sep = head[-1:] if head[-1:] in ("-", "_") else ""
    head = head[: len(head) - len(sep)]
    room = MAX_PART - len(label) - len(tail.encode())
    if len(head.encode()) + len(sep) <= room:
        return prefix + head + sep + label + tail + rest
    head = head.encode()[: max(0, room - len(sep))].decode("ascii", "ignore").rstrip("-_.")
    if not head:
        sep = ""
    return prefix + head + sep + label + tail[: max(0, MAX_PART - len(label) - len(head))] + rest
