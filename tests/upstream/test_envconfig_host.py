"""Ollama's own `TestHost` table (github:ollama/ollama envconfig/config_test.go,
at fb3076099; unchanged at v0.33.0-rc2), run against `ctxfix.policy.envconfig.host`.
The rest of that file's tables are in test_envconfig_vars.py."""

from __future__ import annotations

import pytest

from ctxfix.policy.envconfig import connectable, host

# name: (OLLAMA_HOST, the URL envconfig.Host() returns)
CASES = {
    "empty": ("", "http://127.0.0.1:11434"),
    "only address": ("1.2.3.4", "http://1.2.3.4:11434"),
    "only port": (":1234", "http://:1234"),
    "address and port": ("1.2.3.4:1234", "http://1.2.3.4:1234"),
    "hostname": ("example.com", "http://example.com:11434"),
    "hostname and port": ("example.com:1234", "http://example.com:1234"),
    "zero port": (":0", "http://:0"),
    "too large port": (":66000", "http://:11434"),
    "too small port": (":-1", "http://:11434"),
    "ipv6 localhost": ("[::1]", "http://[::1]:11434"),
    "ipv6 world open": ("[::]", "http://[::]:11434"),
    "ipv6 no brackets": ("::1", "http://[::1]:11434"),
    "ipv6 + port": ("[::1]:1337", "http://[::1]:1337"),
    "extra space": (" 1.2.3.4 ", "http://1.2.3.4:11434"),
    "extra quotes": ('"1.2.3.4"', "http://1.2.3.4:11434"),
    "extra space+quotes": (' " 1.2.3.4 " ', "http://1.2.3.4:11434"),
    "extra single quotes": ("'1.2.3.4'", "http://1.2.3.4:11434"),
    "http": ("http://1.2.3.4", "http://1.2.3.4:80"),
    "http port": ("http://1.2.3.4:4321", "http://1.2.3.4:4321"),
    "https": ("https://1.2.3.4", "https://1.2.3.4:443"),
    "https port": ("https://1.2.3.4:4321", "https://1.2.3.4:4321"),
    "proxy path": ("https://example.com/ollama", "https://example.com:443/ollama"),
    "ollama.com": ("ollama.com", "https://ollama.com:443"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_host(name: str) -> None:
    value, expect = CASES[name]
    assert host(value) == expect


def test_an_empty_host_is_dialled_on_this_machine() -> None:
    assert connectable("http://:1234") == "http://127.0.0.1:1234"
    assert connectable("http://[::1]:11434") == "http://[::1]:11434"


def test_a_value_no_parser_accepts_still_names_a_server() -> None:
    assert host("http://[::1") == "http://[::1]:80"  # never raises, like the Go code


@pytest.mark.parametrize(
    ("url", "dialled"),
    [
        ("http://0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("http://[::]:11434", "http://[::1]:11434"),
        ("http://10.0.0.5:11434", "http://10.0.0.5:11434"),
    ],
)
def test_connectable_host_dials_loopback_for_bind_all(url: str, dialled: str) -> None:
    """envconfig.ConnectableHost: an unspecified address is dialled on loopback."""
    assert connectable(url) == dialled


@pytest.mark.parametrize(
    ("value", "url", "dialled"),
    [
        ("http://127.0.0.1:+9", "http://127.0.0.1:+9", "http://127.0.0.1:9"),
        (":99999999999", "http://:11434", "http://127.0.0.1:11434"),
        ("\u3000 1.2.3.4 \u3000", "http://1.2.3.4:11434", "http://1.2.3.4:11434"),
    ],
    ids=["signed-port", "port-over-int32", "unicode-space"],
)
def test_host_follows_go_parsing_beyond_the_table(value: str, url: str, dialled: str) -> None:
    """strconv.ParseInt(port, 10, 32) takes a sign and keeps the text; net.Dial reads
    `+9` as 9; strings.TrimSpace trims every unicode.IsSpace rune."""
    assert host(value) == url
    assert connectable(url) == dialled
