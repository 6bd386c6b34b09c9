"""The fast path: run `ctxfix scan`/`apply` on a plain argument list without importing click.

Why: the pre-commit hooks run `ctxfix scan --no-server --no-user --no-store
FILE...` (and `ctxfix apply --yes --no-create ...`) on every commit.
`import click` is about 4x the bare interpreter (click.core alone pulls in
`inspect`, `ast`, `dis`, `uuid`, `platform`, `datetime`), which put the hook
above issue 15's 7x budget. The arguments a hook passes need none of click:
long options from the command's table (ctxfix.commands._spec) and paths.
A command whose `CommandSpec.fast_if` refuses the parameters (apply without
--yes or --dry-run would prompt, with click) goes to click too.

`parse` accepts a strict subset of what click accepts and returns None for
everything else, so click parses it and shows its own help or error:

- a token starting with `-` is accepted only as a long option of the
  table, given as `--name`, `--name value` or `--name=value` (a flag takes
  no `=value`); `-o FILE`, `-h`, `--help`, `--version`, a lone `-` and any
  unknown option go to click;
- a value that starts with `-` goes to click (click would take it as the
  value; deferring keeps the rule simple);
- after `--`, every token is an argument, as in click;
- a value click would reject (not a number, not a choice, below an
  IntRange or FloatRange, a directory where a file is wanted or a file where
  a directory is, an unreadable path) goes to click, which reports it;
- on Windows click expands wildcards in the arguments, and under shell
  completion (`_CTXFIX_COMPLETE` set) click answers the shell: the fast path
  is off.

Accepted values are converted as click converts them (pallets/click
src/click/types.py `Path.convert`, `FloatParamType`, `FloatRange`, `IntRange`, `Choice`;
src/click/parser.py `_OptionParser`): the last of a repeated `value` option
wins, a `multiple` option collects a tuple, a flag given is True, an absent
option takes its default (`multiple`: an empty tuple). tests/commands/
test_fast.py checks `parse` against click's own parser on generated argument
lists.

Failures inside the command are handled as click's `Command.main` does with
`standalone_mode=False` (Ctrl-C or end of input: an empty line, then
`ctxfix: aborted`, exit 2; a broken pipe: exit 1), inside ctxfix.guard.
Only a CTXFIX_DEBUG traceback differs between the paths: its frames.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

from ctxfix.commands._spec import CommandSpec, Opt

_UNSURE = object()  # a value click would reject or convert differently: let click decide


def _convert_path(value: str, dir_okay: bool = True, file_okay: bool = True) -> Any:
    """click `Path(path_type=Path, dir_okay=..., file_okay=...)`, exists=False, readable=True."""
    try:
        st = os.stat(value)
    except OSError:
        return Path(value)  # need not exist
    except ValueError:  # a NUL byte or an unencodable character: click's guard reports it
        return _UNSURE
    if not dir_okay and stat.S_ISDIR(st.st_mode):
        return _UNSURE
    if not file_okay and stat.S_ISREG(st.st_mode):
        return _UNSURE
    if not os.access(value, os.R_OK):
        return _UNSURE
    return Path(value)


def _convert(value: str, opt: Opt) -> Any:
    kind = opt.type
    if kind == "str":
        return value
    if kind in ("path", "file", "dir"):
        return _convert_path(value, dir_okay=kind != "file", file_okay=kind != "dir")
    if kind in ("float", "int"):
        try:
            number = float(value) if kind == "float" else int(value)
        except ValueError:
            return _UNSURE
        return number if opt.min is None or number >= opt.min else _UNSURE
    if kind == "choice":
        return value if value in opt.choices else _UNSURE
    return _UNSURE


def _long_options(spec: CommandSpec) -> dict[str, Opt]:
    return {d: o for o in spec.options for d in o.decls if d.startswith("--")}


def parse(args: list[str], spec: CommandSpec) -> dict[str, Any] | None:
    """The keyword arguments click would call `spec.run` with, or None (ask click)."""
    if spec.args is None:
        return None
    by_name = _long_options(spec)
    given: dict[str, Any] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            positional.extend(args[i:])
            break
        if not token.startswith("-"):
            positional.append(token)
            continue
        name, eq, inline = token.partition("=")
        opt = by_name.get(name)
        if opt is None:
            return None
        if opt.kind == "flag":
            if eq:
                return None
            given[opt.dest] = True
            continue
        if eq:
            value = inline
        elif i < len(args):
            value = args[i]
            i += 1
        else:
            return None  # click: "Option requires an argument"
        if value.startswith("-"):
            return None
        converted = _convert(value, opt)
        if converted is _UNSURE:
            return None
        if opt.kind == "multiple":
            given[opt.dest] = (*given.get(opt.dest, ()), converted)
        else:
            given[opt.dest] = converted
    as_argument = Opt((), spec.args.dest, type=spec.args.type)
    paths = tuple(_convert(p, as_argument) for p in positional)
    if any(p is _UNSURE for p in paths):
        return None
    params = {spec.args.dest: paths}
    for opt in spec.options:
        params[opt.dest] = given.get(opt.dest, () if opt.kind == "multiple" else opt.default)
    return params


def try_run(argv: list[str]) -> bool:
    """Run `argv` on the fast path if it can take it; False: nothing was done, use click."""
    if os.name == "nt" or not argv or "_CTXFIX_COMPLETE" in os.environ:
        return False
    from ctxfix.commands import COMMANDS

    module, attr = COMMANDS.get(argv[0], ("", ""))
    if attr != "SPEC":  # a command still written as click decorators
        return False
    import importlib

    try:
        spec: CommandSpec = getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError:  # click reports it (ctxfix.cli LazyGroup.get_command)
        return False
    params = parse(argv[1:], spec)
    if params is None or (spec.fast_if is not None and not spec.fast_if(params)):
        return False
    from ctxfix.guard import run_guarded

    run_guarded(lambda: _as_click_would(spec, params))
    return True


def _as_click_would(spec: CommandSpec, params: dict[str, Any]) -> None:
    """`spec.run(**params)` with click's `Command.main` handling (module docstring)."""
    from ctxfix.echo import echo
    from ctxfix.guard import aborted

    try:
        spec.run(**params)
    except (EOFError, KeyboardInterrupt):
        echo(err=True)
        aborted()
    except OSError as exc:
        import errno

        if exc.errno != errno.EPIPE:
            raise
        sys.exit(1)
