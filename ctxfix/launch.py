"""The `ctxfix` console script: start git on named directories, then load the CLI.

Why a launcher: `scan` and `apply` on a big git work tree spend ~80 ms in
`git ls-files` and about as long importing the CLI; run one after the other
they add up, run side by side (two cores) they overlap (issue 15). So before
`click` and the pipeline are imported, the arguments of `scan`/`apply` that
name directories (or the current directory, when none names a path) get
their git listing started (`ctxfix.git_listing.start_early`, which imports
only `os`); `discover` picks it
up. This is a guess made without the parser: an option's value that
happens to be a directory starts a listing nobody reads, which is killed
at the end. Outside a git work tree nothing is started (no `subprocess`
import either). Then a plain `scan` or `apply --yes`/`--dry-run` argument
list (what the pre-commit hooks pass) runs without click
(`ctxfix.commands._fast`); everything else is `ctxfix.cli.main`.
"""

from __future__ import annotations

import os
import sys

from ctxfix import git_listing

_WALKING_COMMANDS = ("scan", "apply")


def _named_directories(args: list[str]) -> list[str]:
    """Directories a walking command will probably walk: its path arguments, else "."."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in _WALKING_COMMANDS:
        return []
    rest = args[args.index(command) + 1 :]
    positional: list[str] = []
    if "--" in rest:  # after "--" every argument is a path
        cut = rest.index("--")
        rest, positional = rest[:cut], rest[cut + 1 :]
    words = [a for a in rest if not a.startswith("-")] + positional
    paths = [a for a in words if os.path.exists(a)]
    if not paths:
        # no path named: discover walks ".", unless that is $HOME or a root
        return [] if git_listing.too_broad(os.getcwd(), os.path.expanduser("~")) else ["."]
    return [a for a in paths if os.path.isdir(a)]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        try:
            early = _named_directories(args)
        except OSError:  # the working directory is gone: the CLI reports what matters
            early = []
        git_listing.start_early(early)
        from ctxfix.commands._fast import try_run

        if try_run(args):
            return
        from ctxfix.cli import main as cli_main

        cli_main(argv)
    finally:
        git_listing.cancel_early()
