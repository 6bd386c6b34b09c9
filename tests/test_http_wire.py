"""HTTP/1.1 framing of the scan client (ctxfix/http_wire.py).

Valid answers are checked against the standard library's `http.client` as an
oracle (status, body and whether the connection stays open, for every framing:
Content-Length, chunked with extensions and trailers, read to the close, 100
Continue first). Hostile answers follow Go's net/http client, the one Ollama's
CLI uses (github:golang/go src/net/http/transfer.go, internal/chunked.go):
each is one WireError naming what broke, never a hang or an unbounded read.
"""

from __future__ import annotations

import http.client
import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix.http_wire import (
    MAX_HEADERS,
    MAX_LINE,
    Closed,
    WireError,
    read_answer,
    request_bytes,
)


def parse(data: bytes, method: str = "GET", budget: int | None = None):
    charged: list[int] = []

    def charge(n: int) -> None:
        charged.append(n)
        if budget is not None and sum(charged) > budget:
            raise OverflowError("budget spent")

    answer = read_answer(io.BytesIO(data), method, charge)
    return answer, sum(charged)


class _FakeSock:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


def oracle(data: bytes, method: str = "GET") -> tuple[int, bytes, bool]:
    r = http.client.HTTPResponse(_FakeSock(data), method=method)  # type: ignore[arg-type]
    r.begin()
    return r.status, r.read(), not r.will_close


# --------------------------------------------------------------------------- valid answers

_names = st.sampled_from(["Content-Type", "X-Trace", "Date", "Server", "Vary"])
_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
_ows = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def answers(draw) -> tuple[bytes, bytes, str]:
    """(raw answer, its body, method) in any framing a conforming server may use."""
    body = draw(st.binary(max_size=3000))
    status = draw(st.sampled_from([200, 201, 204, 301, 304, 404, 500]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0"]))
    method = draw(st.sampled_from(["GET", "POST", "HEAD"]))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    lines = [f"{version} {status} {draw(st.sampled_from(['OK', 'Not Found', '']))}".rstrip()]
    if draw(st.booleans()) and version == "HTTP/1.1":
        lines = [f"HTTP/1.1 100 Continue{eol}{eol}", *lines]  # one interim answer first
    for _ in range(draw(st.integers(0, 4))):
        name = draw(_names)
        case = draw(st.sampled_from([str.lower, str.upper, str]))
        lines.append(f"{case(name)}:{draw(_ows)}{draw(_values)}{draw(_ows)}")
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive"]))
    if connection:
        lines.append(f"Connection: {connection}")
    no_body = method == "HEAD" or status in (204, 304)
    framing = "length" if no_body else draw(st.sampled_from(["length", "chunked", "close"]))
    payload = b""
    if framing == "chunked" and version == "HTTP/1.1":
        lines.append(f"Transfer-Encoding: {draw(st.sampled_from(['chunked', 'Chunked']))}")
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=5)))
        bounds = [0, *cuts, len(body)]
        for a, b in itertools.pairwise(bounds):
            if b > a:
                ext = draw(st.sampled_from(["", ";name", ';q="x"']))
                size = draw(st.sampled_from(["{:x}", "{:X}", "{:04x}"])).format(b - a)
                payload += f"{size}{ext}\r\n".encode() + body[a:b] + b"\r\n"
        payload += b"0\r\n"
        if draw(st.booleans()):
            payload += b"X-Checksum: 1\r\n"
        payload += b"\r\n"
    elif framing == "length" or no_body:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    else:
        payload = body  # delimited by the connection's close
    head = "".join(x if x.endswith(eol) else x + eol for x in lines) + eol
    raw = head.encode("latin-1") + (b"" if no_body else payload)
    return raw, b"" if no_body else body, method


@settings(max_examples=400, deadline=None)
@given(answers())
def test_valid_answers_read_as_http_client_reads_them(case: tuple[bytes, bytes, str]) -> None:
    raw, body, method = case
    answer, charged = parse(raw, method)
    status, want_body, stays_open = oracle(raw, method)
    assert (answer.status, answer.body, answer.keep_alive) == (status, want_body, stays_open)
    assert answer.body == body and charged == len(raw)  # every byte read is charged


def test_a_connection_that_ends_before_any_byte_is_closed_not_malformed() -> None:
    with pytest.raises(Closed):
        parse(b"")


