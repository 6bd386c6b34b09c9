"""`ctxfix estimate MODEL`: KV cache, memory fit, prefill time and a hardware what-if.

Why: "diagnose before you buy". Before raising a cap (or buying a machine)
a user needs the arithmetic: how big the KV cache is at each context, whether
weights + KV + compute fit, how long prefilling the full window takes, and
what other machines would do. MODEL is a path to a .gguf, a name in a store
or on a server (same discovery options as `scan`), or a catalog name.

Units: memory in GiB (binary) everywhere, token counts with thousands
separators. The budget is the memory the model may use: `--memory` as given,
or detected on this machine (minus a 4 GiB OS reserve on unified memory)
when the model is local. The what-if table sizes each machine at the largest
context in the table, with the window full.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ctxfix.commands._options import build_settings, discovery_options
from ctxfix.echo import echo
from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry, Sourced
from ctxfix.records import record, replace
from ctxfix.settings import Settings


@record(frozen=True)
class Target:
    """The model being estimated, whatever it came from."""

    name: str
    geometry: Geometry
    weights_bytes: int
    source: str  # "gguf", "store", "server", "catalog"
    current_ctx: Sourced[int] | None = None
    native_ctx: Sourced[int] | None = None
    local: bool = False  # on this machine: budget detection allowed
    host: str | None = None  # server that has it (for --measure)
    env: Any = None  # the server environment scan found (ServerEnv), None: the process's


def _read_gguf(path: Path) -> Target:
    from ctxfix.sources.gguf import read_geometry

    g = read_geometry(path, want_tensors=True)
    native = Sourced(g.context_length, "gguf") if g.context_length else None
    return Target(str(path), g, path.stat().st_size, "gguf", None, native, local=True)


def store_blob(location_file: str, digest: str | None) -> Path | None:
    """The GGUF blob of a store model: walk up from its manifest to the store's blobs/."""
    if not digest:
        return None
    hexd = digest.split(":", 1)[-1]
    for parent in Path(location_file).parents:
        blob = parent / "blobs" / f"sha256-{hexd}"
        if blob.is_file():
            return blob
    return None


def with_tensors(g: Geometry, blob: Path | None) -> Geometry:
    """Tensor infos are needed for MoE active weights; stores read headers without them."""
    if g.tensors or not g.expert_count or blob is None:
        return g
    from ctxfix.sources.gguf import read_geometry

    try:
        return read_geometry(blob, want_tensors=True)
    except CtxfixError:
        return g


def find_in_pipeline(name: str, settings: Settings) -> Target | None:
    """A name in a store or on a server, through the same pipeline `scan` uses."""
    from ctxfix import pipeline
    from ctxfix.policy.hosts import is_local

    found = pipeline.find_model(name, settings, with_world=True)
    if found is None:
        return None
    m, world = found
    d = m.definition
    g = m.geometry or d.geometry
    weights = d.weights_bytes or (g.file_size if g else None)
    if g is None or not weights:
        raise CtxfixError(d.location.file, f"{m.name}: no GGUF metadata or size to estimate from")
    if d.origin == "store":
        g = with_tensors(g, store_blob(d.location.file, d.model_digest))
    local = d.origin in ("store", "gguf") or bool(d.host and is_local(d.host))
    return Target(
        m.name, g, weights, d.origin, m.served_ctx, m.native_ctx, local, d.host, world.env
    )


def find_in_catalog(name: str) -> Target | None:
    try:
        from ctxfix import catalog
    except ImportError:
        return None
    entry = catalog.lookup(name)
    if entry is None or entry.geometry is None or not entry.weights_bytes:
        return None
    g = entry.geometry
    native = Sourced(g.context_length, "catalog") if g.context_length else None
    return Target(name, g, entry.weights_bytes, "catalog", None, native)


def resolve_target(model: str, settings: Settings) -> Target:
    path = Path(model)
    if model.lower().endswith(".gguf") or path.is_file():
        if not path.is_file():
            raise CtxfixError(model, "no such file")
        return _read_gguf(path)
    found = find_in_pipeline(model, settings) or find_in_catalog(model)
    if found is None:
        raise CtxfixError(
            model, "not found in any store, server or the catalog (give a .gguf path?)"
        )
    return found


def memory_config(target: Target, settings: Settings, flash_attention: bool | None):
    """The one reading of parallel / KV cache type / flash attention (`policy.fit`).

    The same inputs as scan: flags and settings, then the server environment
    scan found for this model (process, systemd, compose), so `estimate` and
    CTX302 give the same fit.
    """
    from ctxfix.policy.fit import env_values, server_memory_config

    if target.env is not None:
        env = env_values(target.env)
    else:
        env = {k: v for k, v in os.environ.items() if k.startswith("OLLAMA_")}
    return server_memory_config(
        env,
        parallel=settings.parallel,
        kv_cache_type=settings.kv_cache_type,
        flash_attention=flash_attention,
    )


