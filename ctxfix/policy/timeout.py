"""The timeout a context window needs: prefill of a full window, with margin.

Why here: CTX301 judges a timeout and the plan raises it; both must use the
same arithmetic or a raised timeout is still flagged.
"""

from __future__ import annotations

import math

MARGIN = 1.25
"""Head-room over the pure prefill time: generation, queueing and a slower turn."""


def prefill_seconds(window: int, rate_tps: float) -> float:
    """Seconds to prefill `window` tokens at `rate_tps` tokens per second."""
    return window / rate_tps


def needed_timeout_s(window: int, rate_tps: float) -> int:
    """Whole seconds a timeout must allow: prefill x MARGIN, rounded up."""
    return math.ceil(prefill_seconds(window, rate_tps) * MARGIN)


def too_short(timeout_s: float, window: int, rate_tps: float) -> bool:
    """True when the timeout does not cover the prefill of a full window (no margin)."""
    return prefill_seconds(window, rate_tps) > timeout_s


def window_of(context_window: int | None, served: int | None) -> int | None:
    """Tokens a full prompt can have: the agent's window, capped by what is served."""
    vals = [v for v in (context_window, served) if v is not None]
    return min(vals) if vals else None
