"""Agent bindings: make every agent agree with what will be served.

Policy (DESIGN.md "plan", issue 10):

- An agent is repointed at a model's new definition only when that
  definition exists after this apply (created now on its server, or
  already there) on the server the agent talks to, and the reader did not
  pin the reference (`AgentBinding.pinned`). Every place the file names the
  model is renamed (`AgentBinding.refs`); a model-keyed entry (opencode)
  moves to the new key.
- What the agent will be served after apply ("served after"): the new
  definition's target when repointed; the model's target when the agent
  sends its own num_ctx on the native API (that value is then set); else
  what it is served now.
- The window is set to "served after". So a window is raised to what will
  be served, and lowered only when the served context is lower and apply
  cannot raise it.
- num_ctx: a native-API agent's num_ctx is set to "served after"; on the
  OpenAI-compatible API (which ignores it) an existing value is aligned
  with what is served, and none is ever added.
- The timeout is raised to `policy.timeout.needed_timeout_s` of the window
  after apply, when it would not cover that prefill and a rate is known;
  so is every other setting that bounds the same wait and is below the new
  value (`AgentBinding.timeout_also`: opencode's `headerTimeout`), or the
  smaller one would still cut the prefill.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctxfix.facts import KeyPath, ModelRef, Slot, format_key_path
from ctxfix.names import canonical
from ctxfix.plan.context import PlanContext
from ctxfix.plan.model import FileEdit
from ctxfix.plan.models import Fixed
from ctxfix.plan.refs import renamed
from ctxfix.policy.hosts import base_url, is_local, same_host
from ctxfix.policy.timeout import needed_timeout_s, too_short, window_of
from ctxfix.world import ResolvedBinding

AGENT_CODES = ("CTX201", "CTX202", "CTX204", "CTX301")


def reachable(binding_host: str | None, hosts: tuple[str | None, ...]) -> bool:
    """Will the agent's server have the model? A store model counts as the local server's."""
    if binding_host is None:
        return True
    for h in hosts:
        if h is None:
            if is_local(binding_host):
                return True
        elif same_host(h, binding_host):
            return True
    return False


def _inherited(value: Any, path: KeyPath) -> bool:
    """True when a value is read from elsewhere (OpenHands `[llm]` defaults, shared keys).

    Another binding may change the value at its source, so a binding that
    inherits it gets its own explicit value, written at its own path.
    """
    loc = getattr(value, "location", None)
    return bool(loc is not None and loc.key and loc.key != format_key_path(path))


def _window_codes(served_after: int, model_target: int | None) -> tuple[str, ...]:
    """A window or num_ctx edit resolves CTX202 only when what will be served is the target."""
    if model_target and served_after < model_target:
        return ("CTX201",)
    return ("CTX201", "CTX202")


def _written(value: Any) -> bool:
    """Is the value written in the file (not an agent default or adopted value)?"""
    loc = getattr(value, "location", None)
    return loc is not None and loc.line is not None


def _refs(rb: ResolvedBinding) -> tuple[ModelRef, ...]:
    b = rb.binding
    if b.refs:
        return b.refs
    path = b.edit_paths.get(Slot.MODEL_REF)
    return (ModelRef(path, b.model_ref.value),) if path is not None else ()


def _allows(ctx: PlanContext, code: str, rb: ResolvedBinding, attr: str) -> bool:
    """Would scan report `code` where this binding's value is written?"""
    b = rb.binding
    value = getattr(b, attr, None)
    loc = getattr(value, "location", None)
    file = loc.file if loc is not None and loc.line is not None else b.file
    return ctx.sup.allows(code, file)


def plan_bindings(ctx: PlanContext, fixed: Mapping[str, Fixed]) -> list[FileEdit]:
    edits: list[FileEdit] = []
    for rb in ctx.world.bindings:
        edits.extend(_plan_one(ctx, rb, fixed))
    return edits


