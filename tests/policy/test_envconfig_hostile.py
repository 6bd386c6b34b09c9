"""Hostile OLLAMA_* values: every reader answers, none raises (issue 12).

Why: `envconfig` never fails in Go, so a value no parser accepts must not stop
a scan with "internal error". Python's `int()` refuses strings over 4,300
digits, and the HTTP client (ctxfix/ollama_http.py) refuses host names the
address parsers above it let through.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix.policy import envconfig
from ctxfix.sources.hosts import dial_problem


def test_thousands_of_digits_are_refused_like_any_out_of_range_value() -> None:
    assert envconfig.uint("9" * 5000, 0)[0] == 0
    assert envconfig.uint("9" * 5000, 0)[1] is not None
    # leading zeros are digits ParseUint accepts
    assert envconfig.uint("0" * 5000 + "7", 0) == (7, None)
    assert envconfig.host("h:" + "1" * 5000) == "http://h:11434"
    assert envconfig.host("h:-" + "0" * 5000 + "80") == "http://h:11434"
    assert envconfig.connectable("http://h:+" + "1" * 5000).startswith("http://h:+1")


@pytest.mark.parametrize(
    "url",
    [
        "http://h\x01x:11434",  # http.client: a control character
        "http://a\u200db:11434",  # IDNA 2008: a joiner out of context
        "http://" + "a" * 70000 + ":11434",  # DNS: a label of more than 63 characters
    ],
)
def test_what_the_http_client_refuses_is_a_dial_problem(url: str) -> None:
    problem = dial_problem(url)
    assert problem and problem.isascii()


def test_a_dial_problem_never_echoes_credentials() -> None:
    problem = dial_problem("http://user:S3cretPW@h\x01:11434")
    assert problem and "S3cretPW" not in problem


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_every_reader_answers_any_value(value: str) -> None:
    envconfig.uint(value, 0)
    envconfig.bool_with_default(value, None)
    url = envconfig.connectable(envconfig.host(value))
    dial_problem(url)


def test_a_refused_value_that_may_hold_credentials_is_not_quoted() -> None:
    _n, problem = envconfig.uint("admin:S3cretPW@host:1", 0)
    assert problem and "S3cretPW" not in problem
    assert "'abc' is not an unsigned integer" in (envconfig.uint("abc", 0)[1] or "")
