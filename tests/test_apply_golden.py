"""`apply` on every agent fixture: byte-exact golden outputs, then rollback to the original.

For each fixtures/configs/<agent>/ a copy is fixed against one loopback
Ollama double whose store holds every model those configs name (natives:
qwen3-coder 262,144; qwen2.5-coder 32,768; the others 131,072; a few capped).
The expected files live in fixtures/golden/<agent>/ with the same relative
paths; a config that must not change has no golden file, and the test checks
the set of changed files equals the set of golden files.

Regenerate after a deliberate change with CTXFIX_UPDATE_GOLDEN=1 and review
the diff (`git diff fixtures/golden`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from ollama_fixtures import LLAMA31_8B, QWEN3_CODER_30B, QWEN25_CODER_32B, add_model
from ollama_server import OllamaDouble
from sqlite_fixtures import build_databases, dump
from test_apply_demo import run_cli

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "fixtures" / "configs"
GOLDEN = ROOT / "fixtures" / "golden"
AGENTS = sorted(p.name for p in CONFIGS.iterdir() if p.is_dir())
UPDATE = bool(os.environ.get("CTXFIX_UPDATE_GOLDEN"))

# name -> (arch, params): what the fixtures reference, some capped below native
STORE_MODELS = {
    "qwen3-coder:30b": (QWEN3_CODER_30B, {"num_ctx": 65536}),
    "qwen3-coder:30b-262k": (QWEN3_CODER_30B, {"num_ctx": 262144}),
    "qwen3.5:9b": (LLAMA31_8B, None),
    "llama3.3:70b": (LLAMA31_8B, {"num_ctx": 32768}),
    "llama3.1:8b": (LLAMA31_8B, None),
    "llama3.2:3b": (LLAMA31_8B, {"num_ctx": 131072}),
    "devstral:24b": (LLAMA31_8B, {"num_ctx": 32768}),
    "devstral:latest": (LLAMA31_8B, None),
    "gpt-oss:20b": (LLAMA31_8B, {"num_ctx": 131072}),
    "gpt-oss:120b": (LLAMA31_8B, {"num_ctx": 131072}),
    "deepseek-r1:7b": (LLAMA31_8B, {"num_ctx": 65536}),
    "gemma3:27b": (LLAMA31_8B, {"num_ctx": 131072}),
    "qwen2.5-coder:32b": (QWEN25_CODER_32B, {"num_ctx": 32768}),
    "qwen2.5-coder:7b": (QWEN25_CODER_32B, {"num_ctx": 32768}),
    "qwen2.5-coder:1.5b-base": (QWEN25_CODER_32B, {"num_ctx": 32768}),
}


@pytest.fixture(scope="module")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden-store") / "models"
    for name, (arch, params) in STORE_MODELS.items():
        add_model(root, name, arch, params=params)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("agent", AGENTS)
def test_apply_matches_golden_and_rolls_back(
    agent: str, store_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    work = tmp_path / agent
    shutil.copytree(CONFIGS / agent, work)
    build_databases(work)
    store = tmp_path / "models"
    shutil.copytree(store_template, store)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    original = _files(work)
    with OllamaDouble(store) as srv:
        opts = ["--host", srv.url, "--no-user", "--isolated", "--prefill-tps", "400", agent]
        code, out, err = run_cli(capsys, "apply", "--yes", *opts)
        assert code == 0, out + err
        after = _files(work)
        assert set(after) == set(original)  # no file created or removed
        # a database is compared as its SQL dump, kept in the golden dir as `<name>.sql`
        changed = {
            (k + ".sql" if k.endswith(".db") else k): (dump(v) if k.endswith(".db") else v)
            for k, v in after.items()
            if v != original[k]
        }
        golden_dir = GOLDEN / agent
        if UPDATE:
            shutil.rmtree(golden_dir, ignore_errors=True)
            for rel, data in changed.items():
                (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (golden_dir / rel).write_bytes(data)
        expected = _files(golden_dir) if golden_dir.is_dir() else {}
        assert set(changed) == set(expected), f"changed {sorted(changed)}"
        for rel, data in expected.items():
            assert changed[rel] == data, f"{agent}/{rel} differs from its golden file"

        code, out, err = run_cli(capsys, "apply", "--dry-run", *opts)
        assert code == 0, f"second apply still pending:\n{out}{err}"

        code, out, err = run_cli(capsys, "rollback", "--last")
        assert code == 0, err
        assert _files(work) == original
        assert "kept model" not in out
