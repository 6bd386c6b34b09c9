"""The stdlib span scanner gives exactly json-five's tree and data, or hands the text over.

Why: `ctxfix.edits.json_spans` exists so a pre-commit scan never imports
json-five. It is only safe if, whenever it answers, the answer is the one
json-five's lossless model gives (spans, styles, trailing commas, values),
and if it never accepts a text json-five rejects. Checked on every JSON-ish
fixture in the repo (which must all take the fast path) and on generated
documents and fuzzed texts, with json-five as the oracle.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix.edits import json_spans, jsonish
from ctxfix.errors import CtxfixError

REPO = Path(__file__).resolve().parents[2]
JSONISH = sorted(
    p
    for pattern in ("*.json", "*.json5", "*.jsonc")
    for p in (REPO / "fixtures").rglob(pattern)
    if p.is_file()
)


def oracle(text: str) -> tuple[Any, Any]:
    """json-five's answer through jsonish's own conversion (the slow path)."""
    from json5.loader import ModelLoader, loads

    bom = 1 if text.startswith("\ufeff") else 0
    model = loads(text[bom:], loader=ModelLoader())
    return jsonish._convert(model.value, bom, "t", text)


def same(a: Any, b: Any) -> bool:
    """Deep equality where NaN equals NaN and -0.0 differs from 0.0, as a re-render would."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and repr(a) == repr(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def fast(text: str) -> tuple[Any, Any]:
    bom = 1 if text.startswith("\ufeff") else 0
    return json_spans.parse(text[bom:], bom)


def test_the_fixtures_exist() -> None:
    assert len(JSONISH) >= 20


@pytest.mark.parametrize("path", JSONISH, ids=lambda p: str(p.relative_to(REPO)))
def test_every_fixture_takes_the_fast_path_with_json_fives_answer(path: Path) -> None:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    try:
        want = oracle(text)
    except Exception:
        with pytest.raises(json_spans.Unsupported):
            fast(text)
        return
    data, node = fast(text)
    assert same(data, want[0])
    assert node == want[1]


# -- generated documents ------------------------------------------------------

KEYS = st.sampled_from(["a", "num_ctx", "$x", "_y", "model id", "k'q", 'k"q', "é"])
SPACE = st.sampled_from(["", " ", "\n  ", "\t", " // c\n", " /* c */ ", "\r\n"])
NUMBERS = st.sampled_from(
    [
        "0",
        "1",
        "-1",
        "+1",
        "131072",
        "1.5",
        ".5",
        "5.",
        "1e3",
        "-2.5E-2",
        "0x1F",
        "-0xff",
        "Infinity",
        "-Infinity",
        "+Infinity",
        "NaN",
        "1e400",
        "-0",
        "01",
        "1_0",
    ]
)
STRINGS = st.sampled_from(
    [
        '"x"',
        "'x'",
        '"a\\nb"',
        "'it\\'s'",
        '"\\u00e9"',
        '"\\ud83d\\ude00"',
        '"\\x41"',
        '"tab\\tend"',
        '"\\/"',
        "'\"'",
        '"é"',
        '"line\\\ncont"',
    ]
)


def _key(k: str, style: int) -> str:
    if style == 0 and k.replace("$", "a").replace("_", "a").isalnum() and k.isascii():
        return k
    if style == 1:
        return "'" + k.replace("'", "\\'") + "'"
    return '"' + k.replace('"', '\\"') + '"'


@st.composite
def documents(draw, depth: int = 0) -> str:
    kind = draw(st.integers(0, 4 if depth < 3 else 2))
    if kind == 0:
        return draw(NUMBERS)
    if kind == 1:
        return draw(STRINGS)
    if kind == 2:
        return draw(st.sampled_from(["true", "false", "null"]))
    sp = draw(SPACE)
    n = draw(st.integers(0, 3))
    parts = []
    for _ in range(n):
        v = draw(documents(depth + 1))
        if kind == 3:
            parts.append(v)
        else:
            parts.append(f"{_key(draw(KEYS), draw(st.integers(0, 2)))}{draw(SPACE)}:{sp}{v}")
    body = ("," + draw(SPACE)).join(parts)
    trailing = "," if parts and draw(st.booleans()) else ""
    o, c = ("[", "]") if kind == 3 else ("{", "}")
    return f"{o}{sp}{body}{trailing}{draw(SPACE)}{c}"


def check_agrees(text: str) -> None:
    try:
        got = fast(text)
    except json_spans.Unsupported:
        return  # json-five decides: nothing to compare
    try:
        want = oracle(text)
    except Exception as exc:  # the scanner accepted what json-five rejects
        raise AssertionError(f"accepted {text!r}, json-five says {exc}") from None
    assert same(got[0], want[0]), text
    assert got[1] == want[1], text


@settings(max_examples=300, deadline=None)
@given(documents())
def test_generated_documents_agree_with_json_five(text: str) -> None:
    check_agrees(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}[]:,\"'\\/*\n 0123456789.+-eExafnulrtINy$_", max_size=30))
def test_fuzzed_texts_are_never_accepted_wrongly(text: str) -> None:
    check_agrees(text)


def test_parse_falls_back_to_json_five_for_errors_and_rare_syntax() -> None:
    data, _ = jsonish.parse('{a: "\\x41", b: 0x10}', "t.json5")  # \x: json-five's path
    assert data == {"a": "A", "b": 16}
    with pytest.raises(CtxfixError) as err:
        jsonish.parse('{"a": 1,, }', "bad.json")
    assert err.value.where.startswith("bad.json:1:")
