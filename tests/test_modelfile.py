"""Modelfile model: lossless round trip, Ollama's parse rules and errors, surgical num_ctx edits.

Expected values come from Ollama's own parser tests (parser/parser_test.go)
and `api.FormatParams`, so a Modelfile that parses here is one `ollama
create` accepts, and a rejected one fails with Ollama's wording.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctxfix.edits.modelfile_edit import set_num_ctx
from ctxfix.errors import CtxfixError
from ctxfix.sources.modelfile import (
    decode,
    encode,
    is_modelfile_name,
    load,
    parse,
    read_modelfile,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "modelfiles"
FIXTURE_FILES = sorted(FIXTURES.glob("*.Modelfile"))


def cmds(text: str) -> list[tuple[str, str | None, str]]:
    return [(i.command, i.name, i.value) for i in parse(text).instructions]


# ---- lossless ---------------------------------------------------------------


def test_fixture_set_covers_the_hard_cases():
    raw = {p.name: p.read_bytes() for p in FIXTURE_FILES}
    assert any(b"\r\n" in b for b in raw.values())
    assert any(not b.endswith(b"\n") for b in raw.values())
    assert any(b'"""' in b and b"TEMPLATE" in b for b in raw.values())
    assert any(b"1e+06" in b for b in raw.values())


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_round_trips_byte_identical(path: Path):
    data = path.read_bytes()
    mf = load(path)
    assert encode(mf.render(), data) == data
    # instructions are ordered, non-overlapping slices of the text
    last = 0
    for ins in mf.instructions:
        assert ins.start >= last
        assert mf.text[ins.start : ins.end] == ins.raw
        assert ins.start <= ins.value_start <= ins.value_end <= ins.end
        last = ins.end


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_set_num_ctx_on_every_fixture_changes_one_value(path: Path):
    mf = load(path)
    new = set_num_ctx(mf, 262144)
    assert new.num_ctx_instruction() is not None
    assert new.num_ctx_instruction().value == "262144"
    before = [(i.command, i.name, i.value) for i in mf.instructions if i.name != "num_ctx"]
    after = [(i.command, i.name, i.value) for i in new.instructions if i.name != "num_ctx"]
    assert before == after


def test_crlf_file_keeps_crlf_inside_template_and_in_inserted_line():
    mf = load(FIXTURES / "crlf.Modelfile")
    tpl = next(i for i in mf.instructions if i.command == "template")
    assert tpl.value.startswith(
        "{{ if .System }}<|start_header_id|>system<|end_header_id|>\r\n\r\n"
    )
    assert tpl.line == 4
    num = mf.num_ctx_instruction()
    assert (num.line, num.value) == (8, "8192")  # CRLF counted as one line break
    stripped = parse(mf.text.replace("PARAMETER num_ctx 8192\r\n", ""))
    out = set_num_ctx(stripped, 131072).render()
    assert out == stripped.text + "PARAMETER num_ctx 131072\r\n"


def test_no_final_newline_is_kept_when_editing_and_inserting():
    mf = load(FIXTURES / "no-final-newline.Modelfile")
    assert set_num_ctx(mf, 131072).render() == mf.text.replace("32768", "131072")
    only_from = parse("FROM qwen3:8b")
    assert set_num_ctx(only_from, 40960).render() == "FROM qwen3:8b\nPARAMETER num_ctx 40960"


def test_bom_is_skipped_like_ollama_and_kept_in_render():
    text = "\ufeffFROM llama3.2:3b\nPARAMETER num_ctx 4096\n"
    mf = parse(text)
    assert mf.render() == text
    assert mf.instructions[0].keyword == "FROM"
    assert set_num_ctx(mf, 8192).render() == text.replace("4096", "8192")


def test_utf16_file_decodes_and_encodes_back(tmp_path: Path):
    data = b"\xff\xfe" + "FROM bob\nPARAMETER num_ctx 4096\n".encode("utf-16-le")
    p = tmp_path / "Modelfile"
    p.write_bytes(data)
    mf = load(p)
    assert mf.num_ctx_instruction().value == "4096"
    assert encode(mf.render(), data) == data


