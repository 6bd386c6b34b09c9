"""`ctxfix verify` and `apply --verify` against the loopback double (real client, real HTTP).

The double counts whitespace words as tokens, serves each model its params
num_ctx (else its default), and cuts or refuses an over-long prompt the way
the emulated Ollama version does (tests/ollama_server.py `evaluated_prompt`),
reporting prompt_eval_duration from its configured prefill rate.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ollama_fixtures import LLAMA31_8B, add_model, demo_store
from ollama_server import PROMPT_TOO_LONG, OllamaDouble, context_shift_prompt_limit

from ctxfix.cli import main
from ctxfix.verify_probe import Limits, Reply, ladder, run_probe, target_prompt_tokens

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
ISOLATED = ("--no-user", "--no-store", "--isolated")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `ctxfix ARGS`, in-process."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    out, err = capsys.readouterr()
    return code, out, err


def verify_json(capsys, url: str, model: str, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(
        capsys, "verify", model, "--host", url, *ISOLATED, "--format", "json", *extra
    )
    assert code in (0, 1), err
    return code, json.loads(out), err


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OllamaDouble]:
    """One double for the module (stopping one costs up to its 0.5 s poll interval).

    The demo store plus llama3.1:8b-32k (num_ctx 32768, native 131072).
    """
    s = demo_store(tmp_path_factory.mktemp("verify") / "models")
    add_model(s, "llama3.1:8b-32k", LLAMA31_8B, params={"num_ctx": 32768}, parameter_size="8.0B")
    with OllamaDouble(s) as srv:
        yield srv


@pytest.fixture
def srv(shared: OllamaDouble) -> OllamaDouble:
    """The shared double reset to Ollama 0.12.3, 5,000 tok/s, context shift on, no faults."""
    shared.version, shared.prefill_tps, shared.context_shift = "0.12.3", 5000, True
    shared.clear_faults()
    shared.loaded = []
    return shared


# --------------------------------------------------------------------------- the probe alone


def test_ladder_grows_x4_and_brackets_the_served_context() -> None:
    assert ladder(4087) == [(256, "calibrate"), (1024, "grow"), (4087, "target")]
    rungs = dict(ladder(target_prompt_tokens(131072), served=32768))
    assert rungs[target_prompt_tokens(32768)] == "served"
    assert rungs[32768 + 256] == "above-served"
    assert 65536 not in rungs or rungs[65536] == "grow"


def test_probe_with_a_fake_runner_calibrates_to_the_exact_size() -> None:
    """3 tokens of nonce + one per word: the target prompt lands exactly where aimed."""
    seen: list[int] = []

    def send(prompt: str, left: float) -> Reply:
        n = len(prompt.split()) + 1  # a BOS token, like a real tokenizer
        seen.append(n)
        return Reply(n, n / 1000)

    r = run_probe(send, 8192, Limits(60, 100_000))
    assert r.status == "verified"
    assert seen[-1] == target_prompt_tokens(8192) == r.largest_whole.evaluated


@pytest.mark.parametrize(
    ("version", "shift", "tokens", "want"),
    [
        ("0.12.3", True, 4096, (4096, None)),  # < 0.30: up to num_ctx is whole
        ("0.12.3", True, 5000, (4096, None)),  # ... longer is cut to num_ctx
        ("0.31.0", True, 4095, (4095, None)),  # >= 0.30: at most num_ctx - 1
        ("0.31.0", True, 4096, (context_shift_prompt_limit(4096, 4), None)),
        ("0.31.0", False, 4096, (0, PROMPT_TOO_LONG)),
    ],
)
def test_double_cuts_and_refuses_like_upstream(shared, version, shift, tokens, want) -> None:
    from ollama_server import evaluated_prompt

    shared.version, shared.context_shift = version, shift
    assert evaluated_prompt(shared, {}, 4096, tokens) == want


# --------------------------------------------------------------------------- verify


def test_cut_prompt_detected_and_largest_whole_reported(srv, capsys) -> None:
    code, doc, err = verify_json(capsys, srv.url, "llama3.1:8b-32k")
    assert any(p == "/api/generate" for _, p in srv.requests)
    assert code == 1
    assert doc["status"] == "cut"
    assert doc["window"] == 131072 and doc["served_ctx"] == 32768  # target = native
    assert doc["failure"]["evaluated_tokens"] == 32768  # < 0.30: cut to num_ctx
    assert 32768 - 300 <= doc["largest_whole_tokens"] <= 32768
    assert "verify loads llama3.1:8b-32k" in err and "GiB" in err  # announced first


def test_whole_window_confirmed_text_output(srv, capsys) -> None:
    code, out, err = run_cli(
        capsys, "verify", "llama3.1:8b-32k", "--host", srv.url, *ISOLATED, "--ctx", "32768"
    )
    assert code == 0, err
    assert (
        f"verified: a prompt of {target_prompt_tokens(32768):,} tokens was evaluated whole" in out
    )
    assert "--prefill-tps 5000" in out


def test_rate_measured_within_10_percent(srv, capsys) -> None:
    srv.prefill_tps = 777
    _, doc, _ = verify_json(capsys, srv.url, "llama3.1:8b-32k", "--target", "8192")
    assert doc["status"] == "verified"
    assert abs(doc["prefill_tps"] - 777) <= 77.7
    assert doc["prefill_measured_at_tokens"] == doc["largest_whole_tokens"]


def test_refused_from_0_30_without_context_shift(srv, capsys) -> None:
    srv.version, srv.context_shift = "0.31.0", False
    code, doc, _ = verify_json(capsys, srv.url, "llama3.1:8b-32k")
    assert code == 1
    assert doc["status"] == "refused"
    assert doc["failure"]["message"] == PROMPT_TOO_LONG
    assert doc["largest_whole_tokens"] <= 32767


def test_cut_to_the_context_shift_limit_from_0_30(srv, capsys) -> None:
    srv.version = "0.31.0"
    code, doc, _ = verify_json(capsys, srv.url, "llama3.1:8b-32k")
    assert code == 1 and doc["status"] == "cut"
    assert doc["failure"]["evaluated_tokens"] == context_shift_prompt_limit(32768, 4)


def test_remote_host_refused_without_allow_remote(capsys) -> None:
    code, out, err = run_cli(
        capsys, "verify", "qwen3:8b", "--host", "http://admin:pw@10.0.0.7:11434", *ISOLATED
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--allow-remote" in err
    assert "pw" not in err  # URL credentials never printed


def test_unreachable_host_one_line_exit_2(capsys) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err = run_cli(
        capsys, "verify", "qwen3:8b", "--host", f"http://127.0.0.1:{port}", *ISOLATED
    )
    assert code == 2 and out == ""
    want = f"http://127.0.0.1:{port}: cannot reach the Ollama server: connection refused"
    assert err == f"ctxfix: error: {want}\n"


def test_time_limit_stops_before_a_request_that_cannot_finish(srv, capsys) -> None:
    srv.prefill_tps = 100  # 1,024 tokens would take ~10 s
    code, doc, _ = verify_json(capsys, srv.url, "llama3.1:8b-32k", "--time-limit", "5")
    assert code == 1 and doc["status"] == "incomplete"
    assert doc["stop"]["reason"] == "time-limit"
    assert [s["purpose"] for s in doc["steps"]] == ["calibrate"]


def test_time_limit_bounds_a_hung_request(srv, capsys) -> None:
    srv.set_fault("delay", "/api/generate", seconds=30)
    t0 = time.monotonic()
    code, doc, _ = verify_json(capsys, srv.url, "llama3.1:8b-32k", "--time-limit", "0.5")
    assert time.monotonic() - t0 < 3
    assert code == 1 and doc["status"] == "incomplete"
    assert doc["steps"][0]["outcome"] == "timeout"


def test_token_budget_respected(srv, capsys) -> None:
    code, doc, _ = verify_json(capsys, srv.url, "llama3.1:8b-32k", "--max-tokens", "5000")
    assert code == 1 and doc["stop"]["reason"] == "token-budget"
    assert doc["tokens_sent"] <= 5000
    assert [s["sent_tokens"] for s in doc["steps"]] == [259, 1024]  # 256 words + 3 of nonce


# --------------------------------------------------------------------------- apply --verify


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, srv: OllamaDouble) -> Path:
    """fixtures/demo (configs only) copied to tmp; the shared double serves the same models."""
    work = tmp_path / "demo"
    shutil.copytree(DEMO, work, ignore=shutil.ignore_patterns("store"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(work)
    return work


def test_apply_verify_checks_the_created_model(demo, srv, capsys) -> None:
    srv.prefill_tps = 200_000
    code, out, err = run_cli(
        capsys, "apply", "--yes", "--verify", "--host", srv.url, "--no-user", "--no-store", "."
    )
    assert code == 0, err
    assert "created qwen3-coder:30b-262k" in out
    line = next(x for x in out.splitlines() if x.startswith("  qwen3-coder:30b-262k on "))
    assert "window 262,144: verified" in line and "prefill" in line
    assert "verify loads qwen3-coder:30b-262k" in err
