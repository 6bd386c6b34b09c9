"""Hostile files and inputs: never a hang, never a traceback, never an abort of the walk.

Each case was seen to hang, exhaust memory or crash (issue 11). A file met
while walking is one warning and the scan goes on; a file named on the
command line is one `ctxfix: error:` line and exit 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ollama_fixtures import Arch, add_model, write_gguf
from test_apply_demo import run_cli

OFFLINE = ["--no-server", "--no-user", "--no-store", "--isolated"]


def _one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("ctxfix: error:")]
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    return lines[0]


@pytest.fixture
def fifos(tmp_path: Path) -> Path:
    d = tmp_path / "tree"
    d.mkdir()
    for name in ("Modelfile", "openclaw.json", "x.gguf"):
        os.mkfifo(d / name)
    (d / "ok").mkdir()
    (d / "ok" / "Modelfile").write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n")
    return d


def test_fifos_found_while_walking_are_skipped_with_a_warning(fifos: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "scan", *OFFLINE, str(fifos))
    assert code == 1  # the real Modelfile beside them is still judged
    assert "CTX101" in out
    assert err.count("not a regular file") == 3 and "ctxfix: error" not in err


def test_a_fifo_named_on_the_command_line_is_exit_2(fifos: Path, capsys) -> None:
    code, _out, err = run_cli(capsys, "scan", *OFFLINE, str(fifos / "Modelfile"))
    assert code == 2 and "not a regular file" in _one_error(err)


def test_a_params_blob_that_is_dev_zero_is_not_read(tmp_path: Path, capsys) -> None:
    store = tmp_path / "models"
    add_model(store, "qwen3-coder:30b", params={"num_ctx": 65536})
    (blob,) = [p for p in (store / "blobs").iterdir() if p.read_bytes().startswith(b'{"num_ctx"')]
    blob.unlink()
    blob.symlink_to("/dev/zero")
    (tmp_path / "e").mkdir()
    code, _out, err = run_cli(
        capsys, "scan", "--store", str(store), "--no-server", "--no-user", str(tmp_path / "e")
    )
    assert code in (0, 1, 2)
    assert "a device, not a regular file" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("opencode.json", "[" * 100_000 + "]" * 100_000, "nested too deep"),
        ("openclaw.json", "{a:" * 50_000 + "1" + "}" * 50_000, "nested too deep"),
        (
            "config.yaml",
            "a: &a [x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
                for i in range(8)
            ),
            "a YAML bomb",
        ),
    ],
    ids=["json-100k-deep", "json5-50k-deep", "billion-laughs"],
)
def test_bombs_are_refused_named_and_skipped_walking(
    name: str, text: str, problem: str, tmp_path: Path, capsys
) -> None:
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / name).write_text(text)
    code, _out, err = run_cli(capsys, "scan", *OFFLINE, str(d / "sub" / name))
    assert code == 2 and problem in _one_error(err)
    code, _out, err = run_cli(capsys, "scan", *OFFLINE, str(d))
    assert code in (0, 1) and problem in err and "ctxfix: error" not in err


def test_a_toml_of_20000_tables_is_read(tmp_path: Path, capsys) -> None:
    """Lookups were quadratic in the number of tables (17 s); now linear."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('model = "qwen3:8b"\n' + "".join(f"[t{i}]\na = {i}\n" for i in range(20000)))
    from ctxfix.edits.document import load_document

    doc = load_document(cfg)
    assert doc.get(("t19999", "a")) == 19999


def test_a_gguf_claiming_millions_of_layers_is_refused(tmp_path: Path, capsys) -> None:
    p = tmp_path / "huge.gguf"
    write_gguf(p, Arch(block_count=2**25))
    code, _out, err = run_cli(capsys, "estimate", str(p))
    assert code == 2 and "is not a model's layer count" in _one_error(err)


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "--output", "/nonexistent/dir/report.json", *OFFLINE],
        ["scan", "--host", "http://admin:pw@[::1", "--no-user", "--no-store"],
    ],
    ids=["output-in-missing-dir", "host-unclosed-ipv6"],
)
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(capsys, *args, str(tmp_path))
    assert code == 2
    line = _one_error(err)
    assert "pw@" not in line and "pw@" not in out  # credentials never shown


