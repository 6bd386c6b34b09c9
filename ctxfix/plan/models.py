"""Model definitions: edit repo Modelfiles in place, give stored/served models a new definition.

Policy (DESIGN.md "plan", issue 10):

- A model is fixed only when scan reports a model finding about it at
  warning level or above (CTX101-105, CTX302, CTX303), or when apply's
  `--target-ctx` asks for another value. Unused and superseded models are
  info (`ctxfix.policy.usage`), so apply creates no model no config uses.
- A repo Modelfile gets its num_ctx value rewritten (or one line inserted).
- A stored or served model gets a NEW definition named by
  `policy.usage.successor_name` (`30b-v-128k` -> `30b-262k`), FROM the old
  one, with `PARAMETER num_ctx <target>`; the old one is left alone unless
  `--in-place`. A successor that already exists and serves the target needs
  no action: that is what makes a second apply a no-op. Several stale models
  that map to one new name produce one action (a used model wins as parent).
- Offline (no server has the model) the action keeps `host=None`: apply
  prints the `ollama create` command; it never writes into a store.
"""

from __future__ import annotations

from pathlib import Path

from ctxfix.names import canonical, is_backup, name_problem
from ctxfix.plan.context import PlanContext
from ctxfix.plan.model import MODEL_CODES, FileEdit, ModelAction, Reuse
from ctxfix.policy.target import TargetReason
from ctxfix.policy.usage import existing, successor_name, usage
from ctxfix.records import record
from ctxfix.world import ResolvedModel

MODEL_ORIGINS = ("store", "server")


@record(frozen=True)
class Fixed:
    """Where a model's fix leads: the definition agents should use and what it serves."""

    new_name: str
    target: int
    available: bool  # exists after this apply (created on a server now, or already there)
    hosts: tuple[str | None, ...] = ()  # where it exists/will exist (None: a store)


def _codes(ctx: PlanContext, subjects: list[str]) -> tuple[str, ...]:
    found = {f.code for f in ctx.findings_about(subjects, MODEL_CODES) if ctx.reported(f)}
    return tuple(sorted(found))


def _wanted(ctx: PlanContext, copies: list[ResolvedModel], value: int) -> tuple[str, ...] | None:
    """The codes a fix of these copies resolves, or None when nothing asks for a fix."""
    subjects = [m.definition.key for m in copies]
    codes = _codes(ctx, subjects)
    if codes:
        return codes
    if ctx.opts.target_ctx:  # asked for explicitly: fix by value, reported as CTX101
        m = copies[0]
        d = m.definition
        current = d.num_ctx.value if d.num_ctx else None
        served = m.served_ctx.value if m.served_ctx else None
        if (current != value or served != value) and ctx.sup.allows("CTX101", d.location.file):
            return ("CTX101",)
    return None


def _store_root(m: ResolvedModel) -> str | None:
    """The store a stored model's manifest sits in (`.../manifests/h/ns/model/tag`)."""
    parts = Path(m.definition.location.file).parts
    if "manifests" in parts:
        i = len(parts) - 1 - parts[::-1].index("manifests")
        return str(Path(*parts[:i])) if i else "."
    return None


def _reason(m: ResolvedModel, target: int) -> str:
    served = f"{m.served_ctx.value:,}" if m.served_ctx else "unknown"
    if m.native_ctx:
        return f"{m.name} serves {served}; native {m.native_ctx.value:,} -> serve {target:,}"
    return f"{m.name} serves {served} -> serve {target:,}"


def plan_modelfiles(ctx: PlanContext) -> list[FileEdit]:
    edits: list[FileEdit] = []
    for m in ctx.world.models:
        d = m.definition
        if d.origin != "modelfile":
            continue
        t = ctx.target(m)
        if t is None:
            continue
        if t.value is None:
            ctx.leave(d.key, t.describe())
            continue
        codes = _wanted(ctx, [m], t.value)
        if codes is None:
            continue
        cur = d.num_ctx.value if d.num_ctx else None
        if cur == t.value and d.num_ctx_invalid is None:
            continue
        edits.append(
            FileEdit(
                file=d.location.file,
                fmt="modelfile",
                key=None,
                line=d.num_ctx.location.line if d.num_ctx and d.num_ctx.location else None,
                old=d.num_ctx_invalid.value if d.num_ctx_invalid else cur,
                new=t.value,
                codes=codes,
                reason=f"num_ctx {cur if cur is not None else 'unset'} -> {t.value:,}",
                subject=d.key,
            )
        )
    return edits


def _groups(ctx: PlanContext) -> dict[str, list[ResolvedModel]]:
    groups: dict[str, list[ResolvedModel]] = {}
    for m in ctx.world.models:
        if m.definition.origin in MODEL_ORIGINS and not is_backup(m.name):
            groups.setdefault(canonical(m.name), []).append(m)
    return groups


