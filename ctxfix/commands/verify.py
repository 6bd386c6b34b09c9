"""`ctxfix verify MODEL`: check a served context window by using it (opt-in: loads the model).

Why: a scan reads claims (Modelfile, params, defaults, `/api/ps`); this asks
the runner. It sends prompts of growing size through `/api/generate`
(`raw: true` so no template is added, `options.num_predict: 1`) and reads
`prompt_eval_count` and `prompt_eval_duration` from each final response: the
largest prompt evaluated whole, whether a prompt that fills the window is cut
or refused, and the prefill rate. The probe itself is `ctxfix.verify_probe`.

Decisions:

- No `num_ctx` is sent by default, so what is verified is what an agent that
  sends none gets (the `/v1` API cannot send one at all), and a loaded model
  is not reloaded (a request whose num_ctx differs reloads it). `--num-ctx N`
  verifies a request-sized window instead (and does reload).
- The window checked: `--target N` (alias `--ctx`, the DESIGN.md name), else
  `--num-ctx`, else ctxfix's target for the model (`policy.target.target_for`:
  native, or what fits `--memory`), else the served context.
- `keep_alive` is not sent unless `--keep-alive` is given: sending one would
  overwrite the user's `OLLAMA_KEEP_ALIVE` for this model.
- The measured rate is printed as the exact `--prefill-tps N` (and settings
  line) to pass to `scan`/`apply` for CTX301, and is in the JSON; it is not
  cached for later scans. A rate depends on what else the server is doing and
  on the prompt size; a hidden cached value would make scan results depend on
  state CI and pre-commit cannot see, and `prefill_tps` in `.ctxfix.yaml` is
  the explicit, reviewable way to keep it.
- A server that is not on this machine is refused unless `--allow-remote`:
  loading a model takes its memory from whoever else uses that server.

Exit codes: 0 a prompt filling the window was evaluated whole; 1 a prompt was
cut or refused, or the limits ran out before the window was verified
("incomplete"); 2 bad input, unknown model, unreachable or failing server.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from datetime import UTC, datetime
from typing import Any

import click

from ctxfix import verify_history
from ctxfix.commands._options import build_settings, discovery_options
from ctxfix.echo import echo
from ctxfix.errors import CtxfixError
from ctxfix.records import record, replace
from ctxfix.settings import Settings
from ctxfix.sources.log_events import REJECT_TEXTS  # the HTTP 400 of a too-long prompt
from ctxfix.verify_probe import Limits, ProbeResult, Refused, Reply, TimedOut, run_probe

DEFAULT_TIME_LIMIT_S = 120.0
DEFAULT_MAX_TOKENS = 1_000_000


@record(frozen=True)
class MemoryNote:
    """What loading the model costs, from the estimate machinery (`memory.estimate_total`)."""

    ctx: int
    total_bytes: int
    weights_bytes: int
    kv_bytes: int
    overhead_bytes: int
    loaded_ctx: int | None  # /api/ps: already loaded with this context


@record(frozen=True)
class VerifyReport:
    """One verification: the model, the window checked and what the probe found."""

    model: str
    host: str  # userinfo stripped
    server_version: str | None
    window: int
    window_reason: str
    served: int | None
    served_source: str | None
    num_ctx: int | None
    memory: MemoryNote | None
    limits: Limits
    probe: ProbeResult

    @property
    def exit_code(self) -> int:
        return 0 if self.probe.status == "verified" else 1

    @property
    def prefill_tps(self) -> int | None:
        """The measured rate, rounded down (a timeout sized on it errs on the safe side)."""
        step = self.probe.rate
        return int(step.tps) if step and step.tps else None


# --------------------------------------------------------------------------- resolving


def _host(settings: Settings) -> str:
    if len(settings.hosts) > 1:
        raise CtxfixError(None, "verify checks one server: give --host once")
    if settings.hosts:
        return settings.hosts[0]
    from ctxfix.sources.hosts import default_host

    return default_host(os.environ)


def _resolve(name: str, host: str, settings: Settings):
    """(model, world, server, store copies) for `name` on `host`, through scan's pipeline.

    Why the pipeline: the served context, the native context, the target and
    the memory estimate must be the ones `scan` and `estimate` give.
    """
    from ctxfix import pipeline
    from ctxfix.names import canonical
    from ctxfix.policy.hosts import same_host
    from ctxfix.redact import strip_userinfo

    shown = strip_userinfo(host)
    world, _ = pipeline.build_world(
        replace(settings, scan_files=False, hosts=(host,), no_server=False)
    )
    server = next((s for s in world.servers if same_host(s.host, host)), None)
    if server is None:
        raise CtxfixError(shown, f"cannot reach the Ollama server{_why_down(world, host)}")
    want = canonical(name)
    found = [m for m in world.models if canonical(m.name) == want]
    on_server = [m for m in found if m.definition.origin == "server"]
    if not on_server:
        raise CtxfixError(shown, f"model '{name}' not found on the server")
    # the server's view decides what is served; a store copy may carry tensor infos
    return on_server[0], world, server, [m for m in found if m.definition.origin == "store"]


def _why_down(world: Any, host: str) -> str:
    """`: connection refused`, from the scan's warning about `host` (none found: empty)."""
    from ctxfix.policy.hosts import same_host
    from ctxfix.redact import strip_userinfo

    shown = strip_userinfo(host)
    for w in world.warnings:
        text = strip_userinfo(w.problem)
        if w.where and same_host(w.where, host):
            return f": {text.split('; ')[0]}"
        if f"{shown}: " in text:
            return f": {text.split(f'{shown}: ', 1)[1].split('; ')[0]}"
    return ""


