"""Command-line entry point: options -> pipeline -> renderer, nothing else.

Subcommands live one per module in `ctxfix/commands/` (pre-commit style) and
are imported only when invoked, so `ctxfix --help` and an offline `scan`
start fast. Any `CtxfixError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import importlib
import sys

import click

from ctxfix import __version__
from ctxfix.commands import COMMANDS
from ctxfix.commands._spec import CommandSpec

_HELP = {
    "scan": "Find capped, mislabeled or mismatched context windows.",
    "apply": "Fix them: new model definitions and surgical config edits.",
    "rollback": "Undo an apply, byte for byte.",
    "history": "List applies and their state.",
    "estimate": "KV cache, memory fit and prefill time for a model.",
    "verify": "Check a window by using it (opt-in: loads the model).",
    "explain": "Print a rule's documentation.",
    "rules": "List every rule code.",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    def _available(self, name: str) -> bool:
        import importlib.util  # for --help only

        return importlib.util.find_spec(COMMANDS[name][0]) is not None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        try:
            command = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a missing dependency inside it is a real error
                raise
            return None
        if isinstance(command, click.Command):
            return command
        return _rendered(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@functools.cache
def _rendered(spec: CommandSpec) -> click.Command:
    """The click command of a spec, built once per process."""
    from ctxfix.commands._click import click_command

    return click_command(spec)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctxfix")
def cli() -> None:
    """ctxfix: find and fix Ollama context windows that are smaller than you think.

    Exit codes: 0 nothing at warning level or above, 1 findings (apply
    --dry-run: changes pending), 2 usage error or unreadable input.
    """


def main(argv: list[str] | None = None) -> None:
    """Run the CLI on `argv` (default: sys.argv[1:]) under ctxfix.guard's rules."""
    from ctxfix.guard import run_guarded

    run_guarded(lambda: _run(argv))


def _run(argv: list[str] | None) -> None:
    """click's own failures: usage errors as click shows them, Ctrl-C as `aborted`."""
    from ctxfix.guard import aborted

    try:
        cli.main(args=argv, prog_name="ctxfix", standalone_mode=False)
    except click.exceptions.Abort:
        aborted()
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
