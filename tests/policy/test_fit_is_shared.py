"""`estimate` and `scan` give the same fit for the same model, budget and environment.

Regression (issue 10): with OLLAMA_KV_CACHE_TYPE=q8_0 OLLAMA_FLASH_ATTENTION=1,
`estimate` said 63,488 tokens fit and `scan` said 119,808, because estimate
ignored the environment's cache type.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_apply_demo import DEMO, run_cli

from ctxfix.policy.fit import parse_bool, parse_uint, server_memory_config

STORE = DEMO / "store"


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_FLASH_ATTENTION": "1"},
        {"OLLAMA_KV_CACHE_TYPE": "q4_0", "OLLAMA_FLASH_ATTENTION": "true"},
        {"OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_FLASH_ATTENTION": "0"},
        {"OLLAMA_NUM_PARALLEL": "2"},
    ],
    ids=["default", "q8_0", "q4_0", "q8_0-no-fa", "parallel-2"],
)
def test_estimate_and_scan_agree(env, monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for k in ("OLLAMA_KV_CACHE_TYPE", "OLLAMA_FLASH_ATTENTION", "OLLAMA_NUM_PARALLEL"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    common = ["--store", str(STORE), "--no-server", "--memory", "20GiB"]
    code, out, err = run_cli(capsys, "estimate", "qwen3-coder:30b", "--format", "json", *common)
    assert code == 0, err
    est = json.loads(out)
    code, out, err = run_cli(capsys, "scan", "--format", "json", *common, str(tmp_path))
    report = json.loads(out)
    (f,) = [
        f for f in report["findings"] if f["code"] == "CTX302" and f["model"] == "qwen3-coder:30b"
    ]
    assert est["max_fitting_ctx"] == f["data"]["max_fitting_ctx"]
    assert f["data"]["max_fitting_ctx"] < 262144


def test_env_values_parse_like_ollama() -> None:
    assert parse_bool("1") is True and parse_bool("false") is False and parse_bool(None) is None
    assert parse_bool("off") is True  # envconfig.BoolWithDefault: unparsable counts as true
    assert parse_uint("8192") == 8192 and parse_uint(" '8192' ") == 8192
    assert parse_uint("-1") is None and parse_uint("+8192") is None and parse_uint("8_192") is None
    assert parse_uint("' 8192 '") is None  # inner spaces survive envconfig.Var
    cfg = server_memory_config(
        {"OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_NUM_PARALLEL": "4"}, parallel=None
    )
    assert (cfg.parallel, cfg.cache_type, cfg.flash_attention) == (4, "q8_0", None)
    assert server_memory_config({"OLLAMA_NUM_PARALLEL": "4"}, parallel=1).parallel == 1
