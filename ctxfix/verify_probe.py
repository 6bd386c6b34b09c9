"""Probe a served context window by using it: prompts of growing size, one output token each.

Why by using it: every other number ctxfix has (Modelfile, params blob,
defaults, `/api/ps`) is a claim about the window. Only the runner knows what
it really evaluates, and it says so in every final `/api/generate` response:
`prompt_eval_count` (tokens it evaluated) and `prompt_eval_duration` (ns).

What "cut" and "refused" look like (github:ollama/ollama, checked at
v0.33.0-rc2 and v0.20.0):

- before 0.30 the Go runners cut a prompt longer than num_ctx to num_ctx
  tokens (runner/ollamarunner/runner.go `NewSequence`, log line
  `truncating input prompt`): `prompt_eval_count` is then smaller than what
  was sent;
- from 0.30 llama-server takes at most num_ctx - 1 prompt tokens; a longer
  prompt is cut to `contextShiftPromptLimit` (about half the window) when
  context shift is on, which is the default, or refused with HTTP 400 "the
  prompt is longer than the context length currently available to the
  model; ..." when it is off (llm/llama_server.go
  `completionPromptForRequest`; server/sched.go `resolveContextShift`).

No tokenizer here: a prompt is `" the"` repeated (one token per repeat in
the BPE and SentencePiece vocabularies Ollama models ship), behind a short
nonce that keeps the server's prompt cache from answering (llama-server's
`prompt_eval_count` is `cache_n + prompt_n` but its duration covers
`prompt_n` only: llm/llama_server.go `promptEvalCount`). The first, small
request calibrates tokens per word from `prompt_eval_count`; every prompt
evaluated whole refines the fit (tokens = a + b x words), so later prompts
land within a few tokens of the size they aim for.

The schedule: 256 tokens (calibration), then x4 (1,024, 4,096, 16,384, ...)
below the target, then the target prompt: the window minus one token for
the reply and a small slack (at most 256 tokens) for calibration error.
When ctxfix believes less is served than the window, a prompt filling the
served context and one just above it replace the x4 rungs around it. On
the first cut or refusal it bisects between the largest whole prompt and
the failing one while the budget allows. Before each request it checks the
token budget and, once a rate is measured, whether the request can finish
within the time limit; each request's deadline is what is left of it.

This module does no I/O: `run_probe` takes a `send` callable, so the logic is
tested without a server and the command owns the client.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable

from ctxfix.records import field, record

UNIT = " the"
FIRST_TOKENS = 256
GROWTH = 4
MAX_BISECT = 6
MIN_RATE_TOKENS = 256  # a rate from fewer evaluated tokens is mostly request overhead


@record(frozen=True)
class Reply:
    """The final response of a generate request: what the runner evaluated, and how fast."""

    evaluated: int  # prompt_eval_count
    duration_s: float  # prompt_eval_duration


@record(frozen=True)
class Refused:
    """HTTP 400: the prompt is longer than the context (message as the server sent it)."""

    message: str


@record(frozen=True)
class TimedOut:
    """The request did not finish within what was left of the time limit."""

    seconds: float


Outcome = Reply | Refused | TimedOut
Send = Callable[[str, float], Outcome]  # (prompt, seconds left) -> outcome


@record(frozen=True)
class Limits:
    """Bounds of one probe: wall-clock seconds and prompt tokens sent in total."""

    time_limit_s: float = 120.0
    max_tokens: int = 1_000_000


@record(frozen=True)
class Step:
    """One request: what was sent, what the runner did with it."""

    purpose: str  # "calibrate" | "grow" | "served" | "above-served" | "target" | "bisect"
    words: int
    sent: int  # tokens sent: predicted from the calibration (words for the first request)
    outcome: str  # "whole" | "cut" | "refused" | "timeout"
    evaluated: int | None = None
    duration_s: float | None = None
    message: str | None = None

    @property
    def whole(self) -> bool:
        return self.outcome == "whole"

    @property
    def tps(self) -> float | None:
        """Prefill tokens per second of this request (None: no usable timing)."""
        if not self.evaluated or not self.duration_s or self.duration_s <= 0:
            return None
        return self.evaluated / self.duration_s

    def to_json(self) -> dict[str, object]:
        tps = self.tps
        return {
            "purpose": self.purpose,
            "words": self.words,
            "sent_tokens": self.sent,
            "outcome": self.outcome,
            "evaluated_tokens": self.evaluated,
            "prompt_eval_duration_s": (
                round(self.duration_s, 3) if self.duration_s is not None else None
            ),
            "prefill_tps": round(tps, 1) if tps else None,
            "message": self.message,
        }


@record
class ProbeResult:
    """What the probe found. `status`: verified | cut | refused | incomplete."""

    window: int
    target_prompt: int
    status: str
    steps: list[Step] = field(default_factory=list)
    stop: str | None = None  # incomplete only: "time-limit" | "token-budget"
    stop_detail: str = ""
    elapsed_s: float = 0.0
    tokens_sent: int = 0

    @property
    def largest_whole(self) -> Step | None:
        whole = [s for s in self.steps if s.whole]
        return max(whole, key=lambda s: s.evaluated or 0) if whole else None

    @property
    def first_failure(self) -> Step | None:
        """The smallest prompt that was cut or refused."""
        bad = [s for s in self.steps if s.outcome in ("cut", "refused")]
        return min(bad, key=lambda s: s.sent) if bad else None

    @property
    def rate(self) -> Step | None:
        """The step the prefill rate comes from: the largest whole prompt with usable timing.

        Why the largest: attention makes prefill slower per token as the
        prompt grows, and CTX301 asks about a full window, so the longest
        prompt measured is the most honest rate (and the least overhead-bound).
        """
        timed = [s for s in self.steps if s.whole and s.tps and s.evaluated]
        big = [s for s in timed if (s.evaluated or 0) >= MIN_RATE_TOKENS] or timed
        return max(big, key=lambda s: s.evaluated or 0) if big else None


def target_prompt_tokens(window: int) -> int:
    """Tokens in the prompt that "fills" `window`: one left for the reply, minus a slack.

    Why a slack: prompt sizes are predicted from a calibration, not counted
    by a tokenizer; a prompt a few tokens too long would read as a cut.
    From 0.30 llama-server accepts at most num_ctx - 1 prompt tokens.
    """
    slack = min(256, max(8, window // 512))
    return max(1, window - 1 - slack)


def ladder(target: int, served: int | None = None) -> list[tuple[int, str]]:
    """(tokens, purpose) to try, smallest first, ending at `target`.

    Why the served rungs: when ctxfix believes the server serves less than
    the window being verified, a prompt that just fills the served context
    and one just above it settle the question at the cost of about one
    served window, instead of growing x4 past it and bisecting back (a 64k
    prompt on a 32k window at 400 tok/s is minutes).
    """
    rungs: dict[int, str] = {}
    t = FIRST_TOKENS
    while t < target:
        rungs[t] = "grow"
        t *= GROWTH
    if served and FIRST_TOKENS < target_prompt_tokens(served) < target:
        fill = target_prompt_tokens(served)
        above = served + max(16, served // 128)
        rungs = {k: v for k, v in rungs.items() if not fill * 0.7 < k < above * 1.4}
        rungs[fill] = "served"
        if above < target:
            rungs[above] = "above-served"
    rungs[min(FIRST_TOKENS, target)] = "calibrate"
    rungs[target] = "target"
    return sorted(rungs.items())


def make_prompt(words: int) -> str:
    """`ctxfix verify NNNNNNNN.` then `" the"` x words (fixed-length nonce: constant overhead)."""
    nonce = f"{secrets.randbelow(10**8):08d}"
    return f"ctxfix verify {nonce}." + UNIT * words


class Calibration:
    """tokens = a + b x words, fitted on prompts evaluated whole (two points: exact for " the")."""

    def __init__(self) -> None:
        self.points: list[tuple[int, int]] = []

    @property
    def ready(self) -> bool:
        return bool(self.points)

    def _fit(self) -> tuple[float, float]:
        (w0, t0) = self.points[0]
        (w1, t1) = max(self.points)
        b = (t1 - t0) / (w1 - w0) if w1 != w0 else 1.0
        if b <= 0:
            b = 1.0
        return t1 - b * w1, b

    def tokens(self, words: int) -> int:
        if not self.points:
            return words
        a, b = self._fit()
        return max(1, round(a + b * words))

    def words(self, tokens: int) -> int:
        if not self.points:
            return max(1, tokens)
        a, b = self._fit()
        return max(1, math.floor((tokens - a) / b))

    def add(self, words: int, evaluated: int) -> None:
        self.points.append((words, evaluated))


def _tolerance(expected: int) -> int:
    """Tokens a whole prompt may fall short of the prediction (nonce tokenization varies)."""
    return max(8, expected // 1000)


def run_probe(
    send: Send,
    window: int,
    limits: Limits,
    *,
    clock: Callable[[], float] = time.monotonic,
    on_step: Callable[[str, int], None] | None = None,
    served: int | None = None,
) -> ProbeResult:
    """Grow prompts up to the one that fills `window`; bisect a cut; stop within `limits`.

    `served`: the context ctxfix believes the server serves (adds rungs at it).
    """
    start = clock()
    target = target_prompt_tokens(window)
    result = ProbeResult(window=window, target_prompt=target, status="incomplete")
    cal = Calibration()

    def attempt(tokens: int, purpose: str) -> Step | None:
        words = cal.words(tokens)
        sent = cal.tokens(words)
        if result.tokens_sent + sent > limits.max_tokens:
            result.stop = "token-budget"
            result.stop_detail = (
                f"a prompt of {sent:,} tokens would exceed --max-tokens {limits.max_tokens:,} "
                f"({result.tokens_sent:,} sent)"
            )
            return None
        left = limits.time_limit_s - (clock() - start)
        rate = result.rate.tps if result.rate else None
        if left <= 0 or (rate and sent / rate > left):
            result.stop = "time-limit"
            need = f" needs ~{sent / rate:,.0f} s at {rate:,.0f} tok/s;" if rate else ""
            result.stop_detail = (
                f"a prompt of {sent:,} tokens{need} {max(left, 0):,.0f} s of "
                f"--time-limit {limits.time_limit_s:g} s left"
            )
            return None
        if on_step is not None:
            on_step(purpose, sent)
        outcome = send(make_prompt(words), left)
        result.tokens_sent += sent
        if isinstance(outcome, TimedOut):
            result.stop = "time-limit"
            result.stop_detail = (
                f"a prompt of {sent:,} tokens did not finish within the "
                f"{outcome.seconds:,.0f} s left of --time-limit {limits.time_limit_s:g} s"
            )
            step = Step(purpose, words, sent, "timeout")
        elif isinstance(outcome, Refused):
            step = Step(purpose, words, sent, "refused", message=outcome.message)
        else:
            if cal.ready:
                whole = outcome.evaluated >= sent - _tolerance(sent)
            else:  # first request: " the" is at least one token per word
                whole = outcome.evaluated >= words
                if whole:  # now we know what "sent" was: words + nonce (+ BOS)
                    result.tokens_sent += outcome.evaluated - sent
                    sent = outcome.evaluated
            step = Step(
                purpose,
                words,
                sent,
                "whole" if whole else "cut",
                outcome.evaluated,
                outcome.duration_s,
            )
            if whole:
                cal.add(words, outcome.evaluated)
        result.steps.append(step)
        return step

    lo: Step | None = None
    hi: Step | None = None
    for tokens, purpose in ladder(target, served):
        step = attempt(tokens, purpose)
        if step is None or step.outcome == "timeout":
            break
        if not step.whole:
            hi = step
            break
        lo = step
        if tokens == target:
            result.status = "verified"

    if hi is not None:
        result.status = hi.outcome  # "cut" or "refused"
        for _ in range(MAX_BISECT):
            if lo is None or lo.evaluated is None:
                break  # the calibration request itself failed: nothing to bisect from
            gap = hi.sent - lo.evaluated
            if gap <= max(16, lo.evaluated // 64):
                break
            step = attempt(lo.evaluated + gap // 2, "bisect")
            if step is None or step.outcome == "timeout":
                break  # a bisection cut short is still a cut; `stop` says why it ended
            if step.whole:
                lo = step
            else:
                hi = step

    result.elapsed_s = clock() - start
    return result