def test_invalid_utf8_bytes_survive_a_rewrite():
    data = b"FROM x\nSYSTEM caf\xe9\nPARAMETER num_ctx 1\n"
    text = decode(data)
    out = set_num_ctx(parse(text), 2048).render()
    assert encode(out) == data.replace(b"num_ctx 1", b"num_ctx 2048")


# ---- parse rules (cases from Ollama's parser_test.go) -------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('FROM "FOO  BAR  "', [("from", None, "FOO  BAR  ")]),
        ("FROM     FOOO BAR    ", [("from", None, "FOOO BAR")]),
        ("FROM /what/is/the path ", [("from", None, "/what/is/the path")]),
        ("FROM llama3:7b-instruct-q4_K_M", [("from", None, "llama3:7b-instruct-q4_K_M")]),
        (
            "PARAMETER param1 value1\nFROM foo",
            [("parameter", "param1", "value1"), ("from", None, "foo")],
        ),
        (
            "PARAMETER what the \nFROM lemons make lemonade ",
            [("parameter", "what", "the"), ("from", None, "lemons make lemonade")],
        ),
        ("\n# comment\nFROM foo\n\t", [("from", None, "foo")]),
        ("FROM test\n\tSYSTEM 你好👋", [("from", None, "test"), ("system", None, "你好👋")]),
        ('FROM foo\nSYSTEM """"""\n', [("from", None, "foo"), ("system", None, "")]),
        ('FROM foo\nSYSTEM ""\n', [("from", None, "foo"), ("system", None, "")]),
        ('FROM foo\nSYSTEM "\'"\n', [("from", None, "foo"), ("system", None, "'")]),
        (
            'FROM foo\nSYSTEM """\nThis is a multiline system with "quotes".\n"""\n',
            [
                ("from", None, "foo"),
                ("system", None, '\nThis is a multiline system with "quotes".\n'),
            ],
        ),
        (
            'FROM foo\nTEMPLATE """\n{{ .Prompt }}\n"""',
            [("from", None, "foo"), ("template", None, "\n{{ .Prompt }}\n")],
        ),
        (
            "FROM foo\nMESSAGE system You are a file parser. Always parse things.",
            [
                ("from", None, "foo"),
                ("message", "system", "You are a file parser. Always parse things."),
            ],
        ),
        (
            "FROM foo\nPARAMETER stop ### User: \n",
            [("from", None, "foo"), ("parameter", "stop", "### User:")],
        ),
        (
            'FROM foo\nPARAMETER stop "### User: "\n',
            [("from", None, "foo"), ("parameter", "stop", "### User: ")],
        ),
        (
            "FROM base\nDRAFT ./assistant\n",
            [("from", None, "base"), ("draft", None, "./assistant")],
        ),
        (
            "FROM foo\nRENDERER r1\nPARSER p1\n",
            [("from", None, "foo"), ("renderer", None, "r1"), ("parser", None, "p1")],
        ),
        # a single-quoted value may span lines; it ends at the first line whose
        # buffer is fully quoted
        ('from x\nsystem "a\nb"\n', [("from", None, "x"), ("system", None, "a\nb")]),
        # '#' after the keyword is value text, not a comment
        ("FROM x # pinned\n", [("from", None, "x # pinned")]),
    ],
)
def test_parse_matches_ollama(text: str, expected):
    assert cmds(text) == expected


def test_keyword_case_is_kept_and_command_is_lower():
    mf = parse("from x\nParameter num_ctx 4096\n")
    assert [(i.keyword, i.command) for i in mf.instructions] == [
        ("from", "from"),
        ("Parameter", "parameter"),
    ]


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("\nFROM foo\nBADCOMMAND param1 value1\n", "m:3", "command must be one of"),
        ("FROM\nx\n", "m:1", "command must be one of"),
        ("FROM x\nFROM2 y\n", "m:2", "command must be one of"),
        ("\nFROM foo\nPARAMETER param1\n", "m:3", "unexpected EOF: param1"),
        ("FROM foo\nPARAMETER num-ctx 4096\n", "m:2", "unexpected EOF: num"),
        ("\nFROM foo\nMESSAGE system\n", "m:3", "unexpected EOF: system"),
        ("\nFROM foo\nMESSAGE system", "m:3", "unexpected EOF"),
        ("\nFROM foo\nMESSAGE badguy I'm a bad guy!\n", "m:3", "message role must be one of"),
        ('\nFROM foo\nSYSTEM """This is a multiline system.""\n', "m:3", "unexpected EOF"),
        ('\nFROM foo\nSYSTEM "\n', "m:3", "unexpected EOF"),
        ("FROM", "m:1", "unexpected EOF"),
        ("", "m", "no FROM line"),
        ("# only a comment\nPARAMETER param1 value1", "m", "no FROM line"),
    ],
)
def test_parse_errors_use_ollama_wording_and_line(text: str, where: str, problem: str):
    with pytest.raises(CtxfixError) as exc:
        parse(text, "m")
    assert exc.value.where == where
    assert exc.value.problem.startswith(problem)


