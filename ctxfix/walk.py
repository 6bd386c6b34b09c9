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

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.git_listing import GitListing, start_listing

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


SMALL_LISTING = 32 * 1024
"""Listings up to this many bytes (~500 paths) are filtered entry by entry: compiling
the listing regex costs ~1.5 ms in a fresh process, more than the loop (a
pre-commit run on a small project; issue 15)."""


def _candidates(listing: bytes, names: Names) -> set[bytes]:
    """Entries of a NUL-terminated listing that may be wanted, found without a loop per
    entry (a loop for a small listing: `_small_candidates`, the same entries)."""
    if names._listing_source is None:
        return set(listing.split(b"\0")) - {b""}
    if len(listing) <= SMALL_LISTING:
        found = _small_candidates(listing, names)
    else:
        found = {m.group()[:0:-1] for m in names.listing.finditer(listing[::-1])}  # type: ignore[union-attr]
    for needle in names.needles:
        i = listing.find(needle)
        while i != -1:
            start = listing.rfind(b"\0", 0, i) + 1
            end = listing.find(b"\0", i)
            found.add(listing[start:end])
            i = listing.find(needle, end)
    found.discard(b"")
    return found


def _small_candidates(listing: bytes, names: Names) -> set[bytes]:
    """What `Names.listing` finds, one entry at a time: an entry ending in `/` (a
    nested repository), or whose last component is an exact name, or that ends in
    a suffix."""
    exact = {os.fsencode(n) for n in names.exact}
    suffixes = tuple(os.fsencode(x) for x in names.suffixes)
    return {
        e
        for e in listing.split(b"\0")
        if e.endswith(b"/") or e.rpartition(b"/")[2] in exact or (suffixes and e.endswith(suffixes))
    }


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
