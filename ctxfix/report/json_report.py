"""The JSON report (`--format json`), schema `schemas/report.schema.json`.

Why stable and boring: CI jobs and other tools parse it. Required fields per
DESIGN.md; more may be added, none removed. Secrets never appear: the report
carries model names, numbers and locations only.
"""

from __future__ import annotations

import json
from typing import Any

from ctxfix import __version__
from ctxfix.facts import Finding, Location, Sourced
from ctxfix.world import ResolvedBinding, ResolvedModel


def _loc(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"file": loc.file, "line": loc.line, "col": loc.col, "key": loc.key}


def _src(s: Sourced | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"value": s.value, "source": s.source, "location": _loc(s.location), "note": s.note}


def model_dict(m: ResolvedModel) -> dict[str, Any]:
    d = m.definition
    g = m.geometry
    return {
        "name": d.name,
        "origin": d.origin,
        "host": d.host,
        "num_ctx": d.num_ctx.value if d.num_ctx else None,
        "num_ctx_source": d.num_ctx.source if d.num_ctx else None,
        "native_ctx": m.native_ctx.value if m.native_ctx else None,
        "native_source": m.native_ctx.source if m.native_ctx else None,
        "served_ctx": m.served_ctx.value if m.served_ctx else None,
        "served_source": m.served_ctx.source if m.served_ctx else None,
        "served_chain": list(m.chain),
        "label": m.label_text,
        "label_ctx": m.label_ctx.value if m.label_ctx else None,
        "arch": g.arch if g else None,
        "kv_bytes_per_token": m.kv_bytes_per_token,
        "weights_bytes": d.weights_bytes,
        "parent": d.parent,
        "loaded_ctx": d.loaded_ctx.value if d.loaded_ctx else None,
        "location": _loc(d.location),
    }


def binding_dict(rb: ResolvedBinding) -> dict[str, Any]:
    b = rb.binding
    return {
        "agent": b.agent,
        "file": b.file,
        "model": b.model,
        "model_ref": b.model_ref.value,
        "host": b.host,
        "api": b.api,
        "context_window": b.context_window.value if b.context_window else None,
        "context_window_source": _src(b.context_window),
        "num_ctx": b.num_ctx.value if b.num_ctx else None,
        "max_tokens": b.max_tokens.value if b.max_tokens else None,
        "served_ctx": rb.served_ctx.value if rb.served_ctx else None,
        "served_source": rb.served_ctx.source if rb.served_ctx else None,
        "timeout_s": b.timeout_s.value if b.timeout_s else None,
        "timeout_source": _src(b.timeout_s),
        "resolved": rb.model is not None,
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity,
        "message": f.message,
        "model": f.model,
        "agent": f.agent,
        "host": f.host,
        "location": _loc(f.location) or {"file": None, "line": None, "col": None, "key": None},
        "data": dict(f.data),
        "fix": f.fix,
    }


def to_json_dict(result) -> dict[str, Any]:
    world = result.world
    counts: dict[str, int] = {"error": 0, "warning": 0, "info": 0}
    for f in result.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return {
        "version": 1,
        "ctxfix_version": __version__,
        "models": [model_dict(m) for m in world.models],
        "agents": [binding_dict(rb) for rb in world.bindings],
        "servers": [
            {"host": s.host, "version": s.version, "vram_bytes": s.vram_bytes}
            for s in world.servers
        ],
        "environment": [
            {"name": v.name, "value": v.value, "location": _loc(v.location)}
            for v in world.env.values.values()
        ],
        "findings": [finding_dict(f) for f in result.findings],
        # what the server log showed (ctxfix.evidence.LogEvidence.as_dict); null: no log read
        "evidence": world.evidence.as_dict() if world.evidence else None,
        "warnings": [str(w) for w in world.warnings],
        "budget": {
            "memory_bytes": world.settings.memory_bytes,
            "memory_source": world.settings.memory_source,
            "vram_bytes": world.settings.vram_bytes,
            "prefill_tps": world.settings.prefill_tps,
            "prefill_source": world.settings.prefill_source,
        },
        "summary": {
            "models": len(world.models),
            "agents": len(world.bindings),
            "findings": len(result.findings),
            **counts,
        },
    }


def render(result, *, color: bool = False) -> str:
    return json.dumps(to_json_dict(result), indent=2, sort_keys=False) + "\n"
