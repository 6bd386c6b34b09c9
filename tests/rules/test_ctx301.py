"""CTX301 timeout_below_prefill: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import binding, model, run

from ctxfix.settings import Settings
from ctxfix.world import World


def test_ctx301_arithmetic_with_rate():
    m = model()
    world = World(models=[m], bindings=[binding(m)], settings=Settings(prefill_tps=400))
    (f,) = run("CTX301", world)
    assert f.message.startswith(
        "prefill of 131,072 tokens at 400 tok/s takes 328 s > timeout 300 s"
    )
    assert f.data["target_timeout_s"] == 410  # 327.68 x 1.25 rounded up


def test_ctx301_without_rate_reports_breakeven_as_info():
    m = model()
    (f,) = run("CTX301", World(models=[m], bindings=[binding(m)]))
    assert f.severity == "info"
    assert "437 tok/s" in f.message


def test_ctx301_silent_when_timeout_covers_prefill():
    m = model()
    world = World(
        models=[m], bindings=[binding(m, timeout=600)], settings=Settings(prefill_tps=400)
    )
    assert run("CTX301", world) == []
