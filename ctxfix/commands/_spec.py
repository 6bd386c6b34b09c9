"""A command's arguments and options as data, read by two parsers.

Why data: the pre-commit hook runs `ctxfix scan` on every commit, and
`import click` alone costs about 4x the bare interpreter (issue 15). A
command described here is rendered into a click command
(`ctxfix.commands._click`: `--help`, usage errors, every unusual argument
list) and read by the fast path (`ctxfix.commands._fast`), which parses the
plain argument lists a hook passes without importing click. One table, so
the two cannot disagree about an option's name, type or default; a property
test checks that they give the same parameters (tests/commands/test_fast.py).

Types (`Opt.type`), each with the click type it renders to:

- `str`: the text as given;
- `path`: `click.Path(path_type=Path)`;
- `file`: `click.Path(path_type=Path, dir_okay=False)`;
- `dir`: `click.Path(path_type=Path, file_okay=False)`;
- `float`: `float`, or `click.FloatRange(min=Opt.min)` when `min` is set;
- `int`: `click.IntRange(min=Opt.min)`;
- `choice`: `click.Choice(Opt.choices)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctxfix.records import record


@record(frozen=True)
class Opt:
    """One option: `decls` its spellings (`--output`, `-o`), `dest` the parameter name.

    `kind` is `value` (the last one given wins), `multiple` (a tuple of every
    one given) or `flag` (True when given, else `default`).
    """

    decls: tuple[str, ...]
    dest: str
    kind: str = "value"
    type: str = "str"
    choices: tuple[str, ...] = ()
    min: int | None = None
    default: Any = None
    metavar: str | None = None
    help: str | None = None
    show_default: bool = False


@record(frozen=True)
class Args:
    """The positional arguments: any number of them, each of type `type`, as a tuple."""

    dest: str
    type: str = "path"


@record(frozen=True)
class CommandSpec:
    """A subcommand: its name, help text, positional arguments, options and body.

    `run` is called with one keyword argument per `Args.dest` and `Opt.dest`.
    `fast_if`, given the parsed parameters, says whether the fast path may run
    them (apply: only with --yes or --dry-run, because the confirmation
    prompt is click's); None: always.
    """

    name: str
    help: str
    args: Args | None
    options: tuple[Opt, ...]
    run: Callable[..., None]
    fast_if: Callable[[dict[str, Any]], bool] | None = None
