"""Served/native context resolution: the precedence chain and its provenance."""

from __future__ import annotations

from ctxfix.facts import (
    AgentBinding,
    EnvValue,
    Geometry,
    Location,
    ModelDef,
    ServerEnv,
    ServerInfo,
    Sourced,
)
from ctxfix.resolve import resolve
from ctxfix.settings import Settings

GEO = Geometry(
    arch="qwen3moe",
    context_length=262144,
    block_count=48,
    head_count=32,
    head_count_kv=(4,) * 48,
    key_length=128,
    value_length=128,
    embedding_length=2048,
)


def store_model(name, num_ctx=None, parent=None, geometry=GEO, host=None, origin="store"):
    return ModelDef(
        name=name,
        origin=origin,
        location=Location(f"manifests/{name}"),
        parent=parent,
        num_ctx=Sourced(num_ctx, "params", Location(f"blob-{name}")) if num_ctx else None,
        geometry=geometry,
        host=host,
    )


def world(defs, bindings=(), servers=(), env=None, **settings):
    env = env or ServerEnv()
    return resolve(defs, list(bindings), list(servers), env, Settings(**settings), [])


def by_name(w, name):
    return next(m for m in w.models if m.name == name)


def test_num_ctx_wins_and_native_from_gguf():
    w = world([store_model("qwen3-coder:30b-v-128k", 131072)])
    m = by_name(w, "qwen3-coder:30b-v-128k")
    assert (m.served_ctx.value, m.served_ctx.source) == (131072, "params")
    assert (m.native_ctx.value, m.native_ctx.source) == (262144, "gguf")
    assert m.label_text == "v-128k"
    assert m.kv_bytes_per_token == 96 * 1024


def test_unset_uses_version_default_and_says_why():
    w = world([store_model("qwen3-coder:30b")], ollama_version="0.6.6")
    m = by_name(w, "qwen3-coder:30b")
    assert m.served_ctx.value == 2048 and m.relies_on_default
    assert "0.6.6" in m.served_ctx.note
    w = world([store_model("qwen3-coder:30b")], ollama_version="0.6.7")
    assert by_name(w, "qwen3-coder:30b").served_ctx.value == 4096


def test_vram_tier_from_server_info():
    d = store_model("qwen3-coder:30b", host="http://127.0.0.1:11434", origin="server")
    srv = ServerInfo("http://127.0.0.1:11434", "0.15.5", vram_bytes=48 * 1024**3)
    m = by_name(world([d], servers=[srv]), "qwen3-coder:30b")
    assert m.served_ctx.value == 262144


def test_env_beats_default_and_names_its_file():
    env = ServerEnv(
        {
            "OLLAMA_CONTEXT_LENGTH": EnvValue(
                "OLLAMA_CONTEXT_LENGTH", "8192", Location("/etc/systemd/system/ollama.service", 5)
            )
        }
    )
    m = by_name(world([store_model("qwen3-coder:30b")], env=env), "qwen3-coder:30b")
    assert (m.served_ctx.value, m.served_ctx.source) == (8192, "env")
    assert "ollama.service" in m.chain[0]


def test_env_ignored_before_0_5_13():
    env = ServerEnv(
        {
            "OLLAMA_CONTEXT_LENGTH": EnvValue(
                "OLLAMA_CONTEXT_LENGTH", "8192", Location("environment")
            )
        }
    )
    m = by_name(world([store_model("x:1")], env=env, ollama_version="0.5.12"), "x:1")
    assert m.served_ctx.source == "default"


def test_clamped_to_native_from_0_9_3_only():
    defs = [store_model("big:1", 524288)]
    m = by_name(world(defs, ollama_version="0.9.3"), "big:1")
    assert m.served_ctx.value == 262144 and "clamped" in m.chain[-1]
    m = by_name(world(defs, ollama_version="0.9.2"), "big:1")
    assert m.served_ctx.value == 524288


def test_modelfile_inherits_through_from_chain():
    base = store_model("qwen3-coder:30b")
    child = store_model("qwen3-coder:30b-v-128k", 131072, parent="qwen3-coder:30b", geometry=None)
    mf = ModelDef(
        name="Modelfile",
        origin="modelfile",
        location=Location("repo/Modelfile"),
        parent="qwen3-coder:30b-v-128k",
    )
    w = world([base, child, mf])
    m = by_name(w, "Modelfile")
    assert m.served_ctx.value == 131072
    assert "inherited from qwen3-coder:30b-v-128k" in m.chain[0]
    assert m.native_ctx.value == 262144


