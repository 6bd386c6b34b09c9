"""Golden tests: each fixtures/edits/<case>/ has input.*, edits.json and expected.*.

Applying the edits (key path, value) to the input must produce expected.*
byte for byte: comments, quoting, trailing commas, BOM and CRLF included.
Set CTXFIX_UPDATE_GOLDEN=1 to rewrite expected.* after reviewing a change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctxfix.edits import load_document

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "edits"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "edits.json").is_file())


def _apply(case: Path) -> tuple[Path, str]:
    src = next(case.glob("input.*"))
    text = src.read_bytes().decode("utf-8")
    doc = load_document(src, text)
    for path, value in json.loads((case / "edits.json").read_text()):
        doc.set(tuple(path), value)
    return src, doc.render()


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_golden_edit_is_byte_exact(case: Path) -> None:
    src, out = _apply(case)
    expected = case / ("expected" + src.suffix)
    if os.environ.get("CTXFIX_UPDATE_GOLDEN"):
        expected.write_bytes(out.encode("utf-8"))
    assert out.encode("utf-8") == expected.read_bytes()


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_golden_output_reads_back_with_every_edit(case: Path) -> None:
    src, out = _apply(case)
    doc = load_document(src, out)
    for path, value in json.loads((case / "edits.json").read_text()):
        assert doc.get(tuple(path)) == value
        assert doc.locate(tuple(path)) is not None
