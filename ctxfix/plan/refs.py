"""Repointing a config at a new model: the reference text, written as the user wrote it.

Why its own module: an agent config names a model with a provider prefix
(`ollama/`, `ollama_chat/`, an OpenClaw provider id) and sometimes in several
places (Zed's `agent.default_model` and its `available_models` entry). The
readers record every place (`AgentBinding.refs`); this module only decides
the new text for each.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctxfix.names import canonical, split_ref

__all__ = ["renamed", "split_ref"]


def renamed(
    ref: str, old_model: str, new_name: str, naming: str, names: Mapping[str, str]
) -> str | None:
    """The reference text naming `new_name`, in the style `ref` was written in.

    The provider prefix stays; when the new name is the old one relabelled,
    the label is swapped in the name as written (keeping its case and tag
    style), else `new_name` is used. None when `ref` does not name `old_model`.
    """
    from ctxfix.labels import find_label, relabel

    split = split_ref(ref, old_model)
    if split is None:
        return None
    prefix, written = split
    label = find_label(new_name)
    if canonical(old_model) not in names and label is not None:
        for ctx in sorted(label.values):
            try:
                guess = relabel(written, ctx, naming)
            except ValueError:
                continue
            if canonical(guess) == canonical(new_name):
                return prefix + guess
    return prefix + new_name
