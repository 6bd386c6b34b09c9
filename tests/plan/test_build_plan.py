"""`build_plan` on worlds built through `resolve()`: one decision, rendered everywhere."""

from __future__ import annotations

from geometries import QWEN3_CODER as QWEN

from ctxfix.errors import Warning_
from ctxfix.facts import (
    AgentBinding,
    Location,
    ModelDef,
    ServerEnv,
    Sourced,
    format_key_path,
)
from ctxfix.labels import format_label
from ctxfix.pipeline import all_findings
from ctxfix.plan import PlanOptions, build_plan
from ctxfix.records import replace
from ctxfix.resolve import resolve
from ctxfix.scan_result import ScanResult
from ctxfix.selection import Suppressions
from ctxfix.settings import Settings

GIB = 1024**3
HOST = "http://127.0.0.1:11434"


def served(name: str, num_ctx: int | None) -> ModelDef:
    return ModelDef(
        name=name,
        origin="server",
        location=Location(f"{HOST} /api/show {name}"),
        host=HOST,
        num_ctx=Sourced(num_ctx, "server") if num_ctx else None,
        geometry=QWEN,
        weights_bytes=18_600_000_000,
    )


def continue_binding(model: str, window: int) -> AgentBinding:
    path = ("provider", "ollama", "models", model, "limit", "context")
    loc = Location("config.json", 9, 22, key=format_key_path(path))
    return AgentBinding(
        agent="opencode",
        file="config.json",
        model_ref=Sourced(f"ollama/{model}", "agent", Location("config.json", 2, 12)),
        model=model,
        api="openai",
        host=HOST,
        context_window=Sourced(window, "agent", loc),
        edit_paths={
            "model_ref": ("model",),
            "context_window": path,
        },
        format="json",
    )


def scan(defs, bindings, **settings) -> ScanResult:
    w = resolve(list(defs), list(bindings), [], ServerEnv(), Settings(**settings), list[Warning_]())
    raw = all_findings(w)
    sup = Suppressions(w.settings, {})
    return ScanResult(w, raw, sup, [f for f in raw if sup.reports(f)])


def test_the_motivating_fix_as_data() -> None:
    s = scan(
        [served("qwen3-coder:30b-v-128k", 131072)],
        [continue_binding("qwen3-coder:30b-v-128k", 131072)],
    )
    plan = build_plan(s)
    (a,) = plan.actions
    assert (a.name, a.parent, a.host, a.target_ctx) == (
        "qwen3-coder:30b-262k",
        "qwen3-coder:30b-v-128k",
        HOST,
        262144,
    )
    assert {(e.key, e.new) for e in plan.edits} == {
        (("model",), "ollama/qwen3-coder:30b-262k"),
        (("provider", "ollama", "models", "qwen3-coder:30b-v-128k", "limit", "context"), 262144),
    }
    assert plan.unfixed == ()
    # every warning has a fix line that names what apply does
    for f in s.findings:
        if f.severity != "info":
            assert plan.fix_text(f).startswith("apply: "), f


def test_memory_bound_numbers_agree_everywhere() -> None:
    """CTX101's target, CTX302's fit, the new definition and the agent window: one number."""
    s = scan(
        [served("qwen3-coder:30b-v-128k", 131072)],
        [continue_binding("qwen3-coder:30b-v-128k", 8192)],
        memory_bytes=32 * GIB,
    )
    plan = build_plan(s)
    fits = {f.data["max_fitting_ctx"] for f in s.raw_findings if f.code == "CTX302"}
    targets = {f.data["target"] for f in s.raw_findings if f.code in ("CTX101", "CTX202")}
    (a,) = plan.actions
    windows = {e.new for e in plan.edits if e.key and e.key[-1] == "context"}
    assert fits == targets == {a.target_ctx} == windows
    assert a.target_ctx < 262144
    assert a.name == f"qwen3-coder:30b-{format_label(a.target_ctx)}"


def test_an_unused_model_gets_no_new_definition_when_agents_are_in_view() -> None:
    s = scan(
        [served("qwen3-coder:30b", None), served("qwen3-coder:30b-262k", 262144)],
        [continue_binding("qwen3-coder:30b-262k", 262144)],
    )
    assert build_plan(s).empty
    assert all(f.severity == "info" for f in s.findings)


def test_plan_options_override_the_target() -> None:
    s = scan([served("qwen3-coder:30b", 262144)], [continue_binding("qwen3-coder:30b", 262144)])
    assert build_plan(s).empty
    (a,) = build_plan(s, PlanOptions(target_ctx=65536)).actions
    assert (a.name, a.target_ctx) == ("qwen3-coder:30b-65k", 65536)


def test_a_binding_to_an_unscanned_host_is_left_with_the_reason() -> None:
    b = replace(continue_binding("qwen3-coder:30b-v-128k", 131072), host="http://gpu-box:11434")
    s = scan([served("qwen3-coder:30b-v-128k", 131072)], [b])
    plan = build_plan(s)
    assert not [e for e in plan.edits if e.file == "config.json"]


def test_two_models_that_map_to_one_new_name_do_not_share_a_definition() -> None:
    """`30b` and `30b-v-128k` both become `30b-262k`: one is fixed, the other says why."""
    s = scan(
        [served("qwen3-coder:30b", None), served("qwen3-coder:30b-v-128k", 131072)],
        [
            continue_binding("qwen3-coder:30b", 131072),
            replace(continue_binding("qwen3-coder:30b-v-128k", 131072), file="other.json"),
        ],
    )
    plan = build_plan(s)
    (a,) = plan.actions
    renamed = {e.file for e in plan.edits if e.creates == a.name}
    assert renamed == {"config.json" if a.parent == "qwen3-coder:30b" else "other.json"}
    assert any("already the fix of" in u.reason for u in plan.unfixed)
