"""CTX201 agent_window_exceeds_served: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import binding, model, run

from ctxfix import records
from ctxfix.world import World


def test_ctx201_window_above_served_is_error():
    m = model(num_ctx=None, served=4096, served_source="default", relies=True)
    (f,) = run("CTX201", World(models=[m], bindings=[binding(m)]))
    assert f.severity == "error"
    assert "131,072" in f.message and "4,096" in f.message
    assert f.location.line == 10


def _ctx201(version: str | None, arch: str | None = None) -> str:
    from ctxfix.facts import Geometry

    m = model(num_ctx=None, served=4096, served_source="default", relies=True)
    m = records.replace(m, server_version=version, geometry=Geometry(arch=arch) if arch else None)
    (f,) = run("CTX201", World(models=[m], bindings=[binding(m)]))
    return f.message


def test_ctx201_says_what_the_user_will_see() -> None:
    assert "silently cut to the last 4,096" in _ctx201("0.12.3")
    assert "silently cut to about half the window (2,050 tokens" in _ctx201("0.31.0")
    refused = _ctx201("0.31.0", arch="deepseek2")
    assert "fail with HTTP 400" in refused and "longer than the context length" in refused
    assert "the server version is unknown" in _ctx201(None)
