"""CTX301 timeout-below-prefill: the agent's timeout is shorter than prefilling its window.

What it finds
    An agent binding whose request timeout is shorter than the time the
    model needs to read (prefill) a prompt that fills the agent's window:
    `window / prefill rate`. The rate comes from `--prefill-tps`, the
    settings file, or a measurement (`--measure-prefill`). With no rate,
    ctxfix reports the break-even rate (window / timeout) as info instead of
    guessing.

Why it matters
    Prefill of a long prompt on a local machine takes minutes. The agent
    gives up, retries — and the retry prefills again from scratch. In the
    motivating case a 300 s timeout met a 146,760-token prompt at ~400 tok/s
    (~367 s): three timeouts in a row, which looked like a hung GPU.

Example that fails
    openclaw.json: timeoutSeconds 300, contextWindow 131072; --prefill-tps 400
    -> prefill of 131,072 tokens at 400 tok/s takes 328 s > timeout 300 s

Fix
    Raise the timeout to cover the prefill with margin (`ctxfix apply` uses
    window / rate x 1.25), or lower the window.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.policy.timeout import needed_timeout_s, prefill_seconds
from ctxfix.policy.timeout import window_of as _window_of
from ctxfix.policy.truncation import for_model
from ctxfix.rules._util import binding_data, binding_finding, binding_location, n
from ctxfix.world import World

CODE = "CTX301"
NAME = "timeout-below-prefill"
SEVERITY = "warning"


def window_of(rb) -> int | None:
    """Tokens a full prompt can have: the agent's window, capped by what is served."""
    b = rb.binding
    return _window_of(
        b.context_window.value if b.context_window else None,
        rb.served_ctx.value if rb.served_ctx else None,
    )


def _longer(rb) -> str:
    """What happens to a prompt longer than the served context, when the agent can send one."""
    b = rb.binding
    served = rb.served_ctx.value if rb.served_ctx else None
    if b.context_window is None or served is None or b.context_window.value <= served:
        return ""
    return f"; a longer prompt does not get that far: {for_model(rb.model, served).describe()}"


def check(world: World) -> Iterator[Finding]:
    for rb in world.bindings:
        b = rb.binding
        if b.timeout_s is None:
            continue
        rate_src = world.prefill_rate(b.model)
        rate = rate_src.value if rate_src else None
        rate_from = (rate_src.note or rate_src.source) if rate_src else ""
        window = window_of(rb)
        if not window:
            continue
        timeout = b.timeout_s.value
        loc = binding_location(rb, "timeout_s")
        if rate:
            need = prefill_seconds(window, rate)
            if need <= timeout:
                continue
            yield binding_finding(
                rb,
                code=CODE,
                severity=SEVERITY,
                message=(
                    f"prefill of {n(window)} tokens at {rate:,.0f} tok/s takes {need:.0f} s > "
                    f"timeout {timeout:g} s ({b.agent}; rate from {rate_from}){_longer(rb)}"
                ),
                location=loc,
                data=binding_data(
                    rb,
                    window=window,
                    prefill_tps=rate,
                    prefill_source=rate_src.source,
                    prefill_s=round(need, 1),
                    timeout_s=timeout,
                    target_timeout_s=needed_timeout_s(window, rate),
                ),
            )
        else:
            breakeven = window / timeout if timeout else math.inf
            yield binding_finding(
                rb,
                code=CODE,
                severity="info",
                message=(
                    f"timeout {timeout:g} s covers a full {n(window)}-token prompt only if "
                    f"prefill runs at >= {breakeven:,.0f} tok/s ({b.agent}); "
                    f"pass --prefill-tps or --measure-prefill to check{_longer(rb)}"
                ),
                location=loc,
                data=binding_data(
                    rb, window=window, timeout_s=timeout, breakeven_tps=round(breakeven, 1)
                ),
            )
