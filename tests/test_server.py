"""Live-server source against the loopback double, through the real `ollama` client over HTTP."""
# ruff: noqa: F811  (pytest fixtures imported from ollama_fixtures, used as arguments)

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import ollama
import pytest
from ollama._client import _parse_host
from ollama_fixtures import LLAMA31_8B, add_model, ollama_double, ollama_store  # noqa: F401
from ollama_server import OllamaDouble

from ctxfix.errors import CtxfixError
from ctxfix.ollama_writes import create_model, delete_model, show_num_ctx
from ctxfix.sources.server import (
    parse_go_value,
    parse_host,
    parse_parameters,
    scan_host,
)


def _client(srv: OllamaDouble) -> ollama.Client:
    return ollama.Client(host=srv.url, timeout=httpx.Timeout(5, connect=0.5))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- hosts

HOSTS = [
    "", "1.2.3.4", ":56789", "1.2.3.4:56789", "http://1.2.3.4", "https://1.2.3.4",
    "https://1.2.3.4:56789", "example.com", "example.com:56789", "http://example.com",
    "https://example.com:56789/", "example.com/", "example.com/path", "example.com:56789/path/",
    "[0001:002:003:0004::1]", "[0001:002:003:0004::1]:56789", "https://[::1]", "[::1]/path/",
    "localhost", "0.0.0.0", "0.0.0.0:11434", "  127.0.0.1:8080  ",
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTS)
def test_parse_host_matches_the_ollama_client(value: str) -> None:
    assert parse_host(value) == _parse_host(value.strip())


# --------------------------------------------------------------------------- parameters text


def test_parameters_text_is_formatted_like_ollama(ollama_double: OllamaDouble) -> None:
    params = _client(ollama_double).show("qwen2.5-coder:32b-1m").parameters
    assert params == "num_ctx" + " " * 24 + "1e+06"
    text = _client(ollama_double).show("qwen3-coder:30b-v-128k").parameters or ""
    assert text.splitlines() == [
        "num_ctx                        131072",
        'stop                           "<|im_end|>"',
        'stop                           "<|endoftext|>"',
        "temperature                    0.7",
    ]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1e+06", 1000000), ("1.048576e+06", 1048576), ("131072", 131072), ("0.7", 0.7),
     ('"<|im_end|>"', "<|im_end|>"), ('"a\\"b\\n"', 'a"b\n'), ("true", True)],
)  # fmt: skip
def test_go_values_parse_back(raw: str, value: object) -> None:
    assert parse_go_value(raw) == value


def test_parse_parameters_collects_repeated_stop() -> None:
    pad = " " * 24
    text = f'num_ctx{pad}4096\nstop{pad}   "a"\nstop{pad}   "b"'
    assert parse_parameters(text) == {"num_ctx": 4096, "stop": ["a", "b"]}


def test_model_info_arrays_are_null_unless_verbose(ollama_double: OllamaDouble) -> None:
    c = _client(ollama_double)
    plain = c._request_raw("POST", "/api/show", json={"model": "llama3.1:8b"}).json()
    verbose = c._request_raw(
        "POST", "/api/show", json={"model": "llama3.1:8b", "verbose": True}
    ).json()
    assert plain["model_info"]["tokenizer.ggml.tokens"] is None
    assert verbose["model_info"]["tokenizer.ggml.tokens"] == [f"t{i}" for i in range(8)]
    assert "general.name" not in plain["model_info"]
    assert "tokenizer.chat_template" not in plain["model_info"]
    assert plain["model_info"]["general.parameter_count"] == 16


# --------------------------------------------------------------------------- scan


def test_scan_lists_every_model_with_num_ctx_native_and_sources(
    ollama_double: OllamaDouble,
) -> None:
    ollama_double.loaded = [
        {"name": "qwen3-coder:30b-v-128k", "context_length": 65536, "size_vram": 10}
    ]
    scan = scan_host(ollama_double.url)
    url = ollama_double.url
    assert scan.warnings == []
    assert scan.info is not None and scan.info.version == "0.12.3" and scan.info.host == url
    by = {m.name: m for m in scan.models}
    assert sorted(by) == [
        "llama3.1:8b",
        "qwen2.5-coder:32b-1m",
        "qwen3-coder:30b",
        "qwen3-coder:30b-v-128k",
    ]
    capped = by["qwen3-coder:30b-v-128k"]
    assert capped.origin == "server" and capped.host == url
    assert capped.num_ctx is not None and capped.num_ctx.value == 131072
    assert capped.num_ctx.source == "server"
    assert str(capped.num_ctx.location) == f"{url} /api/show qwen3-coder:30b-v-128k"
    assert capped.geometry is not None and capped.geometry.context_length == 262144
    assert capped.geometry.arch == "qwen3moe" and capped.geometry.block_count == 48
    assert capped.loaded_ctx is not None and capped.loaded_ctx.value == 65536
    assert capped.params["stop"] == ["<|im_end|>", "<|endoftext|>"]
    tags = {m.model: m for m in _client(ollama_double).list().models}
    assert capped.digest == tags["qwen3-coder:30b-v-128k"].digest
    assert capped.weights_bytes == tags["qwen3-coder:30b-v-128k"].size
    assert capped.model_digest == by["qwen3-coder:30b"].model_digest  # same GGUF blob
    assert capped.details["family"] == "qwen3moe"
    assert by["qwen3-coder:30b"].num_ctx is None and by["qwen3-coder:30b"].loaded_ctx is None
    one_m = by["qwen2.5-coder:32b-1m"].num_ctx
    assert one_m is not None and one_m.value == 1000000 and "1e+06" in one_m.note
    assert by["llama3.1:8b"].geometry is not None
    assert by["llama3.1:8b"].geometry.key_length == 128  # 4096 / 32 heads


