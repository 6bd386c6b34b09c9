"""What a prompt longer than the served window becomes, per Ollama version.

`context_shift_prompt_limit` is ported from github:ollama/ollama
llm/llama_server_test.go `TestContextShiftPromptLimit` (v0.33.0-rc2), each row
named as upstream names it. The version boundaries come from the same repo:
the Go runners before v0.30.0, llm/llama_server.go at v0.30.0 (cut to
num_ctx - 1) and from v0.30.9 (about half with context shift, HTTP 400
without), server/sched.go `supportsContextShift` (deepseek2 has none).
"""

from __future__ import annotations

import pytest

from ctxfix.policy.truncation import (
    Outcome,
    context_shift_prompt_limit,
    is_deepseek2,
    truncation,
)


@pytest.mark.parametrize(
    ("num_ctx", "num_keep", "want"),
    [
        pytest.param(8, 3, 6, id="small context reserves half after keep"),
        pytest.param(4096, 4, 2050, id="issue 16618 context preserves generation headroom"),
        pytest.param(4096, 5, 2051, id="issue 16618 with implicit BOS keep"),
        pytest.param(8, 99, 7, id="keep is clamped below context"),
        pytest.param(8, -1, 4, id="negative keep is treated as zero"),
        pytest.param(1, 0, 0, id="invalid context has no prompt budget"),
    ],
)
def test_context_shift_prompt_limit_upstream_table(num_ctx: int, num_keep: int, want: int) -> None:
    assert context_shift_prompt_limit(num_ctx, num_keep) == want


@pytest.mark.parametrize(
    ("version", "shift", "outcome", "over", "kept"),
    [
        ("0.12.3", True, Outcome.CUT_TO_WINDOW, 4096, 4096),  # Go runner: cut to num_ctx
        ("0.29.9", False, Outcome.CUT_TO_WINDOW, 4096, 4096),  # no 400 before llama-server
        ("0.30.0", True, Outcome.CUT_TO_WINDOW, 4095, 4095),  # llama-server: one of headroom
        ("0.30.8", False, Outcome.CUT_TO_WINDOW, 4095, 4095),
        ("0.30.9", True, Outcome.CUT_TO_HALF, 4095, 2050),  # contextShiftPromptLimit
        ("0.30.9", False, Outcome.REFUSED, 4095, 0),  # HTTP 400
        ("0.33.0-rc2", True, Outcome.CUT_TO_HALF, 4095, 2050),
        (None, True, Outcome.CUT_TO_HALF, 4095, 2050),  # unknown: the current release
    ],
)
def test_each_version_boundary(version, shift, outcome, over, kept) -> None:
    t = truncation(version, 4096, no_context_shift=not shift)
    assert (t.outcome, t.over, t.kept) == (outcome, over, kept)
    assert t.assumed is (version is None)


def test_only_deepseek2_runs_without_context_shift() -> None:
    assert is_deepseek2("deepseek2")
    assert is_deepseek2(None, {"family": "deepseek2"})
    assert is_deepseek2("llama", {"families": ["deepseek2"]})
    assert not is_deepseek2("qwen3moe", {"family": "qwen3moe"})
