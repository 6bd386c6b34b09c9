"""ctxfix.echo prints what click.echo prints (click is the oracle), without click."""

from __future__ import annotations

import io

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix.echo import echo

PIECES = st.sampled_from(
    ["plain", "\033[31m", "\033[0m", "\033[1;4m", "\033]8;;x\033\\", "\033", "é", "\n", "≥", ""]
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(PIECES, max_size=8).map("".join),
    nl=st.booleans(),
    color=st.sampled_from([None, True, False]),
    tty=st.booleans(),
    err=st.booleans(),
)
def test_same_text_as_click_echo(
    text: str, nl: bool, color: bool | None, tty: bool, err: bool
) -> None:
    outputs = []
    for printer in (echo, click.echo):
        stream = Tty() if tty else io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("sys.stderr" if err else "sys.stdout", stream)
            printer(text, err=err, nl=nl, color=color)
        outputs.append(stream.getvalue())
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_character_the_stream_cannot_encode_becomes_a_question_mark(
    encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctxfix.echo's one deliberate difference from click (see its docstring): the line is
    printed, through the stream given (so still redacted), instead of failing."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding)
    monkeypatch.setattr("sys.stdout", stream)
    echo("num_ctx ≥ 131,072")
    assert raw.getvalue() == b"num_ctx ? 131,072\n"
