"""`ctxfix scan`: report every capped, mislabeled or mismatched context window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ctxfix.commands._options import build_settings, discovery_options, split_codes


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@discovery_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report to FILE instead of stdout.",
)
@click.option("--select", multiple=True, metavar="CODES", help="Only these codes (prefixes ok).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these codes.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings.")
@click.option(
    "--measure-prefill",
    is_flag=True,
    help="Measure the prefill rate on the server (loads the model).",
)
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True
)
def scan(
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
    """Scan Modelfiles, model stores, servers and agent configs (default: current dir)."""
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
        click.echo(f"ctxfix: warning: {w}", err=True)
    use_color = _use_color(color, output)
    text = render(fmt, result, color=use_color)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            from ctxfix.errors import CtxfixError

            raise CtxfixError(str(output), f"cannot write: {exc.strerror or exc}") from None
    else:
        click.echo(text, nl=False, color=use_color)
    failing = any(f.severity in ("error", "warning") for f in result.findings)
    sys.exit(0 if exit_zero or not failing else 1)


def _use_color(mode: str, output: Path | None) -> bool:
    import os

    if mode == "always":
        return True
    if mode == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()
