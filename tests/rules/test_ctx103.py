"""CTX103 num_ctx_above_native: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import model, run

from ctxfix.world import World


def test_ctx103_above_native():
    (f,) = run("CTX103", World(models=[model(num_ctx=524288)]))
    assert "above" in f.message and f.data["target"] == 262144
    assert run("CTX103", World(models=[model()])) == []
