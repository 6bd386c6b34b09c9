"""CTX101 num_ctx_below_native: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import model, run

from ctxfix.settings import Settings
from ctxfix.world import World


def test_ctx101_fires_below_native_with_percentage():
    (f,) = run("CTX101", World(models=[model()]))
    assert f.message == (
        "num_ctx 131,072 caps qwen3-coder:30b-v-128k at 50% of its native 262,144 (gguf)"
    )
    assert f.data["current"] == 131072 and f.data["native"] == 262144
    assert f.data["target"] == 262144


def test_ctx101_silent_at_native_and_without_native():
    assert run("CTX101", World(models=[model(num_ctx=262144)])) == []
    assert run("CTX101", World(models=[model(native=None)])) == []


def test_ctx101_target_ctx_setting_wins():
    world = World(models=[model()], settings=Settings(target_ctx=200704))
    (f,) = run("CTX101", world)
    assert f.data["target"] == 200704
