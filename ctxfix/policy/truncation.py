"""What the user sees when a prompt is longer than the context Ollama serves, by version.

Why: "truncated" is not one behaviour. Which one a server has decides whether
the agent gets a wrong answer (the prompt silently cut) or an error it can
show, so CTX201 and CTX301 say which, from the upstream source:

* Before 0.30.0 the Go runners cut the prompt to the window: the first
  `num_keep` tokens (4 by default, api/types.go `DefaultOptions`) are kept
  and the oldest tokens after them dropped until `num_ctx` remain, with a
  `truncating input prompt` warning in the log
  (runner/ollamarunner/runner.go and runner/llamarunner/runner.go `inputs`).
* 0.30.0 to 0.30.8 run llama-server for every GGUF model; the same cut keeps
  `num_ctx - 1` tokens, one of headroom because llama-server rejects a
  prompt that fills the slot (llm/llama_server.go
  `completionPromptForRequest`, v0.30.0).
* From 0.30.9, with context shift the prompt is cut to
  `contextShiftPromptLimit(num_ctx, num_keep)`, about half the window
  (`num_ctx - max((num_ctx - num_keep) / 2, 1)`); without context shift the
  request fails with HTTP 400 "the prompt is longer than the context length
  currently available to the model; ..." (llm/llama_server.go at
  v0.33.0-rc2). Context shift is on unless the request says `shift: false`
  or the model is of the deepseek2 family (server/sched.go
  `resolveContextShift`, `supportsContextShift`).
An unknown server version gets the current release's behaviour, said as such.
"""

from __future__ import annotations

from typing import Any

from ctxfix.ollama_defaults import parse_version
from ctxfix.records import record
from ctxfix.world import ResolvedModel

DEFAULT_NUM_KEEP = 4
"""api/types.go DefaultOptions: `NumKeep: 4` ("a minimal num_keep to avoid issues on context
shifts"); the tokenizer's BOS may add one more, which moves the limit by one."""

_V_LLAMA_SERVER = (0, 30, 0)
_V_HALF_OR_REFUSE = (0, 30, 9)

REFUSED_MESSAGE = (
    "the prompt is longer than the context length currently available to the model; shorten "
    "the prompt, adjust the context length in settings, or use a model with a longer context "
    "length"
)
"""llm/llama_server.go (v0.30.9+): the HTTP 400 body without context shift."""


class Outcome:
    # constants, not an Enum: creating an Enum class costs ~0.3 ms at import (issue 15)
    CUT_TO_WINDOW = "cut-to-window"
    CUT_TO_HALF = "cut-to-half"
    REFUSED = "refused"


@record(frozen=True)
class Truncation:
    """What happens to a prompt over `over` tokens: kept tokens (`kept`) or a 400."""

    outcome: str  # an Outcome constant
    over: int  # a prompt longer than this is cut or refused
    kept: int  # tokens the cut prompt keeps (0 when refused)
    assumed: bool  # the server version is unknown: the current release's rule

    def describe(self) -> str:
        """One clause for a finding message."""
        current = " (current Ollama; the server version is unknown)" if self.assumed else ""
        if self.outcome is Outcome.REFUSED:
            return (
                f"prompts over {self.over:,} tokens fail with HTTP 400 "
                f'"the prompt is longer than the context length currently available to '
                f'the model"{current}'
            )
        if self.outcome is Outcome.CUT_TO_HALF:
            return (
                f"prompts over {self.over:,} tokens are silently cut to about half the "
                f"window ({self.kept:,} tokens, the oldest dropped){current}"
            )
        return (
            f"prompts past {self.over:,} tokens are silently cut to the last {self.kept:,} "
            f"(the oldest dropped){current}"
        )


def context_shift_prompt_limit(num_ctx: int, num_keep: int = DEFAULT_NUM_KEEP) -> int:
    """llm/llama_server.go `contextShiftPromptLimit`: the tokens a shifted prompt keeps."""
    if num_ctx <= 1:
        return 0
    num_keep = max(0, min(num_keep, num_ctx - 1))
    return num_ctx - max((num_ctx - num_keep) // 2, 1)


def is_deepseek2(arch: str | None, details: dict[str, Any] | None = None) -> bool:
    """server/sched.go supportsContextShift: the deepseek2 family runs without context shift."""
    if arch == "deepseek2":
        return True
    details = details or {}
    families = details.get("families")
    return details.get("family") == "deepseek2" or (
        isinstance(families, list) and "deepseek2" in families
    )


def truncation(version: str | None, served: int, *, no_context_shift: bool = False) -> Truncation:
    """What a server of `version` does with a prompt longer than `served` tokens."""
    v = parse_version(version)
    assumed = v is None
    if v is not None and v < _V_LLAMA_SERVER:
        return Truncation(Outcome.CUT_TO_WINDOW, served, served, assumed)
    if v is not None and v < _V_HALF_OR_REFUSE:
        return Truncation(Outcome.CUT_TO_WINDOW, served - 1, served - 1, assumed)
    if no_context_shift:
        return Truncation(Outcome.REFUSED, served - 1, 0, assumed)
    return Truncation(Outcome.CUT_TO_HALF, served - 1, context_shift_prompt_limit(served), assumed)


def for_model(model: ResolvedModel | None, served: int) -> Truncation:
    """`truncation` for the server and family of a resolved model (None: unknown model)."""
    if model is None:
        return truncation(None, served)
    d = model.definition
    arch = model.geometry.arch if model.geometry else None
    return truncation(
        model.server_version, served, no_context_shift=is_deepseek2(arch, dict(d.details))
    )
