"""Render `ctxfix.commands._spec` tables into click options and commands.

Why a renderer: the tables are also read by the fast path
(`ctxfix.commands._fast`), which must not import click. Each option gets
exactly the click arguments it had when it was written as a decorator, so
`--help`, defaults and usage errors are click's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ctxfix.commands._spec import Args, CommandSpec, Opt


def click_type(name: str, opt: Opt | None = None) -> Any:
    """The click type of a spec type name (see ctxfix.commands._spec)."""
    if name == "path":
        return click.Path(path_type=Path)
    if name == "file":
        return click.Path(path_type=Path, dir_okay=False)
    if name == "dir":
        return click.Path(path_type=Path, file_okay=False)
    if name == "float":
        return float if opt is None or opt.min is None else click.FloatRange(min=opt.min)
    if name == "int":
        return click.IntRange(min=opt.min if opt else None)
    if name == "choice":
        return click.Choice(list(opt.choices) if opt else [])
    if name == "str":
        return None
    raise ValueError(f"unknown option type {name!r}")


def _option_kwargs(opt: Opt) -> dict[str, Any]:
    kw: dict[str, Any] = {"default": opt.default}
    if opt.kind == "flag":
        kw["is_flag"] = True
    elif opt.kind == "multiple":
        kw["multiple"] = True
        del kw["default"]
    kind = click_type(opt.type, opt)
    if kind is not None:
        kw["type"] = kind
    if opt.metavar is not None:
        kw["metavar"] = opt.metavar
    if opt.help is not None:
        kw["help"] = opt.help
    if opt.show_default:
        kw["show_default"] = True
    return kw


def click_option(opt: Opt) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The `click.option` decorator for one option."""
    return click.option(*opt.decls, opt.dest, **_option_kwargs(opt))


def click_argument(args: Args) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The `click.argument` decorator for a command's positional arguments."""
    return click.argument(args.dest, nargs=-1, type=click_type(args.type))


def click_command(spec: CommandSpec) -> click.Command:
    """The click command for a spec: its arguments, then its options, in table order."""
    f: Callable[..., Any] = spec.run
    for opt in reversed(spec.options):
        f = click_option(opt)(f)
    if spec.args is not None:
        f = click_argument(spec.args)(f)
    return click.command(spec.name, help=spec.help)(f)
