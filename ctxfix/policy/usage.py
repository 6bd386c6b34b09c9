"""Who uses a model, and what replaced it: how a model finding is weighed.

Why: a scan that sees agent configs is about the setups those agents run.
A base model nobody points at (`qwen3-coder:30b` under `30b-v-128k`) is not
a broken setup, and the old definition whose every user `apply` repointed to
a new one is not a new problem. Decided here (DESIGN.md "policy"):

- A repo Modelfile or a bare GGUF is always judged as a model (STANDALONE).
- A model an agent binding uses is USED: findings keep their severity.
- A model that is not used and whose successor exists (the definition apply
  names for it, serving its target) is SUPERSEDED: findings are info and
  say which model replaced it and how to remove it.
- A model every user of which sends its own num_ctx on the native API
  (Continue's contextLength, Zed's max_tokens, Aider's sized num_ctx) is
  REQUEST_SIZED: its definition's num_ctx is never what those agents are
  served, so its findings are info and the fix is the agent's value.
- When agent configs are in view, any other model is UNUSED: its findings
  are info, and apply creates no model for it.
- With no agent config in view, every model is STANDALONE (a store or
  server audit): findings keep their severity and apply fixes them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctxfix.names import canonical
from ctxfix.policy.hosts import same_host
from ctxfix.records import record
from ctxfix.world import ResolvedBinding, ResolvedModel, World

MODEL_ORIGINS = ("store", "server")


class Role:
    # constants, not an Enum: creating an Enum class costs ~0.3 ms at import (issue 15)
    USED = "used"
    UNUSED = "unused"
    SUPERSEDED = "superseded"
    REQUEST_SIZED = "request-sized"
    STANDALONE = "standalone"


@record(frozen=True)
class Usage:
    role: str  # a Role constant
    successor: str | None = None  # SUPERSEDED: the model that replaced it

    @property
    def demoted(self) -> bool:
        """Findings about this model are info, not warnings or errors."""
        return self.role in (Role.UNUSED, Role.SUPERSEDED, Role.REQUEST_SIZED)

    def note(self, name: str) -> str:
        """The clause a demoted finding's message ends with."""
        if self.role is Role.SUPERSEDED:
            return (
                f"; superseded by {self.successor}, which serves the target "
                f"(remove the old one with `ollama rm {name}`)"
            )
        if self.role is Role.UNUSED:
            return "; no agent config in view uses it"
        if self.role is Role.REQUEST_SIZED:
            return "; every agent that uses it sends its own num_ctx, which Ollama serves instead"
        return ""


def successor_name(
    name: str, target: int, naming: str, names: Mapping[str, str] | None = None
) -> str:
    """The name apply gives the fixed definition of `name` (`--name OLD=NEW` wins)."""
    from ctxfix.labels import relabel

    override = (names or {}).get(canonical(name))
    return override or relabel(name, target, naming)


def _same_place(a: str | None, b: str | None) -> bool:
    return a is None or b is None or same_host(a, b)


def users(model: ResolvedModel, world: World) -> list[ResolvedBinding]:
    """The agent bindings that use `model` (same name, same server)."""
    d = model.definition
    if d.origin not in MODEL_ORIGINS:
        return [rb for rb in world.bindings if rb.model is model]
    want = canonical(d.name)
    return [
        rb
        for rb in world.bindings
        if rb.model is model
        or (canonical(rb.binding.model) == want and _same_place(rb.binding.host, d.host))
    ]


def _sends_num_ctx(rb: ResolvedBinding) -> bool:
    """The agent sets num_ctx per request on the native API (that value is what it gets)."""
    b = rb.binding
    return b.api == "native" and (b.num_ctx is not None or b.num_ctx_auto)


_INDEX_ATTR = "_ctxfix_models_by_name"


def _by_name(world: World) -> dict[str, list[ResolvedModel]]:
    """Stored and served models by canonical name, built once per world.

    `existing` is asked once per model by every rule and by the plan: scanning
    every model each time was quadratic (124,000 `canonical` calls for a fleet
    of 200 models). Rebuilt when `world.models` is replaced or grows.
    """
    models = world.models
    key = (id(models), len(models))
    cached = world.__dict__.get(_INDEX_ATTR)
    if cached is not None and cached[0] == key:
        return cached[1]
    index: dict[str, list[ResolvedModel]] = {}
    for m in models:
        if m.definition.origin in MODEL_ORIGINS:
            index.setdefault(canonical(m.name), []).append(m)
    world.__dict__[_INDEX_ATTR] = (key, index)
    return index


def existing(world: World, name: str, host: str | None = None) -> list[ResolvedModel]:
    """Stored or served definitions called `name` (on `host` when given)."""
    found = _by_name(world).get(canonical(name), [])
    return [m for m in found if _same_place(host, m.definition.host)]


def usage(model: ResolvedModel, world: World, target: int | None = None) -> Usage:
    """The role of `model` in the scanned setup; `target` is its policy target when known."""
    d = model.definition
    if d.origin not in MODEL_ORIGINS:
        return Usage(Role.STANDALONE)
    found = users(model, world)
    if found:
        if all(_sends_num_ctx(rb) for rb in found):
            return Usage(Role.REQUEST_SIZED)
        return Usage(Role.USED)
    if target is not None:
        try:
            succ = successor_name(d.name, target, world.settings.naming)
        except ValueError:
            succ = None
        if succ is not None and canonical(succ) != canonical(d.name):
            have = existing(world, succ, d.host)
            if have and all(m.served_ctx and m.served_ctx.value == target for m in have):
                return Usage(Role.SUPERSEDED, have[0].name)
    if world.bindings:
        return Usage(Role.UNUSED)
    return Usage(Role.STANDALONE)