def test_invalid_command_lists_every_command_like_ollama():
    with pytest.raises(CtxfixError) as exc:
        parse("FROM x\nCONTEXT 4096\n", "Modelfile")
    assert str(exc.value) == (
        'Modelfile:2: command must be one of "from", "license", "template", "system", '
        '"adapter", "draft", "renderer", "parser", "parameter", "message", or "requires"'
    )


# ---- semantics ---------------------------------------------------------------


def test_semantic_view_follows_create_request():
    sem = load(FIXTURES / "qwen3-coder-128k.Modelfile").semantic()
    assert sem.from_ == "qwen3-coder:30b"
    assert sem.parameters == {
        "num_ctx": 131072,
        "temperature": 0.7,
        "top_p": 0.8,
        "stop": ["<|im_end|>", "<|endoftext|>"],
    }
    assert sem.system == "You are a careful coding assistant. # not a comment either"


def test_semantic_last_wins_and_accumulates():
    sem = parse(
        "FROM a\nFROM b\nPARAMETER num_ctx 2048\nPARAMETER num_ctx 8192\n"
        "PARAMETER stop x\nPARAMETER stop y\nSYSTEM one\nSYSTEM two\n"
        "LICENSE l1\nLICENSE l2\nMESSAGE user Hi\nMESSAGE assistant Yo\n"
        "PARAMETER mirostat 2\nREQUIRES 0.14.0\n"
    ).semantic()
    assert sem.from_ == "b"
    assert sem.parameters == {"num_ctx": 8192, "stop": ["x", "y"]}
    assert sem.system == "two"
    assert sem.license == ["l1", "l2"]
    assert sem.messages == [("user", "Hi"), ("assistant", "Yo")]
    assert sem.deprecated == ["mirostat"]
    assert sem.requires == "0.14.0"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("PARAMETER num_ctx 1e+06", "invalid int value [1e+06]"),
        ("PARAMETER num_ctx 131072.0", "invalid int value [131072.0]"),
        ("PARAMETER num_ctx 1_000", "invalid int value [1_000]"),
        ("PARAMETER num_ctx 99999999999999999999", "invalid int value [99999999999999999999]"),
        ("PARAMETER NUM_CTX 65536", "unknown parameter 'NUM_CTX'"),
        ("PARAMETER context 65536", "unknown parameter 'context'"),
        ("PARAMETER temperature 0.7 # warm", "invalid float value [0.7 # warm]"),
        ("PARAMETER use_mmap yes", "invalid bool value [yes]"),
        ("REQUIRES latest", "requires must be a valid semver (e.g. 0.14.0)"),
    ],
)
def test_semantic_errors_name_line_and_use_ollama_wording(line: str, problem: str):
    mf = parse(f"FROM x\n\n{line}\n", "Modelfile")
    with pytest.raises(CtxfixError) as exc:
        mf.semantic()
    assert exc.value.where == "Modelfile:3"
    assert exc.value.problem == problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [("+4096", 4096), ("-1", -1), ("0042", 42)],
)
def test_ints_parse_like_go_parseint(value: str, expected: int):
    assert parse(f"FROM x\nPARAMETER num_ctx {value}").semantic().parameters["num_ctx"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1.0), (".5", 0.5), ("1e-3", 0.001), ("0x1p-2", 0.25), ("Inf", float("inf"))],
)
def test_floats_parse_like_go_parsefloat(value: str, expected: float):
    got = parse(f"FROM x\nPARAMETER temperature {value}").semantic().parameters["temperature"]
    assert got == expected


# ---- read_modelfile ------------------------------------------------------------


