"""Read a file the way a scanner must: regular files only, bounded in size.

Why: a FIFO named `Modelfile` blocks `open()` forever, a params blob
symlinked to `/dev/zero` never ends, and a 3 GB "config" exhausts memory.
Every source reads through here: the file is opened non-blocking, checked to
be a regular file (after following links), and read up to a limit; anything
else is a one-line `CtxfixError` naming the file (a warning while walking,
exit 2 when named on the command line).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ctxfix.errors import CtxfixError

CONFIG_LIMIT = 16 * 1024 * 1024  # agent configs, Modelfiles, params and config blobs
"""No real config is near this; a bigger file is not one ctxfix should parse."""


class NotRegular(Exception):
    """`path` is a FIFO, a device or a directory: never read (see `open_regular`)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "a FIFO", "a device", "a directory", "a special file"


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file `path` and its stat; the one way sources open files.

    Opened non-blocking, so a FIFO cannot block the open itself, then checked
    (after following links) and set back to blocking for buffered reads.
    Raises NotRegular (the descriptor closed) or OSError as `os.open` does.
    Used by `read_bytes`, the GGUF reader and the server-log reader, which
    each word their own error.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if not stat.S_ISREG(mode):
            if stat.S_ISFIFO(mode):
                raise NotRegular("a FIFO")
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                raise NotRegular("a device")
            raise NotRegular("a directory" if stat.S_ISDIR(mode) else "a special file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_bytes(path: Path | str, limit: int = CONFIG_LIMIT) -> bytes:
    """The bytes of `path`, or CtxfixError when it is not a regular file or too large."""
    p = str(path)
    try:
        fd, st = open_regular(p)
    except NotRegular as exc:
        raise CtxfixError(p, f"{exc.kind}, not a regular file: not read") from None
    except OSError as exc:
        raise CtxfixError(p, f"cannot read: {exc.strerror or exc}") from None
    try:
        if st.st_size > limit:
            raise CtxfixError(p, f"too large ({st.st_size:,} bytes; the limit is {limit:,})")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:  # it grew while we read
                raise CtxfixError(p, f"too large (more than {limit:,} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise CtxfixError(p, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: Path | str, limit: int = CONFIG_LIMIT, errors: str = "strict") -> str:
    """`read_bytes` decoded as UTF-8 (a decoding error names the byte offset)."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        raise CtxfixError(str(path), f"not UTF-8 text (byte offset {exc.start})") from None


def is_regular(path: Path | str) -> bool:
    """True for a regular file (through links), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
