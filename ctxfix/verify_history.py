"""When `ctxfix verify` probed a server, so its own cut prompts are not taken as evidence.

Why: verify sends a prompt just past the served window on purpose, and the
server logs it as `truncating input prompt` like any other. Without a record
a scan in the following week would report "1 prompt cut" and raise the
model's findings to errors because of ctxfix's own probe. So verify appends
its time window (and model) here, in ctxfix's state directory next to the
apply journal, and the log reader drops cut and refused prompts inside a
recorded window, saying how many it dropped.

The file is small JSON lines (`{"start", "end", "model", "host"}`, UTC ISO
times), private to the user (0600), bounded to the last `KEEP` runs, and
read tolerantly: a damaged line is ignored, never an error.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

KEEP = 500
"""Runs remembered: more than a week of any plausible use."""

SLACK = timedelta(seconds=2)
"""Log lines are stamped by the server's clock as the request is handled."""

MAX_BYTES = 1024 * 1024


def history_path() -> Path:
    from ctxfix.journal import state_dir

    return state_dir() / "verify-probes.jsonl"


def record(model: str, host: str, start: datetime, end: datetime) -> None:
    """Remember one verify run; a failure to write is not worth failing verify for."""
    path = history_path()
    entry = json.dumps(
        {"start": start.isoformat(), "end": end.isoformat(), "model": model, "host": host}
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lines = [*_lines(path)[-(KEEP - 1) :], entry]
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass


def _lines(path: Path) -> list[str]:
    from ctxfix.errors import CtxfixError
    from ctxfix.safe_read import read_text

    try:
        return [ln for ln in read_text(path, MAX_BYTES, errors="replace").splitlines() if ln]
    except CtxfixError:
        return []


def windows() -> list[tuple[datetime, datetime]]:
    """Every recorded verify run as (start - SLACK, end + SLACK), timezone-aware."""
    out: list[tuple[datetime, datetime]] = []
    path = history_path()
    if not path.exists():
        return out
    for line in _lines(path):
        try:
            d = json.loads(line)
            start, end = datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"])
        except (ValueError, KeyError, TypeError):
            continue
        if start.tzinfo is None or end.tzinfo is None or end < start:
            continue
        out.append((start - SLACK, end + SLACK))
    return out


def during_verify(t: datetime | None, spans: list[tuple[datetime, datetime]]) -> bool:
    """Was `t` (a log line's time) inside a verify run? Naive times are taken as UTC."""
    if t is None or not spans:
        return False
    if t.tzinfo is None:
        from datetime import UTC

        t = t.replace(tzinfo=UTC)
    return any(a <= t <= b for a, b in spans)
