"""Fleet scans (issue 15): pooled connections, hosts files, dead hosts, grouped reports.

Real HTTP on 127.0.0.1 through the official `ollama` client (the loopback
double, tests/ollama_server.py); a hung host is a listening socket that never
accepts (the kernel completes the TCP handshake, no byte ever comes back).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ollama_fixtures import QWEN3_CODER_30B, Arch, add_model, demo_store
from ollama_server import OllamaDouble, Store, go_json
from test_apply_demo import run_cli

from ctxfix.errors import CtxfixError
from ctxfix.sources import server
from ctxfix.sources.hosts import read_hosts_file
from ctxfix.sources.server import scan_host, scan_hosts


def _store(root: Path, n: int, prefix: str = "m") -> Path:
    for i in range(n):
        add_model(root, f"{prefix}-{i:02d}:latest", params={"num_ctx": 4096 * (1 + i % 4)})
    return root


@pytest.fixture
def hung_host() -> Iterator[str]:
    """Accepts TCP connections (kernel backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# --------------------------------------------------------------------------- pooling


def test_one_pool_per_host_shared_by_its_lanes(tmp_path: Path, monkeypatch) -> None:
    """40 models over one host: at most lanes + 1 TCP connections, each reused.

    The lane count is pinned: it follows the measured round trip, which a busy
    machine inflates, and the claim here is about connections per lane.
    """
    lanes = 4
    monkeypatch.setattr(server, "lanes_for", lambda rtt, n, cap: min(n, lanes))
    store = _store(tmp_path / "models", 40)
    with OllamaDouble(store, latency=0.01) as srv:
        scan = scan_host(srv.url)
        conns = srv.connections
        requests = len(srv.requests)
    assert len(scan.models) == 40 and scan.warnings == []
    assert requests == 43  # version, tags, ps, 40 x show: nothing per model but /api/show
    assert conns <= lanes + 1, conns  # lanes + /api/ps, one pool
    assert conns * 3 < requests  # every connection carried several requests


def test_lanes_are_sized_by_host_count_and_latency() -> None:
    assert server.host_cap(1) == server.PER_HOST_MAX == 16
    assert server.host_cap(10) == 64 // 10 == 6  # the global bound shared evenly
    assert server.host_cap(100) == server.PER_HOST_MIN == 4  # the semaphore bounds the rest
    assert server.lanes_for(0.0002, 50, 16) == server.PER_HOST_MIN  # a local server
    assert server.lanes_for(0.05, 50, 16) == 16  # 50 ms: every lane it may have
    assert server.lanes_for(0.05, 3, 16) == 3  # never more lanes than models


def test_requests_in_flight_never_exceed_the_global_bound(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(server, "GLOBAL_MAX", 3)
    state = {"now": 0, "max": 0}
    lock = threading.Lock()
    real_enter, real_exit = server._Gate.__enter__, server._Gate.__exit__

    def enter(self: server._Gate) -> None:
        real_enter(self)
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])

    def leave(self: server._Gate, *exc: object) -> None:
        with lock:
            state["now"] -= 1
        real_exit(self, *exc)

    monkeypatch.setattr(server._Gate, "__enter__", enter)
    monkeypatch.setattr(server._Gate, "__exit__", leave)
    store = _store(tmp_path / "models", 8)
    with OllamaDouble(store, latency=0.01) as a, OllamaDouble(store, latency=0.01) as b:
        scans = scan_hosts([a.url, b.url])
    assert [len(s.models) for s in scans] == [8, 8]
    assert 1 < state["max"] <= 3


# --------------------------------------------------------------------------- dead hosts


