"""Bad input end to end: one line, exit 2, no traceback, nothing written.

Why through the real CLI in a subprocess: the promise is about what a user
sees in a terminal (stderr, exit code, files on disk), and only a real process
shows an escaped traceback, a second stderr line or a cache/journal file
written before the error. Each case builds its files in `tmp_path` (which is
also HOME, the cwd, and holds ctxfix's cache and state dirs, so any write
shows up in the before/after tree), runs `python -m ctxfix`, and checks:

- input the user NAMED (a path argument, `--store`, `--config`, a settings
  file, a flag): exit 2, stderr exactly one `ctxfix: error: ` line naming the
  file (with `:line:col` where the format has positions) and the problem;
- input found while WALKING a directory: one `ctxfix: warning: ` line naming
  the file, the scan goes on (a good Modelfile next to it is still reported)
  and the exit code follows the findings.

The misbehaving-server case for `apply --yes` (HTTP 500 on /api/create) is
covered by tests/test_apply_faults.py::test_server_error_during_create_changes_nothing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError

ROOT = Path(__file__).resolve().parent.parent
GGUF = ROOT / "fixtures" / "gguf" / "qwen3-coder-30b.gguf"
DEMO_STORE = ROOT / "fixtures" / "demo" / "store"
NO_IO = ("--no-server", "--no-user")

# A Modelfile that always yields a finding offline (CTX101 via the catalog):
# the walking cases use it to prove the scan went on past the broken file.
GOOD_MODELFILE = "FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n"


@cache
def gguf_bytes() -> bytes:
    return GGUF.read_bytes()


def truncated_gguf() -> bytes:
    return gguf_bytes()[:100]


def bad_magic_gguf() -> bytes:
    return b"GGUX" + gguf_bytes()[4:]


# --- files in real formats with one mistake each (position noted) -------------

OPENCLAW_BAD = (  # JSON5: missing comma after baseUrl's value, line 4 col 43
    "{\n"
    "  models: {\n"
    "    providers: {\n"
    '      ollama: { baseUrl: "http://x:11434" api: "ollama" },\n'
    "    },\n"
    "  },\n"
    "}\n"
)
OPENCODE_BAD = (  # JSONC: never closed (EOF at line 7 col 1)
    "{\n"
    '  "$schema": "https://opencode.ai/config.json",\n'
    '  "provider": {\n'
    '    "ollama": {\n'
    '      "models": { "qwen3-coder:30b": { "limit": { "context": 8192, } } }\n'
    "    }\n"
)
ZED_BAD = (  # JSONC: missing comma between "name" and "max_tokens", line 6 col 42
    "// Zed settings\n"
    "{\n"
    '  "language_models": {\n'
    '    "ollama": {\n'
    '      "api_url": "http://localhost:11434",\n'
    '      "available_models": [{ "name": "x" "max_tokens": 4096 }],\n'
    "    },\n"
    "  },\n"
    "}\n"
)
CONTINUE_BAD = (  # YAML: key indented one space too few, line 8 col 4
    "name: Local\n"
    "version: 0.0.1\n"
    "schema: v1\n"
    "models:\n"
    "  - name: Qwen\n"
    "    provider: ollama\n"
    "    model: qwen3-coder:30b\n"
    "   defaultCompletionOptions:\n"
    "      contextLength: 32768\n"
)
LITELLM_BAD = (  # YAML: unterminated quoted scalar, reported at EOF line 6 col 1
    "model_list:\n"
    "  - model_name: qwen\n"
    "    litellm_params:\n"
    "      model: ollama_chat/qwen3-coder:30b\n"
    '      api_base: "http://localhost:11434\n'
)
AIDER_BAD = (  # YAML: unclosed flow sequence, EOF line 4 col 1
    "- name: ollama_chat/qwen3-coder:30b\n  extra_params:\n    num_ctx: [65536\n"
)
CODEX_BAD = (  # TOML: unquoted URL, line 6 col 12
    'model = "qwen3-coder:30b"\n'
    'model_provider = "ollama"\n'
    "\n"
    "[model_providers.ollama]\n"
    'name = "Ollama"\n'
    "base_url = http://localhost:11434/v1\n"
)
OPENCLAW_LATIN1 = (  # a Latin-1 "é" (byte 0xE9) in a string: not UTF-8, byte offset 34
    b'{\n  models: { providers: { x: "caf\xe9" } },\n}\n'
)


@dataclass(frozen=True)
class Fatal:
    """Input the user named: exit 2 and one error line per problem (usually one)."""

    id: str
    files: dict[str, str | bytes]
    argv: tuple[str, ...]
    where: str  # the line must start with `ctxfix: error: <where>`
    problem: str  # ...and contain this (case-insensitive)
    dirs: tuple[str, ...] = ()
    problems: int = 1  # an invalid settings file reports every violation, a line each


FATAL: list[Fatal] = [
    Fatal(
        "gguf-truncated",
        {"model.gguf": truncated_gguf()},
        ("scan", "model.gguf"),
        "model.gguf",
        "byte offset",
    ),
    Fatal(
        "gguf-bad-magic",
        {"model.gguf": bad_magic_gguf()},
        ("scan", "model.gguf"),
        "model.gguf",
        "not a GGUF file",
    ),
    Fatal("gguf-empty", {"empty.gguf": b""}, ("scan", "empty.gguf"), "empty.gguf", "byte offset 0"),
    Fatal(
        "modelfile-unterminated-triple-quote",
        {"Modelfile": 'FROM qwen3-coder:30b\nSYSTEM """You are\nhelpful.\n'},
        ("scan", "Modelfile"),
        "Modelfile:2",
        "unexpected EOF",
    ),
    Fatal(
        "modelfile-unknown-instruction",
        {"Modelfile": "FROM qwen3-coder:30b\nPARAMTER num_ctx 4096\n"},
        ("scan", "Modelfile"),
        "Modelfile:2",
        "command must be one of",
    ),
    Fatal(
        "modelfile-no-from",
        {"Modelfile": "# just parameters\nPARAMETER num_ctx 4096\n"},
        ("scan", "Modelfile"),
        "Modelfile",
        "no FROM line",
    ),
    Fatal("modelfile-empty", {"Modelfile": ""}, ("scan", "Modelfile"), "Modelfile", "no FROM line"),
    Fatal(
        "openclaw-json5",
        {"openclaw.json": OPENCLAW_BAD},
        ("scan", "openclaw.json"),
        "openclaw.json:4:43",
        "expecting COMMA",
    ),
    Fatal(
        "opencode-jsonc",
        {"oc/opencode.json": OPENCODE_BAD},
        ("scan", "oc/opencode.json"),
        "oc/opencode.json:7:1",
        "EOF",
    ),
    Fatal(
        "zed-jsonc",
        {"z/.zed/settings.json": ZED_BAD},
        ("scan", "z/.zed/settings.json"),
        "z/.zed/settings.json:6:42",
        "expecting COMMA",
    ),
    Fatal(
        "continue-yaml",
        {"c/config.yaml": CONTINUE_BAD},
        ("scan", "c/config.yaml"),
        "c/config.yaml:8:4",
        "expected <block end>",
    ),
    Fatal(
        "litellm-yaml",
        {"l/config.yaml": LITELLM_BAD},
        ("scan", "l/config.yaml"),
        "l/config.yaml:6:1",
        "quoted scalar",
    ),
    Fatal(
        "aider-yaml",
        {".aider.model.settings.yml": AIDER_BAD},
        ("scan", ".aider.model.settings.yml"),
        ".aider.model.settings.yml:4:1",
        "flow sequence",
    ),
    Fatal(
        "codex-toml",
        {"codex/config.toml": CODEX_BAD},
        ("scan", "codex/config.toml"),
        "codex/config.toml:6:12",
        "invalid value",
    ),
    Fatal(
        "openclaw-empty",
        {"openclaw.json": ""},
        ("scan", "openclaw.json"),
        "openclaw.json:1:1",
        "empty document",
    ),
    Fatal(
        "openclaw-binary",
        {"openclaw.json": gguf_bytes()[:4096]},
        ("scan", "openclaw.json"),
        "openclaw.json",
        "not UTF-8",
    ),
    Fatal(
        "openclaw-invalid-utf8",
        {"openclaw.json": OPENCLAW_LATIN1},
        ("scan", "openclaw.json"),
        "openclaw.json",
        "byte offset 34",
    ),
    Fatal(
        "openclaw-control-character",
        {"openclaw.json": "{\n  models: {},\n  agents: \x01{},\n}\n"},
        ("scan", "openclaw.json"),
        "openclaw.json:3:11",
        "Illegal character",
    ),
    Fatal(
        "continue-yaml-invalid-utf8",
        {"c/config.yaml": b"name: caf\xe9\nmodels: []\n"},
        ("scan", "c/config.yaml"),
        "c/config.yaml",
        "not UTF-8",
    ),
    Fatal(
        "store-flag-not-a-store",
        {"Modelfile": GOOD_MODELFILE, "notstore/README": "hello\n"},
        ("scan", "--store", "notstore", "Modelfile"),
        "notstore",
        "not an Ollama model store",
    ),
    Fatal(
        "store-flag-missing",
        {"Modelfile": GOOD_MODELFILE},
        ("scan", "--store", "nostore", "Modelfile"),
        "nostore",
        "not found",
    ),
    Fatal(
        "store-flag-is-a-file",
        {"Modelfile": GOOD_MODELFILE},
        ("scan", "--store", "Modelfile", "Modelfile"),
        "Modelfile",
        "not",
    ),
    Fatal("path-missing", {}, ("scan", "nope/Modelfile"), "nope/Modelfile", "no such file"),
    Fatal(
        "settings-wrong-type",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "memory: 64GiB\nparallel: two\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml:2:1",
        "parallel: 'two' is not of type 'integer'",
    ),
    Fatal(
        "settings-two-problems",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "naming: k999\nprefill_tps: -3\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml:1:1",
        "naming: 'k999' is not one of ['k1000', 'k1024']",
        problems=2,
    ),
    # an infinite deadline overflowed the socket timeout (a traceback); NaN timed out at once
    Fatal("timeout-inf", {}, ("scan", "--server-timeout", "inf"), "--server-timeout", "above 0"),
    Fatal("timeout-nan", {}, ("scan", "--server-timeout=nan"), "--server-timeout", "above 0"),
    Fatal("timeout-zero", {}, ("scan", "--server-timeout", "0"), "--server-timeout", "above 0"),
    Fatal("prefill-zero", {}, ("apply", "--prefill-tps", "0"), "--prefill-tps", "above 0"),
    Fatal(
        "settings-timeout-yaml-inf",  # YAML's .inf passes the schema's exclusiveMinimum
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "server_timeout: .inf\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml:1:1: server_timeout",
        "not inf",
    ),
    Fatal("timeout-huge", {}, ("scan", "--server-timeout", "1e18"), "--server-timeout", "86,400"),
    Fatal(
        "verify-time-limit-inf",
        {},
        ("apply", "--dry-run", "--verify-time-limit", "inf"),
        "--verify-time-limit",
        "above 0",
    ),
    Fatal("verify-inf", {}, ("verify", "m", "--time-limit", "inf"), "--time-limit", "above 0"),
    Fatal(
        "rollback-timeout-inf",
        {},
        ("rollback", "--last", "--server-timeout", "inf"),
        "--server-timeout",
        "above 0",
    ),
    Fatal(
        "settings-timeout-400-digits",  # float() of it overflows
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": f"server_timeout: {'9' * 400}\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml:1:1: server_timeout",
        "a huge integer",
    ),
    Fatal(
        "settings-int-5000-digits",  # past Python's int conversion limit
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": f"parallel: {'9' * 5000}\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml",
        "4300 digits",
    ),
    Fatal(
        "openclaw-int-5000-digits",
        {"openclaw.json": f'{{"models": {{"providers": {{}}}}, "x": {"9" * 5000}}}'},
        ("scan", "openclaw.json"),
        "openclaw.json:1:1",
        "4300 digits",
    ),
    Fatal(
        "settings-bad-yaml",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "memory: [1\nstores:\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml:2:7",
        "invalid YAML",
    ),
    Fatal(
        "settings-not-a-mapping",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "- stores\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml",
        "must be a mapping",
    ),
    Fatal(
        "settings-bad-memory-value",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "prefill_tps: 400\nmemory: lots\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml:2:1",
        "memory: cannot read size 'lots'",
    ),
    Fatal(
        "settings-invalid-utf8",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": b"naming: caf\xe9\n"},
        ("scan", "Modelfile"),
        "{tmp}/.ctxfix.yaml",
        "can't decode byte 0xe9",
    ),
    Fatal(
        "pyproject-bad-toml",
        {
            "Modelfile": GOOD_MODELFILE,
            "pyproject.toml": '[project]\nname = "x"\n\n[tool.ctxfix]\nprefill_tps = fast\n',
        },
        ("scan", "Modelfile"),
        "{tmp}/pyproject.toml:5:15",
        "invalid TOML: Invalid value",
    ),
    Fatal(
        "config-flag-missing",
        {"Modelfile": GOOD_MODELFILE},
        ("scan", "--config", "nope.yaml", "Modelfile"),
        "nope.yaml",
        "not found",
    ),
    Fatal(
        "memory-flag",
        {"Modelfile": GOOD_MODELFILE},
        ("scan", "--memory", "notasize", "Modelfile"),
        "--memory",
        "'notasize'",
    ),
    Fatal(
        "estimate-truncated-gguf",
        {"model.gguf": truncated_gguf()},
        ("estimate", "model.gguf"),
        "model.gguf",
        "byte offset",
    ),
    Fatal(
        "estimate-missing-gguf",
        {},
        ("estimate", "missing.gguf"),
        "missing.gguf",
        "no such file",
    ),
    Fatal(
        "rollback-unknown-id",
        {},
        ("rollback", "20240101-000000-dead"),
        "",
        "no apply with id '20240101-000000-dead'",
    ),
    Fatal("explain-unknown-code", {}, ("explain", "CTX999"), "", "unknown rule code 'CTX999'"),
    Fatal(
        "apply-yes-malformed-config",
        {"Modelfile": GOOD_MODELFILE, "openclaw.json": OPENCLAW_BAD},
        ("apply", "--yes", "Modelfile", "openclaw.json"),
        "openclaw.json:4:43",
        "expecting COMMA",
    ),
    Fatal(
        "apply-yes-truncated-gguf",
        {"Modelfile": GOOD_MODELFILE, "model.gguf": truncated_gguf()},
        ("apply", "--yes", "Modelfile", "model.gguf"),
        "model.gguf",
        "byte offset",
    ),
    Fatal(
        "apply-yes-bad-settings",
        {"Modelfile": GOOD_MODELFILE, ".ctxfix.yaml": "target_ctx: 12\n"},
        ("apply", "--yes", "Modelfile"),
        "{tmp}/.ctxfix.yaml:1:1",
        "target_ctx",
    ),
]


