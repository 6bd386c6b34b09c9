"""The target a model should serve (`Target(value, reason)`) and who uses it.

Worlds are built through `resolve()`, as the pipeline builds them, so the
policy sees real served/native contexts with their sources.
"""

from __future__ import annotations

from geometries import QWEN3_CODER as QWEN

from ctxfix.errors import Warning_
from ctxfix.facts import AgentBinding, Location, ModelDef, ServerEnv, Sourced
from ctxfix.policy.target import TargetReason, target_for
from ctxfix.policy.timeout import needed_timeout_s, too_short, window_of
from ctxfix.policy.usage import Role, successor_name, usage
from ctxfix.resolve import resolve
from ctxfix.settings import Settings

GIB = 1024**3


def stored(name: str, num_ctx: int | None) -> ModelDef:
    loc = Location(f"store/manifests/registry.ollama.ai/library/{name.replace(':', '/')}")
    return ModelDef(
        name=name,
        origin="store",
        location=loc,
        num_ctx=Sourced(num_ctx, "params", loc) if num_ctx else None,
        geometry=QWEN,
        weights_bytes=18_600_000_000,
    )


def agent(model: str, api: str = "openai") -> AgentBinding:
    return AgentBinding(
        agent="opencode",
        file="opencode.json",
        model_ref=Sourced(f"ollama/{model}", "agent", Location("opencode.json", 2, 12)),
        model=model,
        api=api,
        context_window=Sourced(131072, "agent", Location("opencode.json", 5, 5)),
        edit_paths={"model_ref": ("model",), "context_window": ("limit",)},
    )


def world(defs, bindings=(), **settings):
    return resolve(
        list(defs), list(bindings), [], ServerEnv(), Settings(**settings), list[Warning_]()
    )


def test_native_when_no_budget() -> None:
    w = world([stored("qwen3-coder:30b-v-128k", 131072)])
    t = target_for(w.models[0], w)
    assert (t.value, t.reason) == (262144, TargetReason.NATIVE)


def test_memory_lowers_the_target_to_what_fits() -> None:
    w = world([stored("qwen3-coder:30b-v-128k", 131072)], memory_bytes=32 * GIB)
    t = target_for(w.models[0], w)
    assert t.reason is TargetReason.MEMORY and t.value % 1024 == 0 and t.value < 262144
    assert "fits the memory budget" in t.describe()


def test_override_and_capped_override() -> None:
    w = world([stored("qwen3-coder:30b", None)], target_ctx=65536)
    assert target_for(w.models[0], w).reason is TargetReason.OVERRIDE
    t = target_for(w.models[0], w, 1_000_000)
    assert (t.value, t.reason) == (262144, TargetReason.CAPPED)


def test_nothing_fits() -> None:
    w = world([stored("qwen3-coder:30b", None)], memory_bytes=8 * GIB)
    t = target_for(w.models[0], w)
    assert (t.value, t.reason) == (None, TargetReason.NOTHING_FITS)


def test_roles() -> None:
    defs = [stored("qwen3-coder:30b", None), stored("qwen3-coder:30b-v-128k", 131072)]
    w = world(defs, [agent("qwen3-coder:30b-v-128k")])
    base, capped = w.models
    assert usage(capped, w, 262144).role is Role.USED
    assert usage(base, w, 262144).role is Role.UNUSED
    # no agent config in view: every model is judged on its own
    alone = world(defs)
    assert usage(alone.models[0], alone, 262144).role is Role.STANDALONE
    # the fixed successor exists and nobody uses the old one: superseded
    w2 = world([*defs, stored("qwen3-coder:30b-262k", 262144)], [agent("qwen3-coder:30b-262k")])
    u = usage(w2.models[1], w2, 262144)
    assert (u.role, u.successor) == (Role.SUPERSEDED, "qwen3-coder:30b-262k")
    assert "`ollama rm qwen3-coder:30b-v-128k`" in u.note("qwen3-coder:30b-v-128k")
    # every user sends its own num_ctx on the native API: the definition is not what is served
    sized = AgentBinding(
        **{**agent("qwen3-coder:30b-v-128k", "native").__dict__, "num_ctx_auto": True}
    )
    w3 = world(defs, [sized])
    assert usage(w3.models[1], w3, 262144).role is Role.REQUEST_SIZED


def test_successor_names() -> None:
    assert successor_name("qwen3-coder:30b-v-128k", 262144, "k1000") == "qwen3-coder:30b-262k"
    assert successor_name("qwen3-coder:30b", 262144, "k1024") == "qwen3-coder:30b-256k"
    assert successor_name("x:y", 1, "k1000", {"x:y": "mine:big"}) == "mine:big"


def test_timeout_policy() -> None:
    assert needed_timeout_s(262144, 400) == 820  # 655.36 s x 1.25, rounded up
    assert too_short(300, 131072, 400) and not too_short(410, 131072, 400)
    assert window_of(131072, 65536) == 65536 and window_of(None, 4096) == 4096


def test_existing_indexes_the_models_once_and_sees_later_ones(monkeypatch) -> None:
    # issue 15: one scan over every model per question was quadratic (124,000
    # `canonical` calls for 200 models); the index is built once per world
    from ctxfix.policy import usage as usage_mod

    w = world([stored(f"m{i}:30b", 4096) for i in range(200)])
    calls = {"n": 0}
    real = usage_mod.canonical

    def counting(name: str) -> str:
        calls["n"] += 1
        return real(name)

    monkeypatch.setattr(usage_mod, "canonical", counting)
    for i in range(200):
        (m,) = usage_mod.existing(w, f"M{i}:30B")
        assert m.name == f"m{i}:30b"
    assert calls["n"] <= 200 + 200  # the index once, then one lookup per question
    w.models.append(world([stored("late:1b", None)]).models[0])
    assert [m.name for m in usage_mod.existing(w, "late:1b")] == ["late:1b"]
