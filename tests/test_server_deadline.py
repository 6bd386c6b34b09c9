"""`--server-timeout` is an overall deadline per host, not a per-read timeout.

Regression (issue 11): a server that trickles one byte every 0.2 s never
trips a per-read timeout, and kept `scan` running past 120 s with
`--server-timeout 1`. A real TCP server on 127.0.0.1 does exactly that here.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from test_apply_demo import run_cli


@pytest.fixture
def slowloris() -> Iterator[str]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                while not stop.is_set():  # headers that never end, one byte at a time
                    conn.sendall(b"X")
                    time.sleep(0.2)
            except OSError:
                return

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join(2)
    srv.close()


def test_a_trickling_server_costs_at_most_its_deadline(slowloris: str, tmp_path, capsys) -> None:
    t0 = time.monotonic()
    code, out, err = run_cli(
        capsys,
        "scan",
        "--host",
        slowloris,
        "--server-timeout",
        "1",
        "--no-user",
        "--no-store",
        str(tmp_path),
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 4, f"took {elapsed:.1f} s"
    assert code == 0, out + err
    assert "within 1 s (--server-timeout)" in err


def test_a_huge_answer_is_cut_at_the_size_bound(monkeypatch, tmp_path, capsys) -> None:
    """A server that answers /api/tags with more than the bound: one warning, no 2 GB."""
    from ctxfix import ollama_http

    monkeypatch.setattr(ollama_http, "MAX_BYTES", 64 * 1024)  # the real bound is 256 MiB
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    body = b'{"models": [' + b'{"name": "x"},' * 20000 + b'{"name": "y"}]}'

    def serve() -> None:
        srv.settimeout(5)
        for _ in range(8):
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{srv.getsockname()[1]}"
    code, out, err = run_cli(
        capsys, "scan", "--host", url, "--no-user", "--no-store", str(tmp_path)
    )
    srv.close()
    assert code == 0, out + err
    assert "more than 65,536 bytes" in err
