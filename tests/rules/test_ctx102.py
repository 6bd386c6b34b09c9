"""CTX102 label_mismatch: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import model, run

from ctxfix.world import World


def test_ctx102_label_advertises_cap():
    (f,) = run("CTX102", World(models=[model(label="v-128k")]))
    assert "v-128k" in f.message and "262,144" in f.message


def test_ctx102_silent_when_label_matches_native():
    m = model(name="qwen3-coder:30b-256k", num_ctx=262144, label="256k")
    assert run("CTX102", World(models=[m])) == []
