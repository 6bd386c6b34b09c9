"""Which rule codes run, and where: `--select/--ignore` and per-path ignores.

Why like ruff: codes select by prefix (`CTX1` selects CTX101-CTX105; `ALL`
selects everything), `--ignore` wins over `--select`, and per-path ignores
match glob patterns against the finding's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from ctxfix.settings import Settings

if TYPE_CHECKING:
    from ctxfix.facts import Finding
    from ctxfix.world import World


def _matches(code: str, patterns: tuple[str, ...]) -> bool:
    code = code.upper()
    return any(p.upper() == "ALL" or code.startswith(p.upper()) for p in patterns)


def selected(code: str, settings: Settings) -> bool:
    if settings.select and not _matches(code, settings.select):
        return False
    return not (settings.ignore and _matches(code, settings.ignore))


def path_ignored(code: str, file: str, settings: Settings) -> bool:
    if not settings.per_path_ignores:
        return False
    posix = PurePath(file).as_posix()
    for pattern, codes in settings.per_path_ignores.items():
        if (
            fnmatch(posix, pattern)
            or fnmatch(PurePath(file).name, pattern)
            or posix.endswith("/" + pattern.lstrip("./"))
        ) and _matches(code, tuple(codes)):
            return True
    return False


class Suppressions:
    """Every way a user hides a code, in one predicate: `allows(code, file)`.

    Why one object: `scan` filters its findings with it and `apply` plans
    with it, so the two can never disagree about what is suppressed
    (select/ignore, per-path ignores, `ctxfix: ignore[...]` comments in
    Modelfiles and agent configs).
    """

    def __init__(self, settings: Settings, inline: Mapping[str, frozenset[str]]) -> None:
        self.settings = settings
        self.inline = inline  # file (as findings name it) -> codes its comments ignore

    @classmethod
    def for_world(cls, world: World) -> Suppressions:
        """Inline ignores of the world's Modelfiles (read again: a few hundred bytes
        each) and agent configs (AgentBinding.suppressed)."""
        from ctxfix.sources.agents._common import inline_ignores

        inline: dict[str, frozenset[str]] = {}
        read: set[str] = set()
        for m in world.models:
            d = m.definition
            if d.origin != "modelfile" or d.location.file in read:
                continue
            read.add(d.location.file)
            try:
                text = Path(d.location.file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            codes = inline_ignores(text)
            if codes:
                inline[d.location.file] = codes
        for rb in world.bindings:
            b = rb.binding
            if b.suppressed:
                inline[b.file] = inline.get(b.file, frozenset()) | b.suppressed
        return cls(world.settings, inline)

    def allows(self, code: str, file: str | None) -> bool:
        """Would scan report `code` at `file` (None: a finding with no file)?"""
        if not selected(code, self.settings):
            return False
        if file is None:
            return True
        if path_ignored(code, file, self.settings):
            return False
        return code.upper() not in self.inline.get(file, ())

    def reports(self, f: Finding) -> bool:
        return self.allows(f.code, f.location.file if f.location is not None else None)


def check_codes(codes: tuple[str, ...], where: str) -> None:
    """Refuse a code that selects no rule (`--select CTX999` would pass CI silently)."""
    from ctxfix.errors import CtxfixError
    from ctxfix.rules import RULE_MODULES

    for c in codes:
        if c.upper() != "ALL" and not any(code.startswith(c.upper()) for code in RULE_MODULES):
            raise CtxfixError(where, f"unknown rule code {c!r} (see `ctxfix rules`)")
