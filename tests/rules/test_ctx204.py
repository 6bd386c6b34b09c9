"""CTX204 num_ctx_ignored: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import binding, model, run

from ctxfix.world import World


def test_ctx204_num_ctx_on_v1():
    m = model()
    (f,) = run("CTX204", World(models=[m], bindings=[binding(m, api="openai", num_ctx=65536)]))
    assert "/v1" in f.message and "65,536" in f.message
    assert run("CTX204", World(models=[m], bindings=[binding(m, num_ctx=65536)])) == []
