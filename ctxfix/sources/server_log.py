"""Find and stream Ollama's server log: files, `-`, the systemd journal, `docker logs`.

Where Ollama logs (docs/troubleshooting.mdx, github.com/ollama/ollama):
  macOS    ~/.ollama/logs/server.log, older ones server-1.log, server-2.log ...
  Windows  %LOCALAPPDATA%\\Ollama\\server.log and server-#.log
  Linux    `journalctl -u ollama` (the systemd service of the install script:
           github:ollama/ollama scripts/install.sh `configure_systemd` writes
           /etc/systemd/system/ollama.service)
  Docker   `docker logs <container>` (stdout/stderr of the container)

Which logs a scan reads (decided here, documented in `ctxfix scan --help`):
  - every `--log FILE` (or `-` for stdin), and a `server.log` / `server-N.log`
    named as a scan path, read in full unless `--since` is given (a log handed
    over is evidence whatever its age);
  - never a log found while walking a directory: a stale `server.log` in a
    repository would fail CI on every run, long after the fix;
  - the platform locations above only when the scan reads user-level config
    (not `--no-user`, like systemd units and the process environment), and
    only the last `--since` (default 7 days);
  - nothing with `--no-log`.

Bounded: files stream line by line with a line-length cap (a 1 GB log in
constant memory); a platform log file is read from its last 256 MiB;
subprocesses run with a deadline and are killed after it; a FIFO, device or
unreadable file is one warning, never a hang or an abort (`-` is the one
non-regular input read, because the user asked for it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.evidence import LogEvidence
from ctxfix.records import record

MAX_LINE = 64 * 1024  # as log_events.MAX_LINE: longer lines are skipped and counted
FOUND_TAIL = 256 * 1024 * 1024  # a log found (not named) is read from its last 256 MiB
SUBPROCESS_DEADLINE = 10.0  # seconds for journalctl / docker logs, output included
DEFAULT_WINDOW = timedelta(days=7)  # platform logs without --since: the last 7 days

LOG_NAME_RE = re.compile(r"^server(-\d+)?\.log$")
"""File names Ollama gives its logs (macOS app, Windows app); picked up in scanned paths."""


def is_log_name(name: str) -> bool:
    return LOG_NAME_RE.match(name) is not None


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE | re.ASCII)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# `2026-11-24T10:00Z`, `2026-11-24 10:00`: a time without seconds gets `:00`
_NO_SECONDS_RE = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d)(?=$|Z|[+-]\d\d)", re.ASCII)


def parse_since(text: str, now: datetime | None = None, where: str = "--since") -> datetime:
    """`7d`, `24h`, `90m`, `2w`, or an ISO date/time (`2026-11-24`, `2026-11-24T10:00Z`).

    A duration reaching before year 1 (`99999999999d`) is a usage error like any
    other bad value, not an overflow.
    """
    from ctxfix.sources.log_events import parse_time

    now = now or datetime.now(UTC)
    bad = CtxfixError(where, f"invalid duration or date {text!r} (e.g. 7d, 24h, 2026-11-24)")
    m = _DURATION_RE.match(text)
    if m:
        try:
            return now - timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
        except OverflowError:
            raise CtxfixError(where, f"duration {text.strip()!r} is out of range") from None
    stripped = text.strip()
    if not ("T" in stripped or " " in stripped):
        stripped += "T00:00:00"
    t = parse_time(_NO_SECONDS_RE.sub(r"\1:00", stripped))
    if t is None:
        raise bad
    return t


@record(frozen=True)
class LogTarget:
    """One log to read. `kind`: file, stdin, journal, docker.

    `display` is what findings point at: the path for a file, else a URL-like
    name (`journald://ollama.service`, `docker://NAME`, `stdin://`) so reports
    treat it as a logical location, not a file in the repository.
    """

    kind: str
    display: str
    path: Path | None = None
    full: bool = False  # named with --log: every line; else a file's last 256 MiB
    windowed: bool = True  # without --since: only the last 7 days (platform logs)
    argv: tuple[str, ...] = ()


# --------------------------------------------------------------------------- locate


def platform_logs(environ: Mapping[str, str], home: Path) -> list[LogTarget]:
    """The server log files of the desktop apps (macOS, Windows) that exist here."""
    dirs = [home / ".ollama" / "logs"]
    if environ.get("LOCALAPPDATA"):
        dirs.append(Path(environ["LOCALAPPDATA"]) / "Ollama")
    out: list[LogTarget] = []
    for d in dirs:
        try:
            names = sorted(n for n in os.listdir(d) if is_log_name(n))
        except OSError:
            continue
        # server.log first, then server-1.log, server-2.log ... (older)
        names.sort(key=lambda n: (n != "server.log", len(n), n))
        out += [LogTarget("file", str(d / n), d / n) for n in names]
    return out


def journal_target() -> LogTarget | None:
    """`journalctl -u ollama` when journalctl exists and the ollama unit is known to systemd."""
    exe = shutil.which("journalctl")
    if exe is None:
        return None
    return LogTarget("journal", "journald://ollama.service", argv=(exe, "-u", "ollama"))


def docker_targets(compose_files: Iterable[Path]) -> list[LogTarget]:
    """`docker logs` for each compose service running an `ollama/ollama` image.

    With `container_name:` the container is named; else `docker compose -f FILE
    logs SERVICE` finds it the way compose names it.
    """
    exe = shutil.which("docker")
    if exe is None:
        return []
    out: list[LogTarget] = []
    for f in compose_files:
        for service, container in _ollama_services(f):
            if container:
                out.append(
                    LogTarget("docker", f"docker://{container}", argv=(exe, "logs", container))
                )
            else:
                argv = (exe, "compose", "-f", str(f), "logs", "--no-color", "--no-log-prefix")
                out.append(
                    LogTarget("docker", f"docker-compose://{f}#{service}", argv=(*argv, service))
                )
    return out


def _ollama_services(path: Path) -> list[tuple[str, str | None]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from ctxfix.safe_read import read_text
    from ctxfix.sources.environment import _is_ollama_image

    try:
        doc = YAML(typ="safe").load(read_text(path))
    except (CtxfixError, YAMLError):
        return []  # the environment reader already warns about this file
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    out = []
    for name, svc in services.items():
        if isinstance(svc, dict) and _is_ollama_image(svc.get("image")):
            cn = svc.get("container_name")
            out.append((str(name), str(cn) if isinstance(cn, str) and cn else None))
    return out


# --------------------------------------------------------------------------- stream


CHUNK = 4 * 1024 * 1024


def scan_stream(fh: BinaryIO, parser, skip_partial: bool = False) -> None:
    """Feed a binary stream to `parser` in blocks of whole lines (constant memory).

    A line longer than MAX_LINE is dropped and counted (`parser.skip()`), its
    bytes never held. `skip_partial`: the stream starts mid-line (a tail read).
    """
    carry = b""
    lineno = 0  # lines before the current block
    skipping = skip_partial  # inside a line being dropped
    while True:
        data = fh.read(CHUNK)
        if not data:
            if carry and not skipping:
                parser.feed_block(carry, lineno)
            return
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n")
        if cut < 0:
            if len(buf) > MAX_LINE:
                if not skipping:
                    parser.skip()
                skipping, carry = True, b""
            else:
                carry = buf
            continue
        block, carry = buf[: cut + 1], buf[cut + 1 :]
        if skipping:  # the block's first line is the rest of a dropped one
            first = block.find(b"\n") + 1
            block = block[first:]
            lineno += 1
            skipping = False
        if block:
            parser.feed_block(block, lineno)
            lineno += block.count(b"\n")
        if len(carry) > MAX_LINE:
            parser.skip()
            skipping, carry = True, b""


def _open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; CtxfixError for a FIFO, device or unreadable file."""
    from ctxfix.safe_read import NotRegular, open_regular

    p = str(path)
    try:
        fd, _st = open_regular(p)
    except NotRegular as exc:
        raise CtxfixError(p, f"{exc.kind}: log not read (use `--log -` to pipe a log in)") from None
    except OSError as exc:
        raise CtxfixError(p, f"cannot read log: {exc.strerror or exc}") from None
    return os.fdopen(fd, "rb", buffering=1 << 20)


