"""What the Pi-family readers share: Pi (`pi`), Oh My Pi (`omp`), DeepSeek Harness (`dsh`).

All three keep Pi's provider layout (`providers.<name>.models[]` entries with
`id`, `contextWindow`, `maxTokens`; see `pi` for the upstream facts) and reach
Ollama on a compatibility API that cannot set num_ctx. Each module keeps its
own file location, provider filter, defaults and wording; the walk over the
providers' model lists and the binding built for one model entry are here,
and `pi_layout_bindings` reads Pi's own layout (Pi and Oh My Pi: `read_pi_layout`
is their whole `read`, `has_provider_keys` their `detect`, each with its own
provider keys and file format).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath, Sourced
from ctxfix.sources.agents._common import (
    binding_value,
    default,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    to_int,
    to_str,
    with_refs,
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
    return model_binding(
        doc,
        (*base, "id"),
        agent=agent,
        suppressed=suppressed,
        edit_paths={"context_window": (*base, "contextWindow")},
        api=api,
        host=url,
        context_window=window,
        max_tokens=max_tokens,
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


def has_provider_keys(data: Any, keys: frozenset[str]) -> bool:
    """A `providers` map with an entry that uses any of `keys`: the `detect` of Pi
    (`model-registry.ts`) and Oh My Pi (`models-config.ts`), whose provider entries
    share Pi's camelCase keys (`baseUrl`, `api`, ...) and differ in the rest."""
    if not isinstance(data, dict):
        return False
    providers = data.get("providers")
    return isinstance(providers, dict) and any(
        isinstance(p, dict) and bool(keys & p.keys()) for p in providers.values()
    )


def read_pi_layout(
    path: Path, text: str | None, fmt: str, detect: Callable[[Path, Any], bool], **layout: Any
) -> list[AgentBinding]:
    """The `read` of a file in Pi's layout: `path` parsed as `fmt`, [] unless the
    agent's `detect` claims it, else its `pi_layout_bindings` (`layout`: that
    function's keywords) with every reference to each model filled in."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, fmt)
    if not detect(path, doc.data):
        return []
    return with_refs(pi_layout_bindings(doc, inline_ignores(doc.text), **layout), doc)
