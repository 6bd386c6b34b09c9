"""Errors and warnings that reach the user as one line.

Why: bad input must never show a traceback. Every source raises `CtxfixError`
naming the file (or host) and the problem; the CLI prints `ctxfix: error: ...`
and exits 2. Problems found while *discovering* (one corrupt manifest among
fifty) are not fatal: they become `Warning` lines and the scan goes on.
"""

from __future__ import annotations

from ctxfix.records import record


class CtxfixError(Exception):
    """A one-line, user-facing error: `<where>: <problem>`.

    `where` is a file path, `path:line:col`, or a host URL.
    """

    def __init__(
        self,
        where: str | None,
        problem: str,
        also: tuple[tuple[str | None, str], ...] = (),
    ) -> None:
        self.where = where
        self.problem = problem
        # further problems of the same input (an invalid settings file reports
        # every violation, one line each, so one run shows all of them)
        self.also = also
        super().__init__(f"{where}: {problem}" if where else problem)

    def lines(self) -> list[str]:
        """Every problem as its own `where: problem` line."""
        rest = [f"{w}: {p}" if w else p for w, p in self.also]
        return [str(self), *rest]


@record(frozen=True)
class Warning_:
    """A non-fatal problem found while discovering or reading (printed to stderr)."""

    where: str | None
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}" if self.where else self.problem