def _window(m: Any, world: Any, target: int | None, num_ctx: int | None) -> tuple[int, str]:
    """The window to verify and why (see the module docstring for the order).

    An explicit size above the native context is capped at it: Ollama clamps
    num_ctx to `<arch>.context_length` from 0.9.3, so no server can serve more.
    """
    native = m.native_ctx.value if m.native_ctx else None
    for value, flag in ((target, "--target"), (num_ctx, "--num-ctx")):
        if value:
            if native and value > native:
                return native, f"{flag} {value:,} capped at the native context {native:,}"
            return value, flag
    from ctxfix.policy.target import target_for

    t = target_for(m, world)
    if t is not None and t.value:
        return t.value, f"ctxfix's target: {t.describe()}"
    if m.served_ctx is not None:
        return m.served_ctx.value, f"the served context ({m.served_ctx.source})"
    raise CtxfixError(m.name, "native and served context unknown: give --target N")


def _memory(
    m: Any, stores: list[Any], world: Any, settings: Settings, ctx: int
) -> MemoryNote | None:
    """Memory the load takes at `ctx`, the way `ctxfix estimate` computes it."""
    from ctxfix.commands import estimate as est
    from ctxfix.memory import estimate_total

    d = m.definition
    src = stores[0] if stores else m
    g = src.geometry or src.definition.geometry or m.geometry or d.geometry
    weights = d.weights_bytes or src.definition.weights_bytes or (g.file_size if g else None)
    if g is None or not weights:
        return None
    if stores:
        g = est.with_tensors(
            g, est.store_blob(src.definition.location.file, src.definition.model_digest)
        )
    target = est.Target(
        m.name, g, weights, d.origin, m.served_ctx, m.native_ctx, False, d.host, world.env
    )
    config = est.memory_config(target, settings, None)
    total = estimate_total(g, ctx, weights, **config.kwargs())
    loaded = d.loaded_ctx.value if d.loaded_ctx else None
    return MemoryNote(
        ctx, total.total_bytes, total.weights_bytes, total.kv_bytes, total.overhead_bytes, loaded
    )


# --------------------------------------------------------------------------- the client


