"""Run `ctxfix ARGS` and interrupt it at its Nth write, rename or connection.

    python tests/fault_harness.py KIND N ctxfix-args...

Why an audit hook: it sees every `open` for writing, every `os.rename` /
`os.replace` and every `socket.connect` the real code makes (ours, the
`ollama` client's, httpx's), so the fault lands exactly at each point where a
real crash could, without patching the code under test. Counting starts when
the journal lock is opened (the apply or rollback itself, not the scan
before it).

KIND: `count` (run to the end, print the number of points on stderr as
`fault-points: N`), `kill` (SIGKILL: nothing runs after it), `int`
(SIGINT: Ctrl-C), `term` (SIGTERM), `enospc` (the call fails with ENOSPC,
as a full disk makes it fail).
"""

from __future__ import annotations

import errno
import os
import signal
import sys

KIND, N = sys.argv[1], int(sys.argv[2])
ARGS = sys.argv[3:]
state = {"armed": False, "count": 0, "fired": False}

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _is_write(args: tuple) -> bool:
    _path, mode, flags = [*args, None, None, None][:3]
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def hook(event: str, args: tuple) -> None:
    if state["fired"]:
        return
    if event == "open" and not state["armed"]:
        if str(args[0]).endswith(os.sep + ".lock"):
            state["armed"] = True
        return
    if not state["armed"]:
        return
    point = (
        (event == "open" and _is_write(args))
        or event in ("os.rename", "os.replace")
        or event == "socket.connect"
    )
    if not point:
        return
    state["count"] += 1
    if KIND == "count" or state["count"] != N:
        return
    state["fired"] = True
    if KIND == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif KIND == "int":
        os.kill(os.getpid(), signal.SIGINT)
    elif KIND == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif KIND == "enospc":
        raise OSError(errno.ENOSPC, "No space left on device")


def main() -> int:
    sys.addaudithook(hook)
    from ctxfix.cli import main as cli

    try:
        cli(ARGS)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        if KIND == "count":
            print(f"fault-points: {state['count']}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
