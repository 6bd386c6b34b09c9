"""The README is a rendering too: every console example is a real run, checked here.

Each ```console block of README.md is a sequence of `$ ctxfix ...` commands
and the output a user sees (stderr lines, then stdout). The block runs in a
fresh copy of `fixtures/` (as the README's paths name them) with HOME and the
journal directory in a temporary folder. A block whose commands need a live
server (`apply`, `rollback` or `verify` without `--no-server`) runs against the loopback
Ollama double serving the demo store, reached through OLLAMA_HOST.

Normalised before comparing, in expected and actual alike: the temporary
checkout -> `/home/me/ctxfix`, the double's URL -> `http://127.0.0.1:11434`,
apply ids -> `<ID>`, verify's elapsed seconds -> `<T>`, trailing spaces.

`CTXFIX_UPDATE_README=1 pytest tests/docs/test_readme.py` rewrites the
outputs in README.md from real runs; review the diff.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
UPDATE = bool(os.environ.get("CTXFIX_UPDATE_README"))
HOME_SHOWN = "/home/me/ctxfix"
URL_SHOWN = "http://127.0.0.1:11434"
_ID = re.compile(r"\b\d{8}T\d{6}-\d{6}-[0-9a-f]{6}\b")
_BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.S | re.M)
_ELAPSED = re.compile(r"(prompt tokens), \d+(?:\.\d+)? s$", re.M)  # verify's wall time


@dataclass
class Step:
    command: str
    expected: str


@dataclass
class Block:
    start: int  # offset of the block body in README.md
    end: int
    steps: list[Step]

    @property
    def needs_server(self) -> bool:
        return any(
            re.search(r"\bctxfix (apply|rollback|verify)\b", s.command)
            and "--no-server" not in s.command
            for s in self.steps
        )


def blocks(text: str) -> list[Block]:
    out = []
    for m in _BLOCK.finditer(text):
        steps: list[Step] = []
        for line in m.group(1).splitlines():
            if line.startswith("$ "):
                steps.append(Step(line[2:], ""))
            elif steps:
                steps[-1].expected += line + "\n"
        out.append(Block(m.start(1), m.end(1), steps))
    return out


def normalise(text: str, root: Path, url: str | None, ids: bool = True) -> str:
    text = text.replace(str(root), HOME_SHOWN)
    if url:
        text = text.replace(url, URL_SHOWN)
    if ids:
        text = _ID.sub("<ID>", text)
        text = _ELAPSED.sub(r"\1, <T> s", text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"


def run_block(block: Block, tmp: Path, monkeypatch, capsys) -> list[str]:
    from test_apply_demo import run_cli

    root = tmp / "ctxfix"
    shutil.copytree(ROOT / "fixtures", root / "fixtures")
    monkeypatch.setenv("HOME", str(tmp / "home"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp / "state"))
    monkeypatch.setenv("CTXFIX_CACHE_DIR", str(tmp / "cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.chdir(root)
    outputs: list[str] = []

    def run_all(url: str | None) -> None:
        for step in block.steps:
            argv = shlex.split(step.command)
            assert argv[0] == "ctxfix", step.command
            _code, out, err = run_cli(capsys, *argv[1:])
            outputs.append(normalise(err + out, root, url, ids=not UPDATE))

    if block.needs_server:
        from ollama_server import OllamaDouble

        with OllamaDouble(root / "fixtures" / "demo" / "store") as srv:
            monkeypatch.setenv("OLLAMA_HOST", srv.url)
            run_all(srv.url)
    else:
        run_all(None)
    return outputs


TEXT = README.read_text(encoding="utf-8")
BLOCKS = blocks(TEXT)


def test_readme_starts_with_the_title_and_the_two_commands() -> None:
    lines = TEXT.splitlines()
    assert lines[0].startswith("# ctxfix")
    commands = [line.strip() for line in lines[1:6] if line.strip()]
    assert commands[0].endswith("ctxfix scan fixtures/demo --no-server --no-user")
    assert commands[1].endswith("pip install -q -e '.[test]' && pytest -q")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == commands[1]


def test_there_are_console_examples() -> None:
    assert len(BLOCKS) >= 3  # the check below cannot pass by finding nothing


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_console_example_is_a_real_run(index: int, tmp_path: Path, monkeypatch, capsys) -> None:
    block = BLOCKS[index]
    outputs = run_block(block, tmp_path, monkeypatch, capsys)
    if UPDATE:
        body = "".join(
            f"$ {s.command}\n{out}" + ("\n" if i < len(block.steps) - 1 else "")
            for i, (s, out) in enumerate(zip(block.steps, outputs, strict=True))
        )
        text = README.read_text(encoding="utf-8")
        old = TEXT[block.start : block.end]  # as collected (earlier blocks may have moved)
        new_text = text.replace(old, body, 1)
        README.write_text(new_text, encoding="utf-8")
        return
    for step, out in zip(block.steps, outputs, strict=True):
        assert normalise(out, ROOT, None) == normalise(step.expected, ROOT, None), (
            f"$ {step.command}"
        )