def _sender(
    host: str,
    shown: str,
    model: str,
    settings: Settings,
    num_ctx: int | None,
    keep_alive: str | None,
    time_limit: float,
):
    """(`send(prompt, seconds_left)`, close) for the probe: one `/api/generate` per call.

    One client for the whole probe, its transport bounded by the time limit
    (ctxfix/deadline.py: every read, write and connect ends by then, however
    the server trickles bytes): a request cannot outlive the limit, and one
    SSL context and connection serve every request (a transport per request
    cost ~60 ms each just to load CA certificates).
    """
    import httpx

    from ctxfix.deadline import transport
    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()
    options: dict[str, Any] = {"num_predict": 1}
    if num_ctx:
        options["num_ctx"] = num_ctx
    # a bare number is seconds, sent as a JSON number: Go's time.ParseDuration rejects
    # "-1" or "300" as strings (github:ollama/ollama api/types.go Duration.UnmarshalJSON)
    alive: float | str | None = keep_alive
    with contextlib.suppress(ValueError, TypeError):
        alive = float(keep_alive)  # type: ignore[arg-type]
    client = ollama.Client(
        host=host,
        timeout=httpx.Timeout(time_limit, connect=settings.connect_timeout),
        transport=transport(time_limit),
    )

    def send(prompt: str, left: float) -> Reply | Refused | TimedOut:
        try:
            r = client.generate(
                model=model,
                prompt=prompt,
                raw=True,
                stream=False,
                options=options,
                keep_alive=alive,
            )
        except ollama.ResponseError as exc:
            if exc.status_code == 400 and any(t in str(exc.error) for t in REJECT_TEXTS):
                return Refused(str(exc.error))
            raise CtxfixError(
                shown, f"{model}: /api/generate failed: HTTP {exc.status_code}: {exc.error}"
            ) from None
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise CtxfixError(
                    shown, f"cannot reach the Ollama server: connect timed out ({exc})"
                ) from None
            return TimedOut(left)
        except (ConnectionError, httpx.HTTPError) as exc:
            raise CtxfixError(shown, f"cannot reach the Ollama server: {exc}") from None
        except ValueError as exc:  # JSONDecodeError, pydantic ValidationError
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CtxfixError(
                shown, f"{model}: malformed /api/generate response ({first})"
            ) from None
        count = getattr(r, "prompt_eval_count", None)
        duration = getattr(r, "prompt_eval_duration", None)
        if count is None:
            raise CtxfixError(shown, f"{model}: /api/generate response has no prompt_eval_count")
        return Reply(int(count), (duration or 0) / 1e9)

    return send, client.close


# --------------------------------------------------------------------------- the run


