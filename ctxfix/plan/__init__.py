"""Scan result -> `FixPlan`: the file edits and Ollama actions a fix needs, and what stays.

`build_plan(scan, options)` is pure: it reads no file, contacts no server and
imports nothing from pipeline, rules, resolve or edits (tests/test_import_graph.py).
Everything it needs is in the scan result: the resolved world (with every
place a config names its model or window, typed), every rule's raw findings
and the suppressions scan applied. Decisions come from `ctxfix.policy`.

The two halves: `models` (Modelfile edits, new definitions) then `bindings`
(repoint agents, align windows, num_ctx and timeouts). Every reported finding
at warning level or above that no edit or action fixes is listed in
`FixPlan.unfixed` with the reason, so `apply --dry-run` can say what stays;
so is a model finding whose successor some agent cannot be repointed to (the
old model stays in use, `_left_on_old`).
Invariant (tests/plan/test_convergence.py): after apply, scan on the same
inputs reports nothing at warning level or above that apply could fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ctxfix.plan.context import PlanContext
from ctxfix.plan.model import (
    MODEL_CODES,
    FileEdit,
    FixPlan,
    ModelAction,
    PlanOptions,
    Unfixed,
)
from ctxfix.records import replace

__all__ = [
    "MODEL_CODES",
    "FileEdit",
    "FixPlan",
    "ModelAction",
    "PlanOptions",
    "Unfixed",
    "build_plan",
    "parse_names",
]


def _dedupe(edits: Iterable[FileEdit]) -> list[FileEdit]:
    """One edit per (file, key). Bindings sharing a key must agree: a shared window
    or num_ctx takes the smallest value any of them is served (never above what
    is served), a shared timeout the largest; otherwise the first edit wins.
    Edits that would write the value already there are dropped."""
    groups: dict[tuple[str, Any, Any, bool], list[FileEdit]] = {}
    for e in edits:
        groups.setdefault((e.file, e.key, e.line, e.rename_key), []).append(e)
    out: list[FileEdit] = []
    for group in groups.values():
        pick = group[0]
        if all(isinstance(e.new, int) and not isinstance(e.new, bool) for e in group):
            choose = max if "CTX301" in pick.codes else min
            pick = choose(group, key=lambda e: e.new)
        others = tuple(dict.fromkeys(e.subject for e in group if e.subject != pick.subject))
        if others:
            pick = replace(pick, also=tuple(s for s in others if s))
        if pick.old != pick.new:
            out.append(pick)
    return out


def _left_on_old(
    ctx: PlanContext, plan: FixPlan, f: Any, successors: set[str], models: dict[str, Any]
) -> str | None:
    """Why a model finding fixed by a successor (created, or existing) stays after all, or None.

    The old definition stops counting only once no agent uses it
    (`policy.usage`: superseded); an agent the plan cannot repoint to the
    successor (a pinned id, another host) keeps it in use, and the finding
    at its severity.
    """
    from ctxfix.policy.usage import users

    model = models.get(f.subject)
    if model is None:
        return None
    for rb in users(model, ctx.world):
        key = rb.binding.key
        moved = any(
            e.creates in successors and (e.subject == key or key in e.also) for e in plan.edits
        )
        if not moved:
            why = ctx.reasons.get((key, "*")) or "it is not repointed"
            return (
                f"{' and '.join(sorted(successors))} will serve the target, but "
                f"{rb.binding.agent} ({rb.binding.file}) still uses {model.name}: {why}"
            )
    return None


def _unfixed(ctx: PlanContext, edits: list[FileEdit], actions: list[ModelAction]) -> list[Unfixed]:
    plan = FixPlan(tuple(edits), tuple(actions), reuses=tuple(ctx.reuses))
    models = {m.definition.key: m for m in ctx.world.models}
    out: list[Unfixed] = []
    for f in ctx.findings:
        if not ctx.reported(f):
            continue
        acts = plan.actions_for(f)
        where = f.location.file if f.location else (f.host or "-")
        if plan.edits_for(f):
            continue
        successors = {a.name for a in acts if a.host} | {r.successor for r in plan.reuses_for(f)}
        if successors:
            if stays := _left_on_old(ctx, plan, f, successors, models):
                out.append(Unfixed(f.code, f.subject, where, stays))
            continue
        if acts:  # only an `ollama create` apply prints: the finding stays until it is run
            out.append(
                Unfixed(
                    f.code,
                    f.subject,
                    where,
                    f"no server to create {acts[0].name} on: run the printed `ollama create`, "
                    "then apply again",
                )
            )
            continue
        moved_to = [r.successor for r in ctx.reuses if f.subject in r.subjects]
        if moved_to and not ctx.reason_for(f):
            ctx.leave(
                f.subject,
                f"{moved_to[0]} already serves the target, but no agent could be repointed "
                "to it (see the agents' findings)",
            )
        advice = f.data.get("advice") if f.data else None
        reason = ctx.reason_for(f) or (
            f"apply has no edit for this ({advice})" if advice else "apply has no edit for this"
        )
        out.append(Unfixed(f.code, f.subject, where, reason))
    return out


def build_plan(scan: Any, opts: PlanOptions | None = None) -> FixPlan:
    """The fix for a scan result (`ctxfix.scan_result.ScanResult`)."""
    from ctxfix.plan.bindings import plan_bindings
    from ctxfix.plan.models import plan_modelfiles, plan_models

    world = scan.world
    opts = opts or PlanOptions(target_ctx=world.settings.target_ctx)
    ctx = PlanContext(world, scan.raw_findings, scan.suppressions, opts)
    model_edits = plan_modelfiles(ctx)
    actions, fixed = plan_models(ctx)
    agent_edits = plan_bindings(ctx, fixed)
    edits = _dedupe([*model_edits, *agent_edits])
    unfixed = _unfixed(ctx, edits, actions)
    return FixPlan(
        tuple(edits),
        tuple(actions),
        tuple(dict.fromkeys(ctx.notes)),
        tuple(unfixed),
        tuple(ctx.reuses),
    )


def parse_names(values: Iterable[str]) -> dict[str, str]:
    """`--name OLD=NEW` options -> {canonical OLD: NEW}; CtxfixError on a malformed one."""
    from ctxfix.errors import CtxfixError
    from ctxfix.names import canonical

    out: dict[str, str] = {}
    for v in values:
        old, sep, new = v.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CtxfixError("--name", f"expected OLD=NEW, got {v!r}")
        out[canonical(old.strip())] = new.strip()
    return out