def test_fields_keep_their_last_line_folded_and_repeated_values() -> None:
    answer, _ = parse(
        b"HTTP/1.1 302 Found\r\nLocation: /a\r\nX-Long: one\r\n  two\r\nVia: a\r\nVia: b\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert answer.fields["location"] == "/a"
    assert answer.fields["x-long"] == "one two"  # obs-fold: joined with a space
    assert answer.fields["via"] == "a\nb"


def test_transfer_encoding_overrides_content_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer, _ = parse(raw + b"2\r\nhi\r\n0\r\n\r\n")
    assert answer.body == b"hi" and answer.keep_alive


def test_http_1_0_ignores_transfer_encoding_as_go_does() -> None:
    answer, _ = parse(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi")
    assert answer.body == b"2\r\nhi" and not answer.keep_alive
    kept = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
    answer, _ = parse(kept + b"Content-Length: 2\r\n\r\nok")
    assert answer.body == b"ok" and not answer.keep_alive  # RFC 9112 6.1: then close


def test_an_early_hints_answer_is_skipped() -> None:
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    raw = hints + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert parse(raw)[0].body == b"ok"


def test_every_byte_is_charged_and_the_charge_can_stop_the_read() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + b"x" * 300000
    assert parse(raw)[1] == len(raw)
    with pytest.raises(OverflowError):
        parse(raw, budget=100000)
    big = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n" + b"x" * 200000
    with pytest.raises(OverflowError):  # a 281 TB chunk is read piece by piece, then cut
        parse(big, budget=100000)


def test_one_byte_chunks_are_charged_their_framing_too() -> None:
    """A body of 1-byte chunks once kept an object per chunk, ~100 bytes of memory per
    byte of budget; now each chunk costs its 6 bytes of framing and joins one buffer."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw = head + b"1\r\nx\r\n" * 50000 + b"0\r\n\r\n"
    answer, charged = parse(raw)
    assert answer.body == b"x" * 50000 and charged == len(raw) > 6 * 50000
    with pytest.raises(OverflowError):
        parse(raw, budget=100000)  # 50,000 payload bytes, but 300,000 read


# --------------------------------------------------------------------------- hostile answers

OK = b"HTTP/1.1 200 OK\r\n"

HOSTILE = [
    (b"SSH-2.0-OpenSSH_9.6\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 200 OK", "ended inside its status line"),
    (b"HTTP/1.1 200 " + b"x" * (MAX_LINE + 10) + b"\r\n\r\n", "longer than 65,536 bytes"),
    (OK + b"X: " + b"y" * (MAX_LINE + 10) + b"\r\n\r\n", "longer than 65,536 bytes"),
    (OK + b"X-A: 1\r\n" * (MAX_HEADERS + 1) + b"\r\n", "more than 100 header fields"),
    (OK + b"Content-Type: x\r\n", "ended inside its header fields"),
    (OK + b"no colon here\r\n\r\n", "malformed header line"),
    (OK + b"Bad Name: x\r\n\r\n", "malformed header line"),
    (OK + b": empty name\r\n\r\n", "malformed header line"),
    (OK + b" folded first\r\n\r\n", "continuation line before any field"),
    (OK + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "several Content-Length"),
    (OK + b"Content-Length: -5\r\n\r\n", "bad Content-Length"),
    (OK + b"Content-Length: +5\r\n\r\n", "bad Content-Length"),
    (OK + b"Content-Length: 0x10\r\n\r\n", "bad Content-Length"),
    (OK + b"Content-Length: 1_000\r\n\r\n", "bad Content-Length"),
    (OK + b"Content-Length: 10\r\n\r\nshort", "ended early: 5 of 10 bytes"),
    (OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n", "unsupported transfer encoding"),
    (OK + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "unsupported"),
    (OK + b"Transfer-Encoding: identity\r\n\r\n", "unsupported transfer encoding"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", "bad chunk size"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", "bad chunk size"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n\r\n", "bad chunk size"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * 17 + b"\r\n", "chunk length too large"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", "no CRLF after a chunk"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhel", "ended early: 3 of 5 bytes"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "ended inside a chunk size"),
    (OK + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", "ended inside its trailer"),
    (b"HTTP/1.1 100 Continue\r\n\r\n" * 11, "more than 10 interim"),
]


@pytest.mark.parametrize(("raw", "problem"), HOSTILE, ids=[p for _, p in HOSTILE])
def test_a_hostile_answer_is_one_error_naming_the_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(WireError, match=problem) as e:
        parse(raw)
    assert len(str(e.value)) < 120  # a line, not the server's megabytes


# --------------------------------------------------------------------------- requests


def test_a_request_is_one_buffer_with_host_length_and_identity_encoding() -> None:
    raw = request_bytes("POST", "/api/show", "h:11434", [("Accept", "application/json")], b"{}")
    assert raw == (
        b"POST /api/show HTTP/1.1\r\nHost: h:11434\r\nAccept: application/json\r\n"
        b"Accept-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}"
    )
    assert request_bytes("GET", "/x", "h", [], None).endswith(b"identity\r\n\r\n")


def test_a_target_is_percent_encoded_where_it_is_not_printable_ascii() -> None:
    raw = request_bytes("GET", "/ollamá pfad/api/tags?\x01", "h", [], None)
    assert raw.startswith(b"GET /ollam%C3%A1%20pfad/api/tags?%01 HTTP/1.1\r\n")


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "a\nb", "a\0b"])
def test_a_header_value_that_would_inject_a_header_is_refused_without_showing_it(
    bad: str,
) -> None:
    with pytest.raises(ValueError, match="Authorization header value holds") as e:
        request_bytes("GET", "/", "h", [("Authorization", f"Bearer {bad}")], None)
    assert "Injected" not in str(e.value)