def verify_model(
    name: str,
    settings: Settings,
    *,
    host: str | None = None,
    target: int | None = None,
    num_ctx: int | None = None,
    limits: Limits | None = None,
    keep_alive: str | None = None,
    allow_remote: bool = False,
) -> VerifyReport:
    """Verify `name` on `host` (default: the settings' host); announce the load on stderr.

    Raises CtxfixError (exit 2) for a remote host without `allow_remote`, an
    unreachable server, an unknown model, or a server error other than a
    context overflow.
    """
    from ctxfix.memory import GIB
    from ctxfix.policy.hosts import is_local
    from ctxfix.progress import Progress
    from ctxfix.redact import strip_userinfo

    limits = limits or Limits(DEFAULT_TIME_LIMIT_S, DEFAULT_MAX_TOKENS)
    host = host or _host(settings)
    shown = strip_userinfo(host)
    if not is_local(host) and not allow_remote:
        raise CtxfixError(
            shown,
            "not on this machine: verify loads the model there and uses its memory; "
            "pass --allow-remote to verify it anyway",
        )
    m, world, server, stores = _resolve(name, host, settings)
    window, why = _window(m, world, target, num_ctx)
    served = m.served_ctx.value if m.served_ctx else None
    load_ctx = num_ctx or served
    memory = _memory(m, stores, world, settings, load_ctx) if load_ctx else None

    # say what is about to happen before it happens
    sent = f"num_ctx {num_ctx:,} sent" if num_ctx else "no num_ctx sent"
    if memory is None:
        cost = "memory unknown (no GGUF metadata)"
    elif memory.loaded_ctx == load_ctx:
        cost = f"already loaded with {load_ctx:,}: no new memory"
    else:
        cost = (
            f"about {memory.total_bytes / GIB:.1f} GiB (weights "
            f"{memory.weights_bytes / GIB:.1f} + KV {memory.kv_bytes / GIB:.1f} + overhead "
            f"{memory.overhead_bytes / GIB:.1f})"
        )
        if memory.loaded_ctx:
            cost += f"; loaded now with {memory.loaded_ctx:,}: the server reloads it"
    at = f"{load_ctx:,}" if load_ctx else "its automatic context"
    echo(
        f"ctxfix: verify loads {m.name} on {shown} at context {at} ({sent}): {cost}; "
        f"then sends prompts growing to fill a window of {window:,} tokens, one output token each, "
        f"within {limits.time_limit_s:g} s and {limits.max_tokens:,} prompt tokens",
        err=True,
    )

    send, close = _sender(host, shown, m.name, settings, num_ctx, keep_alive, limits.time_limit_s)
    try:
        # drawn at once (tty only): the first request also loads the model, which takes a while
        with Progress.for_stderr(delay=0) as progress:

            def on_step(purpose: str, tokens: int) -> None:
                load = " (and loading the model)" if purpose == "calibrate" else ""
                progress.stage(f"verify {m.name}: {purpose} prompt of {tokens:,} tokens{load}")

            started = datetime.now(UTC)
            try:
                probe = run_probe(send, window, limits, on_step=on_step, served=load_ctx)
            finally:
                # scans must not count these deliberate cuts as evidence
                verify_history.record(m.name, shown, started, datetime.now(UTC))
    finally:
        close()
    return VerifyReport(
        model=m.name,
        host=shown,
        server_version=server.version,
        window=window,
        window_reason=why,
        served=served,
        served_source=m.served_ctx.source if m.served_ctx else None,
        num_ctx=num_ctx,
        memory=memory,
        limits=limits,
        probe=probe,
    )


# --------------------------------------------------------------------------- rendering


def _needed_time_limit(r: VerifyReport) -> int | None:
    """A --time-limit that would let the target prompt finish at the measured rate."""
    rate = r.probe.rate.tps if r.probe.rate else None
    if not rate:
        return None
    need = (r.probe.elapsed_s + r.probe.target_prompt / rate) * 1.25
    return int(math.ceil(need / 10.0) * 10)


def verdict(r: VerifyReport) -> str:
    """One line: what the probe found (also apply --verify's per-model line)."""
    p = r.probe
    best = p.largest_whole
    whole = f"{best.evaluated:,} tokens" if best and best.evaluated else "none"
    bad = p.first_failure
    if p.status == "verified":
        return f"verified: a prompt of {p.target_prompt:,} tokens was evaluated whole"
    if p.status == "cut" and bad is not None:
        return (
            f"cut: a prompt of {bad.sent:,} tokens was cut to {bad.evaluated or 0:,}; "
            f"largest prompt evaluated whole: {whole}"
        )
    if p.status == "refused" and bad is not None:
        return (
            f'refused: a prompt of {bad.sent:,} tokens: HTTP 400 "{bad.message}"; '
            f"largest prompt evaluated whole: {whole}"
        )
    line = f"not verified: {p.stop_detail}; largest prompt evaluated whole: {whole}"
    need = _needed_time_limit(r)
    if p.stop == "time-limit" and need:
        line += f" (try --time-limit {need})"
    elif p.stop == "token-budget":
        line += f" (try --max-tokens {max(2 * r.limits.max_tokens, 2 * p.target_prompt):,})"
    return line


