"""HTTP/1.1 message framing for the scan client: a request out, an answer in.

Why not `http.client`: per answer it builds an `email.message.Message` of the
header fields (email.feedparser) and validates each request header on its own
(`putheader`): ~0.6 ms of CPU per /api/show answer against ~0.25 ms here on
the 2-core reference machine, and importing it (email, ssl) cost ~25 ms of
every scan. A fleet scan reads 230 answers on 60 threads that share one GIL,
so that CPU was the scan's ceiling (issue 15, bench/bench_fleet.py). A scan
sends small GETs and POSTs of JSON and reads JSON back: only RFC 9112's
message framing is needed, which is this module.

How an answer is read follows Go's net/http client, the one Ollama's own CLI
uses (github:golang/go src/net/http/transfer.go `fixTransferEncoding`,
`fixLength`, `parseContentLength`; src/net/http/internal/chunked.go
`parseHexUint`; src/net/textproto/reader.go for header lines):

- a status line `HTTP/1.0` or `HTTP/1.1`, a 3-digit code, an optional reason;
  1xx answers are skipped (at most MAX_INTERIM of them);
- header lines end in CRLF or LF; a continuation line (obs-fold) is joined
  with a space; a line without `:` or a name that is not a token is an error;
- `Transfer-Encoding` must be exactly `chunked` (one field) and overrides
  `Content-Length`; several `Content-Length` fields must agree; a length is
  decimal digits only; a chunk size at most 16 hex digits;
- no body for 1xx, 204, 304 and HEAD; with neither length nor chunking the
  body runs to the connection's close, and the connection is not reused.

Hostile input is bounded: MAX_LINE bytes per line and MAX_HEADERS fields
(http.client's `_MAXLINE` and `_MAXHEADERS`), every byte read (status line,
fields, chunk framing, body) is charged to the caller (`charge`), which
raises when the host's budget is spent, and a body is kept in one buffer.
Reads block on the socket, whose timeout the caller sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import BinaryIO

MAX_LINE = 65536
MAX_HEADERS = 100
MAX_INTERIM = 10
PIECE = 64 * 1024
"""Body bytes read (and charged) at a time."""

_NO_BODY = (204, 304)
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_SAFE_TARGET = bytes(range(0x21, 0x7F))
"""What a request target may hold as is; every other byte is percent-encoded,
as Go's `url.URL.RequestURI` escapes a path (a space becomes %20)."""


class WireError(Exception):
    """The server broke HTTP's framing (the message says how)."""


class Closed(WireError):
    """The connection ended before the first byte of an answer: a stale keep-alive
    connection the server had closed, or a server that hung up on the request."""


class Answer:
    """One final answer: status, header fields (lower-cased names), body."""

    __slots__ = ("body", "fields", "keep_alive", "reason", "status")

    def __init__(
        self, status: int, reason: str, fields: dict[str, str], body: bytes, keep_alive: bool
    ) -> None:
        self.status = status
        self.reason = reason
        self.fields = fields
        self.body = body
        self.keep_alive = keep_alive


# --------------------------------------------------------------------------- requests


def request_bytes(
    method: str,
    target: str,
    host: str,
    fields: Iterable[tuple[str, str]],
    body: bytes | None,
) -> bytes:
    """The whole request as one buffer (one `sendall`, one TCP segment for small ones).

    ValueError for a header value holding CR, LF or NUL (a header injection),
    as http.client's `putheader` and Go's `httpguts.ValidHeaderFieldValue`
    refuse them; the caller says which setting held it, never the value.
    """
    head = [f"{method} {_target(target)} HTTP/1.1", f"Host: {host}"]
    for name, value in fields:
        if "\r" in value or "\n" in value or "\0" in value:
            raise ValueError(f"the {name} header value holds a line break or NUL")
        head.append(f"{name}: {value}")
    head.append("Accept-Encoding: identity")
    if body is not None:
        head.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    return data + body if body else data


def _target(target: str) -> str:
    if target.isascii() and target.isprintable() and " " not in target:
        return target
    import urllib.parse

    return urllib.parse.quote(target, safe=_SAFE_TARGET.decode("ascii"))


# --------------------------------------------------------------------------- answers


def read_head(
    reader: BinaryIO, charge: Callable[[int], None] = lambda n: None
) -> tuple[bytes, int, str, dict[str, str]]:
    """(minor version, status, reason, fields) of the next final answer, 1xx skipped."""
    return _head(_Charged(reader, charge))


def _head(reader: _Charged) -> tuple[bytes, int, str, dict[str, str]]:
    for _ in range(MAX_INTERIM + 1):
        version, status, reason = _status_line(reader)
        fields = _fields(reader)
        if not 100 <= status < 200:  # 100 Continue, 103 Early Hints: the real one follows
            return version, status, reason, fields
    raise WireError(f"more than {MAX_INTERIM} interim (1xx) answers")


