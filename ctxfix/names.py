"""Ollama model-name normalisation.

Why: an agent writes `ollama_chat/Qwen3-Coder:30b`, a store holds
`manifests/registry.ollama.ai/library/qwen3-coder/30b`, a server lists
`qwen3-coder:30b`. They are one model. Ollama implies the host
`registry.ollama.ai`, the namespace `library` and the tag `latest`, and
compares names case-insensitively; we do the same so every source joins.
"""

from __future__ import annotations

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

# Provider prefixes agents put before an Ollama model name.
_PROVIDER_PREFIXES = ("ollama_chat/", "ollama/")


def strip_provider(ref: str) -> str:
    """`ollama_chat/qwen3:8b` -> `qwen3:8b`; `ollama/x` -> `x`; others unchanged."""
    low = ref.lower()
    for p in _PROVIDER_PREFIXES:
        if low.startswith(p):
            return ref[len(p) :]
    return ref


def split_name(name: str) -> tuple[str, str, str, str]:
    """Split into (host, namespace, model, tag) with Ollama's defaults applied."""
    name = name.strip()
    tag = DEFAULT_TAG
    # a tag is after the last ':' that comes after the last '/'
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :] or DEFAULT_TAG
    parts = [p for p in name.split("/") if p]
    host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) >= 3:
        host, namespace, model = parts[0], "/".join(parts[1:-1]), parts[-1]
    elif len(parts) == 2:
        namespace, model = parts
    else:
        model = parts[0] if parts else ""
    return host, namespace, model, tag


def canonical(name: str) -> str:
    """The short display name Ollama prints: `qwen3-coder:30b`, `hf.co/org/repo:Q4_K_M`.

    Lower-cased, default host/namespace dropped, tag always present.
    """
    host, namespace, model, tag = split_name(strip_provider(name))
    prefix = ""
    if host.lower() != DEFAULT_HOST:
        prefix = f"{host}/{namespace}/"
    elif namespace.lower() != DEFAULT_NAMESPACE:
        prefix = f"{namespace}/"
    return f"{prefix}{model}:{tag}".lower()


def same_model(a: str, b: str) -> bool:
    """True when two references name the same Ollama model."""
    return canonical(a) == canonical(b)


BACKUP_NAMESPACE = "ctxfix-backup"
"""Where `apply --in-place` keeps the replaced definition (for rollback)."""


def is_backup(name: str) -> bool:
    """A ctxfix rollback copy (`ctxfix-backup/<model>:<tag>-<id>`): never judged or fixed."""
    return split_name(name)[1].lower() == BACKUP_NAMESPACE


def name_problem(name: str) -> str | None:
    """Why Ollama would refuse `name` as a model name, or None when it is valid.

    Follows `isValidLen` / `isValidPart` in `types/model/name.go`
    (github:ollama/ollama): namespace, model and tag are 1 to 80 characters of
    letters, digits, `_`, `-` and `.` (no `.` in a namespace), starting with a
    letter, digit or `_`.
    """
    _host, namespace, model, tag = split_name(strip_provider(name))

    def part_ok(s: str, lo: int, hi: int, extra: str = "") -> bool:
        if not lo <= len(s) <= hi:
            return False
        if not (s[0].isalnum() or s[0] == "_"):
            return False
        return all(c.isascii() and (c.isalnum() or c in "_-." + extra) for c in s)

    if not part_ok(tag, 1, 80):
        return f"tag {tag!r} must be 1 to 80 letters, digits, '_', '-' or '.'"
    if not part_ok(model, 1, 80):
        return f"model {model!r} must be 1 to 80 letters, digits, '_', '-' or '.'"
    if not part_ok(namespace, 1, 80) or "." in namespace:
        return f"namespace {namespace!r} must be 1 to 80 letters, digits, '_', '-' or '.'"
    return None


def split_ref(ref: str, model: str) -> tuple[str, str] | None:
    """`ollama/qwen3-coder:30b-v-128k` -> (`ollama/`, `qwen3-coder:30b-v-128k`)."""
    want = canonical(model)
    # shortest tail first: `ollama/x` must keep `ollama/` even though canonical() strips it
    for j in reversed([0] + [i + 1 for i, c in enumerate(ref) if c == "/"]):
        tail = ref[j:]
        if tail and canonical(tail) == want:
            return ref[:j], tail
    return None
