"""Walk a directory for the few files ctxfix reads, fast enough for big repositories.

Why a module of its own: a repository of 100,000 files holds a handful that
matter (Modelfiles, agent configs, compose files, GGUFs, model stores), and
`ctxfix scan` on it should cost about what listing it costs (issue 15; the
old `os.walk` + a `stat()` per file took 30x `git ls-files`). Two walks, one
result shape:

* In a git work tree, git already knows the files: `git ls-files -z --cached
  --others --exclude-standard` lists what is tracked plus what is untracked
  and not ignored, so `.gitignore` is respected and `.git` is never entered.
  The listing is filtered as one byte string (a regex over the reversed
  listing finds entries by their last path component), so only candidate
  names cost Python work or a `stat()`. Git is started early (by the console
  script before the CLI imports, `start_early`, else by `discover` before
  anything else), so its run overlaps Python's; the result is awaited with
  a timeout. When git is missing,
  fails, times out, or the directory is not in a work tree (looked up on disk:
  no process outside one), the plain walk runs instead. A directory below
  the top of the work tree is listed by running git there (git lists only
  below its working directory); a directory for which git lists nothing
  (ignored as a whole) is walked plainly, since the user named it.
* Elsewhere, an `os.scandir` walk that prunes `SKIP_DIRS`, decides file or
  directory from the directory entry's type (no `stat()` per file) and looks
  at a name before anything else.

Both walks return the same things in the same order as the `os.walk` they
replace: a directory's files sorted by name, then its subdirectories in
sorted order; a directory holding `manifests/` is a model store (reported,
not entered); links to directories are not followed (nor reported); a broken
link or a FIFO with a wanted name is reported (the safe reader turns it into
a warning later). A directory that cannot be listed is a warning, the named
root an error.

Where the git walk differs from the plain walk, on purpose: ignored files are
not scanned; files under a directory in `SKIP_DIRS` are skipped even when
tracked (vendored trees); a tracked file deleted from disk (or outside a
sparse checkout) is left out rather than reported unreadable; FIFOs and
sockets never appear (git lists regular files and links only); an empty,
untracked `manifests/` does not make a store. Nested repositories (git lists
them as `dir/`) and submodules (from `.gitmodules`) are walked in turn.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ctxfix.errors import CtxfixError, Warning_

if TYPE_CHECKING:
    import subprocess

SKIP_DIRS = frozenset(
    {
        # version control metadata
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        # dependency trees and virtualenvs: vendored code, never this project's config
        "node_modules",
        ".venv",
        "venv",
        ".eggs",
        ".tox",
        ".nox",
        # caches
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        # build output (copies of sources at best)
        "dist",
        "build",
        # an Ollama store's blob directory: multi-GB files, read through the store
        "blobs",
    }
)
"""Directories never walked into (below the root; a root the user names is walked).