def test_read_modelfile_reports_num_ctx_with_location():
    p = FIXTURES / "qwen3-coder-128k.Modelfile"
    d = read_modelfile(p)
    assert d.origin == "modelfile"
    assert d.name == str(p)
    assert d.parent == "qwen3-coder:30b"
    assert d.num_ctx.value == 131072
    assert d.num_ctx.source == "modelfile"
    assert (d.num_ctx.location.line, d.num_ctx.location.col) == (7, 19)
    assert d.num_ctx.location.key == "num_ctx"
    assert d.num_ctx_invalid is None
    assert d.params["stop"] == ["<|im_end|>", "<|endoftext|>"]
    assert "num_ctx" not in d.params


def test_read_modelfile_keeps_ollama_show_exponent_as_invalid_not_an_error():
    p = FIXTURES / "ollama-show.Modelfile"
    d = read_modelfile(p)
    assert d.num_ctx is None
    assert d.num_ctx_invalid.value == "1e+06"
    assert d.num_ctx_invalid.location.line == 21
    assert d.parent.startswith("/usr/share/ollama/.ollama/models/blobs/sha256-")
    # and the fix replaces it with an integer Ollama accepts
    fixed = set_num_ctx(load(p), 1000000)
    assert fixed.semantic().parameters["num_ctx"] == 1000000
    assert fixed.render() == load(p).render().replace("num_ctx 1e+06", "num_ctx 1000000")


def test_read_modelfile_an_earlier_rejected_num_ctx_is_reported():
    text = "FROM x\nPARAMETER num_ctx 1.048576e+06\nPARAMETER num_ctx 8192\n"
    mf = parse(text)
    out = set_num_ctx(mf, 16384).render()
    # both lines rewritten: ollama create would stop at the first
    assert out == "FROM x\nPARAMETER num_ctx 16384\nPARAMETER num_ctx 16384\n"


def test_read_modelfile_wrong_case_parameter_goes_to_params(tmp_path: Path):
    p = tmp_path / "Modelfile"
    p.write_text("FROM x\nPARAMETER NUM_CTX 65536\n")
    d = read_modelfile(p)
    assert d.num_ctx is None and d.num_ctx_invalid is None
    assert d.params == {"NUM_CTX": "65536"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("FROM x\nCTX 4096\n", "command must be one of"),
        ('FROM x\nSYSTEM """never closed\n', "unexpected EOF"),
        ("PARAMETER num_ctx 4096\n", "no FROM line"),
    ],
)
def test_read_modelfile_bad_input_raises_naming_the_file(tmp_path: Path, text: str, problem: str):
    p = tmp_path / "Modelfile.bad"
    p.write_text(text)
    with pytest.raises(CtxfixError) as exc:
        read_modelfile(p)
    assert exc.value.where.startswith(str(p))
    assert exc.value.problem.startswith(problem)


def test_read_modelfile_missing_file_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(CtxfixError) as exc:
        read_modelfile(tmp_path / "Modelfile")
    assert exc.value.where == str(tmp_path / "Modelfile")
    assert "cannot read" in exc.value.problem


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Modelfile", True),
        ("Modelfile.qwen3-coder-30b-262k", True),
        ("qwen.Modelfile", True),
        ("qwen.modelfile", True),
        ("modelfile", False),
        ("Modelfile.", False),
        ("Modelfiles", False),
        ("README.md", False),
    ],
)
def test_is_modelfile_name(name: str, expected: bool):
    assert is_modelfile_name(name) is expected


# ---- set_num_ctx ---------------------------------------------------------------


def test_set_num_ctx_changes_only_the_winning_value():
    text = "FROM x\nPARAMETER num_ctx 2048\n# keep\nPARAMETER num_ctx   4096  \nSYSTEM hi\n"
    out = set_num_ctx(parse(text), 262144).render()
    assert (
        out == "FROM x\nPARAMETER num_ctx 2048\n# keep\nPARAMETER num_ctx   262144  \nSYSTEM hi\n"
    )


def test_set_num_ctx_inside_quotes():
    out = set_num_ctx(parse('FROM x\nPARAMETER num_ctx "131072"\n'), 262144).render()
    assert out == 'FROM x\nPARAMETER num_ctx "262144"\n'


