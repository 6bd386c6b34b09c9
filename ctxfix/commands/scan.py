"""`ctxfix scan`: report every capped, mislabeled or mismatched context window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ctxfix.commands._options import (
    COLOR_OPTION,
    DISCOVERY_OPTIONS,
    build_settings,
    split_codes,
    use_color,
)
from ctxfix.commands._spec import Args, CommandSpec, Opt
from ctxfix.echo import echo

OPTIONS: tuple[Opt, ...] = (
    *DISCOVERY_OPTIONS,
    Opt(
        ("--format",),
        "fmt",
        type="choice",
        choices=("text", "json", "sarif", "github"),
        default="text",
        show_default=True,
    ),
    Opt(
        ("--output", "-o"),
        "output",
        type="file",
        help="Write the report to FILE instead of stdout.",
    ),
    Opt(
        ("--select",),
        "select",
        kind="multiple",
        metavar="CODES",
        help="Only these codes (prefixes ok).",
    ),
    Opt(("--ignore",), "ignore", kind="multiple", metavar="CODES", help="Skip these codes."),
    Opt(
        ("--exit-zero",), "exit_zero", kind="flag", default=False, help="Exit 0 even with findings."
    ),
    Opt(
        ("--measure-prefill",),
        "measure_prefill",
        kind="flag",
        default=False,
        help="Measure the prefill rate on the server (loads the model).",
    ),
    COLOR_OPTION,
)


def run(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    exit_zero: bool,
    measure_prefill: bool,
    color: str,
    **opts: Any,
) -> None:
    """Scan, print the report, exit 1 when a finding is at warning level or above."""
    from ctxfix import pipeline
    from ctxfix.report import render

    settings = build_settings(
        paths,
        opts,
        select=split_codes(select),
        ignore=split_codes(ignore),
        measure_prefill=measure_prefill,
    )
    from ctxfix.progress import Progress

    with Progress.for_stderr() as progress:
        result = pipeline.scan(settings, progress=progress)
    for w in result.world.warnings:
        echo(f"ctxfix: warning: {w}", err=True)
    colored = use_color(color, output)
    text = render(fmt, result, color=colored)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            from ctxfix.errors import CtxfixError

            raise CtxfixError(str(output), f"cannot write: {exc.strerror or exc}") from None
    else:
        echo(text, nl=False, color=colored)
    failing = any(f.severity in ("error", "warning") for f in result.findings)
    sys.exit(0 if exit_zero or not failing else 1)


SPEC = CommandSpec(
    name="scan",
    help="Scan Modelfiles, model stores, servers and agent configs (default: current dir).",
    args=Args("paths"),
    options=OPTIONS,
    run=run,
)
