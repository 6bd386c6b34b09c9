"""The console script starts git on the directories a scan will walk, before the CLI loads."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_run import run_ctxfix

from ctxfix import git_listing, launch, walk


def _git_tree(root: Path) -> Path:
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "Modelfile").write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 8192\n")
    return root


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scan", "DIR"], ["DIR"]),
        (["apply", "--dry-run", "DIR", "FILE"], ["DIR"]),
        (["scan", "FILE"], []),  # a file: the hook's case, nothing to list
        (["scan", "--no-server"], ["."]),  # no path: the working directory is walked
        (["scan", "--", "-odd-dir"], ["-odd-dir"]),
        (["scan", "--store", "DIR"], ["DIR"]),  # a guess: an option's directory too
        (["estimate", "DIR"], []),
        (["--version"], []),
    ],
)
def test_named_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: list[str]
) -> None:
    (tmp_path / "DIR").mkdir()
    (tmp_path / "-odd-dir").mkdir()
    (tmp_path / "FILE").write_text("x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    assert launch._named_directories(args) == expected


def test_nothing_is_listed_from_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert launch._named_directories(["scan"]) == []


def test_an_early_listing_is_handed_to_the_walk(tmp_path: Path) -> None:
    tree = _git_tree(tmp_path / "repo")
    git_listing.start_early([str(tree)])
    try:
        early = git_listing._EARLY[str(tree.resolve())]
        spelled = Path(str(tree) + "/.")  # discover's own spelling is kept
        listing = walk.start_listing(spelled)
        assert listing is not None and listing._proc is early._proc
        assert listing.root == str(spelled) and git_listing._EARLY == {}
        code, out, _ = listing.result() or (None, b"", b"")
        assert code == 0 and out == b"Modelfile\0"
    finally:
        git_listing.cancel_early()


@pytest.mark.skipif(not hasattr(__import__("os"), "memfd_create"), reason="Linux memfd only")
def test_git_finishes_a_big_listing_before_anyone_reads_it(tmp_path: Path) -> None:
    """The listing goes to memory, not a 64 KiB pipe: git ends while the CLI is still loading."""
    tree = _git_tree(tmp_path / "repo")
    names = [f"src/module_with_a_long_name_{i:05d}.py" for i in range(4000)]  # ~170 KB listed
    (tree / "src").mkdir()
    for n in names:
        (tree / n).write_bytes(b"")
    git_listing.start_early([str(tree)])
    try:
        early = git_listing._EARLY[str(tree.resolve())]
        assert early._proc.wait(30)  # with a pipe nobody reads, git would block here
        code, out, _ = early.result() or (None, b"", b"")
        assert code == 0 and len(out.split(b"\0")) == len(names) + 2  # + Modelfile, final NUL
    finally:
        git_listing.cancel_early()


def test_unread_early_listings_are_killed(tmp_path: Path) -> None:
    tree = _git_tree(tmp_path / "repo")
    git_listing.start_early([str(tree)])
    proc = git_listing._EARLY[str(tree.resolve())]._proc
    git_listing.cancel_early()
    assert git_listing._EARLY == {} and proc.returncode is not None


def test_outside_a_work_tree_no_git_starts(tmp_path: Path) -> None:
    git_listing.start_early([str(tmp_path)])
    assert git_listing._EARLY == {}


def test_scan_of_a_work_tree_through_the_launcher(tmp_path: Path) -> None:
    tree = _git_tree(tmp_path / "repo")
    proc = run_ctxfix("scan", "--no-server", "--no-user", "--no-store", cwd=tree)
    assert proc.returncode == 1, proc.stderr
    assert "Modelfile" in proc.stdout and "CTX10" in proc.stdout