def _plan_one(ctx: PlanContext, rb: ResolvedBinding, fixed: Mapping[str, Fixed]) -> list[FileEdit]:
    b, m, key = rb.binding, rb.model, rb.binding.key
    if m is None:
        ctx.leave(
            key,
            f"no scanned store or server has {b.model}: `ollama pull {b.model}`, "
            "or point the agent at a model that exists",
        )
        return []
    if not reachable(b.host, (m.definition.host,)):
        reason = (
            f"{b.agent} uses {b.model} on {base_url(b.host or '')}, which ctxfix did not scan "
            "(pass --host for it)"
        )
        ctx.leave(key, reason)
        ctx.notes.append(f"{b.file}: {reason}")
        return []
    paths = b.edit_paths
    fx = fixed.get(canonical(b.model))
    t = ctx.target(m)
    model_target = fx.target if fx is not None else (t.value if t is not None else None)
    if t is not None and t.value is None:
        ctx.leave(key, t.describe())
    rename_to = _rename_target(ctx, rb, fx)
    # an agent that sends num_ctx on the native API is served that value (resolve)
    sends = b.api == "native" and b.num_ctx is not None
    # raising a sent num_ctx fixes CTX202, lowering it CTX201: the same gate scan uses
    nc_code = "CTX201" if sends and model_target and b.num_ctx.value > model_target else "CTX202"  # type: ignore[union-attr]
    num_ctx_ok = sends and Slot.NUM_CTX in paths and _allows(ctx, nc_code, rb, "num_ctx")
    served_now = rb.served_ctx.value if rb.served_ctx else None
    repointed = rename_to is not None or (fx is not None and fx.available and ctx.opts.in_place)
    native = m.native_ctx.value if m.native_ctx else None
    if sends and num_ctx_ok and model_target:
        served_after: int | None = model_target  # its num_ctx is set to the target
    elif sends and b.num_ctx is not None:  # its request num_ctx stays and wins
        served_after = min(b.num_ctx.value, native) if native else b.num_ctx.value
    elif repointed and fx is not None:
        served_after = fx.target
    else:
        served_after = served_now
    if (  # the num_ctx it sends decides, and only the user can change it (Open WebUI in use)
        sends
        and not num_ctx_ok
        and Slot.NUM_CTX in b.manual
        and model_target
        and served_after is not None
        and served_after < model_target
    ):
        ctx.leave(
            key,
            f"{b.agent} sends num_ctx {b.num_ctx.value:,} for {b.model}: "  # type: ignore[union-attr]
            f"set it to {model_target:,} {b.manual[Slot.NUM_CTX]}",
            ["CTX202"],
        )
    cw = b.context_window
    no_slot = cw is None or Slot.CONTEXT_WINDOW not in paths
    if no_slot and model_target and served_after is not None and served_after < model_target:
        ctx.leave(
            key,
            f"{b.agent} has no setting ctxfix can write for {b.model}'s window"
            + (
                f": set it to {model_target:,} {b.manual[Slot.CONTEXT_WINDOW]}"
                if Slot.CONTEXT_WINDOW in b.manual
                else f" (set it to {model_target:,} in {b.agent}'s settings for this model)"
            ),
            ["CTX202"],
        )
    if model_target and served_after is not None and served_after < model_target:
        # more specific reasons recorded above win (ctx.leave keeps the first)
        ctx.leave(
            key,
            f"{b.agent} will be served {served_after:,}, below the target {model_target:,}, "
            "and apply cannot raise it here",
            ["CTX202"],
        )
    out: list[FileEdit] = []
    if rename_to is not None and fx is not None:
        out += _rename_edits(ctx, rb, rename_to, _window_codes(served_after or 0, model_target))
    if served_after is None:
        return out
    window_after = served_after
    cw = b.context_window
    if cw is not None and Slot.CONTEXT_WINDOW in paths:
        code = "CTX201" if cw.value > served_after else "CTX202"
        if cw.value == served_after and not _inherited(cw, paths[Slot.CONTEXT_WINDOW]):
            pass  # already what will be served (written, defaulted or adopted)
        elif _allows(ctx, code, rb, "context_window"):
            inherited = _inherited(cw, paths[Slot.CONTEXT_WINDOW])
            codes = _window_codes(served_after, model_target)
            out.append(
                FileEdit(
                    b.file,
                    b.format,
                    paths[Slot.CONTEXT_WINDOW],
                    None,
                    None if inherited or not _written(cw) else cw.value,
                    served_after,
                    codes,
                    f"{b.agent} window {cw.value:,} -> served {served_after:,}",
                    key,
                )
            )
        else:
            window_after = cw.value
    nc_codes: tuple[str, ...] = ()
    if num_ctx_ok:  # the num_ctx the agent sends on the native API sets what it is served
        nc_codes = _window_codes(served_after, model_target)
    elif (  # ignored on /v1: a value written there is aligned with what is served, never added
        b.api == "openai"
        and b.num_ctx is not None
        and Slot.NUM_CTX in paths
        and _written(b.num_ctx)
        and not _inherited(b.num_ctx, paths[Slot.NUM_CTX])
        and _allows(ctx, "CTX204", rb, "num_ctx")
    ):
        nc_codes = ("CTX204",)
    if nc_codes and b.num_ctx is not None:
        out.append(
            FileEdit(
                b.file,
                b.format,
                paths[Slot.NUM_CTX],
                None,
                b.num_ctx.value,
                served_after,
                nc_codes,
                f"{b.agent} num_ctx {b.num_ctx.value:,} -> what is served, {served_after:,}",
                key,
            )
        )
    out += _timeout_edit(ctx, rb, window_of(window_after, served_after) or served_after)
    return out


