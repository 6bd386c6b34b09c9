"""Run the real `ctxfix` CLI in a subprocess, as a user's shell would.

Shared by the end-to-end tests so each runs the same interpreter the same way.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"


def run_ctxfix(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m ctxfix ARGS` in `cwd` (default: the repo); text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "ctxfix", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=None if env is None else dict(env),
        timeout=timeout,
    )
