"""Settings files: found up the tree, validated with key paths, cached, overridden by flags;
and inline `ctxfix: ignore[...]` comments honoured end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctxfix.commands._options import build_settings
from ctxfix.config_file import find_settings_file, load_settings_file
from ctxfix.errors import CtxfixError
from ctxfix.settings_schema import CACHE_SUBDIR, validate

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"


def _ctxfix(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CTXFIX_CACHE_DIR=str(cwd / ".cache"), NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "ctxfix", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _demo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # stops the upward search
    for name in ("Modelfile", "openclaw.json"):
        shutil.copy(DEMO / name, tmp_path / name)
    return tmp_path


def test_wrong_type_is_rejected_naming_its_key_path_and_line(tmp_path: Path) -> None:
    work = _demo(tmp_path)
    (work / ".ctxfix.yaml").write_text("memory: 64GiB\nparallel: two\n", encoding="utf-8")
    proc = _ctxfix(work, "scan", "--no-server", "--no-user", "--no-store")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(".ctxfix.yaml:2:1: parallel: 'two' is not of type 'integer'")
    assert lines[0].startswith("ctxfix: error: ")
    assert proc.stdout == ""


def test_one_error_per_problem_each_with_its_key_path(tmp_path: Path) -> None:
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("ignore: [CTX202, nope]\nkv_cache_type: q5\n", encoding="utf-8")
    with pytest.raises(CtxfixError) as exc:
        load_settings_file(cfg)
    assert exc.value.lines() == [
        f"{cfg}:1:18: ignore[1]: 'nope' does not match '^(ALL|CTX[0-9]{{0,3}})$'",
        f"{cfg}:2:1: kv_cache_type: 'q5' is not one of ['f16', 'q8_0', 'q4_0', 'f32', 'bf16']",
    ]


def test_pyproject_tool_table_key_paths(tmp_path: Path) -> None:
    py = tmp_path / "pyproject.toml"
    py.write_text('[project]\nname = "x"\n\n[tool.ctxfix]\nprefill_tps = "fast"\n')
    assert find_settings_file([tmp_path]) == py
    with pytest.raises(CtxfixError, match=r"tool\.ctxfix\.prefill_tps: 'fast' is not of type"):
        load_settings_file(py)


def test_nearest_settings_file_up_the_tree_wins(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.ctxfix]\nparallel = 1\n")
    sub = tmp_path / "deploy" / "ollama"
    sub.mkdir(parents=True)
    (tmp_path / "deploy" / ".ctxfix.yaml").write_text("parallel: 2\n")
    assert find_settings_file([sub]) == tmp_path / "deploy" / ".ctxfix.yaml"
    assert find_settings_file([tmp_path]) == tmp_path / "pyproject.toml"


def test_command_line_flags_override_the_settings_file(tmp_path: Path) -> None:
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("parallel: 2\nprefill_tps: 400\nselect: [CTX3]\nkv_cache_type: q8_0\n")
    opts = {"config_file": cfg, "parallel": 4, "prefill_tps": None, "kv_cache_type": None}
    s = build_settings((), opts, select=("CTX101",))
    assert s.parallel == 4 and s.select == ("CTX101",)  # flags win
    assert s.prefill_tps == 400 and s.kv_cache_type == "q8_0"  # file fills the rest


def test_log_settings_logs_no_log_and_since(tmp_path: Path, monkeypatch) -> None:
    """`logs` (relative to the file), `no_log`, `since` (an unquoted YAML date too)."""
    monkeypatch.setenv("CTXFIX_NO_SETTINGS_CACHE", "1")
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("logs: [logs/server.log, '-']\nno_log: true\nsince: 2026-11-24\n")
    s = build_settings((), {"config_file": cfg})
    assert s.logs == (str(tmp_path / "logs" / "server.log"), "-")
    assert s.no_log is True and s.since == "2026-11-24"
    s = build_settings((), {"config_file": cfg, "logs": ("x.log",), "since": "24h"})
    assert s.logs == ("x.log",) and s.no_log is False and s.since == "24h"  # flags win
    cfg.write_text("since: yesterday\n")
    with pytest.raises(CtxfixError) as exc:
        build_settings((), {"config_file": cfg})
    assert exc.value.where.endswith(".ctxfix.yaml:1:1: since")
    assert "invalid duration or date 'yesterday'" in exc.value.problem


def test_settings_select_applies_and_the_flag_overrides_it(tmp_path: Path) -> None:
    work = _demo(tmp_path)
    (work / ".ctxfix.yaml").write_text("select: [CTX301]\n")
    base = ["scan", "--no-server", "--no-user", "--no-store", "--format", "json"]
    codes = {f["code"] for f in json.loads(_ctxfix(work, *base).stdout)["findings"]}
    assert codes == {"CTX301"}
    proc = _ctxfix(work, *base, "--select", "CTX101")
    assert {f["code"] for f in json.loads(proc.stdout)["findings"]} == {"CTX101"}


# ------------------------------------------------------------------ validation cache


def test_a_valid_file_is_validated_once_then_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTXFIX_NO_SETTINGS_CACHE", raising=False)
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("parallel: 2\n")
    cache = tmp_path / "cache"
    validate({"parallel": 2}, cfg, cache_dir=cache)
    assert len(list((cache / CACHE_SUBDIR).iterdir())) == 1
    # A hit must not even import jsonschema (that import is the cost being saved).
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    validate({"parallel": 2}, cfg, cache_dir=cache)
    # Any byte change is a miss: with jsonschema unavailable it now fails to import.
    cfg.write_text("parallel: 3\n")
    with pytest.raises(ImportError):
        validate({"parallel": 3}, cfg, cache_dir=cache)


def test_invalid_files_are_never_cached(tmp_path: Path) -> None:
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("parallel: two\n")
    cache = tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(CtxfixError):
            validate({"parallel": "two"}, cfg, cache_dir=cache)
    assert not (cache / CACHE_SUBDIR).exists()


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("parallel: 2\n")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache dir should be")
    validate({"parallel": 2}, cfg, cache_dir=blocker)  # no exception


# ------------------------------------------------------------------ inline suppression


def test_inline_ignores_in_json5_agent_config_and_modelfile(tmp_path: Path) -> None:
    work = _demo(tmp_path)
    base = ["scan", "--no-server", "--no-user", "--no-store", "--format", "json"]
    before = {f["code"] for f in json.loads(_ctxfix(work, *base).stdout)["findings"]}
    assert {"CTX101", "CTX301"} <= before

    oc = work / "openclaw.json"
    oc.write_text(
        oc.read_text().replace(
            "timeoutSeconds: 300,", "timeoutSeconds: 300, // ctxfix: ignore[CTX301]"
        )
    )
    mf = work / "Modelfile"
    mf.write_text("# ctxfix: ignore[CTX101] capped on purpose: 32 GB box\n" + mf.read_text())
    proc = _ctxfix(work, *base)
    after = {f["code"] for f in json.loads(proc.stdout)["findings"]}
    assert after == before - {"CTX101", "CTX301"}
    assert proc.returncode == 0


def test_inline_ignore_in_a_yaml_agent_config(tmp_path: Path) -> None:
    work = _demo(tmp_path)
    (work / "openclaw.json").unlink()
    (work / "config.yaml").write_text(
        "name: local\nversion: 0.0.1\nschema: v1\nmodels:\n"
        "  - name: qwen\n    provider: ollama\n    model: qwen3-coder:30b\n"
        "    defaultCompletionOptions:\n      contextLength: 32768\n"
    )
    base = ["scan", "--no-server", "--no-user", "--format", "json", "config.yaml"]
    before = json.loads(_ctxfix(work, *base).stdout)
    assert before["agents"], "the Continue reader should pick up config.yaml"
    codes = sorted(
        {f["code"] for f in before["findings"] if f["location"]["file"] == "config.yaml"}
    )
    if not codes:
        pytest.skip("no finding on this config in the current rule set")
    cfg = work / "config.yaml"
    cfg.write_text(f"# ctxfix: ignore[{','.join(codes)}]\n" + cfg.read_text())
    after = json.loads(_ctxfix(work, *base).stdout)
    assert not [f for f in after["findings"] if f["location"]["file"] == "config.yaml"]


def test_a_cache_hit_skips_the_yaml_parse_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTXFIX_NO_SETTINGS_CACHE", raising=False)
    monkeypatch.setenv("CTXFIX_CACHE_DIR", str(tmp_path / "cache"))
    cfg = tmp_path / ".ctxfix.yaml"
    cfg.write_text("parallel: 2\nper_path_ignores:\n  'legacy/*': [CTX1]\n")
    first = load_settings_file(cfg)
    monkeypatch.setitem(sys.modules, "ruamel.yaml", None)
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    assert (
        load_settings_file(cfg)
        == first
        == {
            "parallel": 2,
            "per_path_ignores": {"legacy/*": ["CTX1"]},
        }
    )