def test_native_override_is_a_fallback():
    d = store_model("mystery:1", geometry=None)
    w = world([d], native_overrides={"mystery:1": 65536})
    assert by_name(w, "mystery:1").native_ctx.source == "settings"


def binding(model, api="native", num_ctx=None, auto=False, host=None):
    return AgentBinding(
        agent="t",
        file="f",
        model_ref=Sourced(model, "agent", Location("f", 1, 1)),
        model=model,
        api=api,
        host=host,
        num_ctx=Sourced(num_ctx, "agent", Location("f", 2, 1)) if num_ctx else None,
        num_ctx_auto=auto,
    )


def test_request_num_ctx_wins_on_native_api_only():
    defs = [store_model("qwen3-coder:30b")]
    w = world(
        defs,
        [
            binding("qwen3-coder:30b", num_ctx=65536),
            binding("qwen3-coder:30b", api="openai", num_ctx=65536),
        ],
    )
    native, v1 = w.bindings
    assert (native.served_ctx.value, native.served_ctx.source) == (65536, "request")
    assert v1.served_ctx.value == 4096


def test_auto_sizing_agent_gets_native():
    w = world([store_model("qwen3-coder:30b")], [binding("qwen3-coder:30b", auto=True)])
    assert w.bindings[0].served_ctx.value == 262144


def test_binding_joins_case_insensitively_and_prefers_its_host():
    a = store_model("Qwen3-Coder:30B", 8192, host="http://a:11434", origin="server")
    b = store_model("qwen3-coder:30b", 16384, host="http://b:11434", origin="server")
    w = world([a, b], [binding("qwen3-coder:30b", host="http://b:11434/v1", api="openai")])
    assert w.bindings[0].served_ctx.value == 16384
    assert w.known_models == ["qwen3-coder:30b"]


def test_remote_binding_never_joins_another_servers_model():
    local = store_model("qwen3-coder:30b", 8192, host="http://127.0.0.1:11434", origin="server")
    w = world([local], [binding("qwen3-coder:30b", host="http://gpu-box:11434")])
    assert w.bindings[0].model is None
    w = world([local], [binding("qwen3-coder:30b", host="http://localhost:11434")])
    assert w.bindings[0].model is not None


def test_local_environment_does_not_set_a_remote_hosts_default():
    env = ServerEnv(
        {
            "OLLAMA_CONTEXT_LENGTH": EnvValue(
                "OLLAMA_CONTEXT_LENGTH", "8192", Location("environment")
            )
        }
    )
    remote = store_model("qwen3-coder:30b", host="http://gpu-box:11434", origin="server")
    local = store_model("llama:1", host="http://127.0.0.1:11434", origin="server")
    w = world([remote, local], env=env)
    assert by_name(w, "qwen3-coder:30b").served_ctx.source == "default"
    assert by_name(w, "llama:1").served_ctx.source == "env"


def test_unscanned_remote_host_gets_one_hint():
    warnings = []
    b = binding("qwen3-coder:30b", host="http://gpu-box:11434/v1", api="openai")
    resolve([], [b, b], [], ServerEnv(), Settings(), warnings)
    (w,) = warnings
    assert "--host http://gpu-box:11434" in str(w)


def test_vision_models_are_served_at_least_2048_from_0_11_5() -> None:
    """server/sched.go getRunner: "multimodal models require at least 2048 context"."""
    from ctxfix import records
    from ctxfix.facts import ServerInfo

    vision = records.replace(store_model("llava:7b", num_ctx=1024), vision=True)
    text = store_model("tiny:1b", num_ctx=1024)
    for version, want in (("0.11.4", 1024), ("0.11.5", 2048), ("0.33.0-rc2", 2048)):
        w = world([vision, text], servers=[ServerInfo("http://127.0.0.1:11434", version)])
        m = by_name(w, "llava:7b")
        assert m.served_ctx.value == want, version
        assert by_name(w, "tiny:1b").served_ctx.value == 1024
        if want == 2048:
            assert any("at least 2,048" in r for r in m.chain)


def test_every_model_runs_with_at_least_4() -> None:
    """server/sched.go getRunner: `if opts.NumCtx < 4 { opts.NumCtx = 4 }`."""
    w = world([store_model("tiny:1b", num_ctx=2)])
    m = by_name(w, "tiny:1b")
    assert m.served_ctx.value == 4 and any("at least 4" in r for r in m.chain)