def test_dead_hosts_cost_their_deadline_once_and_never_delay_the_others(
    tmp_path: Path, hung_host: str
) -> None:
    store = _store(tmp_path / "models", 6)
    more_hung = [socket.socket() for _ in range(2)]
    for s in more_hung:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
    hung = [hung_host, *(f"http://127.0.0.1:{s.getsockname()[1]}" for s in more_hung)]
    refused = _refused_url()
    with OllamaDouble(store, latency=0.05) as a, OllamaDouble(store, latency=0.05) as b:
        t0 = time.perf_counter()
        scans = scan_hosts([hung[0], a.url, refused, hung[1], b.url, hung[2]], read_timeout=0.5)
        elapsed = time.perf_counter() - t0
    for s in more_hung:
        s.close()
    by = {s.host: s for s in scans}
    assert len(by[a.url].models) == 6 and by[a.url].warnings == []
    assert len(by[b.url].models) == 6 and by[b.url].warnings == []
    assert by[refused].info is None and "connection refused" in str(by[refused].warnings[0])
    for h in hung:
        (w,) = by[h].warnings
        assert "/api/version: no complete answer within 0.5 s" in str(w)
    # three hung hosts cost one deadline side by side, not 3 x 0.5 s one after another
    assert 0.45 < elapsed < 1.2, elapsed


# --------------------------------------------------------------------------- hosts file


def test_hosts_file_one_url_per_line_with_comments(tmp_path: Path) -> None:
    f = tmp_path / "hosts.txt"
    f.write_text(
        "# the GPU fleet\n"
        "\n"
        "gpu-01:11434\n"
        "  http://10.0.0.2:11434   # rack 2\n"
        "https://ollama.example.com\n"
        "gpu-01:11434\n"  # listed twice: scanned once
        "[::1]:11435\n",
        encoding="utf-8",
    )
    assert read_hosts_file(f) == (
        "gpu-01:11434",
        "http://10.0.0.2:11434",
        "https://ollama.example.com",
        "[::1]:11435",
    )


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        (None, "hosts.txt", "cannot read hosts file"),
        (b"# nothing here\n\n", "hosts.txt", "lists no host"),
        (b"gpu-01\ngpu 02\n", "hosts.txt:2", "one host per line"),
        (b"gpu-01\nhttp://[::1\n", "hosts.txt:2", "invalid Ollama host"),
        (b"gpu-01:port\n", "hosts.txt:1", "invalid Ollama host"),
        (b"\xff\xfe\x00bad", "hosts.txt", "not UTF-8"),
    ],
)
def test_a_bad_hosts_file_is_one_error(
    tmp_path: Path, content: bytes | None, where: str, problem: str
) -> None:
    f = tmp_path / "hosts.txt"
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(CtxfixError) as exc:
        read_hosts_file(f)
    assert exc.value.where == str(tmp_path / where) and problem in exc.value.problem