def test_an_explicit_symlink_loop_is_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    code, _out, err = run_cli(capsys, "scan", *OFFLINE, str(tmp_path / "loop"))
    assert code == 2 and "loop" in _one_error(err)


def test_a_journal_that_is_not_utf8_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    j = tmp_path / "state" / "journal" / "20260101T000000-000000-abcdef"
    j.mkdir(parents=True)
    (j / "journal.json").write_bytes(b'{"id": "\xff"}')
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    code, out, err = run_cli(capsys, "history")
    assert code == 0 and "unreadable" in out and "Traceback" not in err
    code, _out, err = run_cli(capsys, "rollback", "--last")
    assert code == 2 and "unreadable journal" in _one_error(err)


def test_a_bad_ollama_host_in_the_environment_does_not_crash(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from ollama_server import OllamaDouble

    monkeypatch.setenv("OLLAMA_HOST", "http://[::1")
    store = tmp_path / "models"
    add_model(store, "qwen3-coder:30b")
    with OllamaDouble(store) as srv:
        code, out, err = run_cli(capsys, "scan", "--host", srv.url, "--no-user", str(tmp_path))
    assert code in (0, 1) and "internal error" not in err, err
    assert "qwen3-coder:30b" in out


def test_printed_commands_are_shell_quoted() -> None:
    import shlex

    from ctxfix.plan import ModelAction

    a = ModelAction(
        "create",
        "qwen3-coder:30b-262k",
        "qwen3-coder:30b",
        {"num_ctx": 262144},
        None,
        "/tmp/evil`touch pwned`",
        262144,
        ("CTX101",),
        "",
    )
    cmd = a.command("/tmp/my dir/Modelfile.x")
    assert shlex.split(cmd) == [
        "ollama",
        "create",
        "qwen3-coder:30b-262k",
        "-f",
        "/tmp/my dir/Modelfile.x",
    ]


def test_a_write_through_a_link_says_where_the_bytes_go(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    outside = tmp_path / "elsewhere" / "Modelfile"
    outside.parent.mkdir()
    outside.write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n")
    (work / "Modelfile").symlink_to(outside)
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    code, out, _err = run_cli(capsys, "apply", "--dry-run", *OFFLINE, str(work))
    assert f"is a link: the edit is written to {outside}" in out
    code, out, err = run_cli(capsys, "apply", "--yes", *OFFLINE, str(work))
    assert code == 0, err
    assert f"(a link: written to {outside})" in out
    assert "262144" in outside.read_text() and (work / "Modelfile").is_symlink()


@pytest.mark.parametrize(
    ("fmt", "text", "data"),
    [
        # toml-test valid/key/quoted-unicode-like: a raw tab inside a quoted key is valid TOML
        ("toml", '"a\tb" = 1\nmodel = "x"\n', {"a\tb": 1, "model": "x"}),
        # json5-tests: -Infinity is negative (it read as +inf, negated twice)
        (
            "json5",
            "{a: -Infinity, b: +Infinity, c: Infinity}",
            {"a": -1e999, "b": 1e999, "c": 1e999},
        ),
    ],
    ids=["toml-tab-in-quoted-key", "json5-minus-infinity"],
)
def test_conformance_cases_that_broke_the_format_layer(fmt: str, text: str, data) -> None:
    from ctxfix.edits.document import load_document

    assert load_document(Path(f"x.{fmt}"), text=text, fmt=fmt).data == data


@pytest.mark.parametrize(
    ("text", "path", "value", "changed"),
    [
        # inserting after a `|+` block would make the block lose its kept newlines
        ("b: 1\na: |+\n  text\n\n", ("c",), 5, "a"),
        # an anchored scalar: its alias would silently change too
        ("base: &b 8192\nx: *b\ny: 1\n", ("base",), 16384, "x"),
    ],
    ids=["insert-after-keep-block", "anchored-scalar"],
)
def test_yaml_edits_that_would_change_another_value_are_refused(
    text: str, path: tuple, value: int, changed: str
) -> None:
    from ctxfix.edits.document import load_document
    from ctxfix.errors import CtxfixError

    doc = load_document(Path("c.yaml"), text=text, fmt="yaml")
    with pytest.raises(CtxfixError, match=f"would also change {changed} "):
        doc.set(path, value)
    assert doc.text == text  # left unchanged


def test_yaml_comment_after_a_key_then_a_blank_line_reads() -> None:
    from ctxfix.edits.document import load_document

    doc = load_document(Path("c.yaml"), text="models: # the list\n\n  - name: a\n", fmt="yaml")
    assert doc.data == {"models": [{"name": "a"}]}


def test_proposed_names_are_valid_ollama_names() -> None:
    """types/model/name.go: a tag is 1 to 80 characters (an 80-char tag + `-131k` is not)."""
    from ctxfix.names import name_problem

    assert name_problem("qwen3-coder:30b-262k") is None
    assert "tag" in name_problem("m:" + "t" * 76 + "-131k")
    assert name_problem("hf.co/org/repo:Q4_K_M") is None


def test_json5_with_cr_only_line_ends_reads() -> None:
    from ctxfix.edits.document import load_document

    doc = load_document(Path("o.json5"), text="{\r  a: 1, // one\r  b: 2,\r}\r", fmt="json5")
    assert doc.data == {"a": 1, "b": 2}


def _gguf_with_one_array(tmp_path: Path, body: bytes) -> Path:
    """A GGUF v3 header with one KV `x` whose value is the array `body` (type 9)."""
    import struct

    p = tmp_path / "hostile.gguf"
    key = b"x"
    p.write_bytes(
        b"GGUF"
        + struct.pack("<IQQ", 3, 0, 1)
        + struct.pack("<Q", len(key))
        + key
        + struct.pack("<I", 9)
        + body
    )
    return p


def test_a_gguf_of_deeply_nested_arrays_is_refused(tmp_path: Path, capsys) -> None:
    """24 KB of arrays inside arrays raised RecursionError and aborted the scan."""
    import struct

    body = struct.pack("<IQ", 9, 1) * 2000 + struct.pack("<IQ", 4, 0)
    p = _gguf_with_one_array(tmp_path, body)
    code, _out, err = run_cli(capsys, "estimate", str(p))
    assert code == 2 and "hostile.gguf" in _one_error(err)


def test_a_gguf_of_millions_of_empty_strings_stops_at_the_bound(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A sparse file of empty strings took 76 s per GiB; the count is bounded."""
    import struct

    from ctxfix.sources import gguf

    monkeypatch.setattr(gguf, "MAX_METADATA_STRINGS", 1000)  # the real bound is 16 million
    body = struct.pack("<IQ", 8, 5000) + struct.pack("<Q", 0) * 5000
    p = _gguf_with_one_array(tmp_path, body)
    code, _out, err = run_cli(capsys, "estimate", str(p))
    assert code == 2 and "metadata strings" in _one_error(err)


def test_leftovers_of_a_crash_are_cleaned_by_the_next_apply(tmp_path: Path, monkeypatch, capsys):
    work = tmp_path / "repo"
    work.mkdir()
    (work / "Modelfile").write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n")
    tmp = work / ".Modelfile.abc123.ctxfix-tmp"
    tmp.write_text("half written")
    orphan = tmp_path / "state" / "journal" / "20260101T000000-000000-abcdef" / "backups"
    orphan.mkdir(parents=True)
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    code, _out, err = run_cli(capsys, "apply", "--yes", *OFFLINE, str(work))
    assert code == 0, err
    assert not tmp.exists() and not orphan.parent.exists()
