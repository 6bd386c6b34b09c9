"""The directory walk (issue 15): git's file list in a work tree, a pruned scandir walk elsewhere.

Why these tests: the walk decides what a scan sees. Listing with git must keep
`.gitignore` out without losing tracked or new files, survive what git lists
but the disk lacks, and fall back whenever git cannot answer; both walks must
find exactly the files the old `os.walk` found (in its order), or the output
of every scan changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix import discover, git_listing, walk
from ctxfix.discover import Targets, is_store_dir
from ctxfix.settings import Settings

REPO = Path(__file__).resolve().parent.parent
MODELFILE = "FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n"
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not on PATH")

# The directories the os.walk this replaced pruned (the reference below).
OLD_SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache"}
    | {".pytest_cache", ".ruff_cache", ".tox", "dist", "build", "blobs"}
)


def _old_walk(root: Path) -> tuple[list[Path], list[Path]]:
    """The walk before issue 15: every file below root in os.walk order, stores not entered."""
    files: list[Path] = []
    stores: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if is_store_dir(here):
            dirnames[:] = []
            stores.append(here)
            continue
        dirnames[:] = sorted(d for d in dirnames if d not in OLD_SKIP_DIRS)
        files += [here / f for f in sorted(filenames)]
    return files, stores


def _mods() -> list:
    return discover._agent_modules()


def _names() -> walk.Names:
    return discover._names()


def _classified(files: list[Path]) -> list[tuple[str, str]]:
    """(list, path) for each file discovery keeps, in order: what a scan would read."""
    out = []
    for f in files:
        t = Targets()
        if discover._classify_file(f, t, explicit=False):
            kinds = ("modelfiles", "ggufs", "agents", "compose_files", "logs")
            out += [(k, str(f)) for k in kinds if getattr(t, k, None)]
    return out


def _walk(root: Path) -> tuple[list[Path], list[Path], list[str]]:
    warnings: list = []
    files, stores = walk.walk(root, _names(), warnings, walk.start_listing(root))
    return files, stores, [str(w) for w in warnings]


def _canned(code: int, out: bytes, err: bytes):
    """A `GitListing.result` that stops the real git and answers this instead."""

    def result(self: walk.GitListing) -> tuple[int, bytes, bytes]:
        self.cancel()
        return code, out, err

    return result


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _git(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree: tracked, untracked, ignored, vendored and deleted-but-tracked Modelfiles."""
    root = tmp_path / "repo"
    _write(
        root,
        {
            ".gitignore": "ignored/\n*.tmp\n",
            "tracked/Modelfile": MODELFILE,
            "sub/Modelfile": MODELFILE,
            "sub/deeper/x.Modelfile": MODELFILE,
            "sub/ignored/Modelfile": MODELFILE,
            "gone/Modelfile": MODELFILE,
            "node_modules/pkg/Modelfile": MODELFILE,  # tracked, but vendored
            "src/app.py": "x = 1\n",
        },
    )
    _git(root, "init", "-q", ".")
    _git(root, "add", ".")
    (root / "gone/Modelfile").unlink()  # tracked, deleted from disk
    _write(
        root,
        {
            "untracked/Modelfile": MODELFILE,
            "ignored/Modelfile": MODELFILE,
            "scratch.tmp/Modelfile": MODELFILE,
        },
    )
    return root


@needs_git
def test_git_lists_tracked_and_untracked_not_ignored(repo: Path) -> None:
    files, stores, warnings = _walk(repo)
    assert files == [
        repo / "sub/Modelfile",
        repo / "sub/deeper/x.Modelfile",
        repo / "tracked/Modelfile",
        repo / "untracked/Modelfile",
    ]
    assert stores == [] and warnings == []


@needs_git
def test_a_deleted_tracked_file_is_no_error(repo: Path) -> None:
    from ctxfix import pipeline

    settings = Settings(paths=(repo,), no_server=True, no_user=True, no_store=True)
    result = pipeline.scan(settings, environ={}, home=repo)
    assert result.world.warnings == []
    assert all("gone" not in str(p) for p, _ in discover.discover(settings, {}, repo).modelfiles)


@needs_git
def test_a_subdirectory_lists_only_below_it(repo: Path, monkeypatch) -> None:
    files, _, _ = _walk(repo / "sub")
    assert files == [repo / "sub/Modelfile", repo / "sub/deeper/x.Modelfile"]
    # a relative root keeps its form, as os.walk did
    monkeypatch.chdir(repo)
    assert _walk(Path("sub"))[0] == [Path("sub/Modelfile"), Path("sub/deeper/x.Modelfile")]


@needs_git
def test_a_directory_git_ignores_is_walked_when_named(repo: Path) -> None:
    assert _walk(repo / "ignored")[0] == [repo / "ignored/Modelfile"]


