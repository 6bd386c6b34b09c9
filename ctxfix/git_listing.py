"""`git ls-files` for a directory the walk will read: started early, with nothing but `os`.

Why a module of its own: the console script starts git before the CLI loads
so that git lists a big work tree on the other core while Python imports
(issue 15). `ctxfix.walk` imports pathlib, re and typing (~17 ms) and
`subprocess` another ~6 ms; git started after them lost that much of the
overlap. This module imports `os` only and, on Linux, starts git with
`os.posix_spawnp` into two anonymous in-memory files (`memfd_create`): no
pipe, so git never waits for a reader (a 64 KiB pipe stopped it after the
first ~1,500 paths until the CLI had loaded), and no `subprocess`. Elsewhere
it falls back to `subprocess` with pipes.

The scanned repository is untrusted: git runs with `core.fsmonitor=false`
(its `.git/config` could name a hook `git ls-files` runs), without the
variables that point git at another repository (a pre-commit hook runs with
GIT_DIR / GIT_INDEX_FILE set for the committing repository), never prompts
and never takes the index lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

GIT_TIMEOUT_S = 10.0
"""`git ls-files` on 100,000 files takes ~60 ms; ten seconds means git is stuck
(a network file system, a hung filter): the plain walk is the better answer."""

GIT_LOCATION_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)

GIT_SAFE_CONFIG = ("-c", "core.fsmonitor=false")

_LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")


def too_broad(cwd: str | os.PathLike[str], home: str | os.PathLike[str]) -> bool:
    """The working directory is the home directory or a filesystem root: never walked.

    Here, not in ctxfix.walk, so the launcher can ask before anything loads.
    """
    here = os.path.realpath(cwd)
    return here == os.path.realpath(home) or here == os.path.dirname(here)


def work_tree_top(path: str) -> str | None:
    """The nearest enclosing directory with a `.git` (a file, or a directory with HEAD).

    Looked up on disk, not by running git: outside a repository (the common
    case for a store or a home directory) no process is started at all. A
    `.git` directory without HEAD is not a repository to git either.
    """
    p = os.path.realpath(path)
    while True:
        dot_git = os.path.join(p, ".git")
        if os.path.isfile(dot_git) or os.path.exists(os.path.join(dot_git, "HEAD")):
            return p
        parent = os.path.dirname(p)
        if parent == p:
            return None
        p = parent


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a read-only listing never takes the index lock
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait on a prompt (ls-files needs none)
    return env


class _Spawned:
    """git started with posix_spawnp, writing stdout and stderr into memory files."""

    def __init__(self, pid: int, out: int, err: int) -> None:
        self.pid, self._out, self._err = pid, out, err
        self.returncode: int | None = None

    def _reap(self, flags: int) -> bool:
        pid, status = os.waitpid(self.pid, flags)
        if pid == 0:
            return False
        self.returncode = os.waitstatus_to_exitcode(status)
        return True

    def wait(self, timeout: float) -> bool:
        """True once git has exited, False when `timeout` seconds passed first."""
        import time

        deadline = time.monotonic() + timeout
        pause = 0.0005
        while self.returncode is None and not self._reap(os.WNOHANG):
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.01)  # a 100 ms listing costs a few dozen polls
        return True

    def output(self) -> tuple[bytes, bytes]:
        out, err = _drain(self._out), _drain(self._err)
        self._out = self._err = -1
        return out, err

    def kill(self) -> None:
        if self.returncode is None and not self._reap(os.WNOHANG):
            os.kill(self.pid, 9)  # not reaped yet, so the pid is still this git's
            self._reap(0)
        for fd in (self._out, self._err):
            if fd >= 0:
                os.close(fd)
        self._out = self._err = -1


def _drain(fd: int) -> bytes:
    if fd < 0:
        return b""
    with open(fd, "rb", closefd=True) as f:
        f.seek(0)
        return f.read()


class _Piped:
    """git started with subprocess (no memfd or posix_spawn here), the same interface."""

    def __init__(self, proc) -> None:  # subprocess.Popen[bytes]
        self._proc = proc
        self._result: tuple[bytes, bytes] = (b"", b"")

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    def wait(self, timeout: float) -> bool:
        import subprocess

        try:
            self._result = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def output(self) -> tuple[bytes, bytes]:
        return self._result

    def kill(self) -> None:
        if self._proc.returncode is None:
            self._proc.kill()
            self._proc.communicate()  # reap it, close the pipes


def _spawn(root: str) -> _Spawned | _Piped | None:
    """git ls-files in `root`; None when git cannot start (not on PATH)."""
    args = ["git", "-C", root, *GIT_SAFE_CONFIG, *_LS_FILES]
    create = getattr(os, "memfd_create", None)
    if create is not None and hasattr(os, "posix_spawnp"):
        out = create("ctxfix-git-ls-files", os.MFD_CLOEXEC)
        err = create("ctxfix-git-ls-files-err", os.MFD_CLOEXEC)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out, 1),
            (os.POSIX_SPAWN_DUP2, err, 2),
        ]
        try:
            pid = os.posix_spawnp("git", args, git_env(), file_actions=actions)
        except OSError:  # no git on PATH
            os.close(out)
            os.close(err)
            return None
        return _Spawned(pid, out, err)
    import subprocess

    try:
        proc = subprocess.Popen(
            args,
            env=git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError:  # no git on PATH, root not enterable
        return None
    return _Piped(proc)


class GitListing:
    """`git ls-files` started for one directory, read when the walk gets there."""

    __slots__ = ("_proc", "prefix", "root", "top")

    def __init__(self, root: str, top: str, prefix: str, proc: _Spawned | _Piped) -> None:
        self.root = root  # as the caller spelled it: found paths keep that form
        self.top = top  # the top of the work tree
        self.prefix = prefix  # root relative to top, "." at the top
        self._proc = proc

    def result(self) -> tuple[int, bytes, bytes] | None:
        """(exit code, stdout, stderr), or None when git did not finish within the timeout."""
        if not self._proc.wait(GIT_TIMEOUT_S):
            self.cancel()
            return None
        out, err = self._proc.output()
        return self._proc.returncode or 0, out, err

    def cancel(self) -> None:
        """Stop git when its listing will not be read (discovery failed before the walk)."""
        self._proc.kill()


# Listings started by `start_early` (the console script, before the CLI's imports),
# by real path, until `start_listing` is asked for the same directory
_EARLY: dict[str, GitListing] = {}


def start_early(roots: Iterable[str]) -> None:
    """Start git for directories named on the command line, before anything else loads.

    A guess that turns out wrong (the directory was an option's value) costs
    one listing that `cancel_early` kills.
    """
    for root in roots:
        listing = start_listing(root)
        if listing is not None:
            _EARLY[os.path.realpath(root)] = listing


def cancel_early() -> None:
    """Stop early listings nobody asked for (end of the run)."""
    while _EARLY:
        _EARLY.popitem()[1].cancel()


def start_listing(root: str | os.PathLike[str]) -> GitListing | None:
    """Start listing `root` with git; None when it is not in a work tree or git cannot start.

    `git ls-files -z --cached --others --exclude-standard`, run in `root`:
    tracked files plus untracked ones `.gitignore` does not exclude, only
    below `root`, relative to it. No process is started outside a work tree.
    A listing `start_early` began for the same directory is handed over.
    """
    root = os.fspath(root)
    if _EARLY:
        early = _EARLY.pop(os.path.realpath(root), None)
        if early is not None:  # found paths keep this caller's spelling of root
            return GitListing(root, early.top, early.prefix, early._proc)
    top = work_tree_top(root)
    if top is None:
        return None
    prefix = os.path.relpath(os.path.realpath(root), top)
    if prefix != "." and ".git" in prefix.split(os.sep):
        return None  # inside the repository's own metadata
    proc = _spawn(root)
    return None if proc is None else GitListing(root, top, prefix, proc)