def test_set_num_ctx_inserts_after_last_parameter_else_after_from():
    text = "# c\nFROM x\nSYSTEM s\nPARAMETER temperature 0.1\nPARAMETER stop a\nMESSAGE user u\n"
    out = set_num_ctx(parse(text), 8192).render()
    assert out == text.replace("stop a\n", "stop a\nPARAMETER num_ctx 8192\n")
    text2 = 'FROM x\nTEMPLATE """a\nb"""\n'
    assert set_num_ctx(parse(text2), 8192).render() == "FROM x\nPARAMETER num_ctx 8192\n" + (
        'TEMPLATE """a\nb"""\n'
    )


def test_set_num_ctx_rejects_non_positive():
    with pytest.raises(ValueError):
        set_num_ctx(parse("FROM x"), 0)


# ---- properties ------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8",
        categories=("L", "N", "P", "S"),
        exclude_characters='"\r\n',
    ),
    min_size=1,
    max_size=12,
)
_BLANK = st.sampled_from(["", " ", "\t", "  "])


def _case(word: str) -> st.SearchStrategy[str]:
    def apply(flags: list[bool]) -> str:
        return "".join(c.upper() if f else c.lower() for c, f in zip(word, flags, strict=True))

    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(apply)


@st.composite
def _value(draw) -> tuple[str, str]:
    """(source text, value Ollama sees)."""
    kind = draw(st.sampled_from(["bare", "bare_spaces", "dq", "dq_multi", "tq", "tq_multi"]))
    if kind == "bare":
        v = draw(_TEXT)
        return v, v
    if kind == "bare_spaces":
        parts = draw(st.lists(_TEXT, min_size=2, max_size=3))
        v = " ".join(parts)
        return v, v
    if kind == "dq":
        v = draw(st.text(alphabet=" \tab#x1", max_size=8))
        return f'"{v}"', v
    if kind == "dq_multi":
        lines = draw(
            st.lists(st.text(alphabet="ab #1", min_size=1, max_size=5), min_size=2, max_size=3)
        )
        v = "\n".join(lines)
        return f'"{v}"', v
    lines = draw(st.lists(st.text(alphabet="ab {}.#1 ", max_size=6), min_size=1, max_size=3))
    v = "\n".join(lines) if kind == "tq_multi" else lines[0]
    return f'"""{v}"""', v


@st.composite
def _modelfile(draw, num_ctx_lines: bool | None = None):
    """(text, expected instructions) for a Modelfile Ollama accepts."""
    eol_choice = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    parts: list[str] = []
    expected: list[tuple[str, str | None, str]] = []
    n_items = draw(st.integers(min_value=0, max_value=8))
    from_at = draw(st.integers(min_value=0, max_value=n_items))
    for idx in range(n_items + 1):
        if idx == from_at:
            kind = "from"
        else:
            kind = draw(
                st.sampled_from(
                    ["comment", "blank", "param", "num_ctx", "system", "message", "license"]
                )
            )
            if kind == "num_ctx" and num_ctx_lines is False:
                kind = "param"
        lead = draw(_BLANK)
        sep = draw(st.sampled_from([" ", "\t", "  "]))
        trail = draw(_BLANK)
        if kind == "comment":
            line = lead + "#" + draw(st.text(alphabet='ab #x"', max_size=8))
        elif kind == "blank":
            line = lead
        elif kind == "from":
            src, val = draw(_value())
            line = f"{lead}{draw(_case('from'))}{sep}{src}{trail}"
            expected.append(("from", None, val))
        elif kind == "param":
            name = draw(st.sampled_from(["temperature", "stop", "top_k", "NUM_CTX", "x_1"]))
            src, val = draw(_value())
            line = f"{lead}{draw(_case('parameter'))} {name}{sep}{src}{trail}"
            expected.append(("parameter", name, val))
        elif kind == "num_ctx":
            n = draw(st.integers(min_value=1, max_value=10**7))
            src = draw(st.sampled_from([str(n), f'"{n}"', f'"""{n}"""']))
            line = f"{lead}PARAMETER num_ctx{sep}{src}{trail}"
            expected.append(("parameter", "num_ctx", str(n)))
        elif kind == "message":
            role = draw(st.sampled_from(["system", "user", "assistant"]))
            src, val = draw(_value())
            line = f"{lead}{draw(_case('message'))} {role}{sep}{src}{trail}"
            expected.append(("message", role, val))
        else:
            kw = "system" if kind == "system" else "license"
            src, val = draw(_value())
            line = f"{lead}{draw(_case(kw))}{sep}{src}{trail}"
            expected.append((kw, None, val))
        eol = draw(st.sampled_from(["\n", "\r\n"])) if eol_choice == "mixed" else eol_choice
        parts.append(line + eol)
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final newline
    if num_ctx_lines and not any(e[1] == "num_ctx" for e in expected):
        text = text + ("" if text.endswith("\n") else "\n") + "PARAMETER num_ctx 2048\n"
        expected.append(("parameter", "num_ctx", "2048"))
    return text, expected


