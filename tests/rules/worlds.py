"""Hand-built worlds for the rule tests (tests/rules/test_<code>.py)."""

from __future__ import annotations

from ctxfix import rules
from ctxfix.facts import AgentBinding, Location, ModelDef, Sourced
from ctxfix.world import ResolvedBinding, ResolvedModel


def model(
    name="qwen3-coder:30b-v-128k",
    num_ctx=131072,
    native=262144,
    served=None,
    served_source="params",
    relies=False,
    invalid=None,
    label=None,
    origin="store",
):
    loc = Location("store/manifests/x", 1, 1)
    d = ModelDef(
        name=name,
        origin=origin,
        location=loc,
        num_ctx=Sourced(num_ctx, "params", Location("blob", key="num_ctx")) if num_ctx else None,
        num_ctx_invalid=Sourced(invalid, "modelfile", Location("Modelfile", 3, 1))
        if invalid
        else None,
    )
    served_val = served if served is not None else (num_ctx or 4096)
    return ResolvedModel(
        definition=d,
        native_ctx=Sourced(native, "gguf") if native else None,
        served_ctx=Sourced(served_val, served_source, note="Ollama >= 0.6.7 default (assumed)"),
        label_ctx=Sourced(131072, "label") if label else None,
        label_text=label,
        geometry=None,
        kv_bytes_per_token=None,
        relies_on_default=relies,
    )


def binding(
    m: ResolvedModel | None, window=131072, timeout=300.0, api="native", num_ctx=None, served=None
):
    b = AgentBinding(
        agent="openclaw",
        file="openclaw.json",
        model_ref=Sourced(
            "ollama/qwen3-coder:30b-v-128k", "agent", Location("openclaw.json", 9, 5)
        ),
        model="qwen3-coder:30b-v-128k",
        api=api,
        context_window=Sourced(window, "agent", Location("openclaw.json", 10, 5))
        if window
        else None,
        timeout_s=Sourced(timeout, "agent", Location("openclaw.json", 4, 3)) if timeout else None,
        num_ctx=Sourced(num_ctx, "agent", Location("openclaw.json", 11, 5)) if num_ctx else None,
    )
    s = served if served is not None else (m.served_ctx if m else None)
    return ResolvedBinding(binding=b, model=m, served_ctx=s)


def run(code, world):
    return list(rules.load(code).check(world))
