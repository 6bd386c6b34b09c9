"""Run `ctxfix ARGS` and interrupt it at its Nth write, rename or connection.

    python tests/fault_harness.py KIND N ctxfix-args...
    python tests/fault_harness.py --serve      (a fork server: one JSON request a line)

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

Why a fork server: the sweep runs ctxfix about a hundred times; importing it
(and the `ollama` client) once and forking a fresh process per run keeps each
run a real, separate process at a third of the cost.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _is_write(args: tuple) -> bool:
    _path, mode, flags = [*args, None, None, None][:3]
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


DISK_ONLY = [False]  # count only the points a full disk can fail (for the ENOSPC sweep)


def install(kind: str, n: int) -> dict:
    state = {"armed": False, "count": 0, "fired": False}

    def hook(event: str, args: tuple) -> None:
        if state["fired"]:
            return
        if event == "open" and not state["armed"]:
            if str(args[0]).endswith(os.sep + ".lock"):
                state["armed"] = True
            return
        if not state["armed"]:
            return
        disk = (event == "open" and _is_write(args)) or event in ("os.rename", "os.replace")
        if not (disk or event == "socket.connect"):
            return
        # a full disk fails writes and renames, never a connection
        if (kind == "enospc" or (kind == "count" and DISK_ONLY[0])) and not disk:
            return
        state["count"] += 1
        if kind == "count" or state["count"] != n:
            return
        state["fired"] = True
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == "int":
            os.kill(os.getpid(), signal.SIGINT)
        elif kind == "term":
            os.kill(os.getpid(), signal.SIGTERM)
        elif kind == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device")

    sys.addaudithook(hook)
    return state


def run(kind: str, n: int, args: list[str]) -> int:
    if kind == "count-disk":
        kind, DISK_ONLY[0] = "count", True
    state = install(kind, n)
    from ctxfix.cli import main as cli

    try:
        cli(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        if kind == "count":
            print(f"fault-points: {state['count']}", file=sys.stderr)
    return code


def serve() -> None:
    """Import once, then fork one real process per request; answer its exit status."""
    import ctxfix.apply_run
    import ctxfix.cli
    import ctxfix.pipeline
    import ctxfix.sources.server  # noqa: F401
    from ctxfix.ollama_client import load

    load()
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: a fresh process state for one run
            os.chdir(req["cwd"])
            os.environ.clear()
            os.environ.update(req["env"])
            out = os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            err = os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(err, 2)
            code = 2
            try:
                code = run(req["kind"], req["n"], req["args"])
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        sys.stdout.write(json.dumps({"code": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve()
    else:
        sys.exit(run(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