@needs_git
def test_falls_back_when_git_cannot_answer(repo: Path, monkeypatch) -> None:
    plain = [
        repo / "ignored/Modelfile",
        repo / "scratch.tmp/Modelfile",
        repo / "sub/Modelfile",
        repo / "sub/deeper/x.Modelfile",
        repo / "sub/ignored/Modelfile",
        repo / "tracked/Modelfile",
        repo / "untracked/Modelfile",
    ]
    with monkeypatch.context() as m:  # no git on PATH
        m.setenv("PATH", str(repo / "no-such-bin"))
        assert _walk(repo)[0] == plain
    with monkeypatch.context() as m:  # git too slow: a `git` that never answers in time
        slow = repo.parent / "slow-bin"
        slow.mkdir(exist_ok=True)
        (slow / "git").write_text("#!/bin/sh\nexec sleep 5\n")
        (slow / "git").chmod(0o755)
        m.setenv("PATH", f"{slow}{os.pathsep}{os.environ['PATH']}")
        m.setattr(git_listing, "GIT_TIMEOUT_S", 0.2)
        t0 = time.monotonic()
        assert _walk(repo)[0] == plain
        assert time.monotonic() - t0 < 3  # the sleeping git was killed, not waited for
    with monkeypatch.context() as m:  # git fails
        m.setattr(walk.GitListing, "result", _canned(128, b"", b"fatal: not a git repository"))
        assert _walk(repo)[0] == plain


@needs_git
def test_links_and_fifos_listed_by_git_go_through_the_safe_reader(tmp_path: Path) -> None:
    from ctxfix import pipeline

    root = tmp_path / "repo"
    _write(root, {"models/Modelfile": MODELFILE})
    _git(root, "init", "-q", ".")
    os.mkfifo(root / "pipe")
    (root / "Modelfile").symlink_to("pipe")  # git lists the link, never the FIFO
    (root / "dir.Modelfile").symlink_to("models")  # a link to a directory: not followed
    (root / "broken.Modelfile").symlink_to("nowhere")
    files, _, _ = _walk(root)
    assert files == [root / "Modelfile", root / "broken.Modelfile", root / "models/Modelfile"]
    settings = Settings(paths=(root,), no_server=True, no_user=True, no_store=True)
    warnings = [str(w) for w in pipeline.scan(settings, environ={}, home=root).world.warnings]
    assert any(str(root / "Modelfile") in w and "FIFO" in w for w in warnings), warnings
    assert any(str(root / "broken.Modelfile") in w for w in warnings), warnings


@needs_git
def test_nested_repositories_stores_and_submodules(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    store = "models/store/manifests/registry.ollama.ai/library/m/latest"
    _write(root, {"a/Modelfile": MODELFILE, store: "{}", "models/store/Modelfile": MODELFILE})
    _git(root, "init", "-q", ".")
    _write(root / "nested", {"Modelfile": MODELFILE})
    _git(root / "nested", "init", "-q", ".")
    _write(root / "sub", {"Modelfile": MODELFILE})
    _git(root / "sub", "init", "-q", ".")
    (root / ".gitmodules").write_text('[submodule "sub"]\n\tpath = sub\n\turl = ./sub\n')
    files, stores, _ = _walk(root)
    assert files == [root / "a/Modelfile", root / "nested/Modelfile", root / "sub/Modelfile"]
    assert stores == [root / "models/store"]
    old_files, old_stores = _old_walk(root)  # the old walk found the same
    assert (_classified(files), stores) == (_classified(old_files), old_stores)


def test_outside_git_heavy_directories_are_pruned(tmp_path: Path) -> None:
    heavy = sorted(walk.SKIP_DIRS)
    _write(tmp_path, {f"{d}/Modelfile": MODELFILE for d in heavy})
    _write(tmp_path, {f"src/{d}/pkg/Modelfile": MODELFILE for d in heavy})
    _write(tmp_path, {"src/Modelfile": MODELFILE, "Modelfile": MODELFILE})
    files, stores, warnings = _walk(tmp_path)
    assert files == [tmp_path / "Modelfile", tmp_path / "src/Modelfile"]
    assert {"node_modules", ".git", ".venv", "venv", "__pycache__", ".tox"} <= walk.SKIP_DIRS
    assert stores == [] and warnings == []


@pytest.mark.parametrize("rel", ["fixtures/demo", "fixtures/configs", "fixtures"])
def test_same_files_as_the_old_walk(rel: str, monkeypatch) -> None:
    """The fixtures are tracked: the git listing and the plain walk both match os.walk."""
    monkeypatch.chdir(REPO)
    root = Path(rel)
    old_files, old_stores = _old_walk(root)
    names = _names()
    listing = walk.start_listing(root)
    assert listing is not None or GIT is None or not (REPO / ".git").exists()
    for files, stores in (walk.walk(root, names, [], listing), walk._plain_walk(root, names, [])):
        assert _classified(files) == _classified(old_files)
        assert stores == old_stores


def test_the_name_filter_passes_every_name_discovery_keeps() -> None:
    """A name `_classify_file` accepts but the filter drops would vanish from every scan."""
    names = _names()
    samples = ["Modelfile", "Modelfile.qwen", "qwen.Modelfile", "qwen.modelfile", "m.gguf"]
    samples += ["server.log", "server-2.log", *discover.COMPOSE_NAMES]
    for mod in _mods():
        samples += list(getattr(mod, "FILE_NAMES", ()))
        samples += [g.replace("*", "x") for g in getattr(mod, "PATH_GLOBS", ())]
    for sample in samples:
        path = Path("d", sample)
        if not discover._classify_file(path, Targets(), explicit=False):
            continue
        assert names.wants(path.name), sample
        listing = os.fsencode(f"x/y.py\0{path.as_posix()}\0z\0")
        assert os.fsencode(path.as_posix()) in walk._candidates(listing, names), sample


_PARTS = st.sampled_from(
    ["Modelfile", "config.yaml", "x.gguf", "opencode.json", "a", "b.py", ".continue", "models",
     "server.log", "Modelfile.qwen", "qwen.modelfile", "node_modules", "", "é", "settings.json"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PARTS, min_size=1, max_size=4), max_size=30), st.booleans())
