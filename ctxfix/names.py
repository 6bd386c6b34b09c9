"""Ollama model-name normalisation, parsing and validity, as `types/model/name.go` does it.

Why: an agent writes `ollama_chat/Qwen3-Coder:30b`, a store holds
`manifests/registry.ollama.ai/library/qwen3-coder/30b`, a server lists
`qwen3-coder:30b`. They are one model. Ollama implies the host
`registry.ollama.ai`, the namespace `library` and the tag `latest`, and
compares names case-insensitively; we do the same so every source joins.

The parser follows github:ollama/ollama `types/model/name.go` (checked at
v0.33.0-rc2) step for step, so a name splits here exactly as Ollama splits it:

- `ParseNameBare`: a tag is after the last `:` when that comes after the last
  `/`; then the model is after the last `/`, the namespace after the one
  before, and everything left is the host, with an optional `scheme://`
  (`https://host:port/ns/model:tag` -> host `host:port`, scheme `https`).
  A separator with nothing on one side yields the part `!MISSING!`
  (`cutPromised`), which no validity check accepts.
- `ParseName` fills empty parts from the defaults (host, namespace, tag, scheme).
- `isValidPart`: 1 to 80 bytes (host 1 to 350), the first an ASCII letter,
  digit or `_`, the rest also `-`, `_`, `.` (not in a namespace) and `:`
  (host only). Any non-ASCII character fails (its first UTF-8 byte is not
  alphanumeric). At v0.33.0-rc2 name.go has no digest parsing and no
  `parseMask`: `@` is an ordinary (invalid) character.
"""

from __future__ import annotations

import functools
import os

from ctxfix.records import record

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
DEFAULT_SCHEME = "https"
MISSING_PART = "!MISSING!"
"""name.go `MissingPart`: a part promised by a separator but empty."""

MAX_PART = 80  # name.go `isValidLen`: bytes in a part (also labels.relabel's cut)
MAX_HOST = 350  # name.go `isValidLen`: bytes in the host part

# Provider prefixes agents put before an Ollama model name.
_PROVIDER_PREFIXES = ("ollama_chat/", "ollama/")


def strip_provider(ref: str) -> str:
    """`ollama_chat/qwen3:8b` -> `qwen3:8b`; `ollama/x` -> `x`; others unchanged."""
    low = ref.lower()
    for p in _PROVIDER_PREFIXES:
        if low.startswith(p):
            return ref[len(p) :]
    return ref