def read_answer(reader: BinaryIO, method: str, charge: Callable[[int], None]) -> Answer:
    """The next final answer on `reader` (a buffered socket file), body included.

    Every byte read is passed to `charge`, framing included: a body of
    one-byte chunks costs six bytes of budget per byte, not one.
    """
    counted = _Charged(reader, charge)
    version, status, reason, fields = _head(counted)
    keep_alive = _keep_alive(version, fields.get("connection", ""))
    if method == "HEAD" or status in _NO_BODY:
        return Answer(status, reason, fields, b"", keep_alive)
    te = fields.get("transfer-encoding")
    if version == b"0":  # ignored in HTTP/1.0 (Go), but such a connection is not reused
        te, keep_alive = None, keep_alive and te is None
    if te is not None:
        if te.strip(" \t").lower() != "chunked":  # one field, exactly `chunked`
            raise WireError(f"unsupported transfer encoding {te[:40]!r}")
        body = _chunked(counted)
    elif (length := _content_length(fields.get("content-length"))) is not None:
        body = bytes(_exactly(counted, length, bytearray()))
    else:
        body, keep_alive = _to_close(counted), False
    return Answer(status, reason, fields, body, keep_alive)


class _Charged:
    """A reader that reports every byte it returns to `charge` (the host's budget)."""

    __slots__ = ("_charge", "_reader")

    def __init__(self, reader: BinaryIO, charge: Callable[[int], None]) -> None:
        self._reader = reader
        self._charge = charge

    def readline(self, limit: int) -> bytes:
        line = self._reader.readline(limit)
        self._charge(len(line))
        return line

    def read(self, n: int) -> bytes:
        data = self._reader.read(n)
        self._charge(len(data))
        return data

    def read1(self, n: int) -> bytes:
        data = self._reader.read1(n)  # type: ignore[attr-defined]
        self._charge(len(data))
        return data


def _keep_alive(minor: bytes, connection: str) -> bool:
    """Go's `shouldClose`, inverted: 1.1 unless `close`, 1.0 only with `keep-alive`."""
    tokens = {t.strip(" \t").lower() for t in connection.replace("\n", ",").split(",")}
    if "close" in tokens:
        return False
    return minor == b"1" or "keep-alive" in tokens


def _line(reader: _Charged) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise WireError(f"a header line longer than {MAX_LINE:,} bytes")
    return line


def _status_line(reader: _Charged) -> tuple[bytes, int, str]:
    line = _line(reader)
    if not line:
        raise Closed("the server closed the connection without answering")
    if not line.endswith(b"\n"):
        raise WireError("the answer ended inside its status line")
    parts = line.rstrip(b"\r\n").split(b" ", 2)
    code = parts[1] if len(parts) > 1 else b""
    if parts[0] not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        shown = line[:40].decode("latin-1").rstrip()
        raise WireError(f"not an HTTP/1.x status line: {shown!r}")
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    return parts[0][-1:], int(code), reason


def _fields(reader: _Charged) -> dict[str, str]:
    """Header fields up to the blank line; repeated names are joined with `\\n`."""
    fields: dict[str, str] = {}
    last: str | None = None
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in (b"\r\n", b"\n"):
            return fields
        if not line.endswith(b"\n"):
            raise WireError("the answer ended inside its header fields")
        text = line.rstrip(b"\r\n")
        if text[:1] in (b" ", b"\t"):  # obs-fold: continues the previous field
            if last is None:
                raise WireError("a header continuation line before any field")
            fields[last] += " " + text.strip(b" \t").decode("latin-1")
            continue
        name, colon, value = text.partition(b":")
        if not colon or not name or not _TOKEN.issuperset(name):
            raise WireError(f"malformed header line {text[:40].decode('latin-1')!r}")
        key = name.decode("ascii").lower()
        val = value.strip(b" \t").decode("latin-1")
        fields[key] = f"{fields[key]}\n{val}" if key in fields else val
        last = key
    raise WireError(f"more than {MAX_HEADERS} header fields")


def _content_length(raw: str | None) -> int | None:
    if raw is None:
        return None
    values = {v.strip() for v in raw.split("\n")}
    if len(values) != 1:
        raise WireError("the answer has several Content-Length fields that differ")
    value = values.pop()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise WireError(f"bad Content-Length {value[:40]!r}")
    return int(value)


def _exactly(reader: _Charged, n: int, into: bytearray) -> bytearray:
    """`n` more bytes appended to `into` (one buffer: no object per chunk)."""
    left = n
    while left:
        piece = reader.read(min(left, PIECE))
        if not piece:
            raise WireError(f"the answer ended early: {n - left:,} of {n:,} bytes")
        into += piece
        left -= len(piece)
    return into


def _chunked(reader: _Charged) -> bytes:
    body = bytearray()
    while True:
        line = _line(reader)
        if not line.endswith(b"\n"):
            raise WireError("the answer ended inside a chunk size line")
        size = line.rstrip(b"\r\n").split(b";", 1)[0].strip(b" \t")
        if not size or not _HEX.issuperset(size):
            raise WireError(f"bad chunk size {size[:20].decode('latin-1')!r}")
        if len(size) > 16:
            raise WireError("chunk length too large")
        n = int(size, 16)
        if n == 0:
            break
        _exactly(reader, n, body)
        if reader.read(2) != b"\r\n":
            raise WireError("malformed chunked encoding (no CRLF after a chunk)")
    for _ in range(MAX_HEADERS + 1):  # the trailer section, ignored
        line = _line(reader)
        if line in (b"\r\n", b"\n"):
            return bytes(body)
        if not line.endswith(b"\n"):
            raise WireError("the answer ended inside its trailer")
    raise WireError(f"more than {MAX_HEADERS} trailer fields")


def _to_close(reader: _Charged) -> bytes:
    body = bytearray()
    while piece := reader.read1(PIECE):
        body += piece
    return bytes(body)
