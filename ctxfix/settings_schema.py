"""Validate a settings mapping against `schemas/settings.schema.json`.

Every problem is reported with its key path; the CLI prints them and exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "settings.schema.json"


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(data: dict[str, Any], path: Path) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for e in errors:
            key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
            lines.append(f"{key}: {e.message}")
        raise CtxfixError(str(path), "invalid settings: " + "; ".join(lines))
