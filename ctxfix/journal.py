"""A write-ahead journal: atomic, journaled writes that survive crashes, and their rollback.

Why this much care: ctxfix edits the configs people's agents run on and
creates models on their servers. An apply killed at any instant (kill -9,
Ctrl-C, SIGTERM, a full disk, a server that stops answering) must leave a
state that `history` shows and `rollback` can undo, with every file wholly
old or wholly new.

How an apply runs (`apply_run.execute` drives it, `Transaction.commit` is the
file-only form):
  1. take the journal lock, held for the whole apply (one apply or rollback
     at a time; a second one waits a little, then stops with one line);
  2. refuse to start while an earlier apply is unresolved (`in_progress`):
     `rollback` it first; remove temp files and journal directories left by
     a crash (they belong to no journal);
  3. re-hash every file: stop if any changed since it was planned;
  4. write the intent, durably, before the first change: every file with its
     hashes before and after and a backup (fsync'd, no more readable than the
     original, in a 0700 directory), every model to create or replace with the
     digest it had; state `in_progress`;
  5. each model action is marked `started` before its server call and `done`
     with the digest the server reports right after it;
  6. every new file content goes to a temp file beside its target first
     (a full disk fails here, before anything is replaced); then each file is
     re-hashed and replaced (`os.replace`) in turn;
  7. state `applied`.
Rollback works from any state, and again after an interrupted rollback: a
file is restored when it holds the recorded "after" bytes, left when it
holds the "before" bytes, refused (unless `--force`) otherwise; a model is
deleted (or restored from its backup copy) only by the journal that created
it, only while it has the digest that journal recorded (a `started` create
whose digest was never recorded is recognised by its parameters).
Symlinks are written through to their target (the link stays a link).

Why a seal: a journal is the authority rollback writes files from, so a
journal whose `path`/`target` were rewritten would make rollback (with
`--force`) overwrite some other file with a backup. Each journal (version 2
and later) carries `seal`, the sha256 of the canonical JSON of its id, files
and the intent of its actions, and the same seal is written at apply time to
`<journal dir>/.seals/<id>`, outside the journal. Loading refuses (exit 2,
nothing written) a journal whose records no longer hash to its seal, whose
seal differs from the copy, or whose seal was removed (a copy exists, or its
version says it must have one: no downgrade to version 1 by deleting it).
Rollback also refuses a file whose path no longer resolves to the recorded
target. `--force` only overrides "changed since the apply", never these.
This detects edits and mix-ups; it is not a defence against someone who can
rewrite both files with a recomputed hash.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ctxfix import __version__
from ctxfix.digest import sha256_hex
from ctxfix.errors import CtxfixError
from ctxfix.records import field, record

JOURNAL_VERSION = 3
VOLATILE_ACTION_KEYS = frozenset({"digest", "status"})  # progress, not intent: unsealed
VOLATILE_FILE_KEYS = frozenset({"written"})
UNRESOLVED = frozenset({"in_progress", "pending"})
RETRY_REASON = "server unreachable"  # a kept model rollback must try again
TEMP_SUFFIX = ".ctxfix-tmp"
SEALS_DIR = ".seals"


def sha256_file(path: Path) -> str:
    return sha256_hex(path.read_bytes())


def state_dir() -> Path:
    """ctxfix's own state (journals, verify runs): `$CTXFIX_STATE_DIR`, else the user state dir."""
    env = os.environ.get("CTXFIX_STATE_DIR")
    if env:
        return Path(env)
    from ctxfix.dirs import user_state_dir

    return user_state_dir()


def default_journal_dir() -> Path:
    return state_dir() / "journal"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def real_target(path: Path) -> Path:
    """The file a write should land in: symlinks are written through."""
    return Path(os.path.realpath(path))


def write_temp_beside(target: Path, data: bytes, like: os.stat_result | None) -> Path:
    """Write `data` to a temp file in target's directory, fsync'd, mode/owner like `like`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".ctxfix-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if like is not None:
            os.chmod(tmp, like.st_mode & 0o7777)
            with contextlib.suppress(PermissionError, AttributeError):
                os.chown(tmp, like.st_uid, like.st_gid)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` (through symlinks) with `data` atomically, keeping mode and owner."""
    target = real_target(path)
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    tmp = write_temp_beside(target, data, st)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, target)
    _fsync_dir(target.parent)


