"""OLLAMA_* values as github:ollama/ollama envconfig/config.go reads them (Var, Uint,
BoolWithDefault), and a scan that no longer believes an invalid one."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_apply_demo import run_cli

from ctxfix.policy.envconfig import bool_with_default, uint, var


@pytest.mark.parametrize(
    ("raw", "value", "valid"),
    [
        ("8192", 8192, True),
        ("  8192\n", 8192, True),
        ("'8192'", 8192, True),
        ('"8192"', 8192, True),
        ("-1", 0, False),
        ("+8192", 0, False),
        ("8_192", 0, False),
        ("' 8192 '", 0, False),
        ("8192.0", 0, False),
        ("18446744073709551616", 0, False),  # 2^64: ParseUint overflows
        ("", 0, True),
    ],
)
def test_uint(raw: str, value: int, valid: bool) -> None:
    n, problem = uint(raw, 0)
    assert n == value and (problem is None) is valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("T", True),
        ("0", False),
        ("False", False),
        ("off", True),
        ("yes", True),
        ("", None),
    ],
)
def test_bool_with_default(raw: str, expected: bool | None) -> None:
    assert bool_with_default(raw, None) is expected


def test_var_trims_space_then_quotes() -> None:
    assert var("  \"'value'\"  ") == "value"
    assert var("' a b '") == " a b "


def test_an_invalid_context_length_is_not_served(tmp_path: Path, capsys) -> None:
    """OLLAMA_CONTEXT_LENGTH=-1 made ctxfix say "served -1" and warn CTX303."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  ollama:\n    image: ollama/ollama:0.12.3\n    environment:\n"
        "      - OLLAMA_CONTEXT_LENGTH=-1\n"
    )
    (tmp_path / "Modelfile").write_text("FROM qwen3-coder:30b\n")
    _code, out, err = run_cli(
        capsys, "scan", "--no-server", "--no-user", "--no-store", "--isolated", str(tmp_path)
    )
    assert "OLLAMA_CONTEXT_LENGTH: '-1' is not an unsigned integer" in err
    assert "CTX303" not in out and "-1 (env)" not in out
    assert "4,096 (default)" in out  # the server's default applies, as Ollama does