_PROP = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROP
@given(_modelfile())
def test_property_random_modelfiles_parse_and_round_trip(case):
    text, expected = case
    mf = parse(text)
    assert mf.render() == text
    assert [(i.command, i.name, i.value) for i in mf.instructions] == expected
    for ins in mf.instructions:
        assert text[ins.start : ins.end] == ins.raw
        # the value span holds exactly the value (line breaks inside quotes included)
        assert text[ins.value_start : ins.value_end] == ins.value


@_PROP
@given(_modelfile(num_ctx_lines=True), st.integers(min_value=1, max_value=2**31))
def test_property_set_num_ctx_replaces_exactly_the_winning_value(case, value):
    text, expected = case
    mf = parse(text)
    win = mf.num_ctx_instruction()
    out = set_num_ctx(mf, value).render()
    assert out == text[: win.value_start] + str(value) + text[win.value_end :]
    want = list(expected)
    idx = max(i for i, e in enumerate(want) if e[1] == "num_ctx")
    want[idx] = ("parameter", "num_ctx", str(value))
    assert [(i.command, i.name, i.value) for i in parse(out).instructions] == want


@_PROP
@given(_modelfile(num_ctx_lines=False), st.integers(min_value=1, max_value=2**31))
def test_property_set_num_ctx_inserts_one_line_and_touches_nothing_else(case, value):
    text, expected = case
    mf = parse(text)
    out = set_num_ctx(mf, value).render()
    line = f"PARAMETER num_ctx {value}"
    eol = mf.line_ending()
    if out.endswith(eol + line):
        assert out == text + eol + line
    else:
        pos = out.index(line + eol)
        assert out[:pos] + out[pos + len(line + eol) :] == text
    got = [(i.command, i.name, i.value) for i in parse(out).instructions]
    assert [g for g in got if g[1] != "num_ctx"] == expected
    assert ("parameter", "num_ctx", str(value)) in got


# ---- the PARAMETER table (api/types.go Options + Runner at v0.33.0-rc2) ---------------


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("draft_num_predict 4", 4),  # api.Runner, new since the table was first written
        ("main_gpu 1", 1),  # *int
        ("use_mmap false", False),  # *bool
        ("min_p 0.05", 0.05),
    ],
)
def test_every_current_option_is_accepted_with_its_go_type(line: str, value: object) -> None:
    got = parse(f"FROM x\nPARAMETER {line}\n").semantic().parameters
    (name,) = got
    assert got[name] == pytest.approx(value) and type(got[name]) is type(value)


@pytest.mark.parametrize("name", ["numa", "num_gqa", "rope_frequency_base", "draft_num_ctx"])
def test_options_that_are_not_in_api_options_are_unknown(name: str) -> None:
    with pytest.raises(CtxfixError, match=f"unknown parameter '{name}'"):
        parse(f"FROM x\nPARAMETER {name} 1\n").semantic()


def test_draft_num_predict_is_an_int_like_ollama_parses_it() -> None:
    with pytest.raises(CtxfixError, match=r"invalid int value \[4.0\]"):
        parse("FROM x\nPARAMETER draft_num_predict 4.0\n").semantic()


# ---- FROM <directory> (parser.go filesForModel) -----------------------------------------


