"""`ctxfix rules`, `ctxfix explain CODE` and shell completion, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ctxfix import rules


def _ctxfix(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctxfix", *args],
        env=dict(os.environ, **(env or {})),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_explain_ctx101_prints_the_rule_documentation() -> None:
    proc = _ctxfix("explain", "CTX101")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "CTX101 num-ctx-below-native (warning): num_ctx is set below the model's native context."
    )
    for section in ("What it finds", "Why it matters", "Example that fails", "Fix"):
        assert section in lines
    assert "PARAMETER num_ctx 131072" in proc.stdout


@pytest.mark.parametrize("spelling", ["ctx202", "202", " CTX202 "])
def test_explain_accepts_lowercase_and_bare_numbers(spelling: str) -> None:
    proc = _ctxfix("explain", spelling)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CTX202 agent-window-below-native ")


def test_unknown_code_exits_2_with_one_line() -> None:
    proc = _ctxfix("explain", "CTX999")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "ctxfix: error: unknown rule code 'CTX999' (see `ctxfix rules`)\n"


def test_rules_lists_every_code_with_name_and_severity() -> None:
    proc = _ctxfix("rules")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "finds"]
    listed = {line.split()[0]: line.split()[1:3] for line in lines[1:] if line.startswith("CTX")}
    expected = {m.CODE: [m.NAME, m.SEVERITY] for m in rules.available()}
    assert listed == expected
    assert len(expected) >= 12


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "#compdef ctxfix"), ("fish", "complete ")],
)
def test_shell_completion_scripts(shell: str, marker: str) -> None:
    proc = _ctxfix(env={"_CTXFIX_COMPLETE": f"{shell}_source"})
    assert proc.returncode == 0, proc.stderr
    assert marker in proc.stdout
    assert "_CTXFIX_COMPLETE" in proc.stdout


def test_bash_completion_completes_subcommands() -> None:
    proc = _ctxfix(
        env={"_CTXFIX_COMPLETE": "bash_complete", "COMP_WORDS": "ctxfix ex", "COMP_CWORD": "1"}
    )
    assert proc.returncode == 0, proc.stderr
    assert "plain,explain" in proc.stdout.splitlines()
