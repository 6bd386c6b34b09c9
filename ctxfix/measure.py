"""Measure a model's prefill rate on a live server (opt-in: it loads the model).

Why: CTX301 compares an agent's timeout with the time to prefill its
window; a rate measured on the user's own machine beats any table. One
`/api/generate` with a prompt of a few thousand tokens and `num_predict: 1`
costs seconds, and the final response carries `prompt_eval_count` and
`prompt_eval_duration` (ns). A random first line keeps the server's prompt
cache from answering instead of the model. We never send `num_ctx`: a
request whose num_ctx differs from the loaded model's reloads it.
"""

from __future__ import annotations

import secrets

from ctxfix.errors import CtxfixError

MIN_TOKENS = 256  # fewer evaluated tokens than this means the prompt cache answered
_WORDS = (
    "context",
    "window",
    "cache",
    "token",
    "layer",
    "memory",
    "bandwidth",
    "prefill",
    "decode",
    "model",
    "server",
    "agent",
    "config",
    "timeout",
    "budget",
    "native",
)


def measurement_prompt(words: int = 2500) -> str:
    """A prompt of roughly `words` x 1.3 tokens that no earlier request has cached."""
    nonce = secrets.token_hex(8)
    body = " ".join(f"{_WORDS[i % len(_WORDS)]}{i % 97}" for i in range(words))
    return f"[{nonce}] Reply with one word.\n{body}"


def measure_prefill(host: str, model: str, timeout: float = 300.0) -> float:
    """Prefill tokens per second of `model` on `host`, measured with one request.

    Raises CtxfixError(host, ...) when the server cannot be reached, does not
    know the model, or reports no usable prompt evaluation.
    """
    import httpx

    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()

    client = ollama.Client(host=host, timeout=timeout)
    try:
        r = client.generate(
            model=model,
            prompt=measurement_prompt(),
            options={"num_predict": 1, "temperature": 0},
            stream=False,
        )
    except ollama.ResponseError as exc:
        raise CtxfixError(host, f"prefill measurement of {model} failed: {exc.error}") from None
    except (ConnectionError, httpx.HTTPError) as exc:
        raise CtxfixError(host, f"cannot reach server to measure prefill: {exc}") from None
    except ValueError as exc:  # malformed JSON (JSONDecodeError) or shape (ValidationError)
        reason = str(exc).splitlines()[0]
        raise CtxfixError(
            host,
            f"prefill measurement of {model}: malformed response from /api/generate ({reason})",
        ) from None
    count = getattr(r, "prompt_eval_count", None)
    duration = getattr(r, "prompt_eval_duration", None)
    if not count or not duration:
        raise CtxfixError(host, f"{model}: response has no prompt_eval_count/duration")
    if count < MIN_TOKENS:
        raise CtxfixError(
            host, f"{model}: only {count} prompt tokens evaluated (prompt cache?); try again"
        )
    return count / (duration / 1e9)
