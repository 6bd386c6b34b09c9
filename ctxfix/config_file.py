"""Settings files: `.ctxfix.yaml` (nearest up the tree) or `[tool.ctxfix]` in pyproject.toml.

Why "nearest up the tree" from the scanned paths as well as from the working
directory: `ctxfix scan fixtures/demo` run from the repo root should use the
demo's own `.ctxfix.yaml`, the way ruff finds the config that governs a file.
Relative paths inside a settings file (stores, per-path ignores) are relative
to that file's directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError

SETTINGS_NAMES = (".ctxfix.yaml", ".ctxfix.yml")


def find_settings_file(starts: Iterable[Path]) -> Path | None:
    """The nearest `.ctxfix.yaml` or pyproject.toml with [tool.ctxfix] above any start."""
    for start in starts:
        try:
            here = start.resolve()
        except (RuntimeError, OSError) as exc:  # a symlink loop
            raise CtxfixError(str(start), f"cannot resolve: {exc}") from None
        if here.is_file():
            here = here.parent
        for d in (here, *here.parents):
            for name in SETTINGS_NAMES:
                if (d / name).is_file():
                    return d / name
            py = d / "pyproject.toml"
            if py.is_file() and "[tool.ctxfix" in py.read_text(encoding="utf-8", errors="replace"):
                return py
            if (d / ".git").exists():
                break
    return None


def load_settings_file(path: Path) -> dict[str, Any]:
    """Parse and validate a settings file; CtxfixError on a parse error.

    A file that validated before (same bytes, same schema) comes from the
    validation cache without parsing: see ctxfix.settings_schema.
    """
    from ctxfix.settings_schema import cached_settings

    cached = cached_settings(path)
    if cached is not None:
        return cached
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CtxfixError(str(path), f"cannot read settings: {exc}") from None
    if path.name == "pyproject.toml":
        import tomllib

        try:
            data = tomllib.loads(text).get("tool", {}).get("ctxfix", {})
        except tomllib.TOMLDecodeError as exc:
            # tomllib puts the position in the message; the standard puts it in `where`.
            import re

            msg = str(exc)
            m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
            where = f"{path}:{m.group(1)}:{m.group(2)}" if m else str(path)
            reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", msg)
            raise CtxfixError(where, f"invalid TOML: {reason}") from None
        except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
            raise CtxfixError(str(path), f"invalid TOML: {exc}") from None
    else:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            data = YAML(typ="safe", pure=True).load(text) or {}
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise CtxfixError(where, f"invalid YAML: {getattr(exc, 'problem', exc)}") from None
        except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
            raise CtxfixError(str(path), f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CtxfixError(str(path), "settings must be a mapping")
    import datetime

    if isinstance(data.get("since"), datetime.date):  # YAML reads `since: 2026-11-24` as a date
        data["since"] = data["since"].isoformat()
    validate_settings(data, path)
    return data


def validate_settings(data: dict[str, Any], path: Path) -> None:
    """Validate against schemas/settings.schema.json (see ctxfix.settings_schema)."""
    from ctxfix.settings_schema import validate

    validate(data, path)
