"""Behaviour of ctxfix.edits a reader or the fixer relies on (beyond the goldens)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ctxfix.edits import load_document, unified_diff
from ctxfix.errors import CtxfixError


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.json", '{\n  "a": [1,\n  2\n}\n', "bad.json:4:1"),
        ("bad.json5", "{a: 1,, }", "bad.json5:1:6"),
        ("bad.yaml", "a: 1\n  b: 2\n", "bad.yaml:2:4"),
        ("bad.yaml", "a: *nowhere\n", "bad.yaml:1:4"),
        ("bad.toml", "[x]\ny = \n", "bad.toml:2:5"),
        ("dup.toml", "a = 1\na = 2\n", "dup.toml:2:6"),
    ],
)
def test_malformed_input_is_one_line_error_with_position(name: str, text: str, where: str) -> None:
    with pytest.raises(CtxfixError) as info:
        load_document(Path(name), text)
    assert info.value.where == where
    assert "\n" not in str(info.value) and info.value.problem


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CtxfixError, match=r"missing\.json"):
        load_document(tmp_path / "missing.json")


def test_dot_json_flavour_follows_content() -> None:
    assert load_document(Path("a.json"), '{"a": 1}').fmt == "json"
    assert load_document(Path("a.json"), '{"a": 1, // c\n}').fmt == "jsonc"
    assert load_document(Path("a.json"), "{a: 0x10}").fmt == "json5"


def test_locate_counts_characters_not_bom_and_handles_crlf() -> None:
    doc = load_document(Path("c.json"), '\ufeff{\r\n  "k": "é",\r\n  "n": 5\r\n}\r\n')
    assert doc.locate(("k",)) == (2, 8)
    assert doc.locate_key(("n",)) == (3, 3)
    assert doc.locate(("missing",)) is None
    doc.set(("n",), 6)
    assert doc.text == '\ufeff{\r\n  "k": "é",\r\n  "n": 6\r\n}\r\n'
    assert doc.original.endswith('"n": 5\r\n}\r\n')


def test_set_keeps_literal_style() -> None:
    doc = load_document(Path("s.json5"), "{a: 0X1F, b: 'x', c: \"y\", d: +1}")
    doc.set(("a",), 255)
    doc.set(("b",), "it's")
    doc.set(("c",), "z")
    doc.set(("d",), 2)
    assert doc.text == "{a: 0XFF, b: 'it\\'s', c: \"z\", d: 2}"
    y = load_document(Path("s.yaml"), "a: True\nb: 'q'\nc: plain\nd: x\n")
    y.set(("a",), False)
    y.set(("b",), "it's")
    y.set(("c",), "yes")  # would read back as a string only when quoted? YAML 1.2: yes is a str
    y.set(("d",), "true")  # must be quoted to stay a string
    assert y.text == "a: False\nb: 'it''s'\nc: yes\nd: \"true\"\n"
    assert y.data == {"a": False, "b": "it's", "c": "yes", "d": "true"}


def test_yaml_merge_key_value_is_located_in_anchor_and_set_inserts_override() -> None:
    text = "base: &b\n  ctx: 4096\nm:\n  <<: *b\n  name: x\n"
    doc = load_document(Path("m.yaml"), text)
    assert doc.locate(("m", "ctx")) == (2, 8)
    doc.set(("m", "ctx"), 8192)
    assert doc.text == "base: &b\n  ctx: 4096\nm:\n  <<: *b\n  name: x\n  ctx: 8192\n"
    assert doc.get(("base", "ctx")) == 4096


def test_yaml_set_through_merged_mapping_is_refused() -> None:
    doc = load_document(Path("m.yaml"), "base: &b\n  o: {t: 1}\nm:\n  <<: *b\n")
    with pytest.raises(CtxfixError, match="merge key"):
        doc.set(("m", "o", "t"), 2)


def test_yaml_anchored_scalar_keeps_anchor_and_alias_is_replaced() -> None:
    doc = load_document(Path("a.yaml"), "a: &n 5\nb: *n\n")
    assert doc.locate(("b",)) == (2, 4)
    doc.set(("b",), 7)
    doc.set(("a",), 6)
    assert doc.text == "a: &n 6\nb: 7\n"


def test_yaml_multi_document_paths_start_with_document_index() -> None:
    doc = load_document(Path("d.yaml"), "---\na: 1\n---\nb: 2\n")
    assert doc.data == [{"a": 1}, {"b": 2}]
    assert doc.locate((1, "b")) == (4, 4)


@pytest.mark.parametrize(
    ("name", "text", "path", "message"),
    [
        ("l.json", '{"a": [1]}', ("a", 3), "no item 3"),
        ("l.json", '{"a": 1}', ("a", "b"), "single value"),
        ("l.yaml", "a: [1]\n", ("a", "x"), "is a list"),
        ("l.toml", "a = {b = 1}\n", ("a",), "not a single value"),
        ("l.json", '{"a": {}}', ("a", "b", 0), "list items"),
    ],
)
def test_impossible_paths_raise_clear_errors(
    name: str, text: str, path: tuple[str | int, ...], message: str
) -> None:
    doc = load_document(Path(name), text)
    with pytest.raises(CtxfixError, match=message):
        doc.set(path, 1)
    assert doc.text == text


def test_empty_yaml_value_gets_a_value() -> None:
    doc = load_document(Path("e.yaml"), "a:\nb: 1\n")
    doc.set(("a",), 3)
    assert doc.text == "a: 3\nb: 1\n"


def test_diff_redacts_secrets_in_context_and_changes() -> None:
    old = (
        'apiKey: sk-live-123\nmaxTokens: 8192\nheaders: {Authorization: "Bearer abc123"}\nctx: 1\n'
    )
    new = old.replace("ctx: 1", "ctx: 2").replace("sk-live-123", "sk-live-456")
    out = unified_diff("c.yaml", old, new)
    assert "sk-live" not in out and "abc123" not in out
    assert "-apiKey: ***" in out and " maxTokens: 8192" in out
    assert out.startswith("--- a/c.yaml\n+++ b/c.yaml\n")
    assert "+ctx: 2" in out
    assert unified_diff("c.yaml", old, old) == ""
    assert "sk-live-123" in unified_diff("c.yaml", old, new, redact=False)


def test_diff_color_and_missing_final_newline() -> None:
    out = unified_diff("x.json", '{"a": 1}', '{"a": 2}', color=True)
    assert "\x1b[31m-" in out and "\x1b[32m+" in out
    assert "\\ No newline at end of file" in unified_diff("x.json", '{"a": 1}', '{"a": 2}')


def test_importing_edits_does_not_import_format_libraries() -> None:
    code = (
        "import sys, ctxfix.edits; "
        "print(any(m in sys.modules for m in ('ruamel.yaml', 'tomlkit', 'json5', 'tomllib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_json_truncated_at_eof_points_at_the_end(tmp_path):
    p = tmp_path / "cut.json"
    p.write_text('{\n  "a": 1,\n  "b": [1,\n')
    with pytest.raises(CtxfixError) as exc:
        load_document(p)
    assert str(exc.value).startswith(f"{p}:4:1: ")
    assert "EOF" in str(exc.value)
