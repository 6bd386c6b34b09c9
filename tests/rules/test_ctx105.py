"""CTX105 num_ctx_invalid: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import model, run

from ctxfix.world import World


def test_ctx105_reports_go_exponent_and_meaning():
    m = model(num_ctx=None, invalid="1e+06", served=4096, served_source="default", relies=True)
    (f,) = run("CTX105", World(models=[m]))
    assert "'1e+06'" in f.message and "1,000,000" in f.message
    assert f.location.line == 3
    assert f.data["target"] == 1000000
    # an invalid value is not also reported as unset
    assert run("CTX104", World(models=[m])) == []
