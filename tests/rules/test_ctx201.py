"""CTX201 agent_window_exceeds_served: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import binding, model, run

from ctxfix.world import World


def test_ctx201_window_above_served_is_error():
    m = model(num_ctx=None, served=4096, served_source="default", relies=True)
    (f,) = run("CTX201", World(models=[m], bindings=[binding(m)]))
    assert f.severity == "error"
    assert "131,072" in f.message and "4,096" in f.message
    assert f.location.line == 10