def plan_models(ctx: PlanContext) -> tuple[list[ModelAction], dict[str, Fixed]]:
    """Model actions, and where each fixed model (by canonical name) leads."""
    actions: dict[tuple[str | None, str], ModelAction] = {}
    fixed: dict[str, Fixed] = {}
    groups = _groups(ctx)
    used = {canonical(rb.binding.model) for rb in ctx.world.bindings}
    for cname in sorted(groups, key=lambda n: (n not in used, n)):
        copies = groups[cname]
        servers = [m for m in copies if m.definition.origin == "server"]
        m = servers[0] if servers else copies[0]
        subjects = tuple(x.definition.key for x in copies)
        t = ctx.target(m)
        if t is None:
            continue
        if t.value is None:
            for s in subjects:
                ctx.leave(s, t.describe())
            continue
        codes = _wanted(ctx, copies, t.value)
        if codes is None or usage(m, ctx.world, t.value).demoted:
            continue
        fx = _fix_one(ctx, m, copies, subjects, t.value, t.reason, codes, actions)
        if fx is not None:
            fixed[cname] = fx
    return list(actions.values()), fixed


def _fix_one(
    ctx: PlanContext,
    m: ResolvedModel,
    copies: list[ResolvedModel],
    subjects: tuple[str, ...],
    target: int,
    why: str,
    codes: tuple[str, ...],
    actions: dict[tuple[str | None, str], ModelAction],
) -> Fixed | None:
    opts, world = ctx.opts, ctx.world
    cname = canonical(m.name)
    if opts.in_place:
        new_name, kind = m.name, "replace"
    else:
        kind = "create"
        try:
            new_name = successor_name(m.name, target, world.settings.naming, opts.names)
        except ValueError as exc:
            _leave_all(ctx, m.name, subjects, f"no name for the new definition ({exc})")
            return None
        if canonical(new_name) == cname:
            _leave_all(
                ctx,
                m.name,
                subjects,
                f"its name already says {target:,}; use --in-place or --name OLD=NEW",
            )
            return None
        problem = name_problem(new_name)
        if problem is not None:
            _leave_all(
                ctx,
                m.name,
                subjects,
                f"the new name {new_name} is not valid ({problem}); pass --name OLD=NEW",
            )
            return None
    if why is TargetReason.MEMORY:
        ctx.notes.append(f"{m.name}: serve {target:,}, the largest context that fits the budget")
    have = [x for x in existing(ctx.world, new_name) if x.served_ctx is not None]
    if kind == "create" and have:
        if all(x.served_ctx.value == target for x in have):  # type: ignore[union-attr]
            ctx.reuses.append(Reuse(m.name, have[0].name, target, subjects, codes))
            return Fixed(new_name, target, True, tuple(x.definition.host for x in have))
        _leave_all(
            ctx,
            m.name,
            subjects,
            f"{new_name} already exists and serves {have[0].served_ctx.value:,}, "  # type: ignore[union-attr]
            f"not {target:,} (pass --name OLD=NEW)",
        )
        return None
    if opts.no_create:
        _leave_all(ctx, m.name, subjects, "--no-create: no model is created")
        return None
    servers = [x for x in copies if x.definition.origin == "server"]
    hosts: list[str | None] = [x.definition.host for x in servers] or [None]
    taken = [a for h in hosts if (a := actions.get((h, canonical(new_name))))]
    if taken and canonical(taken[0].parent) != cname:
        # another model's fix already creates this name: agents of this one must not
        # be repointed to a definition built from a different model
        _leave_all(
            ctx,
            m.name,
            subjects,
            f"its new name {new_name} is already the fix of {taken[0].parent}; "
            "pass --name OLD=NEW to give it its own",
        )
        return None
    for host in hosts:
        key = (host, canonical(new_name))
        if key in actions:
            continue
        prev = dict(m.definition.params) if kind == "replace" else None
        if prev is not None and m.definition.num_ctx is not None:
            prev["num_ctx"] = m.definition.num_ctx.value
        actions[key] = ModelAction(
            kind=kind,
            name=new_name,
            parent=m.name,
            parameters={"num_ctx": target},
            host=host,
            store=None if host else _store_root(m),
            target_ctx=target,
            codes=codes,
            reason=_reason(m, target),
            previous_parameters=prev,
            subjects=subjects,
        )
    return Fixed(new_name, target, hosts != [None], tuple(hosts))


def _leave_all(ctx: PlanContext, name: str, subjects: tuple[str, ...], reason: str) -> None:
    for s in subjects:
        ctx.leave(s, reason)
    ctx.notes.append(f"{name}: {reason}")
