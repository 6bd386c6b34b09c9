"""The server log as evidence: real-format excerpts per Ollama version and platform source.

Excerpts live in tests/logs/ (one per version/source); each line follows the
upstream message it imitates (see ctxfix/sources/log_events.py for the files).
"""

from __future__ import annotations

import os
import stat
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctxfix.errors import Warning_
from ctxfix.evidence import CTX_TOO_LARGE, OOM_STEP_DOWN, REJECTED, TRUNCATE, LogEvidence
from ctxfix.sources import server_log
from ctxfix.sources.log_events import LogParser, parse_time, text_fields
from ctxfix.sources.server_log import LogTarget, collect_targets, parse_since, read_logs

LOGS = Path(__file__).parent / "logs"
DIGEST = "sha256:fef241409206da05af13a786763ddec98036b16faf7c49beb93e8d297ad82f25"
OLD = datetime(2000, 1, 1, tzinfo=UTC)


def _read(*targets: LogTarget, since=None) -> tuple[LogEvidence, list[Warning_]]:
    warnings: list[Warning_] = []
    return read_logs(list(targets), since, OLD, warnings), warnings


def _file(name: str) -> LogTarget:
    p = LOGS / name
    return LogTarget("file", str(p), p, full=True, windowed=False)


def _kinds(ev: LogEvidence) -> dict[str, tuple]:
    return {
        g.kind: (g.digest, g.ctx, g.count, dict(g.largest.values) if g.largest else None)
        for g in ev.groups
    }


def test_v0_6_8_llama_server_ctx_size_is_per_parallel_sequence() -> None:
    ev, warnings = _read(_file("v0.6.8-linux.log"))
    assert warnings == []
    digest, ctx, count, largest = _kinds(ev)[TRUNCATE]
    assert (digest, ctx, count) == (DIGEST, 8192, 1)  # --ctx-size 16384 --parallel 2
    assert largest == {"limit": 8192, "prompt": 20544, "keep": 5, "new": 8192}


def test_v0_12_11_runner_load_request_gives_the_context() -> None:
    ev, _ = _read(_file("v0.12.11-macos.log"))
    g = ev.of_kind(TRUNCATE)[0]
    assert (g.digest, g.ctx, g.count) == (DIGEST, 131072, 2)
    assert g.largest is not None and g.largest.values["prompt"] == 146760
    assert g.largest.where.line == 5
    assert g.first is not None and g.first.isoformat() == "2025-11-20T14:02:45.530000+01:00"


def test_v0_12_11_windows_too_large_belongs_to_the_next_load() -> None:
    ev, _ = _read(_file("v0.12.11-windows.log"))
    k = _kinds(ev)
    win = "sha256:0b4284c1f87029e67654c7953afa16279961632cf73dcfe33374c4c2f298fa35"
    assert k[CTX_TOO_LARGE] == (win, 262144, 1, {"num_ctx": 300000, "n_ctx_train": 262144})


def test_rejection_texts_are_matched_in_any_line() -> None:
    """Upstream answers these with HTTP 400 and does not log them itself; a gateway or a
    log pipeline that records the response body does, so any line carrying the text counts."""
    ev = LogEvidence()
    p = LogParser("gateway.log", ev)
    p.feed_block(
        b"2026-11-30T10:00:00Z ERROR litellm: OllamaException - "
        b'{"error":"the input length exceeds the context length"}\n'
        b'time=2026-11-30T10:01:00Z level=ERROR msg="upstream error" error="the prompt is '
        b'longer than the context length currently available to the model"\n'
    )
    p.finish()
    (g,) = ev.of_kind(REJECTED)
    assert g.count == 2 and g.digest is None
    assert g.first is not None and g.first.isoformat() == "2026-11-30T10:00:00+00:00"


def test_v0_33_oom_step_down_and_context_shift_limit() -> None:
    ev, _ = _read(_file("v0.33.0-rc2-linux.log"))
    k = _kinds(ev)
    assert k[OOM_STEP_DOWN][3] == {
        "old_num_ctx": 262144,
        "effective_num_ctx": 262144,
        "new_num_ctx": 131072,
    }
    assert k[TRUNCATE] == (
        DIGEST,
        131072,
        1,
        {"limit": 65537, "prompt": 146760, "keep": 1, "new": 65537},
    )


