"""Ollama's own envconfig tables, run against `ctxfix.policy.envconfig`.

Ported from github:ollama/ollama `envconfig/config_test.go` at v0.33.0-rc2
(`TestHost` lives in test_envconfig_host.py). Each test names the Go test it
ports. Left out, because ctxfix reads none of these variables:
`TestOrigins` (OLLAMA_ORIGINS), `TestKeepAlive` (OLLAMA_KEEP_ALIVE),
`TestLoadTimeout` (OLLAMA_LOAD_TIMEOUT), `TestLogLevel` (OLLAMA_DEBUG) and
`TestNoCloud` (OLLAMA_NO_CLOUD, ~/.ollama/server.json).
"""

from __future__ import annotations

import pytest

from ctxfix.policy.envconfig import bool_with_default, connectable, host, uint, var

# TestConnectableHost: OLLAMA_HOST -> envconfig.ConnectableHost().String()
CONNECTABLE = {
    "empty": ("", "http://127.0.0.1:11434"),
    "localhost": ("127.0.0.1", "http://127.0.0.1:11434"),
    "localhost and port": ("127.0.0.1:1234", "http://127.0.0.1:1234"),
    "ipv4 unspecified": ("0.0.0.0", "http://127.0.0.1:11434"),
    "ipv4 unspecified + port": ("0.0.0.0:1234", "http://127.0.0.1:1234"),
    "ipv6 unspecified": ("[::]", "http://[::1]:11434"),
    "ipv6 unspecified + port": ("[::]:1234", "http://[::1]:1234"),
    "ipv6 localhost": ("[::1]", "http://[::1]:11434"),
    "ipv6 localhost + port": ("[::1]:1234", "http://[::1]:1234"),
    "specific address": ("192.168.1.5", "http://192.168.1.5:11434"),
    "specific address + port": ("192.168.1.5:8080", "http://192.168.1.5:8080"),
    "hostname": ("example.com", "http://example.com:11434"),
    "hostname and port": ("example.com:1234", "http://example.com:1234"),
    "https unspecified + port": ("https://0.0.0.0:4321", "https://127.0.0.1:4321"),
}


@pytest.mark.parametrize("name", sorted(CONNECTABLE))
def test_connectable_host(name: str) -> None:
    """TestConnectableHost."""
    value, expect = CONNECTABLE[name]
    assert connectable(host(value)) == expect


# TestBool: envconfig.Bool (BoolWithDefault(false)); a value ParseBool refuses is true
BOOL = {
    "": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    # invalid values
    "random": True,
    "something": True,
}


@pytest.mark.parametrize("value", sorted(BOOL))
def test_bool(value: str) -> None:
    """TestBool."""
    assert bool_with_default(value, False) is BOOL[value]


# TestUint: envconfig.Uint("OLLAMA_UINT", 11434)
UINT = {
    "0": 0,
    "1": 1,
    "1337": 1337,
    # default values
    "": 11434,
    "-1": 11434,
    "0o10": 11434,
    "0x10": 11434,
    "string": 11434,
}


@pytest.mark.parametrize("value", sorted(UINT))
def test_uint(value: str) -> None:
    """TestUint; a refused value also gets ctxfix's warning naming it."""
    got, problem = uint(value, 11434)
    assert got == UINT[value]
    if value and got == 11434:
        assert problem is not None and repr(value) in problem
    else:
        assert problem is None


# TestVar: envconfig.Var strips outer space, then outer quotes; inner space stays
VAR = {
    "value": "value",
    " value ": "value",
    " 'value' ": "value",
    ' "value" ': "value",
    " ' value ' ": " value ",
    ' " value " ': " value ",
}


@pytest.mark.parametrize("value", sorted(VAR))
def test_var(value: str) -> None:
    """TestVar."""
    assert var(value) == VAR[value]


# TestContextLength: envconfig.ContextLength = Uint("OLLAMA_CONTEXT_LENGTH", 0)
@pytest.mark.parametrize(("value", "want"), [("", 0), ("2048", 2048)])
def test_context_length(value: str, want: int) -> None:
    """TestContextLength."""
    assert uint(value, 0) == (want, None)


# A scan under hostile OLLAMA_* values: never a crash, never exit 2; a value
# envconfig.Uint refuses is named in a warning and the server default applies.
# (ctxfix behaviour built on the tables above; scans run in-process.)
SCAN_CASES = [
    ("OLLAMA_CONTEXT_LENGTH", "-1", "'-1' is not an unsigned integer", "4,096 (default)"),
    ("OLLAMA_CONTEXT_LENGTH", "+8192", "'+8192' is not an unsigned integer", "4,096 (default)"),
    ("OLLAMA_CONTEXT_LENGTH", " '8192' ", None, "8,192 (env)"),
    # Var trims once: the inner spaces stay and ParseUint refuses the value
    ("OLLAMA_CONTEXT_LENGTH", "' 8192 '", "' 8192 ' is not an unsigned", "4,096 (default)"),
    ("OLLAMA_NUM_PARALLEL", "8_192", "default (1)", None),
    ("OLLAMA_GPU_OVERHEAD", "9" * 30, "'" + "9" * 30 + "' is not an unsigned", None),
    ("OLLAMA_FLASH_ATTENTION", "\udcff\udcfe", None, None),
    ("OLLAMA_KV_CACHE_TYPE", '"quoted"', None, None),
    ("OLLAMA_HOST", "::1:99999999999", "no Ollama server at http://[::1:99999999999]:11434", None),
    ("OLLAMA_HOST", "\udcff\udcfe", "not a valid internationalised domain name", None),
    ("OLLAMA_HOST", "http://127.0.0.1:+9", "no Ollama server at http://127.0.0.1:9", None),
]


@pytest.mark.parametrize(
    ("key", "value", "warning", "served"),
    SCAN_CASES,
    ids=[f"{k}={v!r}" for k, v, _w, _s in SCAN_CASES],
)
def test_a_scan_survives_hostile_environment_values(
    key: str, value: str, warning: str | None, served: str | None, tmp_path, monkeypatch, capsys
) -> None:
    from cli_run import DEMO
    from test_apply_demo import run_cli

    monkeypatch.setenv("HOME", str(tmp_path))  # the process env is read; no user configs
    monkeypatch.setenv(key, value)
    server = [] if key == "OLLAMA_HOST" else ["--no-server"]
    code, out, err = run_cli(capsys, "scan", str(DEMO), *server, "--server-timeout", "2")
    assert code == 1, err  # the demo's findings, not a usage error or a crash
    assert "internal error" not in err and "Traceback" not in err
    if warning is not None:
        assert warning in err
    else:
        assert key not in err
    if served is not None:  # qwen3-coder:30b sets no num_ctx: env, else the default
        (row,) = [ln for ln in out.splitlines() if ln.startswith("qwen3-coder:30b ")]
        assert served in row