def test_a_small_listing_is_filtered_exactly_as_the_listing_regex_filters(
    entries: list[list[str]], nested: bool
) -> None:
    """Below SMALL_LISTING bytes a loop replaces the regex (its compile cost more)."""
    names = _names()
    paths = ["/".join(e) for e in entries] + (["vendor/other-repo/"] if nested else [])
    listing = b"".join(os.fsencode(p) + b"\0" for p in paths)
    by_regex = {m.group()[:0:-1] for m in names.listing.finditer(listing[::-1])} - {b""}
    assert walk._small_candidates(listing, names) - {b""} == by_regex


def test_git_warnings_about_unreadable_directories_become_warnings(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "Modelfile").write_text(MODELFILE)
    err = b"warning: could not open directory 'locked/': Permission denied\n"
    monkeypatch.setattr(walk.GitListing, "result", _canned(0, b"Modelfile\0", err))
    files, _, warnings = _walk(tmp_path)
    assert files == [tmp_path / "Modelfile"]
    assert warnings == [f"{tmp_path / 'locked'}: cannot read directory: Permission denied; skipped"]


@needs_git
def test_a_listing_not_read_is_stopped(repo: Path, monkeypatch) -> None:
    """A missing path after a directory: discovery fails, and git is not left running."""
    from ctxfix.errors import CtxfixError

    started: list[walk.GitListing] = []

    def start(root: Path) -> walk.GitListing | None:
        listing = walk.start_listing(root)
        started.append(listing)
        return listing

    monkeypatch.setattr(discover, "start_listing", start)
    settings = Settings(paths=(repo / "missing", repo), no_server=True, no_user=True)
    with pytest.raises(CtxfixError, match="no such file"):
        discover.discover(settings, {}, repo)
    assert [type(x) for x in started] == [walk.GitListing]  # only directories are listed
    assert started[0]._proc.returncode is not None


@needs_git
def test_a_scanned_repository_cannot_run_its_fsmonitor_hook(repo: Path, tmp_path: Path) -> None:
    # `git ls-files` runs `core.fsmonitor` from the repository's own config: an
    # untrusted checkout would execute code on `ctxfix scan`
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    hook.chmod(0o755)
    _git(repo, "config", "core.fsmonitor", str(hook))
    files, _stores, _w = _walk(repo)
    assert repo / "tracked/Modelfile" in files
    assert not marker.exists()


@needs_git
def test_a_listed_path_through_a_linked_directory_is_not_followed(
    repo: Path, tmp_path: Path
) -> None:
    # committed as a directory, then replaced by a link to elsewhere: git still lists
    # `tracked/Modelfile` from its index; the plain walk never follows the link
    outside = tmp_path / "outside"
    _write(outside, {"Modelfile": MODELFILE})
    shutil.rmtree(repo / "tracked")
    (repo / "tracked").symlink_to(outside, target_is_directory=True)
    files, _stores, _w = _walk(repo)
    assert not any("tracked" in f.parts for f in files)


@needs_git
def test_submodule_paths_never_leave_the_scanned_directory(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    _write(outside, {"Modelfile": MODELFILE})
    (repo / ".gitmodules").write_text('[submodule "x"]\n\tpath = ../elsewhere\n')
    files, _stores, _w = _walk(repo)
    assert all(f.resolve().is_relative_to(repo.resolve()) for f in files)


@needs_git
def test_names_with_newlines_and_unicode_are_listed_whole(tmp_path: Path) -> None:
    root = tmp_path / "r"
    _write(root, {"a\nb/Modelfile": MODELFILE, "ünï cödé/Modelfile": MODELFILE})
    _git(root, "init", "-q", ".")
    _git(root, "add", ".")
    files, _stores, _w = _walk(root)
    assert files == [root / "a\nb/Modelfile", root / "ünï cödé/Modelfile"]