def _gguf(path: Path, ctx: int, gtype: str | None = None) -> None:
    """A model GGUF (ollama_fixtures.write_gguf), or an adapter/projector by general.type."""
    from ollama_fixtures import Arch, write_gguf

    if gtype is None:
        write_gguf(path, Arch(context_length=ctx))
        return
    from gguf import GGUFWriter

    w = GGUFWriter(str(path), "clip")
    w.add_string("general.type", gtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()


def _served(tmp_path: Path, from_: str) -> tuple[int | None, list[str]]:
    from ctxfix.facts import ServerEnv
    from ctxfix.resolve import resolve
    from ctxfix.settings import Settings

    mf = tmp_path / "Modelfile"
    mf.write_text(f"FROM {from_}\nPARAMETER num_ctx 8192\n")
    warnings: list = []
    w = resolve([read_modelfile(mf)], [], [], ServerEnv(), Settings(), warnings)
    (m,) = w.models
    return (m.native_ctx.value if m.native_ctx else None), [x.problem for x in w.warnings]


def test_from_a_directory_reads_its_one_model_gguf_beside_a_projector(tmp_path: Path) -> None:
    _gguf(tmp_path / "weights" / "model-q4.gguf", 131072)
    _gguf(tmp_path / "weights" / "mmproj-f16.gguf", 0, "mmproj")
    (tmp_path / "weights" / "config.json").write_text('{"a": 1}')
    native, warns = _served(tmp_path, "weights")  # no `./`: Ollama stats the path
    assert native == 131072 and not warns


def _split_part(path: Path, no: int, count: int, ctx: int | None = None) -> None:
    """A part of a split GGUF as gguf-split writes it: `split.no`/`split.count`
    (u16); the first part holds the model's metadata, the others only the split keys."""
    from gguf import GGUFWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    w = GGUFWriter(str(path), "qwen3moe")
    if ctx is not None:
        w.add_uint32("qwen3moe.context_length", ctx)
        w.add_uint32("qwen3moe.block_count", 48)
    w.add_uint16("split.no", no)
    w.add_uint16("split.count", count)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()


def test_from_a_directory_of_split_ggufs_reads_the_first_part(tmp_path: Path) -> None:
    _split_part(tmp_path / "w" / "m-00001-of-00002.gguf", 0, 2, 65536)
    _split_part(tmp_path / "w" / "m-00002-of-00002.gguf", 1, 2)
    assert _served(tmp_path, "./w")[0] == 65536


def test_split_like_names_without_split_metadata_are_separate_models(tmp_path: Path) -> None:
    # create.go splitGGUFGroupKey groups by `split.count` > 1, not by the name
    _gguf(tmp_path / "w" / "m-00001-of-00002.gguf", 65536)
    _gguf(tmp_path / "w" / "m-00002-of-00002.gguf", 4096)
    native, warns = _served(tmp_path, "./w")
    assert native is None and any("several model GGUFs" in w for w in warns), warns


def test_a_split_part_whose_name_disagrees_with_its_metadata_is_refused(tmp_path: Path) -> None:
    _split_part(tmp_path / "w" / "m-00001-of-00003.gguf", 0, 2, 65536)
    native, warns = _served(tmp_path, "./w")
    assert native is None
    assert any("filename count 3 does not match metadata count 2" in w for w in warns), warns


def test_a_clip_gguf_with_only_an_audio_encoder_is_a_projector(tmp_path: Path) -> None:
    # create.go isProjectorGGUF: arch clip, no block_count, has_audio_encoder
    from gguf import GGUFWriter

    _gguf(tmp_path / "w" / "model.gguf", 32768)
    w = GGUFWriter(str(tmp_path / "w" / "audio.gguf"), "clip")
    w.add_bool("clip.has_audio_encoder", True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()
    assert _served(tmp_path, "./w") == (32768, [])


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"a.gguf": 4096, "b.gguf": 8192}, "several model GGUFs (a.gguf, b.gguf)"),
        ({"model.safetensors": None}, "holds safetensors weights"),
        ({"README.md": None}, "no Modelfile or safetensors files found"),
    ],
    ids=["two-models", "safetensors", "empty"],
)
def test_from_a_directory_ctxfix_cannot_read_says_why(
    tmp_path: Path, files: dict[str, int | None], problem: str
) -> None:
    for name, ctx in files.items():
        p = tmp_path / "w" / name
        p.parent.mkdir(exist_ok=True)
        if ctx is None:
            p.write_text("x")
        else:
            _gguf(p, ctx)
    native, warns = _served(tmp_path, "./w")
    assert native is None and any(problem in w for w in warns), warns