def _budget(target: Target, settings: Settings) -> Sourced[int] | None:
    if settings.memory_bytes is not None:
        return Sourced(settings.memory_bytes, "settings", note=settings.memory_source or "")
    from ctxfix.budget import detect_budget
    from ctxfix.pipeline import _reserve_kw

    return detect_budget(target.local, **_reserve_kw(settings))


def _measure_host(target: Target, settings: Settings) -> str:
    if target.host:
        return target.host
    if settings.hosts:
        return settings.hosts[0]
    from ctxfix.sources.hosts import default_host

    return default_host(os.environ)


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s"


def _gib(n: float) -> str:
    from ctxfix.memory import GIB

    return f"{n / GIB:.1f}"


def text_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), *(line(r) for r in rows)]


@click.command("estimate")
@click.argument("model")
@click.option(
    "--ctx",
    "ctxs",
    multiple=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="Context size to estimate (repeatable). Default: current num_ctx, native, "
    "and the largest that fits.",
)
@click.option(
    "--bandwidth", type=float, default=None, metavar="GBPS", help="Your memory bandwidth (GB/s)."
)
@click.option(
    "--hardware",
    "hardware",
    multiple=True,
    default=("all",),
    metavar="NAME|all",
    help="What-if machines (repeatable, NAME@SIZE for another memory size). Default: all.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--measure",
    is_flag=True,
    help="Measure the prefill rate with one request to the server (loads the model).",
)
@click.option(
    "--flash-attention/--no-flash-attention",
    "flash_attention",
    default=None,
    help="OLLAMA_FLASH_ATTENTION of the server (default: $OLLAMA_FLASH_ATTENTION). "
    "A q8_0/q4_0 KV cache falls back to f16 without it.",
)
@discovery_options
def estimate(
    model: str,
    ctxs: tuple[int, ...],
    bandwidth: float | None,
    hardware: tuple[str, ...],
    fmt: str,
    measure: bool,
    flash_attention: bool | None,
    **opts: Any,
) -> None:
    """KV cache, memory fit, prefill time and hardware what-if for MODEL.

    MODEL: a .gguf path, a model in a store or on a server, or a catalog name.
    """
    from ctxfix import hardware as hw
    from ctxfix.memory import estimate_total, kv_bytes_per_token, max_fitting_ctx

    settings = build_settings((), opts)
    target = resolve_target(model, settings)
    g = target.geometry
    config = memory_config(target, settings, flash_attention)
    parallel, flash_attention = config.parallel, config.flash_attention
    budget = _budget(target, settings)
    native = target.native_ctx.value if target.native_ctx else g.context_length
    kw: dict[str, Any] = config.kwargs()

    fit = None
    if budget is not None and native:
        fit = max_fitting_ctx(g, target.weights_bytes, budget.value, native=native, **kw)

    prefill_tps, prefill_src = settings.prefill_tps, settings.prefill_source
    if measure:
        from ctxfix.measure import measure_prefill

        if target.source in ("gguf", "catalog"):
            raise CtxfixError(model, "--measure needs a model on a server, not a file or catalog")
        host = _measure_host(target, settings)
        prefill_tps, prefill_src = measure_prefill(host, target.name), f"measured on {host}"

    if ctxs:
        sizes = sorted(set(ctxs))
    else:
        cands = [target.current_ctx.value if target.current_ctx else None, native, fit]
        sizes = sorted({c for c in cands if c})
    if not sizes:
        raise CtxfixError(model, "native context unknown: give --ctx N")

    rows = []
    for ctx in sizes:
        est = estimate_total(g, ctx, target.weights_bytes, **kw)
        rows.append(
            {
                "ctx": ctx,
                "kv_bytes": est.kv_bytes,
                "weights_bytes": est.weights_bytes,
                "overhead_bytes": est.overhead_bytes,
                "total_bytes": est.total_bytes,
                "fits": (est.total_bytes <= budget.value) if budget else None,
                "prefill_s": round(ctx / prefill_tps, 1) if prefill_tps else None,
                "_est": est,
            }
        )

    # what-if machines, sized at the largest context in the table with the window full
    whatif_ctx = sizes[-1]
    at = rows[-1]["_est"]
    active = hw.active_weight_bytes(g, target.weights_bytes)
    machines: list[hw.Machine] = []
    if any(h.lower() == "all" for h in hardware):
        machines.extend(hw.MACHINES)
    machines.extend(hw.find_machine(h) for h in hardware if h.lower() != "all")
    if bandwidth is not None:
        mem = budget.value if budget else 0
        machines.append(hw.Machine("this machine (--bandwidth)", mem, bandwidth, False))
    hw_rows = []
    for m in machines:
        if settings.reserve_bytes is not None and m.unified:
            m = replace(m, os_reserve=settings.reserve_bytes)
        usable = m.usable_bytes if m.memory_bytes else None
        hw_rows.append(
            {
                "name": m.name,
                "memory_bytes": m.memory_bytes or None,
                "bandwidth_gbps": m.bandwidth_gbps,
                "fits": (at.total_bytes <= usable) if usable else None,
                "decode_tps_ceiling": round(
                    hw.decode_tps_ceiling(m.bandwidth_gbps, active, at.kv_bytes), 1
                ),
                "_headroom": (usable - at.total_bytes) if usable else None,
                "_reserve": m.reserve_bytes,
            }
        )

    if fmt == "json":
        doc = {
            "model": target.name,
            "arch": g.arch,
            "budget_bytes": budget.value if budget else None,
            "max_fitting_ctx": fit,
            "rows": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
            "hardware": [{k: v for k, v in r.items() if not k.startswith("_")} for r in hw_rows],
        }
        echo(json.dumps(doc, indent=2))
        return

    out: list[str] = []
    nat = f"native {native:,}" if native else "native unknown"
    out.append(f"{target.name} ({g.arch}, {nat}, from {target.source})")
    per_tok = kv_bytes_per_token(g, at.kv.cache_type) / 1024
    kvd = at.kv
    layers = f"{kvd.full_layers} full-attention layers"
    if kvd.swa_layers:
        layers += f" + {kvd.swa_layers} sliding-window ({kvd.swa_cells:,} cells)"
    if kvd.recurrent_layers:
        layers += f" + {kvd.recurrent_layers} recurrent"
    out.append(f"KV cache {kvd.cache_type}: {per_tok:g} KiB/token on {layers}; parallel {parallel}")
    active_note = ""
    if active != target.weights_bytes:
        active_note = (
            f" (MoE: {_gib(active)} GiB read per token,"
            f" {g.expert_used_count} of {g.expert_count} experts)"
        )
    out.append(f"weights {_gib(target.weights_bytes)} GiB{active_note}")
    if budget:
        src = budget.note or budget.source
        out.append(f"budget {_gib(budget.value)} GiB ({src})")
    else:
        out.append("budget unknown (give --memory SIZE)")
    for note in kvd.notes:
        out.append(f"note: {note}")
    out.append("")
    headers = ["context", "KV GiB", "weights GiB", "overhead GiB", "total GiB", "fits"]
    if prefill_tps:
        headers.append(f"prefill @ {prefill_tps:,.0f} tok/s")
    table = []
    for r in rows:
        cells = [
            f"{r['ctx']:,}",
            _gib(r["kv_bytes"]),
            _gib(r["weights_bytes"]),
            _gib(r["overhead_bytes"]),
            _gib(r["total_bytes"]),
            {True: "yes", False: "no", None: "?"}[r["fits"]],
        ]
        if prefill_tps:
            cells.append(_duration(r["ctx"] / prefill_tps))
        table.append(cells)
    out.extend(text_table(headers, table, right={0, 1, 2, 3, 4}))
    if budget and native:
        if fit == native:
            out.append(f"native {native:,} fits {_gib(budget.value)} GiB")
        elif fit:
            out.append(f"native {native:,} does not fit {_gib(budget.value)} GiB; {fit:,} does")
        else:
            out.append(f"nothing fits {_gib(budget.value)} GiB: the weights alone are too big")
    if prefill_tps and prefill_src:
        out.append(f"prefill rate {prefill_tps:,.0f} tok/s ({prefill_src})")
    if hw_rows:
        out.append("")
        out.append(f"what-if at {whatif_ctx:,} tokens x {parallel}, {kvd.cache_type} KV")
        reserve = _gib(next((r["_reserve"] for r in hw_rows if r["_reserve"]), 4 * 1024**3))
        out.append(
            f"(unified machines keep {reserve} GiB for the OS; decode ceiling = bandwidth /"
            " (active weights + KV) per token)"
        )
        table = []
        for r in hw_rows:
            table.append(
                [
                    r["name"],
                    _gib(r["memory_bytes"]) if r["memory_bytes"] else "?",
                    f"{r['bandwidth_gbps']:g}",
                    {True: "yes", False: "no", None: "?"}[r["fits"]],
                    _gib(r["_headroom"]) if r["_headroom"] is not None else "?",
                    f"{r['decode_tps_ceiling']:,.1f}",
                ]
            )
        out.extend(
            text_table(
                ["machine", "memory GiB", "GB/s", "fits", "headroom GiB", "decode tok/s <="],
                table,
                right={1, 2, 4, 5},
            )
        )
    echo("\n".join(out))
