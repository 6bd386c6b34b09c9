"""One `is_local` and one `same_host` (issue 10: three loopback checks disagreed)."""

from __future__ import annotations

import pytest

from ctxfix.policy.hosts import base_url, is_local, same_host


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:11434", True),
        ("http://localhost:11434", True),
        ("127.0.0.2:11434", True),
        ("http://[::1]:11434", True),
        ("http://192.168.1.20:11434", False),
        ("https://ollama.example.com", False),
    ],
)
def test_is_local(url: str, local: bool) -> None:
    assert is_local(url) is local


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://127.0.0.1:11434", "http://localhost:11434", True),
        ("http://localhost:11434/v1", "http://127.0.0.1:11434", True),
        ("http://0.0.0.0:11434", "http://127.0.0.1:5000", True),  # one local server
        ("http://gpu-box:11434", "http://GPU-BOX:11434/api", True),
        ("http://gpu-box:11434", "gpu-box", True),  # default port
        ("http://gpu-box:11434", "http://gpu-box:11435", False),
        ("http://gpu-box:11434", "http://127.0.0.1:11434", False),
        ("https://ollama.com", "https://ollama.com:443", True),
    ],
)
def test_same_host(a: str, b: str, same: bool) -> None:
    assert same_host(a, b) is same
    assert same_host(b, a) is same


def test_base_url_drops_the_api_suffix() -> None:
    assert base_url("http://gpu-box:11434/v1/") == "http://gpu-box:11434"
    assert base_url("http://gpu-box:11434/api") == "http://gpu-box:11434"
