"""CTX302 context-exceeds-memory on resolved worlds (the demo model at several budgets)."""

from __future__ import annotations

from geometries import QWEN3_CODER

from ctxfix.facts import EnvValue, Location, ModelDef, ServerEnv, Sourced
from ctxfix.rules import context_exceeds_memory as ctx302
from ctxfix.settings import Settings
from ctxfix.world import ResolvedModel, World

GIB = 1024**3
WEIGHTS = 18_600_000_000


def model(num_ctx: int | None, *, weights: int | None = WEIGHTS) -> ResolvedModel:
    loc = Location("Modelfile", line=2)
    d = ModelDef(
        name="qwen3-coder:30b-262k",
        origin="modelfile",
        location=loc,
        num_ctx=Sourced(num_ctx, "modelfile", loc) if num_ctx else None,
        geometry=QWEN3_CODER,
        weights_bytes=weights,
    )
    served = Sourced(num_ctx or 4096, "modelfile" if num_ctx else "default")
    return ResolvedModel(
        definition=d,
        native_ctx=Sourced(262144, "gguf"),
        served_ctx=served,
        label_ctx=None,
        label_text=None,
        geometry=QWEN3_CODER,
        kv_bytes_per_token=96 * 1024,
    )


def findings(m: ResolvedModel, env: dict[str, str] | None = None, **settings):
    values = {k: EnvValue(k, v, Location("env")) for k, v in (env or {}).items()}
    w = World(models=[m], settings=Settings(**settings), env=ServerEnv(values))
    return list(ctx302.check(w))


def test_module_contract() -> None:
    assert (ctx302.CODE, ctx302.NAME, ctx302.SEVERITY) == (
        "CTX302",
        "context-exceeds-memory",
        "error",
    )
    assert "Example that fails" in ctx302.__doc__ and "\nFix\n" in ctx302.__doc__


def test_silent_without_a_budget() -> None:
    assert findings(model(262144)) == []


def test_silent_when_it_fits() -> None:
    assert findings(model(262144), memory_bytes=64 * GIB) == []


def test_served_context_that_does_not_fit_is_an_error_with_the_arithmetic() -> None:
    (f,) = findings(model(262144), memory_bytes=32 * GIB)
    assert f.severity == "error"
    assert f.message == (
        "weights 17.3 GiB + KV 24.0 GiB (262,144 tokens x 1) + overhead 0.4 GiB"
        " = 41.7 GiB > budget 32.0 GiB; 156,672 fits"
    )
    assert f.data["current"] == 262144
    assert f.data["served"] == 262144
    assert f.data["native"] == 262144
    assert f.data["target"] == 156672
    assert f.data["max_fitting_ctx"] == 156672
    assert f.data["budget_bytes"] == 32 * GIB
    assert f.data["total_bytes"] == WEIGHTS + 24 * GIB + 370 * 1024**2
    assert f.location == Location("Modelfile", line=2)
    assert "OLLAMA_KV_CACHE_TYPE=q8_0" in f.data["advice"]  # the fix line comes from the plan


def test_native_target_that_does_not_fit_is_reported_for_the_fix() -> None:
    (f,) = findings(model(131072), memory_bytes=32 * GIB)
    assert f.severity == "info"
    assert f.message.startswith("native 262,144 does not fit 32.0 GiB; 156,672 does (weights")
    assert (f.data["current"], f.data["target"]) == (131072, 156672)


def test_parallel_from_server_env_doubles_the_cache() -> None:
    assert findings(model(262144), memory_bytes=48 * GIB) == []
    (f,) = findings(model(262144), {"OLLAMA_NUM_PARALLEL": "2"}, memory_bytes=48 * GIB)
    assert f.severity == "error"
    assert "KV 48.0 GiB (262,144 tokens x 2)" in f.message
    assert f.data["parallel"] == 2


def test_q8_0_cache_fits_where_f16_does_not() -> None:
    assert findings(model(262144), memory_bytes=32 * GIB, kv_cache_type="q8_0") == []
    (f,) = findings(
        model(262144),
        {"OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_FLASH_ATTENTION": "0"},
        memory_bytes=32 * GIB,
    )
    assert f.data["kv_cache_type"] == "f16"  # no flash attention: Ollama falls back


def test_weights_alone_too_big() -> None:
    (f,) = findings(model(8192, weights=40 * GIB), memory_bytes=32 * GIB)
    assert f.message.endswith("the weights alone do not fit")
    assert f.data["target"] is None


def test_unknown_weights_stay_silent() -> None:
    assert findings(model(262144, weights=None), memory_bytes=8 * GIB) == []


def test_fit_for_model_gives_the_planner_its_target() -> None:
    from ctxfix.policy.fit import fit_for_model

    fit = fit_for_model(model(131072), Settings(memory_bytes=32 * GIB))
    assert fit is not None
    assert fit.target(262144) == 156672
    assert fit.target(65536) == 65536
