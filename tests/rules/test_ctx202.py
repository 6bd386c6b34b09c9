"""CTX202 agent_window_below_native: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import binding, model, run

from ctxfix.world import World


def test_ctx202_motivating_case():
    m = model()
    (f,) = run("CTX202", World(models=[m], bindings=[binding(m)]))
    assert "131,072" in f.message and "262,144" in f.message and "50%" in f.message
    assert run("CTX201", World(models=[m], bindings=[binding(m)])) == []
