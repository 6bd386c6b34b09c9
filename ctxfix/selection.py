"""Which rule codes run, and where: `--select/--ignore` and per-path ignores.

Why like ruff: codes select by prefix (`CTX1` selects CTX101-CTX105; `ALL`
selects everything), `--ignore` wins over `--select`, and per-path ignores
match glob patterns against the finding's file.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import PurePath

from ctxfix.settings import Settings


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