@dataclass(frozen=True)
class Walk:
    """Input found while walking: a warning naming it; the scan goes on."""

    id: str
    files: dict[str, str | bytes]
    warn_where: str  # the warning line names this file (as the walk spells it)
    problem: str
    good: bool = True  # add GOOD_MODELFILE at the root: exit 1 and CTX101 in stdout
    argv: tuple[str, ...] = ("scan",)
    extra: dict[str, str] = field(default_factory=dict)


WALK: list[Walk] = [
    Walk(
        "gguf-truncated",
        {"models/model.gguf": truncated_gguf()},
        "models/model.gguf",
        "byte offset",
    ),
    Walk(
        "gguf-bad-magic", {"models/model.gguf": bad_magic_gguf()}, "models/model.gguf", "not a GGUF"
    ),
    Walk(
        "gguf-truncated-no-findings",
        {"models/model.gguf": truncated_gguf()},
        "models/model.gguf",
        "byte offset",
        good=False,
    ),
    Walk(
        "modelfile-unterminated",
        {"sub/Modelfile": 'FROM x\nTEMPLATE """{{ .Prompt }}\n'},
        "sub/Modelfile:2",
        "unexpected EOF",
    ),
    Walk("openclaw-json5", {"a/openclaw.json": OPENCLAW_BAD}, "a/openclaw.json:4:43", "COMMA"),
    Walk("opencode-jsonc", {"a/opencode.json": OPENCODE_BAD}, "a/opencode.json:7:1", "EOF"),
    Walk("zed-jsonc", {"a/.zed/settings.json": ZED_BAD}, "a/.zed/settings.json:6:42", "COMMA"),
    Walk("continue-yaml", {"a/config.yaml": CONTINUE_BAD}, "a/config.yaml:8:4", "block end"),
    Walk("litellm-yaml", {"a/config.yaml": LITELLM_BAD}, "a/config.yaml:6:1", "quoted scalar"),
    Walk(
        "aider-yaml",
        {"a/.aider.model.settings.yml": AIDER_BAD},
        "a/.aider.model.settings.yml:4:1",
        "flow sequence",
    ),
    Walk("codex-toml", {"a/config.toml": CODEX_BAD}, "a/config.toml:6:12", "Invalid value"),
    Walk("openclaw-binary", {"a/openclaw.json": gguf_bytes()[:4096]}, "a/openclaw.json", "UTF-8"),
    Walk("openclaw-invalid-utf8", {"a/openclaw.json": OPENCLAW_LATIN1}, "a/openclaw.json", "UTF-8"),
    Walk(
        "openclaw-int-5000-digits",
        {"a/openclaw.json": f'{{"x": {"9" * 5000}}}'},
        "a/openclaw.json",
        "4300 digits",
    ),
    Walk("openclaw-empty", {"a/openclaw.json": ""}, "a/openclaw.json:1:1", "empty document"),
]


