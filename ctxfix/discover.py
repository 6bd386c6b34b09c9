"""Discover what to look at: files, model stores and servers.

Why a separate stage: the same scan runs in three very different places —
a laptop (user configs, the local store, a local server), a repo in CI
(explicit paths only, no server) and pre-commit (just the staged files) — and
the rest of the pipeline must not care which.

Explicit paths come first. A path the user named that does not exist or
cannot be classified is an error (exit 2); a broken file found while walking
a directory becomes a warning later, when it is read. With no paths, the
current directory is walked. A directory is walked by `ctxfix.walk`: in a git
work tree that is git's own file list, so `.gitignore` holds. User-level
agent configs under `$HOME` are added unless `--no-user`; default stores
unless `--no-store` or explicit `--store`; hosts unless `--no-server`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.git_listing import GitListing, start_listing, too_broad
from ctxfix.records import field, record
from ctxfix.settings import Settings
from ctxfix.sources.modelfile import is_modelfile_name
from ctxfix.walk import SKIP_DIRS as SKIP_DIRS  # re-exported: the walk prunes these
from ctxfix.walk import Names, compile_names, walk

COMPOSE_NAMES = frozenset(
    {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
)


@record(frozen=True)
class AgentTarget:
    path: Path
    module: ModuleType
    explicit: bool  # named by the user: errors are fatal


@record
class Targets:
    modelfiles: list[tuple[Path, bool]] = field(default_factory=list)
    ggufs: list[tuple[Path, bool]] = field(default_factory=list)
    agents: list[AgentTarget] = field(default_factory=list)
    compose_files: list[Path] = field(default_factory=list)
    stores: list[tuple[Path, bool]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    explicit_hosts: bool = False
    warnings: list[Warning_] = field(default_factory=list)  # e.g. unreadable directories
    # server.log / server-N.log named as a path (never picked up from a walked directory:
    # a stale log in a repo would fail CI forever; `--log` names any other)
    logs: list[Path] = field(default_factory=list)


def is_store_dir(path: Path) -> bool:
    """An Ollama model store has a `manifests/` directory (and usually `blobs/`)."""
    try:
        return (path / "manifests").is_dir()
    except OSError:  # unreadable directory while walking: not ours to judge
        return False


def _agent_modules() -> list[ModuleType]:
    """Every reader, imported (user-level configs need each one's user_paths)."""
    from ctxfix.sources import agents

    return list(agents.modules())


def _agent_for_path(path: Path) -> list[ModuleType]:
    """Readers of this file, by exact name (FILE_NAMES) or path tail (PATH_GLOBS).

    Only those are imported: the hook classifies staged files from the table.
    """
    from ctxfix.sources import agents

    return [m for m in map(agents.module, agents.claimants(path)) if m is not None]


def _classify_file(path: Path, targets: Targets, explicit: bool) -> bool:
    """Add one file to the right list; False when ctxfix reads no such file."""
    name = path.name
    if is_modelfile_name(name):
        targets.modelfiles.append((path, explicit))
        return True
    if name.endswith(".gguf"):
        targets.ggufs.append((path, explicit))
        return True
    if explicit and is_log_name(name):  # named: evidence (ctxfix.sources.server_log)
        targets.logs.append(path)
        return True
    found = False
    if name in COMPOSE_NAMES:
        targets.compose_files.append(path)
        found = True
    for mod in _agent_for_path(path):
        targets.agents.append(AgentTarget(path, mod, explicit))
        found = True
    return found


def is_log_name(name: str) -> bool:
    """`server.log` or `server-N.log`: the names Ollama's apps give their server log.

    Kept in step with `ctxfix.sources.server_log.LOG_NAME_RE` (not imported: the
    walk must stay cheap).
    """
    if name == "server.log":
        return True
    return name.startswith("server-") and name.endswith(".log") and name[7:-4].isdigit()


def _names() -> Names:
    """Every file name `_classify_file` could accept, for the walk to filter on first.

    Mirrors `is_modelfile_name` (exact `Modelfile`, `Modelfile.*`, `*.Modelfile`,
    `*.modelfile`), `*.gguf`, the compose names and each agent's FILE_NAMES and
    PATH_GLOBS (from the `agents.FILES` table); a superset is harmless
    (`_classify_file` decides), a missing name would hide files, so keep the two
    in step.
    """
    from ctxfix.sources.agents import FILES

    exact = {"Modelfile", *COMPOSE_NAMES}
    globs: list[str] = []
    for file_names, path_globs in FILES.values():
        exact.update(file_names)
        globs.extend(path_globs)
    return compile_names(
        exact,
        prefixes=("Modelfile.",),
        suffixes=(".Modelfile", ".modelfile", ".gguf"),
        globs=globs,
    )


def discover(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Targets:
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    targets = Targets()

    paths = list(settings.paths) or [Path(".")]
    if not settings.paths and too_broad(Path.cwd(), home):
        # `ctxfix scan` from $HOME or / would walk everything; the user-level
        # config locations below cover a home directory without a walk
        paths = []
    if not settings.scan_files:
        paths = []
    # git lists each directory in a work tree on the other core while the readers
    # of named files import: start those listings first
    listings: list[GitListing | None] = [
        start_listing(p) if p.is_dir() and not is_store_dir(p) else None for p in paths
    ]
    try:
        names: Names | None = None
        for p, listing in zip(paths, listings, strict=True):
            if not p.exists():
                raise CtxfixError(str(p), "no such file or directory")
            if p.is_dir():
                if is_store_dir(p):
                    targets.stores.append((p, True))
                    continue
                names = names or _names()
                files, stores = walk(p, names, targets.warnings, listing)
                targets.stores += [(s, False) for s in stores]  # stores found while walking
                for f in files:
                    _classify_file(f, targets, explicit=False)
            elif not _classify_file(p, targets, explicit=True):
                # pre-commit passes every staged file matching the hook's pattern;
                # a file we have no reader for is skipped, not an error.
                continue
    finally:
        for listing in listings:
            if listing is not None:
                listing.cancel()  # a listing not read (an error above) must not linger

    if not settings.no_user and settings.scan_files:
        seen = {t.path.resolve() for t in targets.agents}
        for mod in _agent_modules():
            for up in mod.user_paths(environ, home):
                if up.is_file() and up.resolve() not in seen:
                    seen.add(up.resolve())
                    targets.agents.append(AgentTarget(up, mod, explicit=False))

    if not settings.no_store:
        if settings.stores:
            for s in settings.stores:
                if not s.exists():
                    raise CtxfixError(str(s), "model store not found")
                targets.stores.append((s, True))
        elif not any(explicit for _, explicit in targets.stores):
            from ctxfix.sources.store import default_store_roots

            for s in default_store_roots(environ, home):
                targets.stores.append((s, False))

    seen_stores: set[Path] = set()
    unique = []
    for s, explicit in targets.stores:
        key = s.resolve()
        if key not in seen_stores:
            seen_stores.add(key)
            unique.append((s, explicit))
    targets.stores = unique

    if not settings.no_server:
        if settings.hosts:
            targets.hosts = list(dict.fromkeys(settings.hosts))
            targets.explicit_hosts = True
        else:
            from ctxfix.sources.hosts import default_host

            targets.hosts = [default_host(environ)]
    return targets