@record(frozen=True)
class FileChange:
    """One planned file write: the text it had when planned and the text it should get."""

    path: Path
    before: bytes
    after: bytes
    reasons: tuple[str, ...] = ()
    create: bool = False  # a new file (must not exist yet); rollback removes it


@record
class Journal:
    id: str
    time: str
    command: str
    state: str  # in_progress | applied | failed | rolled_back (pending: before version 3)
    files: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    ctxfix_version: str = __version__
    version: int = JOURNAL_VERSION
    rolled_back_at: str | None = None
    seal: str | None = None  # seal_of(id, files, actions); None only in version 1

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            **({"seal": self.seal} if self.seal is not None else {}),
            "id": self.id,
            "time": self.time,
            "command": self.command,
            "ctxfix_version": self.ctxfix_version,
            "state": self.state,
            "rolled_back_at": self.rolled_back_at,
            "files": self.files,
            "actions": self.actions,
        }


def seal_of(
    jid: str,
    files: Sequence[dict[str, Any]],
    actions: Sequence[dict[str, Any]],
    version: int = JOURNAL_VERSION,
) -> str:
    """`sha256:<hex>` over the canonical JSON of what an apply intends (not its progress).

    From version 3 an action's progress (`status`, the `digest` the server
    reports) is written after the seal, so it is left out.
    """
    if version >= 3:
        actions = [{k: v for k, v in a.items() if k not in VOLATILE_ACTION_KEYS} for a in actions]
        files = [{k: v for k, v in f.items() if k not in VOLATILE_FILE_KEYS} for f in files]
    canon = json.dumps(
        {"id": jid, "files": list(files), "actions": list(actions)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + sha256_hex(canon.encode("utf-8"))


class JournalStore:
    """The directory of journals: `<dir>/<id>/journal.json` plus `<dir>/<id>/backups/`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_journal_dir()

    # -- locking --------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, wait: float = 5.0) -> Iterator[None]:
        """Exclusive for the whole apply or rollback; waits up to `wait` seconds for another."""
        import time

        self.ensure_root()
        lock_path = self.root / ".lock"
        try:
            fh = open(lock_path, "a+")  # noqa: SIM115 (held for the whole block)
        except OSError as exc:
            raise CtxfixError(str(lock_path), f"cannot open the lock: {exc.strerror}") from None
        try:
            try:
                import fcntl
            except ImportError:  # Windows: best effort
                fcntl = None  # type: ignore[assignment]
            deadline = time.monotonic() + wait
            while fcntl is not None:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise CtxfixError(
                            str(lock_path), "another ctxfix apply or rollback is running"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            fh.close()

    def ensure_root(self) -> None:
        """The journal directory, private (0700): backups hold copies of people's configs."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.root.stat().st_mode & 0o077:
                os.chmod(self.root, 0o700)
        except OSError as exc:
            raise CtxfixError(str(self.root), f"cannot create: {exc.strerror}") from None

    def unresolved(self) -> list[Journal]:
        """Applies that were interrupted (or whose undo was): rollback resolves them."""
        out = []
        for jid in self.ids():
            try:
                j = self.load(jid)
            except CtxfixError as exc:  # unreadable: it may be an interrupted apply
                raise CtxfixError(
                    exc.where,
                    f"{exc.problem}; apply will not start while it cannot tell whether "
                    f"this apply finished (remove {self.root / jid} if you are sure)",
                ) from None
            if j.state in UNRESOLVED:
                out.append(j)
        return out

    def clean_leftovers(self, paths: Sequence[Path] = ()) -> list[str]:
        """Remove what a crash leaves that no journal owns (call with the lock held).

        Temp files (`.<name>.*.ctxfix-tmp`) beside the files of every journal
        and of `paths`, and journal directories without a journal.json (an
        apply killed while writing its backups). Returns what was removed.
        """
        import shutil

        removed: list[str] = []
        dirs: set[Path] = {real_target(Path(p)).parent for p in paths}
        for jid in self.ids():
            try:
                data = json.loads(self.path_of(jid).read_text(encoding="utf-8"))
                dirs.update(Path(f["target"]).parent for f in data.get("files", []))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        for d in sorted(dirs):
            try:
                entries = list(d.iterdir())
            except OSError:
                continue
            for e in entries:
                if e.name.startswith(".") and e.name.endswith(TEMP_SUFFIX) and e.is_file():
                    with contextlib.suppress(OSError):
                        e.unlink()
                        removed.append(str(e))
        if self.root.is_dir():
            for d in self.root.iterdir():
                if d.is_dir() and not d.name.startswith(".") and not (d / "journal.json").exists():
                    shutil.rmtree(d, ignore_errors=True)
                    removed.append(str(d))
        return removed

    def begin(
        self,
        command: str,
        changes: Sequence[FileChange],
        actions: Sequence[dict[str, Any]] = (),
    ) -> Journal:
        """Write the intent durably (backups, then the journal): before the first change.

        Call with the lock held. A failure here (a full disk) changes nothing
        and leaves nothing behind.
        """
        jid = self.new_id()
        jdir = self.root / jid
        try:
            return self._begin(jid, jdir, command, changes, actions)
        except OSError as exc:
            Transaction._discard(jdir)
            raise CtxfixError(
                str(jdir), f"cannot write the journal ({exc.strerror or exc}); nothing was changed"
            ) from None

    def _begin(
        self,
        jid: str,
        jdir: Path,
        command: str,
        changes: Sequence[FileChange],
        actions: Sequence[dict[str, Any]],
    ) -> Journal:
        backups = jdir / "backups"
        backups.mkdir(parents=True, mode=0o700)
        os.chmod(jdir, 0o700)
        records: list[dict[str, Any]] = []
        for i, ch in enumerate(changes):
            target = real_target(ch.path)
            mode = 0o644 if ch.create else target.stat().st_mode & 0o7777
            name = f"{i:03d}-{target.name}"
            b = backups / name
            # never more readable than the original (and never by others)
            fd = os.open(b, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o600 or 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(ch.before)
                fh.flush()
                os.fsync(fh.fileno())
            records.append(
                {
                    "path": str(Path(os.path.abspath(ch.path))),
                    "target": str(target),
                    "sha256_before": sha256_hex(ch.before),
                    "sha256_after": sha256_hex(ch.after),
                    "backup": f"backups/{name}",
                    "mode": mode,
                    "reasons": list(ch.reasons),
                    **({"created": True} if ch.create else {}),
                }
            )
        _fsync_dir(backups)
        journal = Journal(
            id=jid,
            time=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            command=command,
            state="in_progress",
            files=records,
            actions=[dict(a) for a in actions],
        )
        journal.seal = seal_of(jid, journal.files, journal.actions)
        self.write_seal(journal)
        self.save(journal)
        return journal

    # -- reading --------------------------------------------------------
    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "journal.json").is_file())

    def path_of(self, jid: str) -> Path:
        if "/" in jid or "\\" in jid or jid in ("", ".", ".."):
            raise CtxfixError(None, f"invalid journal id {jid!r}")
        return self.root / jid / "journal.json"

    def load(self, jid: str) -> Journal:
        path = self.path_of(jid)
        if not path.is_file():
            raise CtxfixError(None, f"no apply with id {jid!r} in {self.root}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise CtxfixError(str(path), f"unreadable journal: {exc}") from None
        validate_journal(data, path)
        self._check_seal(jid, data, path)
        return Journal(
            id=data["id"],
            time=data["time"],
            command=data["command"],
            state=data["state"],
            files=data["files"],
            actions=data["actions"],
            ctxfix_version=data["ctxfix_version"],
            version=data["version"],
            rolled_back_at=data.get("rolled_back_at"),
            seal=data.get("seal"),
        )

    # -- seals ----------------------------------------------------------
    def seal_path(self, jid: str) -> Path:
        self.path_of(jid)  # validates the id
        return self.root / SEALS_DIR / jid

    def write_seal(self, journal: Journal) -> None:
        assert journal.seal is not None
        path = self.seal_path(journal.id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, (journal.seal + "\n").encode(), mode=0o600)

    def _check_seal(self, jid: str, data: dict[str, Any], path: Path) -> None:
        """Refuse a journal whose records no longer match what the apply sealed."""
        if data["id"] != jid:
            raise CtxfixError(
                str(path), f"journal tampered with: its id {data['id']!r} is not its directory's"
            )
        copy_path = self.seal_path(jid)
        try:
            copy: str | None = copy_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            copy = None
        except OSError as exc:
            raise CtxfixError(str(copy_path), f"cannot read the seal: {exc.strerror}") from None
        sealed = data.get("seal")
        if sealed is None:  # version 1 (the schema requires a seal from version 2)
            if data["version"] != 1:
                raise CtxfixError(str(path), "journal tampered with: its seal was removed")
            if copy is not None:
                raise CtxfixError(
                    str(path), f"journal tampered with: its seal was removed ({copy_path} has it)"
                )
            return
        if sealed != seal_of(data["id"], data["files"], data["actions"], data["version"]):
            raise CtxfixError(
                str(path),
                "journal tampered with: its files or actions (paths, targets, hashes) "
                "do not match its seal",
            )
        if copy is None:
            raise CtxfixError(
                str(path), f"journal tampered with: no copy of its seal in {copy_path.parent}"
            )
        if copy != sealed:
            raise CtxfixError(
                str(path), f"journal tampered with: its seal differs from the copy in {copy_path}"
            )

    def last(self) -> Journal | None:
        ids = self.ids()
        return self.load(ids[-1]) if ids else None

    def last_active(self) -> tuple[Journal | None, int]:
        """The newest apply not yet rolled back, and how many newer ones were.

        Why: `rollback --last` is an undo stack. Run again, it rolls back the
        apply before the one it just undid (like `git revert` walking back,
        or an editor's undo), instead of answering "already rolled back".
        """
        skipped = 0
        for jid in reversed(self.ids()):
            j = self.load(jid)
            if j.state != "rolled_back":
                return j, skipped
            skipped += 1
        return None, skipped

    def save(self, journal: Journal) -> None:
        path = self.path_of(journal.id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, (json.dumps(journal.to_json(), indent=2) + "\n").encode(), mode=0o600)

    def new_id(self) -> str:
        now = _dt.datetime.now(_dt.UTC)
        return now.strftime("%Y%m%dT%H%M%S") + f"-{now.microsecond:06d}-" + secrets.token_hex(3)


@functools.lru_cache(maxsize=1)
def _journal_validator() -> Any:
    """The journal schema's validator, built once per process (history loads many)."""
    import jsonschema

    schema_path = Path(__file__).resolve().parent / "schemas" / "journal.schema.json"
    return jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))


