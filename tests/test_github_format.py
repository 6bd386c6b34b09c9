"""`--format github`: workflow-command annotations GitHub turns into PR annotations."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ctxfix.facts import Finding, Location
from ctxfix.pipeline import ScanResult
from ctxfix.report import github
from ctxfix.world import World

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"


def _result(findings: list[Finding]) -> ScanResult:
    from ctxfix.selection import Suppressions

    world = World()
    return ScanResult(world, list(findings), Suppressions(world.settings, {}), list(findings))


def test_demo_annotations_point_at_the_capping_line(tmp_path: Path) -> None:
    for name in ("Modelfile", "openclaw.json"):
        shutil.copy(DEMO / name, tmp_path / name)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ctxfix",
            "scan",
            "--no-server",
            "--no-user",
            "--no-store",
            "--format",
            "github",
            "Modelfile",
            "openclaw.json",
        ],
        cwd=tmp_path,
        env=dict(os.environ, CTXFIX_CACHE_DIR=str(tmp_path / ".cache")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith(
        "::warning file=Modelfile,line=4,col=19,title=CTX101 num-ctx-below-native::num_ctx 131,072"
    )
    # "50%" must be escaped or GitHub would decode "% o" garbage; the fix is on its own line.
    assert "50%25 of its native" in first
    assert "%0Afix: apply: Modelfile: num_ctx 131,072 -> 262,144" in first
    assert proc.stdout.rstrip().endswith("finding(s)")


def test_escaping_follows_the_actions_toolkit() -> None:
    assert github.escape_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert github.escape_property("C:\\a,b%\n") == "C%3A\\a%2Cb%25%0A"


def test_properties_with_colons_and_commas_cannot_break_the_command(tmp_path: Path) -> None:
    f = Finding(
        code="CTX202",
        severity="error",
        message="window: 131,072\nnext",
        location=Location("cfg/a,b:c.json", 3, 7),
    )
    line = github.annotation(f, tmp_path)
    assert line == (
        "::error file=cfg/a%2Cb%3Ac.json,line=3,col=7,title=CTX202 agent-window-below-native"
        "::window: 131,072%0Anext"
    )


def test_info_is_a_notice_and_server_findings_have_no_file(tmp_path: Path) -> None:
    f = Finding(
        code="CTX104",
        severity="info",
        message="unset",
        location=Location("http://gpu:11434"),
    )
    line = github.annotation(f, tmp_path)
    assert line.startswith("::notice title=CTX104 num-ctx-unset::")
    assert "http%3A" not in line and "http://gpu:11434: unset" in line


def test_absolute_paths_become_repo_relative(tmp_path: Path) -> None:
    f = Finding(
        code="CTX101",
        severity="warning",
        message="m",
        location=Location(str(tmp_path / "models" / "Modelfile"), 2, 1),
    )
    assert "file=models/Modelfile,line=2,col=1," in github.annotation(f, tmp_path)


def test_empty_scan_says_all_clear() -> None:
    assert github.render(_result([])) == "ctxfix: all clear\n"
