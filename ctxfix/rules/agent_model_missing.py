"""CTX203 agent-model-missing: the agent names a model no store or server has.

What it finds
    An agent binding whose Ollama model name matches nothing in the scanned
    model stores or live servers (names compared as Ollama does: default
    `latest` tag, `library/` namespace implied, case-insensitive;
    github:ollama/ollama types/model/name.go `defaultTag`, `defaultNamespace`,
    `Name.EqualFold`). Silent when no store and no server was scanned (an
    offline repo scan cannot know), and for a binding to a remote host that
    was not scanned.

Why it matters
    Ollama answers `model 'x' not found` (404, server/routes.go) and many
    agents show that as a generic connection failure. A typo, a tag that was
    renamed, or a model created on another machine are the usual causes. The
    closest names are suggested.

Example that fails
    opencode.json: "model": "ollama/qwen3-coder:30b-128k"
    while the store has qwen3-coder:30b-v-128k

Fix
    Point the agent at an existing model, or create/pull it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import binding_finding, binding_location
from ctxfix.world import World

CODE = "CTX203"
NAME = "agent-model-missing"
SEVERITY = "error"


def _host_scanned(host: str | None, world: World) -> bool:
    from ctxfix.policy.hosts import is_local, same_host

    if not host or is_local(host):
        return True
    return any(same_host(s.host, host) for s in world.servers)


def check(world: World) -> Iterator[Finding]:
    if not world.known_models:
        return
    for rb in world.bindings:
        b = rb.binding
        if rb.model is not None or not _host_scanned(b.host, world):
            continue
        import difflib  # only when a model is missing: not on every scan

        close = difflib.get_close_matches(b.model, world.known_models, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        yield binding_finding(
            rb,
            code=CODE,
            severity=SEVERITY,
            message=f"{b.agent} uses {b.model}, which no scanned store or server has{hint}",
            location=binding_location(rb, "model_ref"),
            data={"agent": b.agent, "suggestions": close},
        )
