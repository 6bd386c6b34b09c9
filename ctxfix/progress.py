"""Progress on stderr for slow scans, and silence for everything else.

Why: a scan over fifty stored models or a slow remote server can take
seconds, and a silent terminal looks hung. But ctxfix mostly runs where
progress would be noise or corruption: pre-commit, CI logs, pipes into `jq`.
So progress is drawn only when stderr is a terminal, only after the scan has
already taken `delay` seconds (a fast scan prints nothing at all), on one
line rewritten in place, and erased when the scan ends so the report starts
on a clean screen. It never touches stdout.

The pipeline calls `stage(name, total)` when a stage starts and `advance()`
per item; `Progress.disabled()` is the no-op the pipeline uses by default.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

DEFAULT_DELAY_S = 0.5


class Progress:
    """A one-line, delayed, tty-only progress indicator."""

    def __init__(
        self,
        stream: TextIO | None,
        *,
        enabled: bool,
        delay: float = DEFAULT_DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._enabled = enabled and stream is not None
        self._delay = delay
        self._clock = clock
        self._start = clock()
        self._stage = ""
        self._done = 0
        self._total: int | None = None
        self._drawn = False

    @classmethod
    def for_stderr(
        cls,
        stream: TextIO | None = None,
        *,
        environ: dict[str, str] | None = None,
        delay: float = DEFAULT_DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> Progress:
        """Enabled when the stream (default stderr) is a tty and CTXFIX_NO_PROGRESS is unset."""
        stream = sys.stderr if stream is None else stream
        environ = os.environ if environ is None else environ  # type: ignore[assignment]
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):  # closed or not a real stream
            tty = False
        enabled = tty and not environ.get("CTXFIX_NO_PROGRESS") and environ.get("TERM") != "dumb"
        return cls(stream, enabled=enabled, delay=delay, clock=clock)

    @classmethod
    def disabled(cls) -> Progress:
        return cls(None, enabled=False)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins (e.g. "reading model stores", 3 items)."""
        self._stage, self._done, self._total = name, 0, total
        self._draw()

    def advance(self, n: int = 1) -> None:
        """One more item of the current stage is done."""
        self._done += n
        self._draw()

    def close(self) -> None:
        """Erase the progress line, if one was drawn."""
        if self._drawn and self._stream is not None:
            self._stream.write("\r\033[K")
            self._stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _draw(self) -> None:
        if not self._enabled or self._stream is None:
            return
        elapsed = self._clock() - self._start
        if elapsed < self._delay:
            return
        count = f" {self._done}/{self._total}" if self._total else ""
        self._stream.write(f"\r\033[Kctxfix: {self._stage}{count} ({elapsed:.1f} s)")
        self._stream.flush()
        self._drawn = True