def _rename_target(ctx: PlanContext, rb: ResolvedBinding, fx: Fixed | None) -> str | None:
    b, key = rb.binding, rb.binding.key
    if fx is None or canonical(fx.new_name) == canonical(b.model):
        return None
    if not fx.available:
        ctx.leave(
            key,
            f"{fx.new_name} does not exist yet: create it (`apply` prints the command), "
            "then run apply again",
        )
        return None
    if not reachable(b.host, fx.hosts):
        reason = f"{b.agent} uses {b.host}, where {fx.new_name} was not created"
        ctx.leave(key, reason)
        ctx.notes.append(f"{b.file}: {reason}; not repointed")
        return None
    if b.pinned:
        ctx.leave(key, b.pinned)
        ctx.notes.append(f"{b.file}: {b.pinned}; not repointed to {fx.new_name}")
        return None
    return fx.new_name


def _rename_edits(
    ctx: PlanContext, rb: ResolvedBinding, new_name: str, codes: tuple[str, ...]
) -> list[FileEdit]:
    b = rb.binding
    naming = ctx.world.settings.naming
    out = []
    for ref in _refs(rb):
        new = renamed(ref.text, b.model, new_name, naming, ctx.opts.names) or new_name
        out.append(
            FileEdit(
                b.file,
                b.format,
                ref.path,
                None,
                ref.text,
                new,
                codes,
                f"{b.agent}: use {new_name}",
                b.key,
                rename_key=ref.is_key,
                creates=new_name,
            )
        )
    return out


def _timeout_edit(ctx: PlanContext, rb: ResolvedBinding, window: int) -> list[FileEdit]:
    b = rb.binding
    rate_src = ctx.world.prefill_rate(b.model)
    if (
        rate_src is None
        or not rate_src.value
        or b.timeout_s is None
        or Slot.TIMEOUT not in b.edit_paths
        or not _allows(ctx, "CTX301", rb, "timeout_s")
    ):
        if b.timeout_s is not None and rate_src is not None and Slot.TIMEOUT not in b.edit_paths:
            manual = ""
            if Slot.TIMEOUT in b.manual and rate_src.value:
                need = needed_timeout_s(window, rate_src.value) / b.timeout_unit_s
                manual = f": set it to at least {need:,.0f} {b.manual[Slot.TIMEOUT]}"
            ctx.leave(
                b.key, f"{b.agent} has no timeout setting ctxfix can write{manual}", ["CTX301"]
            )
        return []
    rate = rate_src.value
    if not too_short(b.timeout_s.value, window, rate):
        return []
    need_s = needed_timeout_s(window, rate)
    new_value = need_s / b.timeout_unit_s
    new_t: int | float = round(new_value) if abs(new_value - round(new_value)) < 1e-9 else new_value
    reason = f"prefill of {window:,} tokens at {rate:g} tok/s needs {need_s} s with margin"
    bounds = [(b.edit_paths[Slot.TIMEOUT], b.timeout_s.value / b.timeout_unit_s)]
    bounds += [(path, old) for path, old in b.timeout_also if old < new_t]
    return [
        FileEdit(b.file, b.format, path, None, _number(old), new_t, ("CTX301",), reason, b.key)
        for path, old in bounds
    ]


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x
