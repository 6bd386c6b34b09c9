"""Small helpers shared by rule modules (number formatting, locations)."""

from __future__ import annotations

from ctxfix.facts import Finding, Location, Sourced
from ctxfix.world import ResolvedModel


def n(value: int | float) -> str:
    """262144 -> '262,144' (token counts are always shown with separators)."""
    return f"{int(value):,}"


def src(s: Sourced | None) -> str:
    """'262,144 (gguf)' for messages."""
    if s is None:
        return "unknown"
    return f"{n(s.value)} ({s.source})"


def model_location(m: ResolvedModel) -> Location:
    """Where to point a model finding: the num_ctx line if any, else the definition."""
    d = m.definition
    if d.origin == "store":  # the manifest names the model; the params blob is a hash
        return Location(d.location.file, key="num_ctx")
    if d.num_ctx is not None and d.num_ctx.location is not None:
        return d.num_ctx.location
    return d.location


def display_name(m: ResolvedModel) -> str:
    """How a finding names a model: its name, or for a Modelfile what it builds FROM."""
    d = m.definition
    if d.origin == "modelfile":
        return f"the Modelfile (FROM {d.parent})" if d.parent else "the Modelfile"
    return d.name


def model_data(m: ResolvedModel, **extra: object) -> dict[str, object]:
    d = m.definition
    data: dict[str, object] = {
        "current": d.num_ctx.value if d.num_ctx else None,
        "native": m.native_ctx.value if m.native_ctx else None,
        "native_source": m.native_ctx.source if m.native_ctx else None,
        "served": m.served_ctx.value if m.served_ctx else None,
    }
    data.update(extra)
    return data


def target_ctx(m: ResolvedModel, world) -> int | None:  # world: World
    """The window the model should serve (`ctxfix.policy.target`); None when unknown."""
    from ctxfix.policy.target import target_for

    t = target_for(m, world)
    return t.value if t else None


def model_finding(m: ResolvedModel, world, *, severity: str, message: str, **kw) -> Finding:
    """A finding about a model definition, weighed by who uses it (`ctxfix.policy.usage`).

    Unused and superseded models are info, and the message says why.
    """
    from ctxfix.policy.usage import usage

    u = usage(m, world, target_ctx(m, world))
    if u.demoted:
        severity = "info"
        message += u.note(m.name)
    d = m.definition
    kw.setdefault("model", d.name)
    kw.setdefault("host", d.host)
    return Finding(severity=severity, message=message, subject=d.key, **kw)


def binding_finding(rb, *, severity: str, message: str, **kw) -> Finding:
    """A finding about an agent binding (subject: the binding, for the plan's fix line)."""
    b = rb.binding
    kw.setdefault("model", b.model)
    kw.setdefault("agent", b.agent)
    kw.setdefault("host", b.host)
    return Finding(severity=severity, message=message, subject=b.key, **kw)


def binding_location(rb, key: str) -> Location:  # rb: ResolvedBinding
    """Where a binding finding points: the value's line, else the model reference's.

    A value that is an agent default has no line in the file; pointing at the
    line that names the model keeps `path:line:col` clickable.
    """
    b = rb.binding
    value = getattr(b, key, None)
    loc = getattr(value, "location", None) if value is not None else None
    if loc is not None and loc.line is not None:
        return loc
    ref = b.model_ref.location
    if ref is not None and ref.line is not None:
        return Location(ref.file, ref.line, ref.col, key=loc.key if loc else ref.key)
    return loc or ref or Location(b.file)


def binding_data(rb, **extra: object) -> dict[str, object]:
    b = rb.binding
    m = rb.model
    data: dict[str, object] = {
        "agent": b.agent,
        "current": b.context_window.value if b.context_window else None,
        "native": m.native_ctx.value if m and m.native_ctx else None,
        "served": rb.served_ctx.value if rb.served_ctx else None,
    }
    data.update(extra)
    return data
