"""Run one command the way every ctxfix command runs: redacted, and failing in one line.

Why one place: the click path (`ctxfix.cli`) and the click-free fast path
(`ctxfix.commands._fast`) must treat secrets and failures alike:

- the secret values of the environment are registered, and stdout/stderr
  are wrapped so that everything written through them is redacted;
- `CtxfixError` (bad input) is one `ctxfix: error:` line per problem, exit 2;
- `BrokenPipeError` outside a command exits 0 quietly (inside one, both
  paths follow click's `Command.main`: exit 1, see ctxfix.commands._fast);
- any other exception is a bug: one `ctxfix: internal error:` line and exit
  2, unless CTXFIX_DEBUG is set (then the traceback).

`SystemExit` passes through: it is how a command sets its exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

from ctxfix.echo import echo


def run_guarded(body: Callable[[], None]) -> None:
    """Call `body` with redacting streams and the one-line failure rules above."""
    from ctxfix.redact import REGISTRY, RedactingStream, register_environment

    REGISTRY.clear()  # one run, one set of secrets (tests call main() many times)
    register_environment(os.environ)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out), RedactingStream(err)
    try:
        _handle(body)
    finally:
        sys.stdout, sys.stderr = out, err


def _handle(body: Callable[[], None]) -> None:
    from ctxfix.errors import CtxfixError

    try:
        body()
    except CtxfixError as exc:
        for line in exc.lines():
            echo(f"ctxfix: error: {line}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        echo("ctxfix: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug, not bad input: one line unless debugging
        if os.environ.get("CTXFIX_DEBUG"):
            raise
        echo(
            f"ctxfix: internal error: {type(exc).__name__}: {exc} "
            "(set CTXFIX_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(2)


def aborted() -> NoReturn:
    """Ctrl-C or the end of input inside a command: `ctxfix: aborted`, exit 2.

    click turns both into `Abort` after printing an empty line to stderr
    (pallets/click src/click/core.py `Command.main`); the fast path does the same.
    """
    echo("ctxfix: aborted", err=True)
    sys.exit(2)
