"""CTX104 num_ctx_unset: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import model, run

from ctxfix.world import World


def test_ctx104_states_the_default_and_why():
    m = model(num_ctx=None, served=4096, served_source="default", relies=True)
    (f,) = run("CTX104", World(models=[m]))
    assert "4,096" in f.message and "262,144" in f.message
    assert "0.6.7" in f.message
    assert f.data["default"] == 4096


def test_ctx104_silent_when_env_applies_or_num_ctx_set():
    env_model = model(num_ctx=None, served=8192, served_source="env", relies=True)
    assert run("CTX104", World(models=[env_model])) == []
    assert run("CTX104", World(models=[model()])) == []
