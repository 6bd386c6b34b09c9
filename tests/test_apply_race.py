"""Two `ctxfix apply --yes` at once: one applies, the other stops cleanly, nothing is lost.

Regression (issue 11): the lock covered only the file commit, so the apply
that lost the race deleted the model the winner had committed (both create
the same digest). Now the lock covers the whole apply and a loser never
touches what it did not create.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ollama_server import OllamaDouble

ROOT = Path(__file__).resolve().parent.parent
NEW = "qwen3-coder:30b-262k"


def test_two_applies_at_once(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    shutil.copytree(ROOT / "fixtures" / "demo", work)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OLLAMA_")},
        "HOME": str(tmp_path / "home"),
        "CTXFIX_STATE_DIR": str(tmp_path / "state"),
        "CTXFIX_CACHE_DIR": str(tmp_path / "cache"),
    }
    with OllamaDouble(work / "store") as srv:
        srv.set_fault("delay", "/api/create", seconds=0.5)  # widen the window
        args = [
            sys.executable,
            "-m",
            "ctxfix",
            "apply",
            "--yes",
            "--host",
            srv.url,
            "--no-user",
            "--prefill-tps",
            "400",
            str(work),
        ]
        procs = [
            subprocess.Popen(
                args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        codes = sorted(r[0] for r in results)
        assert codes == [0, 2], results
        loser = next(r for r in results if r[0] == 2)
        assert loser[2].count("ctxfix: error:") == 1 and "Traceback" not in loser[2]
        # the winner's model survived the loser
        from ctxfix.sources.server import scan_host

        assert NEW in {m.name for m in scan_host(srv.url).models}
        # and the state is what one apply makes: scan is clean, rollback restores
        p = subprocess.run(
            [*args[:3], "scan", "--host", srv.url, "--no-user", "--prefill-tps", "400", str(work)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert p.returncode == 0, p.stdout + p.stderr
        p = subprocess.run(
            [*args[:3], "rollback", "--last"], env=env, capture_output=True, text=True
        )
        assert p.returncode == 0, p.stderr
        assert (work / "openclaw.json").read_bytes() == (
            ROOT / "fixtures" / "demo" / "openclaw.json"
        ).read_bytes()
        assert NEW not in {m.name for m in scan_host(srv.url).models}