def test_slog_json_lines_parse_and_a_bad_one_is_skipped_and_counted() -> None:
    ev, warnings = _read(_file("slog-json-v0.30.0.log"))
    assert _kinds(ev)[TRUNCATE][:3] == (DIGEST, 32768, 1)
    assert ev.skipped == 1
    (w,) = warnings
    assert "1 log line(s) looked like Ollama's but did not parse" in str(w)


def test_since_drops_older_events_but_keeps_the_load_state() -> None:
    since = datetime(2025, 11, 25, tzinfo=UTC)
    ev, _ = _read(_file("v0.12.11-macos.log"), since=since)
    g = ev.of_kind(TRUNCATE)[0]
    assert (g.count, g.ctx, g.digest) == (1, 131072, DIGEST)


def test_parse_since_forms() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-24", now) == datetime(2026, 11, 24, tzinfo=UTC)
    assert parse_since("2026-11-24T10:00:00+01:00", now).hour == 10
    from ctxfix.errors import CtxfixError

    with pytest.raises(CtxfixError):
        parse_since("last tuesday", now)


def test_parse_since_edge_cases_are_usage_errors_or_parse() -> None:
    """Review: an overflowing duration was an internal error (OverflowError); the
    docstring's own `2026-11-24T10:00Z` (no seconds) was refused; `\\d` took
    non-ASCII digits."""
    from ctxfix.errors import CtxfixError

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-24T10:00Z", now) == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert parse_since("2026-11-24 10:00", now) == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert parse_since("2026-11-24T10:00+01:00", now).utcoffset().total_seconds() == 3600
    for bad, says in (
        ("99999999999d", "out of range"),
        ("1000000w", "out of range"),
        ("\u0967\u0966d", "invalid duration"),
        ("2026-11-24T1:00", "invalid duration"),
    ):
        with pytest.raises(CtxfixError) as exc:
            parse_since(bad, now)
        assert exc.value.where == "--since" and says in exc.value.problem


def test_model_path_with_a_space_still_gives_the_blob() -> None:
    """Review: `--model C:\\Users\\John Doe\\...` (exec.Cmd.String() does not quote)
    was cut at the space, so the event had no blob and no model."""
    ev = LogEvidence()
    p = LogParser("server.log", ev)
    blob = "C:\\\\Users\\\\John Doe\\\\.ollama\\\\models\\\\blobs\\\\" + DIGEST.replace(":", "-")
    p.feed_block(
        b'time=2025-11-26T14:20:00.100+01:00 level=INFO source=server.go:392 msg="starting '
        b'runner" cmd="C:\\\\Ollama\\\\ollama.exe runner --ollama-engine --model '
        + blob.encode()
        + b' --port 53120"\n'
        b"time=2025-11-26T14:20:00.300+01:00 level=INFO source=runner.go:1271 msg=load "
        b'request="{Operation:commit Parallel:1 KvSize:8192}"\n'
        b"time=2025-11-26T14:21:00.300+01:00 level=WARN source=runner.go:186 "
        b'msg="truncating input prompt" limit=8192 prompt=9000 keep=4 new=8192\n'
    )
    p.finish()
    (g,) = ev.of_kind(TRUNCATE)
    assert (g.digest, g.ctx) == (DIGEST, 8192)
    assert g.model_path is not None and g.model_path.endswith(DIGEST.replace(":", "-"))


def test_time_and_fields_of_go_formats() -> None:
    t = parse_time("2026-11-30T10:11:12.123456789-07:00")
    assert t is not None and t.utcoffset().total_seconds() == -7 * 3600
    assert text_fields('a=1 msg="x \\"y\\"" b=') == {"a": "1", "msg": 'x "y"', "b": ""}


def test_no_ollama_lines_is_no_evidence_not_an_error(tmp_path: Path) -> None:
    p = tmp_path / "server.log"
    p.write_text("hello\nnothing here\n" * 100)
    ev, warnings = _read(LogTarget("file", str(p), p, full=True, windowed=False))
    assert warnings == [] and ev.groups == [] and ev.lines == 200


