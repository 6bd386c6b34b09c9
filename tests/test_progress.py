"""Progress: drawn on a terminal after the delay, erased at the end, absent otherwise."""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

from ctxfix.progress import Progress

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"


class TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_fast_scan_on_a_tty_prints_nothing() -> None:
    out, clock = TtyBuffer(), Clock()
    with Progress.for_stderr(out, environ={}, clock=clock) as p:
        p.stage("reading Modelfiles", 3)
        clock.now += 0.2
        p.advance()
    assert out.getvalue() == ""


def test_slow_scan_on_a_tty_shows_stage_and_count_then_erases() -> None:
    out, clock = TtyBuffer(), Clock()
    with Progress.for_stderr(out, environ={}, clock=clock) as p:
        p.stage("reading model stores", 2)
        clock.now += 0.7
        p.advance()
        assert out.getvalue().endswith("ctxfix: reading model stores 1/2 (0.7 s)")
    assert out.getvalue().endswith("\r\033[K")  # the report starts on a clean line


def test_not_a_tty_never_prints() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress.for_stderr(out, environ={}, clock=clock) as p:
        clock.now += 5
        p.stage("asking Ollama servers", 1)
        p.advance()
    assert out.getvalue() == ""


def test_opt_out_and_dumb_terminals() -> None:
    for env in ({"CTXFIX_NO_PROGRESS": "1"}, {"TERM": "dumb"}):
        assert not Progress.for_stderr(TtyBuffer(), environ=env).enabled


_SCRIPT = """
import sys
from pathlib import Path
from ctxfix import pipeline
from ctxfix.progress import Progress
from ctxfix.settings import Settings
s = Settings(paths=(Path("Modelfile"), Path("openclaw.json")), no_server=True,
             no_user=True, no_store=True)
with Progress.for_stderr(delay=0.0) as p:
    r = pipeline.scan(s, progress=p)
print("findings", len(r.findings))
"""


def _run_with_stderr_pty(cwd: Path) -> tuple[str, str]:
    leader, follower = pty.openpty()
    env = dict(os.environ, CTXFIX_CACHE_DIR=str(cwd / ".cache"), TERM="xterm")
    env.pop("CTXFIX_NO_PROGRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    stdout, _ = proc.communicate(timeout=60)
    os.close(leader)
    return stdout, b"".join(chunks).decode()


def test_real_pipeline_on_a_pty_draws_stages_and_stdout_stays_clean(tmp_path: Path) -> None:
    for name in ("Modelfile", "openclaw.json"):
        shutil.copy(DEMO / name, tmp_path / name)
    stdout, stderr = _run_with_stderr_pty(tmp_path)
    assert stdout.startswith("findings ")
    assert "ctxfix: reading Modelfiles 1/1" in stderr
    assert "ctxfix: reading agent configs 1/1" in stderr
    assert "ctxfix: checking rules" in stderr
    assert stderr.endswith("\r\033[K")


def test_real_pipeline_with_piped_stderr_prints_no_progress(tmp_path: Path) -> None:
    for name in ("Modelfile", "openclaw.json"):
        shutil.copy(DEMO / name, tmp_path / name)
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=tmp_path,
        env=dict(os.environ, CTXFIX_CACHE_DIR=str(tmp_path / ".cache")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ctxfix:" not in proc.stderr and "\r" not in proc.stderr
