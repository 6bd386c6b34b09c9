"""CTX203 agent_model_missing: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import binding, run

from ctxfix.world import World


def test_ctx203_only_when_something_was_scanned():
    b = binding(None)
    assert run("CTX203", World(bindings=[b])) == []
    (f,) = run(
        "CTX203", World(bindings=[b], known_models=["qwen3-coder:30b-v-128k-x", "llama3.1:8b"])
    )
    assert "qwen3-coder:30b-v-128k-x" in f.message
