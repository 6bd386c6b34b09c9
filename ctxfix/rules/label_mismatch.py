"""CTX102 label-mismatch: a context label in the model name disagrees with reality.

What it finds
    A model whose name carries a context label — `qwen3-coder:30b-v-128k`,
    `llama3.1:8b-32k`, `Modelfile.mistral-1m` — where the label matches
    neither the num_ctx the model serves nor its native context. Also a label
    that matches the num_ctx but not the native context: the name then
    advertises a cap as if it were the model's size.

Why it matters
    People (and agent configs) read the label, not the Modelfile. A "128k"
    model that serves 4,096 tokens, or a "128k" cap on a 256k model, makes
    every downstream setting wrong in the same direction. `128k` is read as
    both 128,000 and 131,072.

Example that fails
    qwen3-coder:30b-v-128k   num_ctx 131072, native 262144 (gguf)
    -> the label bakes a 128k cap into the name of a 256k model

Fix
    Create a correctly labelled model (`ctxfix apply` names it
    `qwen3-coder:30b-262k` with num_ctx 262144) and point agents at it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import model_data, model_finding, n, target_ctx
from ctxfix.world import World

CODE = "CTX102"
NAME = "label-mismatch"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    from ctxfix.labels import find_label, label_matches

    for m in world.models:
        d = m.definition
        if m.label_text is None or m.label_ctx is None:
            continue
        label = find_label(m.label_text) or None
        if label is None:
            continue
        served = m.served_ctx.value if m.served_ctx else None
        native = m.native_ctx.value if m.native_ctx else None
        target = target_ctx(m, world)
        fits_served = served is not None and label_matches(label, served)
        fits_native = native is not None and label_matches(label, native)
        # a label that says the policy target, served, is what ctxfix itself names
        fits_target = target is not None and label_matches(label, target) and served == target
        if fits_native or fits_target or (native is None and fits_served):
            continue
        if served is None and native is None:
            continue
        if fits_served:
            msg = (
                f"name label '{m.label_text}' advertises the num_ctx cap {n(served)}, "
                f"not {d.name}'s native {n(native)} ({m.native_ctx.source})"
            )
        else:
            parts = []
            if served is not None:
                parts.append(f"serves {n(served)} ({m.served_ctx.source})")
            if native is not None:
                parts.append(f"native {n(native)} ({m.native_ctx.source})")
            msg = f"name label '{m.label_text}' does not match: {d.name} " + ", ".join(parts)
        yield model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=msg,
            location=d.location,
            data=model_data(
                m, label=m.label_text, label_values=sorted(label.values), target=target
            ),
        )
