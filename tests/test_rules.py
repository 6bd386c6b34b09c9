"""Each rule on hand-built worlds: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from ctxfix import rules
from ctxfix.facts import AgentBinding, EnvValue, Location, ModelDef, ServerEnv, Sourced
from ctxfix.settings import Settings
from ctxfix.world import ResolvedBinding, ResolvedModel, World


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


def test_every_rule_module_is_documented_and_registered():
    mods = list(rules.available())
    assert [m.CODE for m in mods] == sorted(rules.RULE_MODULES)
    for m in mods:
        doc = m.__doc__ or ""
        assert doc.startswith(f"{m.CODE} {m.NAME}:"), m.CODE
        for section in ("What it finds", "Why it matters", "Example that fails", "Fix"):
            assert section in doc, (m.CODE, section)
        assert m.SEVERITY in ("error", "warning", "info")


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


def test_ctx103_above_native():
    (f,) = run("CTX103", World(models=[model(num_ctx=524288)]))
    assert "above" in f.message and f.data["target"] == 262144
    assert run("CTX103", World(models=[model()])) == []


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


def test_ctx105_reports_go_exponent_and_meaning():
    m = model(num_ctx=None, invalid="1e+06", served=4096, served_source="default", relies=True)
    (f,) = run("CTX105", World(models=[m]))
    assert "'1e+06'" in f.message and "1,000,000" in f.message
    assert f.location.line == 3
    assert f.data["target"] == 1000000
    # an invalid value is not also reported as unset
    assert run("CTX104", World(models=[m])) == []


def test_ctx102_label_advertises_cap():
    (f,) = run("CTX102", World(models=[model(label="v-128k")]))
    assert "v-128k" in f.message and "262,144" in f.message


def test_ctx102_silent_when_label_matches_native():
    m = model(name="qwen3-coder:30b-256k", num_ctx=262144, label="256k")
    assert run("CTX102", World(models=[m])) == []


def test_ctx201_window_above_served_is_error():
    m = model(num_ctx=None, served=4096, served_source="default", relies=True)
    (f,) = run("CTX201", World(models=[m], bindings=[binding(m)]))
    assert f.severity == "error"
    assert "131,072" in f.message and "4,096" in f.message
    assert f.location.line == 10


def test_ctx202_motivating_case():
    m = model()
    (f,) = run("CTX202", World(models=[m], bindings=[binding(m)]))
    assert "131,072" in f.message and "262,144" in f.message and "50%" in f.message
    assert run("CTX201", World(models=[m], bindings=[binding(m)])) == []


def test_ctx203_only_when_something_was_scanned():
    b = binding(None)
    assert run("CTX203", World(bindings=[b])) == []
    (f,) = run(
        "CTX203", World(bindings=[b], known_models=["qwen3-coder:30b-v-128k-x", "llama3.1:8b"])
    )
    assert "qwen3-coder:30b-v-128k-x" in f.message


def test_ctx204_num_ctx_on_v1():
    m = model()
    (f,) = run("CTX204", World(models=[m], bindings=[binding(m, api="openai", num_ctx=65536)]))
    assert "/v1" in f.message and "65,536" in f.message
    assert run("CTX204", World(models=[m], bindings=[binding(m, num_ctx=65536)])) == []


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


def test_ctx303_env_caps_model_without_num_ctx():
    m = model(num_ctx=None, served=8192, served_source="env", relies=True)
    env = ServerEnv(
        {
            "OLLAMA_CONTEXT_LENGTH": EnvValue(
                "OLLAMA_CONTEXT_LENGTH",
                "8192",
                Location("/etc/systemd/system/ollama.service", 7, 1),
            )
        }
    )
    (f,) = run("CTX303", World(models=[m], env=env))
    assert f.location.file.endswith("ollama.service") and f.location.line == 7
    assert "8,192" in f.message