# --- running the CLI ----------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def ctxfix(tmp: Path, *argv: str) -> Run:
    """`python -m ctxfix ARGV --no-server --no-user` with HOME, cwd, cache and state in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "CTXFIX_"))}
    env.update(
        # an empty home beside the project: a scan run from $HOME itself walks nothing
        HOME=str(tmp.parent / f"{tmp.name}-home"),
        CTXFIX_CACHE_DIR=str(tmp / ".ctxfix-cache"),
        CTXFIX_STATE_DIR=str(tmp / ".ctxfix-state"),
        NO_COLOR="1",
    )
    args = list(argv)
    if args[0] in ("scan", "apply", "estimate"):
        args[1:1] = NO_IO
    proc = subprocess.run(
        [sys.executable, "-m", "ctxfix", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def build(tmp: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8", newline="")


def tree(root: Path) -> dict[str, str]:
    """Every file and directory under root (incl. cache, state, journal) with its hash."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def one_error_line(run: Run, problems: int = 1) -> str:
    """The first error line; there must be exactly one line per problem."""
    assert "Traceback" not in run.err + run.out, run.err
    lines = run.err.splitlines()
    assert len(lines) == problems, f"expected {problems} stderr line(s), got:\n{run.err}"
    assert all(ln.startswith("ctxfix: error: ") for ln in lines), lines
    return lines[0]


