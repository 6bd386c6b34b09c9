"""Vision models run with at least 2,048 tokens, seen through the store and the server.

Why: server/sched.go getRunner raises num_ctx below 2,048 for a model with
the vision capability (from v0.11.5); the capability comes from a projector
layer (server/images.go projectorCapabilities). A user who set num_ctx 1024
on a llava-style model is served 2,048, and ctxfix must say so whether it
reads the store or asks the server (/api/show `capabilities`).
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import run_ctxfix
from ollama_fixtures import LLAMA31_8B, add_model
from ollama_server import OllamaDouble


def served(report: dict, name: str) -> int:
    return next(m["served_ctx"] for m in report["models"] if m["name"] == name)


def test_vision_floor_from_store_and_server(tmp_path: Path) -> None:
    store = tmp_path / "models"
    add_model(store, "llava:7b", LLAMA31_8B, params={"num_ctx": 1024}, projector=True)
    add_model(store, "tiny:1b", LLAMA31_8B, params={"num_ctx": 1024})
    cwd = tmp_path / "p"
    (cwd / ".git").mkdir(parents=True)
    offline = run_ctxfix(
        "scan",
        "--format",
        "json",
        "--no-server",
        "--no-user",
        "--store",
        str(store),
        "--ollama-version",
        "0.12.3",
        cwd=cwd,
    )
    assert offline.returncode in (0, 1), offline.stderr
    report = json.loads(offline.stdout)
    assert served(report, "llava:7b") == 2048 and served(report, "tiny:1b") == 1024
    with OllamaDouble(store, version="0.12.3") as double:
        live = run_ctxfix(
            "scan", "--format", "json", "--host", double.url, "--no-user", "--no-store", cwd=cwd
        )
    assert live.returncode in (0, 1), live.stderr
    report = json.loads(live.stdout)
    assert served(report, "llava:7b") == 2048 and served(report, "tiny:1b") == 1024
