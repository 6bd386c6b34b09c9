"""Shared by the evidence rules (CTX4xx) and the config rules that evidence makes worse.

Why here: the evidence rules and CTX101/CTX104/CTX202 must describe the same
log events with the same numbers; one formatter keeps them in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctxfix.facts import Finding, Location
from ctxfix.records import replace
from ctxfix.rules._util import n
from ctxfix.world import ResolvedModel, World

if TYPE_CHECKING:  # imported where used: a scan without a log never loads ctxfix.evidence
    from ctxfix.evidence import EventGroup


def where_text(loc: Location) -> str:
    """`server.log:1234`, or `journald://ollama.service (cursor s=...)`."""
    if loc.line is not None:
        return f"{loc.file}:{loc.line}"
    return f"{loc.file} ({loc.key})" if loc.key else loc.file


def truncation_text(g: EventGroup) -> str:
    """`37 prompts cut in 7 days (2026-11-24 .. 2026-11-30) (largest 146,760 -> 65,535)`."""
    from ctxfix.evidence import span_text

    count = f"{g.count} prompt{'s' if g.count != 1 else ''} cut"
    span = span_text(g)
    big = g.largest.values if g.largest else {}
    largest = f" (largest {n(big['prompt'])} -> {n(big['new'])})" if "prompt" in big else ""
    return f"{count}{' ' + span if span else ''}{largest}"


def evidence_data(g: EventGroup, **extra: Any) -> dict[str, Any]:
    """The `data` of an evidence finding: the numbers, where they are, a few samples."""
    data: dict[str, Any] = {"evidence": g.as_dict()}
    if g.largest is not None:
        data["log"] = {
            "file": g.largest.where.file,
            "line": g.largest.where.line,
            "key": g.largest.where.key,
            "time": g.largest.time.isoformat() if g.largest.time else None,
        }
    data.update(extra)
    return data


def truncation_for(world: World, m: ResolvedModel) -> EventGroup | None:
    """All observed truncations of model `m`, merged (None: the log shows none)."""
    from ctxfix.evidence import TRUNCATE, groups_for_model, merged

    return merged(groups_for_model(world, m, TRUNCATE))


def raise_for_truncation(f: Finding, world: World, m: ResolvedModel | None) -> Finding:
    """A config finding about a model the log shows truncating: an error, with the numbers.

    Why: "num_ctx caps the model" is a judgement about configuration; "and it
    cut 37 prompts this week" is a fact, and the cap is then not a warning.
    """
    if m is None or world.evidence is None:
        return f
    from ctxfix.evidence import bindings_for

    if world.bindings and not bindings_for(world, [m]):
        return f  # agents in view, none on this model (any more): the log is history
    g = truncation_for(world, m)
    if g is None:
        return f
    data = dict(f.data)
    data["observed"] = {"truncated": g.count, "log": g.source}
    if g.largest is not None:
        data["observed"]["largest_prompt"] = g.largest.values.get("prompt")
        data["observed"]["where"] = where_text(g.largest.where)
        w = g.largest.where
        data["related"] = [
            *data.get("related", ()),
            {"file": w.file, "line": w.line, "message": "the largest prompt the log shows cut"},
        ]
    msg = f"{f.message}; the server log shows {truncation_text(g)}"
    return replace(f, severity="error", message=msg, data=data)


ADVICE = "evidence from the server log; the configuration findings on this model say what to change"


def by_models(world: World, kind: str) -> list[tuple[list[ResolvedModel], EventGroup]]:
    """Groups of `kind` merged per set of attributed models (several logs, one model)."""
    from ctxfix.evidence import merged, models_for

    ev = world.evidence
    if ev is None:
        return []
    buckets: dict[tuple, tuple[list[ResolvedModel], list[EventGroup]]] = {}
    for g in ev.of_kind(kind):
        models = models_for(g, world)
        key = tuple(id(m) for m in models) or ("blob", g.digest)
        buckets.setdefault(key, (models, []))[1].append(g)
    out = []
    for models, groups in buckets.values():
        m = merged(groups)
        if m is not None:
            out.append((models, m))
    return out


def log_location(g: EventGroup) -> Location:
    s = g.largest or (g.samples[0] if g.samples else None)
    if s is None:
        return Location(g.source)
    w = s.where
    return Location(w.file, w.line, 1 if w.line is not None else None, key=w.key)


def model_finding(
    code: str,
    severity: str,
    g: EventGroup,
    models: list[ResolvedModel],
    text: str,
    unit: str,
    **extra: Any,
) -> Finding:
    """An evidence finding on the models group `g` is attributed to (CTX402, CTX403).

    The message is `<who>: <text> (<count> <unit>s <span>)`, `<who>` the first
    model (the others that share its blob in parentheses), else the blob, else
    "a model"; `extra` goes to the data, between `models` and `advice`.
    """
    from ctxfix.evidence import span_text

    names = [m.name for m in models]
    who = names[0] if names else (f"model blob {g.digest[:19]}..." if g.digest else "a model")
    if len(names) > 1:
        who += f" (same blob: {', '.join(names[1:])})"
    span = span_text(g)
    s = "s" if g.count != 1 else ""
    return Finding(
        code=code,
        severity=severity,
        message=f"{who}: {text} ({g.count} {unit}{s}{' ' + span if span else ''})",
        model=names[0] if names else None,
        host=models[0].definition.host if models else None,
        location=log_location(g),
        data=evidence_data(g, models=names, **extra, advice=ADVICE),
        subject=models[0].definition.key if models else None,
    )