# --- the tables ---------------------------------------------------------------


@pytest.mark.parametrize("case", FATAL, ids=[c.id for c in FATAL])
def test_named_bad_input_is_one_line_exit_2_nothing_written(case: Fatal, tmp_path: Path) -> None:
    build(tmp_path, case.files)
    before = tree(tmp_path)
    run = ctxfix(tmp_path, *case.argv)
    line = one_error_line(run, case.problems)
    assert run.code == 2, run
    where = case.where.format(tmp=tmp_path)
    assert line.startswith(f"ctxfix: error: {where}"), line
    if where and not re.search(r":\d+(:\d+)?$", where):  # no position: path then ": "
        assert line.startswith(f"ctxfix: error: {where}: "), line
    assert case.problem.lower() in line.lower(), line
    assert run.out == ""
    assert tree(tmp_path) == before  # no edit, no journal, no cache entry


@pytest.mark.parametrize("case", WALK, ids=[c.id for c in WALK])
def test_broken_file_found_while_walking_warns_and_scan_goes_on(case: Walk, tmp_path: Path) -> None:
    files = dict(case.files)
    if case.good:
        files["Modelfile"] = GOOD_MODELFILE
    build(tmp_path, files)
    run = ctxfix(tmp_path, *case.argv)
    assert "Traceback" not in run.err + run.out, run.err
    lines = run.err.splitlines()
    assert all(ln.startswith("ctxfix: warning: ") for ln in lines), run.err
    naming = [ln for ln in lines if ln.startswith(f"ctxfix: warning: {case.warn_where}")]
    assert len(naming) == 1, f"expected one warning naming {case.warn_where}:\n{run.err}"
    assert case.problem.lower() in naming[0].lower(), naming[0]
    if case.good:
        assert run.code == 1, run
        assert "Modelfile:2:19: CTX101" in run.out
    else:
        assert run.code == 0, run
        assert "All clear" in run.out, run.out


