"""File discovery in big trees: ctxfix's walk against `find` and `git ls-files` (issue 15).

    python bench/bench_walk.py [--runs 11] [--keep DIR]

Builds two trees in a temp dir (no network; 20-40 s):

* plain, 35,000 files, not a git work tree: `src/` with 10,000 source
  files, a `node_modules/` of 15,000, a `.git/` of 9,999 loose files that is
  not a repository (no HEAD: git is never run), one `deploy/Modelfile`.
* git, 100,000 files: 80,000 tracked (`src/`, `.gitignore`, one
  `deploy/Modelfile`), a `node_modules/` of 20,000 that `.gitignore` excludes.
  Indexed with `git update-index --index-info` (one shared blob) instead of
  `git add` hashing 80,000 files, then committed.

For each tree, alternated so machine load hits all alike, after one warm-up:
the discovery stage in-process (`discover()`, no user paths, stores or
servers: the walk plus classifying what it finds), the reference listing
(`find TREE -type f` / `git ls-files -z --cached --others --exclude-standard`,
spawned from Python like ctxfix spawns git), and the whole process
`ctxfix scan TREE --no-server --no-user` (the console script of `--python`'s
environment, default this one) against the reference plus
`python -c pass`, and the same scan of an empty directory (the scan's fixed
cost: what is left is the walk's share). Prints medians and ratios. Target (issue 15): the git tree
scans in at most 2x the time of `git ls-files`. Not a test: timings belong
here, never in the suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A user's interpreter caches bytecode; this sandbox sets PYTHONDONTWRITEBYTECODE,
# which would make every run recompile ctxfix and measure the compiler instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GIT_ENV = {
    **{k: v for k, v in ENV.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
MODELFILE = "FROM qwen3-coder:30b\nPARAMETER num_ctx 32768\n"


def _write_files(root: Path, rels: list[str], text: str = "x = 1\n") -> None:
    made: set[str] = set()
    for rel in rels:
        d = os.path.dirname(rel)
        if d not in made:
            os.makedirs(root / d, exist_ok=True)
            made.add(d)
        with open(root / rel, "w") as f:
            f.write(text)


def _source_files(n: int, top: str = "src") -> list[str]:
    """n files, 50 per directory, two levels deep (like a package tree)."""
    return [f"{top}/pkg{i // 2500:02d}/mod{i // 50 % 50:02d}/file{i % 50:02d}.py" for i in range(n)]


def _node_modules(n: int) -> list[str]:
    """n files in packages of 30, each with a `config.json` (a name ctxfix reads)."""
    named = {0: "package.json", 1: "config.json", 2: "README.md"}
    return [
        f"node_modules/p{i // 30:04d}/" + named.get(i % 30, f"lib/f{i % 30:02d}.js")
        for i in range(n)
    ]


def build_plain(root: Path) -> None:
    root.mkdir(parents=True)
    _write_files(root, _source_files(10_000))
    _write_files(root, _node_modules(15_000))
    _write_files(root, [f".git/objects/{i % 256:02x}/{i:038x}" for i in range(9_999)])
    _write_files(root, ["deploy/Modelfile"], MODELFILE)


def build_git(root: Path) -> None:
    root.mkdir(parents=True)
    src = _source_files(79_998)
    _write_files(root, src)
    _write_files(root, _node_modules(20_000))
    _write_files(root, ["deploy/Modelfile"], MODELFILE)
    (root / ".gitignore").write_text("node_modules/\n")

    def git(*args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, env=GIT_ENV, input=stdin, capture_output=True, check=True
        ).stdout.decode()

    git("init", "-q", ".")
    blob = git("hash-object", "-w", "--stdin", stdin=b"x = 1\n").strip()
    lines = [f"100644 {blob}\t{rel}\n" for rel in src]
    for rel in (".gitignore", "deploy/Modelfile"):
        sha = git("hash-object", "-w", rel).strip()
        lines.append(f"100644 {sha}\t{rel}\n")
    git("update-index", "--index-info", stdin="".join(lines).encode())
    git("commit", "-q", "-m", "bench tree")
    assert git("ls-files", "--others", "--exclude-standard") == ""  # node_modules ignored


def wall(cmd: list[str], cwd: Path = REPO) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - t0


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_tree(label: str, tree: Path, reference: list[str], runs: int, empty: Path, py: str) -> None:
    from ctxfix.discover import discover
    from ctxfix.settings import Settings

    settings = Settings(paths=(tree,), no_server=True, no_user=True, no_store=True)

    def disc() -> None:
        t = discover(settings, environ={}, home=Path("/nonexistent"))
        assert [p.name for p, _ in t.modelfiles] == ["Modelfile"], t.modelfiles

    script = str(Path(py).parent / "ctxfix")  # the console script, as a user runs it
    scan = [script, "scan", str(tree), "--no-server", "--no-user"]
    scan_empty = [script, "scan", str(empty), "--no-server", "--no-user"]
    base = [py, "-c", "pass"]
    disc(), wall(reference, cwd=tree), wall(scan)  # warm the page cache, .pyc files and imports
    d, r, s, e, b = [], [], [], [], []
    for _ in range(runs):
        d.append(timed(disc))
        r.append(wall(reference, cwd=tree))
        s.append(wall(scan))
        e.append(wall(scan_empty))
        b.append(wall(base))
    md, mr, ms, me, mb = (statistics.median(x) * 1000 for x in (d, r, s, e, b))
    ref = "find TREE -type f" if reference[0] == "find" else "git ls-files (4 flags)"
    print(f"{label}:")
    print(f"  discover() in-process        median {md:7.1f} ms (min {min(d) * 1000:.1f})")
    print(f"  {ref:28} median {mr:7.1f} ms (min {min(r) * 1000:.1f})")
    print(f"  python -c pass               median {mb:7.1f} ms (min {min(b) * 1000:.1f})")
    print(f"  ctxfix scan (whole process)  median {ms:7.1f} ms (min {min(s) * 1000:.1f})")
    print(f"  ctxfix scan of an empty dir  median {me:7.1f} ms (min {min(e) * 1000:.1f})")
    name = reference[0]
    print(f"  discover() / {name}: {md / mr:.2f}x")
    print(
        f"  scan / {name}: {ms / mr:.2f}x; scan / ({name} + python -c pass): {ms / (mr + mb):.2f}x"
    )
    print(f"  scan - empty-dir scan = {ms - me:.1f} ms: {(ms - me) / mr:.2f}x {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the trees here, do not delete")
    ap.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter of another environment (e.g. one made with `pip install .`) whose "
        "`ctxfix` console script runs the whole-process scans",
    )
    args = ap.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="ctxfix-bench-walk-"))
    try:
        plain, repo = tmp / "plain", tmp / "git"
        t0 = time.perf_counter()
        if not plain.exists():
            build_plain(plain)
        if not repo.exists():
            build_git(repo)
        print(f"trees ready in {time.perf_counter() - t0:.1f} s ({tmp})")
        empty = tmp / "empty"  # the scan's fixed cost: start-up, settings, report
        empty.mkdir(exist_ok=True)
        find = ["find", str(plain), "-type", "f"]
        run_tree("plain tree, 35,000 files", plain, find, args.runs, empty, args.python)
        git_ls = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        run_tree("git tree, 100,000 files", repo, git_ls, args.runs, empty, args.python)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
