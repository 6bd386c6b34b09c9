"""What the Pi-family readers share: Pi (`pi`), Oh My Pi (`omp`), DeepSeek Harness (`dsh`).

All three keep Pi's provider layout (`providers.<name>.models[]` entries with
`id`, `contextWindow`, `maxTokens`; see `pi` for the upstream facts) and reach
Ollama on a compatibility API that cannot set num_ctx. Each module keeps its
own file location, provider filter, defaults and wording; the walk over the
providers' model lists and the binding built for one model entry are here,
and `pi_layout_bindings` reads Pi's own layout (Pi and Oh My Pi).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.names import canonical
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    is_ollama_url,
    location,
    to_int,
    to_str,
)


def provider_models(doc: Any, providers: KeyPath) -> Iterator[tuple[Any, dict, list]]:
    """(id, provider, models) of each provider in the map at `providers` that lists models.

    A provider that is not a mapping, or has no `models`, is skipped; a
    `models` that is not a list is a CtxfixError at its position.
    """
    data = doc.data
    for key in providers:
        data = data[key]
    for pid, prov in data.items():
        if not isinstance(prov, dict):
            continue
        models = prov.get("models")
        if models is None:
            continue
        if not isinstance(models, list):
            where = str(location(doc, (*providers, pid, "models")))
            raise CtxfixError(where, "models must be a list of model entries")
        yield pid, prov, models


def model_entries(models: list) -> Iterator[tuple[int, dict]]:
    """(index, entry) of each model entry that is a mapping with a string `id`."""
    for i, m in enumerate(models):
        if isinstance(m, dict) and to_str(m.get("id")) is not None:
            yield i, m


def window_and_max(
    doc: Any, base: KeyPath, *, title: str, window: int, max_tokens: int
) -> tuple[Sourced[int], Sourced[int]]:
    """The entry's `contextWindow` and `maxTokens`, else the agent's defaults (`title`'s)."""
    window_path: KeyPath = (*base, "contextWindow")
    max_path: KeyPath = (*base, "maxTokens")
    w: Sourced[int] | None = binding_value(doc, window_path, to_int)
    if w is None:
        w = default(window, f"{title}'s default contextWindow", doc, window_path)
    m: Sourced[int] | None = binding_value(doc, max_path, to_int)
    if m is None:
        m = default(max_tokens, f"{title}'s default maxTokens", doc, max_path)
    return w, m


def binding(
    doc: Any,
    base: KeyPath,
    *,
    agent: str,
    api: str,
    url: str | None,
    window: Sourced[int] | None,
    max_tokens: Sourced[int] | None,
    suppressed: frozenset[str],
    pinned: str,
    launched: bool,
) -> AgentBinding:
    """The binding of the model entry at `base`: its `id` (pinned) and `contextWindow`.

    `launched`: `ollama launch` wrote this entry's window (then named as its writer).
    """
    model_ref = binding_value(doc, (*base, "id"), to_str)
    assert model_ref is not None
    return AgentBinding(
        agent=agent,
        file=str(doc.path),
        model_ref=model_ref,
        model=canonical(model_ref.value),
        api=api,
        host=url,
        context_window=window,
        num_ctx=None,
        max_tokens=max_tokens,
        timeout_s=None,
        edit_paths={"model_ref": (*base, "id"), "context_window": (*base, "contextWindow")},
        format=doc.fmt,
        suppressed=suppressed,
        pinned=pinned,
        written_by="ollama launch" if launched else None,
    )


def pi_layout_bindings(
    doc: Any,
    suppressed: frozenset[str],
    *,
    agent: str,
    title: str,
    window: int,
    max_tokens: int,
    pinned: str,
    launched: Callable[[Any, dict, dict], bool],
) -> list[AgentBinding]:
    """One binding per model of each Ollama provider of Pi's `providers` map.

    A model's `baseUrl`/`api` override its provider's; a provider is Ollama
    when named "ollama" or on Ollama's port. `title`: whose defaults
    (`window`, `max_tokens`) apply to an unset value. `launched(id, provider,
    entry)`: `ollama launch` wrote the entry (its writer when it has a
    `contextWindow`). Every API here is a compatibility API to Ollama: none
    carries num_ctx.
    """
    out: list[AgentBinding] = []
    for pid, prov, models in provider_models(doc, ("providers",)):
        for i, m in model_entries(models):
            url = to_str(m.get("baseUrl")) or to_str(prov.get("baseUrl"))
            if pid != "ollama" and not is_ollama_url(url):
                continue
            api = to_str(m.get("api")) or to_str(prov.get("api")) or ""
            base: KeyPath = ("providers", pid, "models", i)
            w, mt = window_and_max(doc, base, title=title, window=window, max_tokens=max_tokens)
            out.append(
                binding(
                    doc,
                    base,
                    agent=agent,
                    api="anthropic" if api == "anthropic-messages" else "openai",
                    url=url,
                    window=w,
                    max_tokens=mt,
                    suppressed=suppressed,
                    pinned=pinned,
                    launched=launched(pid, prov, m) and "contextWindow" in m,
                )
            )
    return out