# --- model stores ---------------------------------------------------------------

CORRUPT = "st/manifests/registry.ollama.ai/library/qwen3-coder/30b"


def _store_with_corrupt_manifest(tmp: Path) -> None:
    """The demo store (two models) with one manifest cut short mid-JSON."""
    shutil.copytree(DEMO_STORE, tmp / "st")
    (tmp / CORRUPT).write_text('{"schemaVersion": 2, "layers": [', encoding="utf-8")


@pytest.mark.parametrize("named", [True, False], ids=["store-named", "store-found-walking"])
def test_corrupt_manifest_warns_and_the_other_models_are_scanned(
    named: bool, tmp_path: Path
) -> None:
    _store_with_corrupt_manifest(tmp_path)
    build(tmp_path, {"Modelfile": GOOD_MODELFILE})
    run = ctxfix(tmp_path, "scan", *(("--store", "st", "Modelfile") if named else ()))
    assert "Traceback" not in run.err + run.out, run.err
    assert run.err.splitlines() == [
        f"ctxfix: warning: {CORRUPT}:1:33: corrupt manifest: invalid JSON: "
        "Expecting value; qwen3-coder:30b skipped"
    ]
    assert run.code == 1, run
    assert "30b-v-128k: CTX102" in run.out  # the healthy manifest next to it


