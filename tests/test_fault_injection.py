"""Fault injection: interrupt `apply` and `rollback` at every write, rename and connection.

Each run is a real `ctxfix` process (tests/fault_harness.py) against the
loopback Ollama double, interrupted at its Nth fault point by SIGKILL, by
SIGINT (Ctrl-C) or by ENOSPC (a full disk). After each, what a user would
check, checked:

- every planned file is wholly old or wholly new (never torn);
- no model exists on the server that no journal records;
- `rollback --last` (again, for an interrupted rollback) brings every file
  back byte-identical, removes every model the apply created, and leaves no
  temp file and no journal that still needs resolving.

The number of points is counted by a clean run first, so a new write in the
code is covered without editing this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ollama_server import OllamaDouble

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
HARNESS = Path(__file__).resolve().parent / "fault_harness.py"
FILES = ("Modelfile", "openclaw.json")
NEW = "qwen3-coder:30b-262k"


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


class Zygote:
    """A fork server (fault_harness.py --serve): each run is a new forked process."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(HARNESS), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def run(self, req: dict) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["code"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


_local = threading.local()
_zygotes: list[Zygote] = []
_zlock = threading.Lock()


def _zygote() -> Zygote:
    z = getattr(_local, "zygote", None)
    if z is None:
        z = _local.zygote = Zygote()
        with _zlock:
            _zygotes.append(z)
    return z


@pytest.fixture(scope="module", autouse=True)
def _close_zygotes():
    yield
    for z in _zygotes:
        z.close()
    _zygotes.clear()


class Case:
    """One copy of the demo with its own server, HOME and journal directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "demo"
        shutil.copytree(DEMO, self.work)
        self.state = root / "state"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OLLAMA_")},
            "HOME": str(root / "home"),
            "CTXFIX_STATE_DIR": str(self.state),
            "CTXFIX_CACHE_DIR": str(root / "cache"),
            "PYTHONPATH": str(ROOT),
        }
        self.srv = OllamaDouble(self.work / "store").start()
        self.before = {f: (self.work / f).read_bytes() for f in FILES}
        self.models_before = self.models()

    def args(self) -> list[str]:
        return [
            "apply",
            "--yes",
            "--host",
            self.srv.url,
            "--no-user",
            "--prefill-tps",
            "400",
            str(self.work),
        ]

    def run(self, kind: str, n: int, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(HARNESS), kind, str(n), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def models(self) -> set[str]:
        """The server's model names (`/api/tags` through the real client)."""
        import ollama

        c = ollama.Client(host=self.srv.url, timeout=30)
        try:
            return {m.model for m in c.list().models if m.model}
        finally:
            c._client.close()

    def journaled_models(self) -> set[str]:
        from ctxfix.journal import JournalStore

        store = JournalStore(self.state / "journal")
        out: set[str] = set()
        for jid in store.ids():
            j = store.load(jid)
            out |= {a["model"] for a in j.actions if a.get("status", "done") != "planned"}
            out |= {a["backup_model"] for a in j.actions if a.get("backup_model")}
        return out

    def rollback_last(self) -> None:
        """What a user runs to recover: `ctxfix rollback --last` until nothing is left."""
        p = subprocess.run(
            [sys.executable, "-m", "ctxfix", "rollback", "--last"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, p.stdout + p.stderr

    def check_consistent(self, after: dict[str, str]) -> list[str]:
        problems = []
        for f in FILES:
            h = _sha(self.work / f)
            if h not in (hashlib.sha256(self.before[f]).hexdigest(), after[f]):
                problems.append(f"{f} is torn")
        stray = self.models() - self.models_before - self.journaled_models()
        if stray:
            problems.append(f"models no journal records: {sorted(stray)}")
        return problems

    def check_recovered(self) -> list[str]:
        problems = []
        for f in FILES:
            if (self.work / f).read_bytes() != self.before[f]:
                problems.append(f"{f} not restored byte-identical")
        if self.models() != self.models_before:
            problems.append(f"models left: {sorted(self.models() - self.models_before)}")
        temps = [p.name for p in self.work.rglob("*.ctxfix-tmp")]
        if temps:
            problems.append(f"temp files left: {temps}")
        from ctxfix.journal import JournalStore

        if JournalStore(self.state / "journal").unresolved():
            problems.append("an apply is still unresolved")
        return problems

    def close(self) -> None:
        self.srv.stop()


def _after_hashes(tmp: Path) -> dict[str, str]:
    """The files as a complete apply leaves them."""
    c = Case(tmp / "reference")
    try:
        p = c.run("count", 0, c.args())
        assert p.returncode == 0, p.stderr
        return {f: _sha(c.work / f) for f in FILES}
    finally:
        c.close()


def _points(tmp: Path, rollback: bool, kind: str) -> int:
    """Fault points of a clean run; for ENOSPC only writes and renames (a full disk
    never fails a connection)."""
    count = "count-disk" if kind == "enospc" else "count"
    c = Case(tmp / ("count-rb" if rollback else "count"))
    try:
        p = c.run("count" if rollback else count, 0, c.args())
        if rollback:
            p = c.run(count, 0, ["rollback", "--last"])
        assert p.returncode == 0, p.stderr
        return int(p.stderr.rsplit("fault-points: ", 1)[1].split()[0])
    finally:
        c.close()


def _sweep(tmp: Path, kind: str, rollback: bool) -> list[str]:
    after = _after_hashes(tmp)
    total = _points(tmp, rollback, kind)
    assert total >= 5  # the sweep cannot pass by finding no point

    cases: list[Case] = []
    local = threading.local()

    def one(n: int) -> list[str]:
        # one demo copy and server per worker, reused while every recovery succeeds
        c = getattr(local, "case", None)
        if c is None:
            c = local.case = Case(tmp / f"{kind}-{'rb' if rollback else 'ap'}-{n}")
            cases.append(c)
        if rollback:
            p = c.run("count", 0, c.args())
            assert p.returncode == 0, p.stderr
        p = c.run(kind, n, ["rollback", "--last"] if rollback else c.args())
        if "Traceback" in p.stderr:
            return [f"point {n}: traceback: {p.stderr[-400:]}"]
        problems = c.check_consistent(after)
        c.rollback_last()
        problems += c.check_recovered()
        if problems:
            local.case = None  # a fresh copy for the next point
        else:
            shutil.rmtree(c.state, ignore_errors=True)  # resolved: start the next one clean
        return [f"{kind} at point {n}/{total}: {x}" for x in problems]

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            return [x for found in pool.map(one, range(1, total + 1)) for x in found]
    finally:
        for c in cases:
            c.close()


@pytest.mark.parametrize("kind", ["kill", "int", "enospc"])
def test_apply_interrupted_at_every_point_recovers(kind: str, tmp_path: Path) -> None:
    assert _sweep(tmp_path, kind, rollback=False) == []


@pytest.mark.parametrize("kind", ["kill", "int", "enospc"])
def test_rollback_interrupted_at_every_point_can_be_run_again(kind: str, tmp_path: Path) -> None:
    assert _sweep(tmp_path, kind, rollback=True) == []
