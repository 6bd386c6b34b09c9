"""The text report: ruff-like finding lines, then a per-model summary table.

    fixtures/demo/store/manifests/.../30b-v-128k:1:1: CTX101 num_ctx 131,072 caps ...

Why this shape: editors and terminals turn `path:line:col:` into links, and
people who use ruff and yamllint already read it. The summary table shows the
arithmetic the findings rest on: what each model serves, what it could, and
where each number came from.
"""

from __future__ import annotations

from ctxfix.facts import Location
from ctxfix.world import ResolvedModel

_SEV_COLOR = {"error": "31", "warning": "33", "info": "36"}


def _c(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _loc(loc: Location | None) -> str:
    if loc is None:
        return "-"
    if loc.line is None:  # a host, a manifest or a blob: no line to point at
        return f"{loc.file}:" if loc.key is None else f"{loc.file} ({loc.key}):"
    return f"{loc.file}:{loc.line}:{loc.col or 1}:"


def _num(v: int | None) -> str:
    return f"{v:,}" if v is not None else "-"


def _kv_at_native(m: ResolvedModel) -> str:
    """`96 KiB x 262,144 = 24.0 GiB`: the f16 KV arithmetic at native, the fit proof's core."""
    if not m.kv_bytes_per_token or not m.native_ctx:
        return "-"
    total = m.kv_bytes_per_token * m.native_ctx.value / 1024**3
    return f"{m.kv_bytes_per_token / 1024:g} KiB x {_num(m.native_ctx.value)} = {total:.1f} GiB"


def _fit(m: ResolvedModel, world) -> str:
    """`41.6 of 64.0 GiB` at the fix target, when a memory budget is known."""
    from ctxfix.policy.fit import fit_for_model

    fit = fit_for_model(m, world.settings, world.env)
    if fit is None or fit.native is None:
        return "-"
    verdict = "fits" if fit.native.total_bytes <= fit.budget_bytes else "too big"
    return (
        f"{fit.native.total_bytes / 1024**3:.1f} of {fit.budget_bytes / 1024**3:.1f} GiB {verdict}"
    )


def _budget_line(settings) -> str:
    """Which budget the fit column uses, and where it came from."""
    src = settings.memory_source or "given"
    return f"memory budget {settings.memory_bytes / 1024**3:.1f} GiB ({src})"


def _model_row(m: ResolvedModel) -> list[str]:
    d = m.definition
    num = f"{_num(d.num_ctx.value)} ({d.num_ctx.source})" if d.num_ctx else "unset"
    native = f"{_num(m.native_ctx.value)} ({m.native_ctx.source})" if m.native_ctx else "unknown"
    served = f"{_num(m.served_ctx.value)} ({m.served_ctx.source})" if m.served_ctx else "-"
    pct = "-"
    if m.served_ctx and m.native_ctx and m.native_ctx.value:
        pct = f"{round(100 * m.served_ctx.value / m.native_ctx.value)}%"
    label = m.label_text or "-"
    name = d.name if d.origin != "modelfile" else d.location.file
    where = d.host or d.origin
    return [name, where, num, served, native, label, pct]


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _on_host(f) -> str | None:
    """The server a finding is located on (`<url> /api/show <model>`), else None."""
    if not f.host or f.location is None:
        return None
    file = f.location.file
    return f.host if file == f.host or file.startswith(f.host + " ") else None


def _grouped(findings: list) -> list[tuple[str | None, list]]:
    """Findings in files first, then one group per server, servers in report order.

    Why: a fleet scan (`--hosts-file`, repeated `--host`) interleaves nothing,
    but 10 hosts' findings in one list are hard to read per machine. With one
    server or none there is a single group and the report is unchanged.
    """
    files = [f for f in findings if _on_host(f) is None]
    hosts: dict[str, list] = {}
    for f in findings:
        if (h := _on_host(f)) is not None:
            hosts.setdefault(h, []).append(f)
    if len(hosts) < 2:
        return [(None, list(findings))]
    return [(None, files), *((h, fs) for h, fs in hosts.items())]


def _log_cell(m: ResolvedModel, world) -> str:
    """What the server logs showed for this model: `3 cut (largest 146,760)`, `1 refused`, `-`."""
    from ctxfix.evidence import REJECTED, TRUNCATE, groups_for_model, merged

    cells = []
    cut = merged(groups_for_model(world, m, TRUNCATE))
    if cut is not None and cut.count:
        largest = cut.largest.values.get("prompt") if cut.largest is not None else None
        cells.append(f"{cut.count} cut" + (f" (largest {largest:,})" if largest else ""))
    refused = merged(groups_for_model(world, m, REJECTED))
    if refused is not None and refused.count:
        cells.append(f"{refused.count} refused")
    return ", ".join(cells) or "-"


def _evidence_lines(ev) -> list[str]:  # ev: ctxfix.evidence.LogEvidence | None
    """One line per log read: what it showed (`3 prompts cut, 1 load`) or no evidence."""
    if ev is None or not ev.sources:
        return []
    from ctxfix.evidence import CTX_TOO_LARGE, LOAD, OOM_STEP_DOWN, REJECTED, TRUNCATE

    words = {
        TRUNCATE: "prompt(s) cut",
        REJECTED: "prompt(s) refused as too long",
        CTX_TOO_LARGE: "context(s) above training",
        OOM_STEP_DOWN: "OOM step-down(s)",
        LOAD: "model load(s)",
    }
    out = [""]
    since = f" since {ev.since.isoformat(timespec='minutes')}" if ev.since else ""
    for src in ev.sources:
        counts: dict[str, int] = {}
        for g in ev.groups:
            if g.source == src:
                counts[g.kind] = counts.get(g.kind, 0) + g.count
        said = ", ".join(f"{counts[k]} {w}" for k, w in words.items() if counts.get(k))
        out.append(f"server log {src}{since}: {said or 'no evidence found'}")
    if ev.skipped:
        out.append(f"  ({ev.skipped} Ollama-looking line(s) did not parse; skipped)")
    return out


def render(result, *, color: bool = False) -> str:
    world = result.world
    lines: list[str] = []
    for host, group in _grouped(result.findings):
        if host is not None:
            if lines:
                lines.append("")
            lines.append(_c(f"server {host}: {len(group)} finding(s)", "1", color))
        for f in group:
            sev = _c(f.severity, _SEV_COLOR.get(f.severity, "0"), color)
            lines.append(
                f"{_c(_loc(f.location), '1', color)} {_c(f.code, '1', color)} [{sev}] {f.message}"
            )
            if f.fix:
                lines.append(f"    fix: {f.fix}")
    if world.models:
        if lines:
            lines.append("")
        header = [
            "model",
            "from",
            "num_ctx",
            "served",
            "native",
            "label",
            "served/native",
            "KV f16 at native",
        ]
        rows = [[*_model_row(m), _kv_at_native(m)] for m in world.models]
        if world.settings.memory_bytes:
            lines.append(_budget_line(world.settings))
            header.append("memory at native")
            rows = [[*r, _fit(m, world)] for r, m in zip(rows, world.models, strict=True)]
        if world.evidence is not None and world.evidence.sources:
            header.append("server log")
            rows = [[*r, _log_cell(m, world)] for r, m in zip(rows, world.models, strict=True)]
        lines.extend(_table(rows, header))
    if world.bindings:
        lines.append("")
        header = ["agent", "model", "api", "window", "served", "timeout", "file"]
        rows = []
        for rb in world.bindings:
            b = rb.binding
            rows.append(
                [
                    b.agent,
                    b.model,
                    b.api,
                    _num(b.context_window.value) if b.context_window else "-",
                    _num(rb.served_ctx.value) if rb.served_ctx else "?",
                    f"{b.timeout_s.value:g} s" if b.timeout_s else "-",
                    b.file,
                ]
            )
        lines.extend(_table(rows, header))
    lines.extend(_evidence_lines(world.evidence))
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in result.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    lines.append("")
    if result.findings:
        lines.append(
            f"Found {len(result.findings)} finding(s): {counts['error']} error, "
            f"{counts['warning']} warning, {counts['info']} info "
            f"in {len(world.models)} model(s) and {len(world.bindings)} agent binding(s)."
        )
    else:
        lines.append(
            f"All clear: {len(world.models)} model(s), {len(world.bindings)} agent binding(s)."
        )
    return "\n".join(lines) + "\n"
