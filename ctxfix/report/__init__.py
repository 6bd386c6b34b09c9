"""Render a scan: text, JSON, SARIF 2.1.0 or GitHub annotations.

One module per format; `render(fmt, result)` picks one. The JSON document
(`to_json_dict`) is the base the other machine formats are built from, and
is validated against `schemas/report.schema.json` in the tests.
"""

from __future__ import annotations

import importlib

FORMATS = {
    "text": "ctxfix.report.text",
    "json": "ctxfix.report.json_report",
    "sarif": "ctxfix.report.sarif",
    "github": "ctxfix.report.github",
}


def render(fmt: str, result, *, color: bool = False) -> str:  # result: pipeline.ScanResult
    from ctxfix.redact import redact

    mod = importlib.import_module(FORMATS[fmt])
    return redact(mod.render(result, color=color))  # every format, also --output files