@pytest.mark.parametrize("chunk", [4096, 4 * 2**20])
def test_over_long_line_is_skipped_and_counted(tmp_path: Path, monkeypatch, chunk: int) -> None:
    """Longer than a read chunk (never held whole) or inside one: skipped, counted once."""
    monkeypatch.setattr(server_log, "CHUNK", chunk)
    p = tmp_path / "server.log"
    src = (LOGS / "v0.12.11-macos.log").read_bytes()
    long = b'msg="truncating input prompt" ' + b"x" * (server_log.MAX_LINE * 3)
    p.write_bytes(long + b"\n" + src + long)
    ev, warnings = _read(LogTarget("file", str(p), p, full=True, windowed=False))
    assert ev.skipped == 2 and ev.of_kind(TRUNCATE)[0].count == 2
    assert ev.of_kind(TRUNCATE)[0].largest.where.line == 6  # numbering survives the drop
    assert len(warnings) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    p = tmp_path / "server.log"
    os.mkfifo(p)
    t0 = time.monotonic()
    ev, warnings = _read(LogTarget("file", str(p), p, windowed=False))
    assert time.monotonic() - t0 < 2
    (w,) = warnings
    assert "FIFO" in str(w) and ev.groups == []
    assert ev.sources == []  # not "no evidence found": it was never read


class _Tty:
    def isatty(self) -> bool:
        return True

    @property
    def buffer(self):  # reading it would wait for the keyboard
        raise AssertionError("read a terminal")


@pytest.mark.parametrize("stdin", [None, _Tty()])
def test_log_dash_without_piped_stdin_is_one_warning(monkeypatch, stdin) -> None:
    """Review: `--log -` at a terminal waited forever; with stdin closed it crashed."""
    monkeypatch.setattr(sys, "stdin", stdin)
    ev, warnings = _read(LogTarget("stdin", "stdin://", full=True, windowed=False))
    (w,) = warnings
    assert w.where == "stdin://" and "log not read" in w.problem
    assert ev.sources == [] and ev.lines == 0


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads")
def test_unreadable_file_is_one_warning(tmp_path: Path) -> None:
    p = tmp_path / "server.log"
    p.write_text("x\n")
    p.chmod(0)
    _, warnings = _read(LogTarget("file", str(p), p, windowed=False))
    assert len(warnings) == 1 and "cannot read log" in str(warnings[0])