def test_bare_host_value_is_normalised(ollama_double: OllamaDouble) -> None:
    port = ollama_double.url.rsplit(":", 1)[1]
    scan = scan_host(f"127.0.0.1:{port}")
    assert scan.host == ollama_double.url and len(scan.models) == 4


# --------------------------------------------------------------------------- faults


def test_server_down_is_one_warning_and_fast() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    t = time.perf_counter()
    scan = scan_host(url)
    assert time.perf_counter() - t < 2.0
    assert scan.info is None and scan.models == []
    assert [str(w) for w in scan.warnings] == [
        f"no Ollama server at {url}: connection refused; scanned files and stores only"
    ]


def test_refused_after_start(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("refuse")
    scan = scan_host(ollama_double.url)
    assert scan.info is None and len(scan.warnings) == 1
    assert "connection refused" in str(scan.warnings[0])


def test_500_on_one_endpoint_names_host_and_endpoint(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("500", "/api/ps", message="boom")
    scan = scan_host(ollama_double.url)
    assert [str(w) for w in scan.warnings] == [f"{ollama_double.url}: /api/ps: HTTP 500: boom"]
    assert len(scan.models) == 4  # the rest of the scan is intact


def test_malformed_json_names_the_endpoint(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("malformed", "/api/tags")
    scan = scan_host(ollama_double.url)
    assert scan.models == [] and scan.info is not None
    assert len(scan.warnings) == 1
    assert str(scan.warnings[0]).startswith(f"{ollama_double.url}: /api/tags: malformed response")


def test_404_for_one_model_does_not_stop_the_others(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("404", "/api/show", model="llama3.1:8b")
    scan = scan_host(ollama_double.url)
    assert sorted(m.name for m in scan.models) == [
        "qwen2.5-coder:32b-1m", "qwen3-coder:30b", "qwen3-coder:30b-v-128k",
    ]  # fmt: skip
    assert [str(w) for w in scan.warnings] == [
        f"{ollama_double.url}: /api/show llama3.1:8b: HTTP 404: model 'llama3.1:8b' not found"
    ]


def test_delay_longer_than_read_timeout_is_bounded(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("delay", "/api/show", seconds=30)
    t = time.perf_counter()
    scan = scan_host(ollama_double.url, read_timeout=0.3, max_workers=2)
    elapsed = time.perf_counter() - t
    assert elapsed < 2 * 0.3 + 0.5  # at most about two read timeouts, not 4 x 30 s
    assert scan.models == []
    assert len(scan.warnings) == 1
    assert "(--server-timeout); skipped the rest of this host" in str(scan.warnings[0])


def test_hung_version_endpoint_stops_the_host(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("delay", "/api/version", seconds=30)
    t = time.perf_counter()
    scan = scan_host(ollama_double.url, read_timeout=0.3)
    assert time.perf_counter() - t < 1.0
    assert scan.models == [] and len(scan.warnings) == 1
    assert "/api/version: no complete answer within 0.3 s" in str(scan.warnings[0])


def test_version_of_your_choice(ollama_double: OllamaDouble) -> None:
    ollama_double.set_fault("version", value="0.6.6")
    scan = scan_host(ollama_double.url)
    assert scan.info is not None and scan.info.version == "0.6.6"


# --------------------------------------------------------------------------- fixer actions


def test_create_model_writes_the_store_like_ollama(
    ollama_double: OllamaDouble, ollama_store: Path
) -> None:
    digest = create_model(
        ollama_double.url, "qwen3-coder:30b-262k", "qwen3-coder:30b-v-128k", {"num_ctx": 262144}
    )
    manifest = ollama_store / "manifests/registry.ollama.ai/library/qwen3-coder/30b-262k"
    raw = manifest.read_bytes()
    import hashlib

    assert digest == hashlib.sha256(raw).hexdigest()
    doc = json.loads(raw)
    assert raw.endswith(b"}\n") and b" " not in raw  # Go's json.Encoder: compact + newline
    params = [x for x in doc["layers"] if x["mediaType"] == "application/vnd.ollama.image.params"]
    assert len(params) == 1
    blob = (ollama_store / "blobs" / params[0]["digest"].replace(":", "-")).read_bytes()
    # request wins, the parent's other params carry over, Go escapes <>
    assert blob == (
        b'{"num_ctx":262144,"stop":["\\u003c|im_end|\\u003e","\\u003c|endoftext|\\u003e"],'
        b'"temperature":0.7}\n'
    )
    model = next(x for x in doc["layers"] if x["mediaType"].endswith(".model"))
    assert model["from"] == "qwen3-coder:30b-v-128k"
    assert show_num_ctx(ollama_double.url, "qwen3-coder:30b-262k") == 262144
    assert show_num_ctx(ollama_double.url, "qwen3-coder:30b") is None
    delete_model(ollama_double.url, "qwen3-coder:30b-262k")
    assert not manifest.exists()


def test_fixer_actions_raise_naming_the_host(ollama_double: OllamaDouble) -> None:
    with pytest.raises(CtxfixError) as e:
        delete_model(ollama_double.url, "nope:1")
    assert e.value.where == ollama_double.url and "model 'nope:1' not found" in e.value.problem
    with pytest.raises(CtxfixError) as e:
        create_model(ollama_double.url, "x:1", "missing:1", {"num_ctx": 8192})
    assert "create x:1 from missing:1" in e.value.problem
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(CtxfixError, match="connection refused"):
        show_num_ctx(url, "qwen3-coder:30b")


# --------------------------------------------------------------------------- the double itself


def test_generate_reports_prefill_and_loads_with_clamped_num_ctx(
    ollama_double: OllamaDouble,
) -> None:
    ollama_double.prefill_tps = 400
    c = _client(ollama_double)
    final = c.generate("llama3.1:8b", "word " * 800, options={"num_ctx": 500000})
    assert final.prompt_eval_count == 800 and final.prompt_eval_duration == 2_000_000_000
    chunks = list(c.generate("qwen3-coder:30b", "a b c", stream=True))
    assert chunks[-1].done and chunks[-1].prompt_eval_count == 3
    loaded = {m.model: m.context_length for m in c.ps().models}
    assert loaded == {"llama3.1:8b": 131072, "qwen3-coder:30b": 4096}  # clamped; default


def test_copy_and_error_bodies(ollama_double: OllamaDouble) -> None:
    c = _client(ollama_double)
    c.copy("llama3.1:8b", "llama-copy:1")
    assert "llama-copy:1" in [m.model for m in c.list().models]
    with pytest.raises(ollama.ResponseError) as e:
        c.show("Nope")
    assert (e.value.status_code, e.value.error) == (404, "model 'Nope' not found")
    with pytest.raises(ollama.ResponseError) as e:
        c.create(model="bad name!", from_="llama3.1:8b")
    assert e.value.status_code == 400


def test_show_is_case_insensitive_like_ollama(
    ollama_double: OllamaDouble, ollama_store: Path
) -> None:
    add_model(ollama_store, "hf.co/Org/Repo:Q4_K_M", LLAMA31_8B)
    c = _client(ollama_double)
    assert "hf.co/Org/Repo:Q4_K_M" in [m.model for m in c.list().models]
    assert c.show("HF.CO/org/repo:q4_k_m").details.family == "llama"


def test_importing_the_source_does_not_import_ollama() -> None:
    code = (
        "import sys, ctxfix.sources.server; print('ollama' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_blob_is_a_404_for_that_model_only(
    ollama_double: OllamaDouble, ollama_store: Path
) -> None:
    manifest = ollama_store / "manifests/registry.ollama.ai/library/llama3.1/8b"
    doc = json.loads(manifest.read_bytes())
    (ollama_store / "blobs" / doc["layers"][0]["digest"].replace(":", "-")).unlink()
    scan = scan_host(ollama_double.url)
    assert len(scan.models) == 3
    assert [str(w) for w in scan.warnings] == [
        f"{ollama_double.url}: /api/show llama3.1:8b: HTTP 404: model 'llama3.1:8b' not found"
    ]


def test_header_only_gguf_is_read_like_ollama(ollama_store: Path) -> None:
    # store fixtures often keep only the GGUF header: Ollama (and the double) never read tensor data
    manifest = ollama_store / "manifests/registry.ollama.ai/library/qwen3-coder/30b"
    doc = json.loads(manifest.read_bytes())
    blob = ollama_store / "blobs" / doc["layers"][0]["digest"].replace(":", "-")
    blob.write_bytes(blob.read_bytes()[:-64])  # drop the tensor data
    with OllamaDouble(ollama_store) as srv:
        scan = scan_host(srv.url)
    by = {m.name: m for m in scan.models}
    assert scan.warnings == []
    assert by["qwen3-coder:30b"].geometry is not None
    assert by["qwen3-coder:30b"].geometry.context_length == 262144
