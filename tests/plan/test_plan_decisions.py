"""Plan decisions that are easy to get subtly wrong: names, shared keys, hosts, --name."""

from __future__ import annotations

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.plan import FileEdit, _dedupe, parse_names
from ctxfix.plan.bindings import reachable as _reachable
from ctxfix.plan.refs import split_ref as _split_ref


def test_reference_keeps_its_provider_prefix() -> None:
    assert _split_ref("ollama/qwen3-coder:30b-v-128k", "qwen3-coder:30b-v-128k") == (
        "ollama/",
        "qwen3-coder:30b-v-128k",
    )
    assert _split_ref("gpu-box/llama3.3:70b", "llama3.3:70b") == ("gpu-box/", "llama3.3:70b")
    assert _split_ref("anthropic/claude-sonnet-4-5", "llama3.3:70b") is None


def _edit(new: int, code: str = "CTX202", old: int = 4096) -> FileEdit:
    return FileEdit("a.json", "json", ("ctx",), None, old, new, (code,), "")


def test_shared_window_takes_the_smallest_served_and_shared_timeout_the_largest() -> None:
    assert [e.new for e in _dedupe([_edit(262144), _edit(131072)])] == [131072]
    assert [e.new for e in _dedupe([_edit(300, "CTX301", 100), _edit(820, "CTX301", 100)])] == [820]
    assert _dedupe([_edit(4096)]) == []  # already the value: no edit


def test_remote_hosts_are_not_the_local_server() -> None:
    assert _reachable("http://127.0.0.1:11434", ("http://localhost:5000",))
    assert not _reachable("http://gpu-box:11434", ("http://127.0.0.1:11434",))
    assert not _reachable("http://gpu-box:11434", (None,))
    assert _reachable(None, (None,))


def test_name_overrides() -> None:
    assert parse_names(["Qwen3-Coder:30b-v-128k=coder:big"]) == {
        "qwen3-coder:30b-v-128k": "coder:big"
    }
    with pytest.raises(CtxfixError, match="expected OLD=NEW"):
        parse_names(["nonsense"])