def _fake(tmp_path: Path, name: str, body: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / name
    exe.write_text(f"#!{sys.executable}\n{body}")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def test_journalctl_json_through_a_real_subprocess(tmp_path: Path, monkeypatch) -> None:
    args = tmp_path / "args.txt"
    _fake(
        tmp_path,
        "journalctl",
        "import sys\n"
        f"open({str(args)!r}, 'w').write(' '.join(sys.argv[1:]))\n"
        f"sys.stdout.write(open({str(LOGS / 'journal-v0.30.0.json')!r}).read())\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    target = server_log.journal_target()
    assert target is not None
    since = datetime(2026, 11, 24, tzinfo=UTC)
    ev, warnings = _read(target, since=since)
    assert warnings == []
    g = ev.of_kind(TRUNCATE)[0]
    assert (g.digest, g.ctx, g.largest.values["new"]) == (DIGEST, 65536, 65535)
    assert g.largest.where.file == "journald://ollama.service"
    assert g.largest.where.key == "cursor s=abc;i=2"
    assert g.largest.where.line is None  # a line of journalctl's output points at nothing
    assert args.read_text() == "-u ollama --since 2026-11-24 00:00:00 UTC -o json --no-pager"


def test_docker_logs_of_a_compose_service(tmp_path: Path, monkeypatch) -> None:
    _fake(
        tmp_path,
        "docker",
        f"import sys\nsys.stdout.write(open({str(LOGS / 'v0.33.0-rc2-linux.log')!r}).read())\n",
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  llm:\n    image: ollama/ollama:0.33.0\n    container_name: ollama\n"
    )
    (t,) = server_log.docker_targets([compose])
    assert t.display == "docker://ollama"
    ev, warnings = _read(t, since=OLD)
    assert warnings == [] and ev.of_kind(OOM_STEP_DOWN)[0].count == 1
    w = ev.of_kind(OOM_STEP_DOWN)[0].largest.where
    assert w.line is None and w.key is not None and w.key.startswith("20")  # located by time


@pytest.mark.parametrize(
    ("tool", "body", "says"),
    [
        (  # the daemon's error arrives on the merged stream, status 1
            "docker",
            "import sys\nprint('Cannot connect to the Docker daemon at unix:///x.sock.')\n"
            "sys.exit(1)\n",
            "exited with status 1",
        ),
        (  # no permission: a hint on stderr, status 0, no entries
            "journalctl",
            "import sys\nsys.stderr.write('No journal files were opened due to "
            "insufficient permissions.\\n')\n",
            "printed no entries: No journal files were opened due to insufficient permissions.",
        ),
    ],
)
def test_a_failing_log_command_is_a_warning_not_no_evidence(
    tmp_path: Path, monkeypatch, tool: str, body: str, says: str
) -> None:
    """Review: `docker logs` against a stopped daemon said "no evidence found", silently."""
    _fake(tmp_path, tool, body)
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    if tool == "docker":
        compose = tmp_path / "compose.yaml"
        compose.write_text("services:\n  llm:\n    image: ollama/ollama\n    container_name: o\n")
        (t,) = server_log.docker_targets([compose])
    else:
        t = server_log.journal_target()
    ev, warnings = _read(t)
    (w,) = warnings
    assert w.where == t.display and w.problem == says
    assert ev.sources == []  # not listed as read


def test_a_hanging_subprocess_is_killed_at_the_deadline(tmp_path: Path, monkeypatch) -> None:
    _fake(tmp_path, "journalctl", "import time\ntime.sleep(30)\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + os.environ["PATH"])
    monkeypatch.setattr(server_log, "SUBPROCESS_DEADLINE", 0.2)
    t0 = time.monotonic()
    _, warnings = _read(server_log.journal_target())
    assert time.monotonic() - t0 < 5
    assert "stopped after" in str(warnings[0])


def test_no_user_reads_no_platform_log(tmp_path: Path) -> None:
    logs = tmp_path / ".ollama" / "logs"
    logs.mkdir(parents=True)
    for n in ("server.log", "server-1.log", "app.log"):
        (logs / n).write_text("")
    kw = dict(named=(), found=(), compose_files=(), environ={}, home=tmp_path)
    assert collect_targets(user_level=False, **kw) == []
    got = [t.display for t in collect_targets(user_level=True, **kw) if t.kind == "file"]
    assert got == [str(logs / "server.log"), str(logs / "server-1.log")]


def test_constant_memory_on_a_large_log(tmp_path: Path) -> None:
    """20 MB of chatter around one truncation: streamed, not loaded (and fast)."""
    p = tmp_path / "big.log"
    filler = b'[GIN] 2026/11/30 - 10:00:00 | 200 |   1.2ms |  127.0.0.1 | GET  "/api/tags"\n'
    with p.open("wb") as fh:
        fh.write((LOGS / "v0.12.11-macos.log").read_bytes())
        fh.write(filler * (20 * 2**20 // len(filler)))
    t0 = time.monotonic()
    ev, _ = _read(LogTarget("file", str(p), p, full=True, windowed=False))
    assert time.monotonic() - t0 < 3
    assert ev.of_kind(TRUNCATE)[0].count == 2 and ev.lines > 250_000


def test_parser_state_attributes_to_the_last_load() -> None:
    ev = LogEvidence()
    p = LogParser("x", ev)
    p.feed(b'time=2026-11-30T10:00:00Z level=WARN msg="truncating input prompt" limit=1 prompt=2')
    p.finish()
    assert ev.skipped == 1  # keep and new missing: not an event


def test_log_dash_reads_a_piped_log_end_to_end(tmp_path: Path) -> None:
    """`journalctl -u ollama | ctxfix scan --log -`: stdin is read when it is a pipe."""
    import subprocess

    demo_log = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "server.log"
    argv = ["scan", str(tmp_path), "--no-server", "--no-user", "--isolated", "--log", "-"]
    proc = subprocess.run(
        [sys.executable, "-m", "ctxfix", *argv],
        input=demo_log.read_bytes(),
        capture_output=True,
        timeout=60,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr.decode()
    assert "stdin://:13:1: CTX401" in out and "server log stdin://: 3 prompt(s) cut" in out


def test_a_found_log_over_the_tail_size_is_located_by_time(tmp_path: Path, monkeypatch) -> None:
    """Review: a tail read named its events `server.log (last 256 MiB):N`, a path that
    is no file (SARIF pointed at it) with N counted from the cut."""
    monkeypatch.setattr(server_log, "FOUND_TAIL", 300)
    p = tmp_path / "server.log"
    p.write_bytes(b"x" * 1000 + b"\n" + (LOGS / "v0.12.11-macos.log").read_bytes())
    ev, warnings = _read(LogTarget("file", str(p), p, windowed=False))  # found, not named
    (w,) = warnings
    assert w.where == str(p) and "read its last" in w.problem
    g = ev.of_kind(TRUNCATE)[0]
    assert g.source == str(p) and g.largest.where.file == str(p)
    assert g.largest.where.line is None and g.largest.where.key.startswith("2025-11-26T14:")