def test_bad_hosts_file_exits_2_with_one_line_naming_it(tmp_path: Path, capsys) -> None:
    f = tmp_path / "fleet.txt"
    f.write_text("http://admin:s3cret-pw@gpu-01:11434 extra\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "scan", "--hosts-file", str(f), "--no-user", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{f}:1: one host per line" in err, err
    assert "s3cret-pw" not in err


# --------------------------------------------------------------------------- /api/tags


def _with_config_context(store: Path, name: str, ctx: int) -> None:
    """Put `context_length` into a model's config blob (what Ollama does for cloud models)."""
    st = Store(store)
    m = st.find(name)
    assert m is not None
    cfg = json.loads(st.read_blob(m.manifest["config"]["digest"]))
    cfg["context_length"] = ctx
    dg, size = st.write_blob(go_json(cfg))
    st.write_manifest(
        name, {**m.manifest["config"], "digest": dg, "size": size}, m.manifest["layers"]
    )


def test_tags_context_length_from_0_30_0_only(tmp_path: Path) -> None:
    import httpx

    store = demo_store(tmp_path / "models")
    with OllamaDouble(store, version="0.29.9") as old, OllamaDouble(store, version="0.30.0") as new:
        before = httpx.get(old.url + "/api/tags").json()["models"]
        after = {m["name"]: m["details"] for m in httpx.get(new.url + "/api/tags").json()["models"]}
    assert all("context_length" not in m["details"] for m in before)
    assert after["qwen3-coder:30b"]["context_length"] == QWEN3_CODER_30B.context_length
    assert after["llama3.1:8b"]["embedding_length"] == 4096


def test_native_context_comes_from_tags_when_model_info_lacks_it(tmp_path: Path) -> None:
    store = tmp_path / "models"
    add_model(store, "cloudish:latest", Arch(context_length=0), params={"num_ctx": 8192})
    _with_config_context(store, "cloudish:latest", 196608)
    with OllamaDouble(store, version="0.30.0") as srv:
        (m,) = scan_host(srv.url).models
    assert m.num_ctx is not None and m.num_ctx.value == 8192  # still from /api/show
    assert m.geometry is not None and m.geometry.context_length == 196608
    assert m.geometry.block_count == QWEN3_CODER_30B.block_count  # model_info kept


# --------------------------------------------------------------------------- report


def test_text_report_groups_server_findings_by_host(tmp_path: Path, capsys) -> None:
    a_store = demo_store(tmp_path / "a")
    b_store = tmp_path / "b"
    add_model(b_store, "qwen3-coder:30b", params={"stop": ["<|im_end|>"]})
    project = tmp_path / "project"
    project.mkdir()
    with OllamaDouble(a_store) as a, OllamaDouble(b_store) as b:
        code, out, err = run_cli(
            capsys, "scan", "--host", b.url, "--host", a.url, "--no-user", "--no-store",
            "--isolated", str(project),
        )  # fmt: skip
    assert code == 1, err
    lines = out.split("\n\nmodel ")[0].splitlines()
    heads = [ln for ln in lines if ln.startswith("server ")]
    assert heads == sorted(heads) and len(heads) == 2, out  # one heading per host, sorted
    assert {h.split(": ")[0] for h in heads} == {f"server {a.url}", f"server {b.url}"}
    counts: dict[str, int] = {}
    current = None
    for ln in lines:
        if ln.startswith("server "):
            current = ln.removeprefix("server ").split(": ")[0]
            counts[current] = int(ln.rsplit(": ", 1)[1].split()[0])
        elif ln.startswith("http"):  # a finding line: under its own host's heading
            assert current is not None and ln.startswith(current + " /api/show "), ln
            counts[current] -= 1
    assert set(counts.values()) == {0}, out


def test_one_server_named_several_ways_is_asked_once(tmp_path: Path, capsys) -> None:
    # `--host URL`, `--host host:port` and `--host URL/` are one server: its models
    # and findings must not be reported three times
    store = _store(tmp_path / "models", 2)
    project = tmp_path / "project"
    project.mkdir()
    with OllamaDouble(store) as srv:
        bare = srv.url.removeprefix("http://")
        code, out, err = run_cli(
            capsys, "scan", "--host", srv.url, "--host", bare, "--host", srv.url + "/",
            "--no-user", "--no-store", "--isolated", "--format", "json", str(project),
        )  # fmt: skip
        versions = sum(1 for r in srv.requests if "/api/version" in str(r))
    assert code in (0, 1), err
    names = [m["name"] for m in json.loads(out)["models"]]
    assert sorted(names) == ["m-00:latest", "m-01:latest"]
    assert versions == 1


def test_progress_advances_as_each_host_finishes(tmp_path: Path, hung_host: str) -> None:
    # not all at once after the slowest host: a live host is counted while a hung
    # one still waits for its deadline
    store = _store(tmp_path / "models", 2)
    stamps: list[float] = []
    with OllamaDouble(store) as srv:
        t0 = time.perf_counter()
        scan_hosts(
            [hung_host, srv.url],
            read_timeout=0.5,
            on_done=lambda: stamps.append(time.perf_counter() - t0),
        )
    assert len(stamps) == 2
    assert stamps[0] < 0.45 <= stamps[1], stamps