def rate_line(r: VerifyReport) -> str | None:
    step = r.probe.rate
    tps = r.prefill_tps
    if step is None or tps is None:
        return None
    return (
        f"prefill {tps:,} tok/s (measured on a {step.evaluated or 0:,}-token prompt): "
        f"for CTX301 pass --prefill-tps {tps} to scan/apply, or put `prefill_tps: {tps}` "
        "in .ctxfix.yaml"
    )


def render_text(r: VerifyReport) -> str:
    p = r.probe
    version = f" (Ollama {r.server_version})" if r.server_version else ""
    out = [f"{r.model} on {r.host}{version}"]
    served = f"served {r.served:,} per ctxfix ({r.served_source})" if r.served else "served unknown"
    sent = f"num_ctx {r.num_ctx:,} sent" if r.num_ctx else "no num_ctx sent"
    out.append(f"window {r.window:,} ({r.window_reason}); {served}; {sent}")
    out.append("")
    rows = []
    for s in p.steps:
        tps = s.tps
        rows.append(
            [
                s.purpose,
                f"{s.sent:,}",
                f"{s.evaluated:,}" if s.evaluated is not None else "-",
                s.outcome,
                f"{tps:,.0f} tok/s" if tps else "",
            ]
        )
    from ctxfix.commands.estimate import text_table

    out.extend(
        "  " + line
        for line in text_table(
            ["request", "sent", "evaluated", "result", "prefill"], rows, {1, 2, 4}
        )
    )
    out.append("")
    out.append(verdict(r))
    if p.status != "incomplete" and p.stop:
        out.append(f"note: bisection stopped early: {p.stop_detail}")
    if rl := rate_line(r):
        out.append(rl)
    out.append(f"{len(p.steps)} requests, {p.tokens_sent:,} prompt tokens, {p.elapsed_s:.1f} s")
    return "\n".join(out)


def to_json(r: VerifyReport) -> dict[str, Any]:
    p = r.probe
    best, bad, rate = p.largest_whole, p.first_failure, p.rate
    mem = r.memory
    return {
        "version": 1,
        "model": r.model,
        "host": r.host,
        "server_version": r.server_version,
        "status": p.status,
        "window": r.window,
        "window_reason": r.window_reason,
        "target_prompt_tokens": p.target_prompt,
        "served_ctx": r.served,
        "served_source": r.served_source,
        "num_ctx": r.num_ctx,
        "largest_whole_tokens": best.evaluated if best else None,
        "failure": (
            {
                "outcome": bad.outcome,
                "sent_tokens": bad.sent,
                "evaluated_tokens": bad.evaluated,
                "message": bad.message,
            }
            if bad
            else None
        ),
        "stop": {"reason": p.stop, "detail": p.stop_detail} if p.stop else None,
        "prefill_tps": r.prefill_tps,
        "prefill_measured_at_tokens": rate.evaluated if rate else None,
        "memory": (
            {
                "ctx": mem.ctx,
                "total_bytes": mem.total_bytes,
                "weights_bytes": mem.weights_bytes,
                "kv_bytes": mem.kv_bytes,
                "overhead_bytes": mem.overhead_bytes,
                "loaded_ctx": mem.loaded_ctx,
            }
            if mem
            else None
        ),
        "limits": {"time_limit_s": r.limits.time_limit_s, "max_tokens": r.limits.max_tokens},
        "tokens_sent": p.tokens_sent,
        "elapsed_s": round(p.elapsed_s, 3),
        "steps": [s.to_json() for s in p.steps],
    }


# --------------------------------------------------------------------------- the command