Chosen as names that only ever hold generated, vendored or tool-owned files.
Not in the list although common: `target` (Rust/Maven output, but also an
ordinary word for deployment directories), `.cache` and `.config` (where
agent configs live), `vendor` (Go and PHP vendoring, but also hand-kept
code). In a git work tree, `.gitignore` usually prunes these anyway.
"""

GIT_TIMEOUT_S = 10.0
"""`git ls-files` on 100,000 files takes ~60 ms; ten seconds means git is stuck
(a network file system, a hung filter): the plain walk is the better answer."""

# Variables that point git at another repository than the scanned directory's
# own: a hook runs with GIT_DIR / GIT_INDEX_FILE set for the committing repo.
_GIT_LOCATION_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)

# path components a git listing of a real work tree never holds
_UNSAFE_PARTS = frozenset({"", ".", ".."})

# git's warning for a directory it cannot list (compiled on use: git is usually silent)
_GIT_DIR_WARNING = r"could not open directory '(.*?)/?': (.*)"


class Names:
    """Which file names could matter, compiled once for both walks.

    A superset test: a name that passes may still be rejected by the caller's
    classifier; a name that fails is never looked at again. (A plain class: a
    dataclass costs a millisecond of start-up, and this module is imported on
    every scan.)
    """

    __slots__ = ("_listing", "_listing_source", "exact", "needles", "prefixes", "suffixes", "tail")

    def __init__(
        self,
        exact: frozenset[str],
        prefixes: tuple[str, ...],
        suffixes: tuple[str, ...],
        tail: re.Pattern[str] | None,
        listing_source: bytes | None,
        needles: tuple[bytes, ...],
    ) -> None:
        self.exact = exact
        self.prefixes = prefixes
        self.suffixes = suffixes
        self.tail = tail
        """Glob tails that are not a plain suffix (`*-config.y?ml`), as one regex."""
        self._listing_source = listing_source
        self._listing: re.Pattern[bytes] | None = None
        self.needles = needles
        """Substrings of a listed path that make it a candidate (name prefixes,
        `manifests/` of a store)."""

    @property
    def listing(self) -> re.Pattern[bytes] | None:
        """Over the reversed NUL-separated git listing: entries ending in a wanted
        name; None when the names cannot be told from the end (every entry is a
        candidate). Compiled on first use: only a git work tree needs it (~1 ms)."""
        if self._listing is None and self._listing_source is not None:
            self._listing = re.compile(self._listing_source)
        return self._listing

    def wants(self, name: str) -> bool:
        """Could a file of this name matter? (Set and tuple tests: twice as fast as a regex.)"""
        return (
            name in self.exact
            or name.endswith(self.suffixes)
            or name.startswith(self.prefixes)
            or (self.tail is not None and self.tail.fullmatch(name) is not None)
        )


def _suffix_of(pattern: str) -> str | None:
    """The literal suffix a glob like `*.yaml` demands, or None when it is not that simple."""
    if pattern.startswith("*") and not any(c in pattern[1:] for c in "*?["):
        return pattern[1:]
    return None


def compile_names(
    exact: Iterable[str],
    prefixes: Iterable[str] = (),
    suffixes: Iterable[str] = (),
    globs: Iterable[str] = (),
) -> Names:
    """Names from exact file names, name prefixes and suffixes, and path globs.

    Only a glob's last component is used to pick candidates (`.continue/models/*.yaml`
    makes every `*.yaml` a candidate); the caller matches the whole path.
    """
    exact_names = set(exact)
    suffix_list = list(suffixes)
    tails: list[str] = []
    for g in globs:
        last = g.rsplit("/", 1)[-1]
        if not any(c in last for c in "*?["):
            exact_names.add(last)
        elif (suffix := _suffix_of(last)) is not None:
            suffix_list.append(suffix)
        else:
            import fnmatch  # only for a glob like `*-config.y?ml`; none today

            tails.append(fnmatch.translate(last))
    suffix_t = tuple(dict.fromkeys(suffix_list))
    tail = re.compile("|".join(tails)) if tails else None

    listing = None
    if tail is None:
        # Reversed, each entry starts right after a NUL: a literal-prefix search
        # the regex engine does at memchr speed, then a cheap check of the name.
        longest_first = sorted(exact_names, key=len, reverse=True)
        rev_exact = b"|".join(re.escape(os.fsencode(n)[::-1]) for n in longest_first)
        rev_suffix = b"|".join(re.escape(os.fsencode(s)[::-1]) for s in suffix_t)
        alt = b"(?:" + rev_exact + b")(?=[/\0]|\\Z)" if rev_exact else b""
        if rev_suffix:
            alt = alt + b"|" + rev_suffix if alt else rev_suffix
        # "/" first: a nested repository is listed as `dir/`
        listing = b"\0(?:/|" + alt + b")[^\0]*" if alt else b"\0/[^\0]*"
    prefix_t = tuple(prefixes)
    needles = (*(os.fsencode(p) for p in prefix_t), b"manifests/")
    return Names(frozenset(exact_names), prefix_t, suffix_t, tail, listing, needles)


def walk(
    root: Path, names: Names, warnings: list[Warning_], listing: GitListing | None
) -> tuple[list[Path], list[Path]]:
    """(files with a wanted name, model stores) below `root`, in `os.walk` order.

    `listing` is `start_listing(root)`, started by the caller as early as it
    can; None walks the directory plainly. Warnings (unreadable directories
    below root) are appended to `warnings`; an unreadable root is a CtxfixError.
    """
    found = None if listing is None else _git_walk(listing, names, warnings)
    if found is None:
        found = _plain_walk(root, names, warnings)
    return found


# --- the plain walk -----------------------------------------------------------------------


def _unreadable(err: OSError, top: str, root: Path, warnings: list[Warning_]) -> None:
    where = err.filename if err.filename is not None else top
    if Path(where) == root:
        raise CtxfixError(str(root), f"cannot read directory: {err.strerror or err}")
    warnings.append(Warning_(where, f"cannot read directory: {err.strerror or err}; skipped"))


def _plain_walk(
    root: Path, names: Names, warnings: list[Warning_]
) -> tuple[list[Path], list[Path]]:
    """`os.scandir` depth first; the entry type decides file or directory, the name the rest."""
    wanted = names.wants
    files: list[Path] = []
    stores: list[Path] = []
    stack = [os.fspath(root)]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = list(it)
        except OSError as err:
            _unreadable(err, top, root, warnings)
            continue
        here: list[str] = []
        subdirs: list[str] = []
        store = False
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if name == "manifests":
                    store = True
                    break
                if name not in SKIP_DIRS:
                    subdirs.append(name)
            elif name == "manifests" and entry.is_symlink() and _is_dir(entry):
                store = True
                break
            elif wanted(name) and not (entry.is_symlink() and _is_dir(entry)):
                # a link to a directory is not followed, as by os.walk
                here.append(name)
        if store:
            stores.append(Path(top))
            continue
        files.extend(Path(top, name) for name in sorted(here))
        subdirs.sort(reverse=True)  # the stack pops them in sorted order
        stack.extend(os.path.join(top, d) for d in subdirs)
    return files, stores


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


# --- the git walk ------------------------------------------------------------------------


def too_broad(cwd: str | Path, home: str | Path) -> bool:
    """The working directory is the home directory or a filesystem root: never walked."""
    here = os.path.realpath(cwd)
    return here == os.path.realpath(home) or here == os.path.dirname(here)


def _work_tree_top(path: str) -> str | None:
    """The nearest enclosing directory with a `.git` (a file, or a directory with HEAD).

    Looked up on disk, not by running git: outside a repository (the common
    case for a store or a home directory) no process is started at all. A
    `.git` directory without HEAD is not a repository to git either.
    """
    p = os.path.realpath(path)
    while True:
        dot_git = os.path.join(p, ".git")
        if os.path.isfile(dot_git) or os.path.exists(os.path.join(dot_git, "HEAD")):
            return p
        parent = os.path.dirname(p)
        if parent == p:
            return None
        p = parent


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a read-only listing never takes the index lock
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait on a prompt (ls-files needs none)
    return env


# The scanned repository is untrusted: its `.git/config` can name a command git
# runs while it reads the index (`core.fsmonitor` is a hook `git ls-files` runs),
# so a scan would execute code from the repository. Command-line settings win
# over the repository's own.
_GIT_SAFE_CONFIG = ("-c", "core.fsmonitor=false")


class GitListing:
    """`git ls-files` started for one directory, read when the walk gets there.

    Why started early: git lists a big work tree on the other core while
    Python imports the CLI (~80 ms on a cold start): see `start_early`. Its
    output goes to an anonymous in-memory file where the platform has one
    (Linux `memfd_create`), not a pipe: a 64 KiB pipe stopped git after the
    first ~1,500 paths until the CLI had loaded and read them, and the rest
    of a 2 MB listing then cost ~12 ms more of waiting (bench/bench_walk.py).
    """

    __slots__ = ("_out", "_proc", "prefix", "root", "top")

    def __init__(
        self,
        root: str,
        top: str,
        prefix: str,
        proc: subprocess.Popen[bytes],
        out: int | None = None,
    ) -> None:
        self.root = root  # as the caller spelled it: found paths keep that form
        self.top = top  # the top of the work tree
        self.prefix = prefix  # root relative to top, "." at the top
        self._proc = proc
        self._out = out  # the file descriptor git writes to; None: its stdout pipe

    def result(self) -> tuple[int, bytes, bytes] | None:
        """(exit code, stdout, stderr), or None when git did not finish within the timeout."""
        import subprocess

        try:
            out, err = self._proc.communicate(timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.cancel()
            return None
        if self._out is not None:
            with open(self._out, "rb", closefd=True) as f:
                self._out = None
                f.seek(0)
                out = f.read()
        return self._proc.returncode, out, err

    def cancel(self) -> None:
        """Stop git when its listing will not be read (discovery failed before the walk)."""
        if self._proc.returncode is None:
            self._proc.kill()
            self._proc.communicate()  # reap it, close the pipes
        if self._out is not None:
            os.close(self._out)
            self._out = None


def _memory_file() -> int | None:
    """A file descriptor of an anonymous in-memory file, or None where there is none."""
    create = getattr(os, "memfd_create", None)
    if create is None:
        return None
    try:
        return create("ctxfix-git-ls-files", os.MFD_CLOEXEC)
    except OSError:
        return None


# Listings started by `start_early` (the console script, before the CLI's imports),
# by real path, until `start_listing` is asked for the same directory
_EARLY: dict[str, GitListing] = {}


def start_early(roots: Iterable[str]) -> None:
    """Start git for directories named on the command line, before anything else loads.

    Why: on a 100,000-file work tree `git ls-files` takes ~80 ms and the CLI's
    imports about as long; started first, git runs on the other core while
    Python imports (issue 15, bench/bench_walk.py). A guess that turns out
    wrong (the directory was an option's value) costs one listing that
    `cancel_early` kills.
    """
    for root in roots:
        listing = start_listing(Path(root))
        if listing is not None:
            _EARLY[os.path.realpath(root)] = listing


def cancel_early() -> None:
    """Stop early listings nobody asked for (end of the run)."""
    while _EARLY:
        _EARLY.popitem()[1].cancel()


def start_listing(root: Path) -> GitListing | None:
    """Start listing `root` with git; None when it is not in a work tree or git cannot start.

    `git ls-files -z --cached --others --exclude-standard`, run in `root`:
    tracked files plus untracked ones `.gitignore` does not exclude, only
    below `root`, relative to it. No process is started outside a work tree.
    A listing `start_early` began for the same directory is handed over.
    """
    root_s = os.fspath(root)
    if _EARLY:
        early = _EARLY.pop(os.path.realpath(root_s), None)
        if early is not None:  # found paths keep this caller's spelling of root
            return GitListing(root_s, early.top, early.prefix, early._proc, early._out)
    top = _work_tree_top(root_s)
    if top is None:
        return None
    import subprocess  # only in a work tree: the demo and plain dirs never pay for it

    prefix = os.path.relpath(os.path.realpath(root_s), top)
    if prefix != "." and ".git" in prefix.split(os.sep):
        return None  # inside the repository's own metadata
    out = _memory_file()
    try:
        proc = subprocess.Popen(
            [
                "git",
                *_GIT_SAFE_CONFIG,
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            cwd=root_s,
            env=_git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if out is None else out,
            stderr=subprocess.PIPE,
        )
    except OSError:  # no git on PATH, root not enterable
        if out is not None:
            os.close(out)
        return None
    return GitListing(root_s, top, prefix, proc, out)


def _candidates(listing: bytes, names: Names) -> set[bytes]:
    """Entries of a NUL-terminated listing that may be wanted, found without a loop per entry."""
    if names.listing is None:
        return set(listing.split(b"\0")) - {b""}
    found = {m.group()[:0:-1] for m in names.listing.finditer(listing[::-1])}
    for needle in names.needles:
        i = listing.find(needle)
        while i != -1:
            start = listing.rfind(b"\0", 0, i) + 1
            end = listing.find(b"\0", i)
            found.add(listing[start:end])
            i = listing.find(needle, end)
    found.discard(b"")
    return found


def _submodules(top: str, prefix: str) -> list[str]:
    """Submodule paths from `.gitmodules`, relative to the scanned directory (`prefix` in top)."""
    try:
        with open(os.path.join(top, ".gitmodules"), encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 20)
    except OSError:
        return []
    out = []
    for m in re.finditer(r"(?m)^\s*path\s*=\s*(.+?)\s*$", text):
        sub = m.group(1).strip('"').rstrip("/")
        if prefix == ".":
            out.append(sub)
        elif sub.startswith(prefix + "/"):
            out.append(sub[len(prefix) + 1 :])
    return out


def _order(parts: tuple[str, ...] | list[str], is_dir: bool = False) -> tuple[tuple[int, str], ...]:
    """Sort key of `os.walk` order: in each directory, files (0) by name, then directories (1)."""
    last = (1 if is_dir else 0, parts[-1]) if parts else ()
    return tuple((1, p) for p in parts[:-1]) + ((last,) if last else ())


def _git_walk(
    listing: GitListing, names: Names, warnings: list[Warning_]
) -> tuple[list[Path], list[Path]] | None:
    """The git listing, filtered; None when git could not answer for this directory."""
    root_s, top, prefix = listing.root, listing.top, listing.prefix
    listed = listing.result()
    if listed is None or listed[0] != 0 or not listed[1]:
        # Nothing listed: a directory git ignores as a whole (or an empty one). The
        # user named it, so it is walked; one more git process to ask `check-ignore`
        # would cost as much as the listing.
        return None
    _code, out, err = listed

    for line in err.decode(errors="replace").splitlines():
        if m := re.search(_GIT_DIR_WARNING, line):  # path relative to the top of the work tree
            rel = m.group(1) if prefix == "." else os.path.relpath(m.group(1), prefix)
            where = os.path.join(root_s, rel)
            warnings.append(Warning_(where, f"cannot read directory: {m.group(2)}; skipped"))

    wanted = names.wants
    is_store: dict[str, bool | None] = {}
    files: list[tuple[str, ...]] = []
    stores: set[tuple[str, ...]] = set()
    nested = _submodules(top, prefix) if os.path.isfile(os.path.join(top, ".gitmodules")) else []
    for raw in _candidates(out, names):
        rel = os.fsdecode(raw)
        if rel.endswith("/"):  # an untracked nested repository
            nested.append(rel.rstrip("/"))
            continue
        parts = tuple(rel.split("/"))
        if not SKIP_DIRS.isdisjoint(parts[:-1]) or not _UNSAFE_PARTS.isdisjoint(parts):
            continue  # `..` or empty parts come only from a crafted index: never leave root
        store = None
        linked = False
        for i in range(1, len(parts)):  # top down: the outermost store wins, as in os.walk
            d = "/".join(parts[:i])
            if d not in is_store:
                # A listed path can run through a directory replaced by a link since it
                # was committed (or a crafted index): the plain walk never follows one,
                # so neither does this one (None: a link, skip everything below it).
                full_d = os.path.join(root_s, d)
                is_store[d] = (
                    None
                    if os.path.islink(full_d)
                    else os.path.isdir(os.path.join(full_d, "manifests"))
                )
            if is_store[d] is None:
                linked = True
                break
            if is_store[d]:
                store = parts[:i]
                break
        if linked:
            continue
        if store is not None:
            stores.add(store)
            continue
        if not wanted(parts[-1]):
            continue
        try:
            mode = os.lstat(os.path.join(root_s, rel)).st_mode
        except OSError:  # tracked but deleted, or outside a sparse checkout
            continue
        if stat.S_ISDIR(mode) or (
            stat.S_ISLNK(mode) and os.path.isdir(os.path.join(root_s, rel))
        ):  # a submodule, or a link to a directory (not followed, as by os.walk)
            continue
        files.append(parts)

    found = [(_order(p), Path(root_s, *p)) for p in files]
    store_paths = [(_order(s, is_dir=True), Path(root_s, *s)) for s in stores]
    for sub in dict.fromkeys(nested):
        parts = tuple(sub.split("/"))
        if not SKIP_DIRS.isdisjoint(parts) or not _UNSAFE_PARTS.isdisjoint(parts):
            continue  # `.gitmodules` is the repository's word: `../x` would leave root
        if any(
            os.path.islink(os.path.join(root_s, *parts[:i])) for i in range(1, len(parts) + 1)
        ) or not os.path.isdir(os.path.join(root_s, sub)):
            continue  # a link is not followed, as by os.walk
        sub_root = Path(root_s, sub)
        sub_files, sub_stores = walk(sub_root, names, warnings, start_listing(sub_root))
        for f in sub_files:
            found.append((_order(parts + f.relative_to(sub_root).parts), f))
        for s in sub_stores:
            rel_s = parts + s.relative_to(sub_root).parts
            store_paths.append((_order(rel_s, is_dir=True), s))
    found.sort(key=lambda kv: kv[0])
    store_paths.sort(key=lambda kv: kv[0])
    return [p for _, p in found], [p for _, p in store_paths]
