"""Canaries: a secret planted in every config format ctxfix reads never appears in its output.

Secrets are planted the hard ways (issue 11): a JSON5 string continued over
two lines, a TOML multi-line string, a YAML folded block, and keys a
line-pattern would miss (`X-Auth`, `Cookie`, `openaiKey`, `ANTHROPIC_KEY`,
`openai_key`), in every agent fixture, in a compose file, and as the
credentials of server URLs. Then every output is collected (scan in all four
formats, `--output`, the dry-run diff, apply, history, rollback, an error)
and every file ctxfix wrote is read: no canary may appear anywhere, except in
the configs themselves and the journal's backups of them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from ollama_server import OllamaDouble
from test_apply_demo import run_cli
from test_apply_golden import CONFIGS, store_template  # noqa: F401  (fixture)

CANARY = "CANARYq7z"  # every planted secret contains it; never printed whole or in part
ROOT = Path(__file__).resolve().parent.parent


def _plant(path: Path, n: int) -> None:
    text = path.read_text(encoding="utf-8")
    c = f"{CANARY}{n:02d}"
    if path.suffix in (".json", ".jsonc", ".json5"):
        i = text.index("{") + 1
        extra = (
            f'\n  "X-Auth": "{c}-xauth-0001",\n  "Cookie": "session={c}-cookie-0001",\n'
            f'  "openaiKey": "{c}-openaikey-01",\n'
            f'  "X-Api-Keys": ["{c}-in-a-list-01"],\n'
        )
        if "openclaw" in path.name:  # JSON5: a string continued over two lines
            extra += f'  apiTokenLong: "{c}-line-one-aaaa\\\n{c}-line-two-bbbb",\n'
        text = text[:i] + extra + text[i:]
    elif path.suffix in (".yaml", ".yml"):
        if text.lstrip().startswith("-"):  # a list document (aider settings): skip
            return
        text += (
            f"ANTHROPIC_KEY: {c}-anthropic-01\nsession_cookie: >-\n"
            f"  {c}-folded-one-aaaa\n  {c}-folded-two-bbbb\n"
        )
    elif path.suffix == ".toml":
        text = (
            f'openai_key = """\n{c}-toml-line-one-a\n{c}-toml-line-two-b"""\n'
            f'password = "{c}-pw-00000001"\n' + text
        )
    else:
        return
    path.write_text(text, encoding="utf-8")


def _leaks(text: str) -> list[str]:
    return sorted(set(re.findall(CANARY + r"[^\s\"',]*", text)))


@pytest.fixture
def planted(store_template: Path, tmp_path: Path, monkeypatch) -> tuple[Path, list[Path]]:  # noqa: F811
    work = tmp_path / "configs"
    shutil.copytree(CONFIGS, work)
    files = [p for p in sorted(work.rglob("*")) if p.is_file()]
    for n, p in enumerate(files):
        _plant(p, n)
    (work / "compose.yaml").write_text(
        "services:\n  ollama:\n    image: ollama/ollama:0.12.3\n    environment:\n"
        f"      - OLLAMA_HOST=http://admin:{CANARY}-compose-pw@0.0.0.0:11434\n"
        f"      - API_TOKEN={CANARY}-compose-token\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("OPENAI_API_KEY", f"{CANARY}-process-env")
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.chdir(tmp_path)
    return work, [*files, work / "compose.yaml"]


def test_no_output_and_no_written_file_shows_a_secret(
    planted,
    store_template: Path,  # noqa: F811  (the fixture, imported)
    tmp_path: Path,
    capsys,
) -> None:
    _work, configs = planted
    originals = {p: p.read_bytes() for p in configs}
    store = tmp_path / "models"
    shutil.copytree(store_template, store)
    outputs: list[str] = []
    with OllamaDouble(store) as srv:
        host = srv.url.replace("http://", f"http://admin:{CANARY}-url-pw@")
        opts = ["--host", host, "--no-user", "--isolated", "--prefill-tps", "400", "configs"]
        for fmt in ("text", "json", "sarif", "github"):
            code, out, err = run_cli(capsys, "scan", "--format", fmt, *opts)
            assert code in (0, 1), err
            outputs.append(out + err)
        code, out, err = run_cli(capsys, "scan", "--format", "json", "-o", "report.json", *opts)
        outputs.append(out + err + (tmp_path / "report.json").read_text(encoding="utf-8"))
        code, out, err = run_cli(capsys, "apply", "--dry-run", *opts)
        assert "--- a/" in out  # the diffs show context around the planted lines
        outputs.append(out + err)
        code, out, err = run_cli(capsys, "apply", "--yes", "--out-dir", "mf", *opts)
        assert code == 0, out + err
        outputs.append(out + err)
        for args in (["history"], ["rollback", "--last", "--dry-run"], ["rollback", "--last"]):
            code, out, err = run_cli(capsys, *args)
            outputs.append(out + err)
        code, out, err = run_cli(capsys, "scan", "--host", f"http://admin:{CANARY}-bad@[::1")
        assert code == 2
        outputs.append(out + err)
    leaks = {i: _leaks(o) for i, o in enumerate(outputs) if _leaks(o)}
    assert leaks == {}
    # files ctxfix wrote: only a config itself and the journal's backups of it hold secrets
    for p in sorted(tmp_path.rglob("*")):
        if not p.is_file() or p in originals or "backups" in p.parts or "models" in p.parts:
            continue
        assert not _leaks(p.read_text(encoding="utf-8", errors="replace")), p
    assert {p: p.read_bytes() for p in configs} == originals  # rollback restored them


def test_a_config_that_does_not_parse_does_not_leak_through_the_error(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """ruamel's duplicate-key error quotes both values; the warning must not."""
    cfg = tmp_path / "repo" / "config.yaml"
    cfg.parent.mkdir()
    cfg.write_text(
        "models:\n  - provider: ollama\n    model: qwen3:8b\n"
        f"    apiKey: {CANARY}-first-value\n    apiKey: {CANARY}-second-value\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for fmt in ("text", "json"):
        _code, out, err = run_cli(
            capsys,
            "scan",
            "--no-server",
            "--no-user",
            "--no-store",
            "--format",
            fmt,
            str(cfg.parent),
        )
        assert "duplicate key" in err  # the warning is there, without the values
        assert _leaks(out + err) == []