@record(frozen=True)
class Name:
    """name.go `Name`: the parts as parsed (empty where the string had none)."""

    host: str = ""
    namespace: str = ""
    model: str = ""
    tag: str = ""
    scheme: str = ""

    def __str__(self) -> str:
        """`Name.String()`: `host/namespace/model:tag`; an empty part drops its separator."""
        out = ""
        if self.host:
            out += self.host + "/"
        if self.namespace:
            out += self.namespace + "/"
        out += self.model
        if self.tag:
            out += ":" + self.tag
        return out

    def is_fully_qualified(self) -> bool:
        """`Name.IsFullyQualified()` (and `IsValid()`): host, namespace, model, tag all valid."""
        return (
            is_valid_part("host", self.host)
            and is_valid_part("namespace", self.namespace)
            and is_valid_part("model", self.model)
            and is_valid_part("tag", self.tag)
        )

    is_valid = is_fully_qualified

    def display_shortest(self) -> str:
        """`Name.DisplayShortest()`: the default host (and then namespace) left out, case kept."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    def filepath(self) -> str:
        """`Name.Filepath()`: `host/namespace/model/tag` under the manifests directory.

        Raises ValueError where Go panics (a name that is not fully qualified),
        so no invalid name, `..` included, ever becomes a store path.
        """
        if not self.is_fully_qualified():
            raise ValueError(f"not a valid model name: {self}")
        return os.path.join(self.host, self.namespace, self.model, self.tag)


def _cut_promised(s: str, sep: str) -> tuple[str, str, bool]:
    """name.go `cutPromised`: cut at the last `sep`; an empty side becomes MISSING_PART."""
    i = s.rfind(sep)
    if i < 0:
        return s, "", False
    before, after = s[:i], s[i + len(sep) :]
    return before or MISSING_PART, after or MISSING_PART, True


def parse_name_bare(s: str) -> Name:
    """name.go `ParseNameBare`: split without applying defaults."""
    tag = host = namespace = scheme = ""
    if s.rfind(":") > s.rfind("/"):
        s, tag, _ = _cut_promised(s, ":")
    s, model, promised = _cut_promised(s, "/")
    if not promised:
        return Name(model=s, tag=tag)
    s, namespace, promised = _cut_promised(s, "/")
    if not promised:
        return Name(namespace=s, model=model, tag=tag)
    first, sep, rest = s.partition("://")
    if sep:
        scheme, host = first, rest
    else:
        host = first
    return Name(host, namespace, model, tag, scheme)


def parse_name(s: str) -> Name:
    """name.go `ParseName`: `ParseNameBare` merged with the defaults."""
    n = parse_name_bare(s)
    return Name(
        n.host or DEFAULT_HOST,
        n.namespace or DEFAULT_NAMESPACE,
        n.model,
        n.tag or DEFAULT_TAG,
        n.scheme or DEFAULT_SCHEME,
    )


def parse_name_from_filepath(s: str, sep: str = os.sep) -> Name:
    """name.go `ParseNameFromFilepath`: a 4-part manifest path, else the empty Name."""
    parts = s.split(sep)
    if len(parts) != 4:
        return Name()
    n = Name(*parts)
    return n if n.is_fully_qualified() else Name()


def _alnum_or_underscore(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9") or c == "_"


def is_valid_part(kind: str, s: str) -> bool:
    """name.go `isValidPart(kind, s)`; kind is host, namespace, model, tag or digest."""
    size = len(s.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= (MAX_HOST if kind == "host" else MAX_PART):
        return False
    if not _alnum_or_underscore(s[0]):
        return False
    for c in s[1:]:
        if c in "_-":
            continue
        if c == ".":
            if kind == "namespace":
                return False
        elif c == ":":
            if kind not in ("host", "digest"):
                return False
        elif not _alnum_or_underscore(c):
            return False
    return True


def is_valid_namespace(s: str) -> bool:
    """name.go `IsValidNamespace`."""
    return is_valid_part("namespace", s)


def split_name(name: str) -> tuple[str, str, str, str]:
    """(host, namespace, model, tag) as `ParseName` gives them (defaults applied).

    Outer whitespace is ignored (a config value `" qwen3:8b "`); the scheme of
    `https://host/ns/model:tag` is dropped, as it is from Ollama's store path.
    """
    n = parse_name(name.strip())
    return n.host, n.namespace, n.model, n.tag


@functools.lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """The short display name Ollama prints: `qwen3-coder:30b`, `hf.co/org/repo:Q4_K_M`.

    `ParseName(...).DisplayShortest()` lower-cased (Ollama compares names
    case-insensitively), after a provider prefix is stripped. Memoised: a pure
    function of the string, called for every model x binding pair by the rules.
    """
    return parse_name(strip_provider(name).strip()).display_shortest().lower()


def same_model(a: str, b: str) -> bool:
    """True when two references name the same Ollama model."""
    return canonical(a) == canonical(b)


BACKUP_NAMESPACE = "ctxfix-backup"
"""Where `apply --in-place` keeps the replaced definition (for rollback)."""


def is_backup(name: str) -> bool:
    """A ctxfix rollback copy (`ctxfix-backup/<model>:<tag>-<id>`): never judged or fixed."""
    return split_name(name)[1].lower() == BACKUP_NAMESPACE


_RULES = {
    "host": f"1 to {MAX_HOST} letters, digits, '_', '-', '.' or ':'",
    "namespace": f"1 to {MAX_PART} letters, digits, '_' or '-'",
    "model": f"1 to {MAX_PART} letters, digits, '_', '-' or '.'",
    "tag": f"1 to {MAX_PART} letters, digits, '_', '-' or '.'",
}


def name_problem(name: str) -> str | None:
    """Why Ollama would refuse `name` as a model name, or None when it is valid.

    `ParseName(name).IsValid()` (github:ollama/ollama types/model/name.go):
    every part within its length, starting with a letter, digit or `_`, and
    using only the characters its kind allows (see the module docstring).
    """
    n = parse_name(strip_provider(name))
    for kind, part in (("tag", n.tag), ("model", n.model), ("namespace", n.namespace)):
        if not is_valid_part(kind, part):
            return f"{kind} {part!r} must be {_RULES[kind]}, starting with a letter, digit or '_'"
    if not is_valid_part("host", n.host):
        return f"host {n.host!r} must be {_RULES['host']}, starting with a letter, digit or '_'"
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