def read_file(target: LogTarget, parser) -> str | None:
    """Feed a file or stdin to `parser`; a note for the user (a tail read) or None."""
    if target.kind == "stdin":
        stdin = sys.stdin
        if stdin is None:  # started with stdin closed
            raise CtxfixError(target.display, "no stdin to read the log from: log not read")
        if stdin.isatty():  # nothing piped in: reading would wait for the keyboard forever
            raise CtxfixError(
                target.display,
                "stdin is a terminal: log not read (pipe one in: `journalctl -u ollama | "
                "ctxfix scan --log -`)",
            )
        scan_stream(stdin.buffer, parser)
        return None
    assert target.path is not None
    with _open_regular(target.path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if not target.full and size > FOUND_TAIL:
            fh.seek(size - FOUND_TAIL)
            # a line number counted from the cut points at the wrong line (and a
            # "file (last 256 MiB)" path at no file): events are located by time
            parser.numbered = False
            scan_stream(fh, parser, skip_partial=True)
            return (
                f"{size / 2**20:,.0f} MiB: read its last {FOUND_TAIL // 2**20} MiB only "
                "(events are located by time, not line)"
            )
        scan_stream(fh, parser)
        return None


def read_command(target: LogTarget, parser, since: datetime | None) -> str | None:
    """Run journalctl / docker with a deadline; feed its output; a problem text or None."""
    import contextlib
    import tempfile

    argv = list(target.argv)
    stamp = (since or datetime.now(UTC) - DEFAULT_WINDOW).astimezone(UTC)
    if target.kind == "journal":
        argv += ["--since", stamp.strftime("%Y-%m-%d %H:%M:%S UTC"), "-o", "json", "--no-pager"]
    else:
        # docker logs / docker compose logs: --since before the container or service
        argv[-1:-1] = ["--since", stamp.strftime("%Y-%m-%dT%H:%M:%SZ")]
    start = parser.ev.lines
    with contextlib.ExitStack() as stack:
        # docker replays the container's stderr (where Ollama logs) on its own stderr,
        # so the two are one stream; journalctl's stderr is only its own complaints,
        # kept (in a file: a pipe nobody reads could fill and stall it) to explain an
        # empty read
        errors = stack.enter_context(tempfile.TemporaryFile()) if target.kind == "journal" else None
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if errors is None else errors,
            )
        except OSError as exc:
            return f"cannot run {argv[0]}: {exc.strerror or exc}"
        # a line number of `journalctl --since`/`docker logs --since` output points at
        # nothing anyone can open: events are located by journal cursor or time instead
        parser.numbered = False
        timer = threading.Timer(SUBPROCESS_DEADLINE, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            scan_stream(proc.stdout, parser)  # type: ignore[arg-type]
            rc = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        said = ""
        if errors is not None:
            errors.seek(0)
            first = errors.read(2048).decode("utf-8", "replace").strip().splitlines()
            said = first[0].strip() if first else ""
    if rc < 0:
        return f"stopped after {SUBPROCESS_DEADLINE:g} s; read what it printed until then"
    if rc != 0:  # docker: a daemon or container error arrives as a line of output
        return f"exited with status {rc}" + (f": {said}" if said else "")
    if parser.ev.lines == start and said:  # e.g. no permission to read the system journal
        return f"printed no entries: {said}"
    return None


# --------------------------------------------------------------------------- all


def read_logs(
    targets: list[LogTarget],
    since: datetime | None,
    default_since: datetime,
    warnings: list[Warning_],
) -> LogEvidence:
    """Read every target into one LogEvidence; each unreadable log is one warning.

    `since` is the user's `--since` (applies to every log); without it, named
    and found files are read in full and the platform logs from `default_since`.
    """
    from ctxfix.sources.log_events import LogParser
    from ctxfix.verify_history import windows

    ev = LogEvidence(since=since, probe_spans=windows())
    for t in targets:
        window = since if since is not None else (default_since if t.windowed else None)
        parser = LogParser(t.display, ev, window)
        lines_before, skipped_before, known_before = ev.lines, ev.skipped, ev.ollama_lines
        failed: Warning_ | None = None
        problem: str | None = None
        try:
            if t.kind in ("file", "stdin"):
                problem = read_file(t, parser)
            else:
                problem = read_command(t, parser, window or default_since)
        except CtxfixError as exc:
            failed = Warning_(exc.where, exc.problem)
        except OSError as exc:
            failed = Warning_(t.display, f"cannot read log: {exc.strerror or exc}")
        parser.finish()
        # not read at all (or a command that failed printed only its complaint): the
        # warning says why; "no evidence found" would claim the log was read
        unread = failed is not None or bool(problem and ev.lines == lines_before)
        if t.kind not in ("file", "stdin") and problem and ev.ollama_lines == known_before:
            unread = True
        if unread and t.display in ev.sources:
            ev.sources.remove(t.display)
        if failed is not None:
            warnings.append(failed)
            continue
        if problem:
            warnings.append(Warning_(t.display, problem))
        skipped = ev.skipped - skipped_before
        if skipped:
            warnings.append(
                Warning_(
                    parser.source,
                    f"{skipped} log line(s) looked like Ollama's but did not parse "
                    f"(of {ev.lines - lines_before:,} read); skipped",
                )
            )
    if ev.own_probes:
        where = ev.sources[0] if len(ev.sources) == 1 else "server log"
        warnings.append(
            Warning_(
                where,
                f"{ev.own_probes} cut or refused prompt(s) sent by ctxfix verify not counted "
                "as evidence",
            )
        )
    return ev


def collect_targets(
    *,
    named: Iterable[str],
    found: Iterable[Path],
    compose_files: Iterable[Path],
    user_level: bool,
    environ: Mapping[str, str],
    home: Path,
) -> list[LogTarget]:
    """Every log to read, each once: `--log`, log files named as paths, platform logs."""
    out: list[LogTarget] = []
    seen: set[str] = set()

    def add(t: LogTarget) -> None:
        try:
            key = str(t.path.resolve()) if t.path is not None else t.display
        except OSError:  # a loop of links: still one target, by its name
            key = t.display
        if key not in seen:
            seen.add(key)
            out.append(t)

    for n in named:
        if n == "-":
            add(LogTarget("stdin", "stdin://", full=True, windowed=False))
        else:
            # a missing or unreadable one is a warning when read: a log never aborts a scan
            p = Path(n).expanduser()
            add(LogTarget("file", n, p, full=True, windowed=False))
    for p in found:  # named as a scan path (`ctxfix scan server.log`): like --log
        add(LogTarget("file", str(p), p, full=True, windowed=False))
    if user_level:
        for t in platform_logs(environ, home):
            add(t)
        j = journal_target()
        if j is not None and _has_ollama_unit():
            add(j)
        for t in docker_targets(compose_files):
            add(t)
    return out


def _has_ollama_unit() -> bool:
    """The install script's unit file exists (else `journalctl -u ollama` has nothing).

    github:ollama/ollama scripts/install.sh `configure_systemd` creates
    /etc/systemd/system/ollama.service; the other `UNIT_DIRS` are looked at too.
    """
    from ctxfix.sources.environment import UNIT, UNIT_DIRS

    return any(Path("/", d, UNIT).exists() for d in UNIT_DIRS)