# --- unreadable directories ------------------------------------------------------


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 directory anyway")
def test_unreadable_directory_while_walking_warns(tmp_path: Path) -> None:
    build(tmp_path, {"Modelfile": GOOD_MODELFILE, "locked/Modelfile": GOOD_MODELFILE})
    (tmp_path / "locked").chmod(0)
    try:
        run = ctxfix(tmp_path, "scan")
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert run.err.splitlines() == [
        "ctxfix: warning: locked: cannot read directory: Permission denied; skipped"
    ]
    assert run.code == 1 and "Modelfile:2:19: CTX101" in run.out


def test_unreadable_directory_while_walking_warns_in_process(tmp_path: Path, monkeypatch) -> None:
    """The same as above for root (which chmod cannot stop): the EACCES a user gets."""
    from ctxfix import pipeline
    from ctxfix.settings import Settings

    build(tmp_path, {"Modelfile": GOOD_MODELFILE, "locked/Modelfile": GOOD_MODELFILE})
    locked = tmp_path / "locked"
    real = os.scandir

    def scandir(path=".", *a):
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *a)

    monkeypatch.setattr(os, "scandir", scandir)
    settings = Settings(paths=(tmp_path,), no_server=True, no_user=True, no_store=True)
    result = pipeline.scan(settings, environ={}, home=tmp_path)
    assert [str(w) for w in result.world.warnings] == [
        f"{locked}: cannot read directory: Permission denied; skipped"
    ]
    assert [f.code for f in result.findings] == ["CTX101"]  # the readable Modelfile

    # The directory the user named is not "found while walking": one error line.
    settings = Settings(paths=(locked,), no_server=True, no_user=True, no_store=True)
    with pytest.raises(CtxfixError, match=f"^{re.escape(str(locked))}: cannot read directory: "):
        pipeline.scan(settings, environ={}, home=tmp_path)
