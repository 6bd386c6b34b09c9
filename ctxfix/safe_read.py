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


def read_bytes(path: Path | str, limit: int = CONFIG_LIMIT) -> bytes:
    """The bytes of `path`, or CtxfixError when it is not a regular file or too large."""
    p = str(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise CtxfixError(p, f"cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                kind = "a device"
            raise CtxfixError(p, f"{kind}, not a regular file: not read")
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