def limit_options(f: Any) -> Any:
    """--time-limit and --max-tokens (shared with apply --verify's defaults)."""
    f = click.option(
        "--max-tokens",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_TOKENS,
        show_default=True,
        metavar="N",
        help="Prompt tokens to send in total, all requests together.",
    )(f)
    return click.option(
        "--time-limit",
        type=click.FloatRange(min=0.1),
        default=DEFAULT_TIME_LIMIT_S,
        show_default=True,
        metavar="S",
        help="Wall-clock seconds for the whole verification (model load included).",
    )(f)


@click.command("verify")
@click.argument("model")
@click.option(
    "--target",
    "--ctx",
    "target",
    type=click.IntRange(min=16),
    default=None,
    metavar="N",
    help="Window to verify (default: ctxfix's target for the model, else what is served).",
)
@click.option(
    "--num-ctx",
    type=click.IntRange(min=16),
    default=None,
    metavar="N",
    help="Send options.num_ctx N (verifies a request-sized window; reloads the model).",
)
@limit_options
@click.option(
    "--keep-alive",
    default=None,
    metavar="DURATION",
    help="keep_alive to send (e.g. 0 to unload after). Default: the server's own.",
)
@click.option(
    "--allow-remote", is_flag=True, help="Verify on a server that is not on this machine."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@discovery_options
def verify(
    model: str,
    target: int | None,
    num_ctx: int | None,
    time_limit: float,
    max_tokens: int,
    keep_alive: str | None,
    allow_remote: bool,
    fmt: str,
    **opts: Any,
) -> None:
    """Check MODEL's window by using it: prompts up to the window, one output token each.

    Loads the model on the server (opt-in). Exit 0: a prompt filling the window
    was evaluated whole; 1: cut, refused, or not verified within the limits;
    2: bad input or the server failed.
    """
    import sys

    if opts.get("no_server"):
        raise click.UsageError("verify needs a server: drop --no-server")
    from ctxfix.settings import MAX_SERVER_TIMEOUT, check_positive

    time_limit = check_positive(time_limit, "--time-limit", MAX_SERVER_TIMEOUT)
    settings = build_settings((), opts)
    report = verify_model(
        model,
        settings,
        target=target,
        num_ctx=num_ctx,
        limits=Limits(time_limit, max_tokens),
        keep_alive=keep_alive,
        allow_remote=allow_remote,
    )
    if fmt == "json":
        echo(json.dumps(to_json(report), indent=2))
    else:
        echo(render_text(report))
    sys.exit(report.exit_code)


# --------------------------------------------------------------------------- apply --verify


def verify_created(actions: Any, settings: Settings, time_limit: float) -> int:
    """`apply --verify`: verify each model apply created on a server; 1 if any is not verified.

    Why after apply: a created model's window is still a claim until the
    runner evaluates a prompt that fills it. Same probe and limits as
    `ctxfix verify` (per model), window = the num_ctx apply wrote. A remote
    server is skipped (verify refuses it without --allow-remote), and a
    server error is reported for that model without undoing the apply.
    """
    from ctxfix.policy.hosts import is_local
    from ctxfix.redact import strip_userinfo

    created = [a for a in actions if a.host is not None]
    if not created:
        return 0
    echo("")
    echo("verify:")
    code = 0
    for a in created:
        where = f"{a.name} on {strip_userinfo(a.host)}"
        if not is_local(a.host):
            echo(
                f"  {where}: skipped: remote server (run ctxfix verify {a.name} "
                f"--host {strip_userinfo(a.host)} --allow-remote)"
            )
            continue
        try:
            r = verify_model(
                a.name,
                settings,
                host=a.host,
                target=a.target_ctx,
                limits=Limits(time_limit, DEFAULT_MAX_TOKENS),
            )
        except CtxfixError as exc:
            echo(f"  {where}: error: {exc.problem}")
            code = 1
            continue
        rate = f"; prefill {r.prefill_tps:,} tok/s" if r.prefill_tps else ""
        echo(f"  {where}: window {r.window:,}: {verdict(r)}{rate}")
        code = max(code, r.exit_code)
    return code