def validate_journal(data: Any, path: Path) -> None:
    """Schema check (schemas/journal.schema.json) plus the invariants the schema cannot say."""
    errors = sorted(_journal_validator().iter_errors(data), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        raise CtxfixError(str(path), f"journal tampered with or corrupt: {key}: {e.message}")
    jdir = path.parent.resolve()
    for f in data["files"]:
        backup = (jdir / f["backup"]).resolve()
        if jdir not in backup.parents:
            raise CtxfixError(
                str(path), f"journal tampered with: backup {f['backup']!r} is outside {jdir}"
            )
        if not Path(f["path"]).is_absolute():
            raise CtxfixError(str(path), f"journal tampered with: {f['path']!r} is not absolute")


def _check_database_not_in_use(path: Path, data: bytes) -> None:
    """A SQLite file (`data` its bytes; Open WebUI's webui.db) is replaced only while
    no process has it open; any other file passes."""
    from ctxfix.sqlite_edit import check_not_in_use, is_sqlite

    if is_sqlite(data):
        check_not_in_use(path)


class NothingWritten(CtxfixError):
    """Writing the new contents failed before any file was replaced."""


def check_unchanged(changes: Sequence[FileChange]) -> None:
    """Every planned file still holds the bytes it was planned from (new files: absent)."""
    for ch in changes:
        if ch.create:
            if os.path.lexists(ch.path):
                raise CtxfixError(str(ch.path), "already exists; nothing was written")
            continue
        try:
            current = real_target(ch.path).read_bytes()
        except OSError as exc:
            raise CtxfixError(str(ch.path), f"cannot read: {exc.strerror}") from None
        if current != ch.before:
            raise CtxfixError(
                str(ch.path), "changed since it was planned; nothing was written (run again)"
            )


def write_files(
    store: JournalStore,
    journal: Journal,
    changes: Sequence[FileChange],
    *,
    replace: Callable[[str | os.PathLike[str], str | os.PathLike[str]], None] = os.replace,
    mark_failed: bool = True,
) -> None:
    """Step 6 of an apply: temp files for all, then re-hash and replace each in turn.

    Each replaced file is recorded (`written`) so a rollback of an interrupted
    apply knows which files are its own. `mark_failed`: set the journal to
    `failed` after restoring (a file-only transaction: nothing else to undo);
    `apply_run` keeps it unresolved until its models are undone too.

    A failure writing the temps replaces nothing. A failure between replaces
    restores the files already replaced from their backups and marks the
    journal `failed`. (The caller owns the lock and the journal's final state.)
    """
    temps: list[tuple[Path, Path]] = []
    try:
        for ch in changes:
            target = real_target(ch.path)
            if ch.create:
                target.parent.mkdir(parents=True, exist_ok=True)
            like = None if ch.create else target.stat()
            temps.append((write_temp_beside(target, ch.after, like), target))
    except OSError as exc:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise NothingWritten(
            str(ch.path), f"cannot write: {exc.strerror or exc}; no file was changed"
        ) from None
    done: list[int] = []
    try:
        for i, (tmp, target) in enumerate(temps):
            ch = changes[i]
            # the last look before the replace: a user edit since planning wins
            if ch.create:
                if os.path.lexists(target):
                    raise CtxfixError(str(ch.path), "appeared while applying; not overwritten")
            elif target.read_bytes() != ch.before:
                raise CtxfixError(str(ch.path), "changed while applying; not overwritten")
            _check_database_not_in_use(target, ch.before)  # never one another process has open
            replace(tmp, target)
            done.append(i)
            journal.files[i]["written"] = True
            store.save(journal)
        for _, target in temps:
            _fsync_dir(target.parent)
    except (OSError, CtxfixError) as exc:
        for i in done:
            rec = journal.files[i]
            if changes[i].create:
                with contextlib.suppress(OSError):
                    os.unlink(rec["target"])
                continue
            atomic_write(Path(rec["target"]), changes[i].before)
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for i in done:
            journal.files[i].pop("written", None)
        if mark_failed:
            journal.state = "failed"
        with contextlib.suppress(OSError):
            store.save(journal)
        if isinstance(exc, CtxfixError):
            raise CtxfixError(exc.where, f"{exc.problem}; every file was restored") from None
        failed = temps[len(done)][1]
        raise CtxfixError(
            str(failed), f"write failed ({exc.strerror or exc}); every file was restored"
        ) from None


class Transaction:
    """All-or-nothing write of several files, journaled for rollback (no model actions)."""

    def __init__(
        self,
        store: JournalStore,
        command: str,
        *,
        replace: Callable[[str | os.PathLike[str], str | os.PathLike[str]], None] = os.replace,
    ) -> None:
        self.store = store
        self.command = command
        self._replace = replace  # injectable for fault tests (a crash between replaces)

    def commit(
        self, changes: Sequence[FileChange], actions: Sequence[dict[str, Any]] = ()
    ) -> Journal:
        with self.store.lock():
            check_unchanged(changes)
            journal = self.store.begin(self.command, changes, actions)
            try:
                write_files(self.store, journal, changes, replace=self._replace)
            except NothingWritten:
                self._discard(self.store.root / journal.id)  # nothing to remember
                raise
            journal.state = "applied"
            self.store.save(journal)
            return journal

    @staticmethod
    def _discard(jdir: Path) -> None:
        import shutil

        shutil.rmtree(jdir, ignore_errors=True)
        with contextlib.suppress(OSError):
            (jdir.parent / SEALS_DIR / jdir.name).unlink()


@record
class RollbackReport:
    restored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "path: reason"
    models_deleted: list[str] = field(default_factory=list)
    models_kept: list[str] = field(default_factory=list)  # "name: reason"
    already: bool = False
    retry: bool = False  # a server did not answer: run rollback again
    left: list[str] = field(default_factory=list)  # files this apply never wrote


def rollback(
    store: JournalStore,
    journal: Journal,
    *,
    dry_run: bool = False,
    force: bool = False,
    undo_action: Callable[[dict[str, Any], bool], str | None] | None = None,
    locked: bool = False,
) -> RollbackReport:
    """Restore the files of one apply byte-identical and undo its Ollama actions.

    Works from any state (an interrupted apply, an interrupted rollback) and
    can be run again. `undo_action(action, dry_run)` returns None when the
    action was undone, "" when there was nothing to undo, or a reason it was
    kept (e.g. the model's digest changed since the apply). `locked`: the
    caller already holds the journal lock (apply undoing itself).
    """
    with contextlib.nullcontext() if locked else store.lock():
        if not locked:  # decide on what is true now, not on what was read before the lock
            journal = store.load(journal.id)
        return _rollback(store, journal, dry_run=dry_run, force=force, undo_action=undo_action)


def _rollback(
    store: JournalStore,
    journal: Journal,
    *,
    dry_run: bool,
    force: bool,
    undo_action: Callable[[dict[str, Any], bool], str | None] | None,
) -> RollbackReport:
    report = RollbackReport()
    if journal.state == "rolled_back":
        report.already = True
        return report
    interrupted = journal.state in UNRESOLVED or journal.state == "failed"
    jpath = store.path_of(journal.id)
    jdir = jpath.parent
    if force and journal.seal is None:
        raise CtxfixError(
            str(jpath),
            f"journal version {journal.version} has no seal, so nothing vouches for its "
            "paths: --force is refused (roll back without it, or restore from "
            f"{jdir / 'backups'} by hand)",
        )
    plan: list[tuple[Path, bytes | None, int]] = []
    for f in journal.files:
        backup = jdir / f["backup"]
        try:
            original = backup.read_bytes()
        except OSError:
            raise CtxfixError(str(backup), "backup missing: cannot roll back") from None
        if sha256_hex(original) != f["sha256_before"]:
            raise CtxfixError(
                str(backup), "journal tampered with: backup does not match its recorded hash"
            )
        target = Path(f["path"])
        real = real_target(target)
        if str(real) != f["target"]:  # a link retargeted, or the journal edited
            raise CtxfixError(
                str(jpath),
                f"journal tampered with or link changed: {target} now resolves to {real}, "
                f"not the recorded {f['target']}; nothing was rolled back",
            )
        try:
            current = sha256_file(real)
        except OSError:
            current = None
        if f.get("created"):
            if current is None:
                continue  # already gone
            if current != f["sha256_after"] and interrupted and not f.get("written"):
                report.left.append(f"{target}: never written by this apply; left as it is")
                continue
            if current != f["sha256_after"] and not force:
                report.refused.append(
                    f"{target}: changed since the apply (use --force to remove it)"
                )
                continue
            plan.append((target, None, f["mode"]))
            continue
        if current == f["sha256_before"]:
            continue  # already the original (e.g. a failed apply that was restored)
        if current != f["sha256_after"] and interrupted and not f.get("written"):
            report.left.append(f"{target}: never written by this apply; left as it is")
            continue
        if current != f["sha256_after"] and not force:
            report.refused.append(f"{target}: changed since the apply (use --force to overwrite)")
            continue
        # never a database another process has open: nothing is restored yet,
        # and --force does not override
        _check_database_not_in_use(real, original)
        plan.append((target, original, f["mode"]))
    if report.refused and not force:
        return report
    if not dry_run:
        store.clean_leftovers([Path(f["path"]) for f in journal.files])
    for target, original, mode in plan:
        if not dry_run:
            if original is None:
                real_target(target).unlink()
            else:  # through the link, to the target checked above
                atomic_write(target, original, mode=mode)
        report.restored.append(str(target))
    for action in reversed(journal.actions):
        if undo_action is None:
            continue
        why = undo_action(action, dry_run)
        label = action.get("model", "?")
        if why == "":
            continue  # never started: nothing of it to undo
        if why is None:
            report.models_deleted.append(label)
        else:
            report.models_kept.append(f"{label}: {why}")
            if why.startswith(RETRY_REASON):
                report.retry = True
    if not dry_run:
        if report.retry:  # not done: stays unresolved, and rollback can be run again
            journal.state = "in_progress"
        else:
            journal.state = "rolled_back"
            journal.rolled_back_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        store.save(journal)
    return report
