"""The click-free fast path of `ctxfix scan`/`apply` (ctxfix.commands._fast), against click.

What a user would notice if it were wrong: an option read differently on
the pre-commit path than on the command line, a report or exit code that
differs between the two, or a hook that still pays for `import click`.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import DEMO, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix.cli import _rendered
from ctxfix.cli import main as cli_main
from ctxfix.commands import _fast
from ctxfix.commands._spec import CommandSpec, Opt
from ctxfix.commands.apply import SPEC as APPLY
from ctxfix.commands.scan import SPEC

COMMAND = _rendered(SPEC)
SPECS = {"scan": SPEC, "apply": APPLY}


@pytest.fixture(scope="module", autouse=True)
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fast")
    (root / "dir").mkdir()
    (root / "file.json").write_text("{}")
    return root


def _values(opt: Opt, root: Path) -> list[str]:
    """Values click accepts and values it rejects, for one option's type."""
    files = [str(root / "file.json"), str(root / "dir"), str(root / "missing"), ""]
    if opt.type == "choice":
        return [*opt.choices, opt.choices[0].upper(), ""]
    return {
        "str": ["64GiB", "", "a=b", "-x", "CTX1,ctx2"],
        "path": files,
        "file": files,
        "dir": files,
        "float": ["1.5", "nan", "x", "1e3", " 2", "-3", "0.5", "120"],
        "int": ["1", "0", "-1", "3", "x", "1_0", " 4"],
    }[opt.type]


def _token_lists(root: Path, spec: CommandSpec) -> st.SearchStrategy[list[list[str]]]:
    pieces: list[list[str]] = []
    for opt in spec.options:
        for decl in opt.decls:
            if opt.kind == "flag":
                pieces += [[decl], [f"{decl}=1"]]
                continue
            for v in _values(opt, root):
                pieces += [[decl, v], [f"{decl}={v}"]]
            pieces.append([decl])  # a value missing at the end, or taken from the next token
    pieces += [[x] for x in ("-h", "--help", "--version", "--nope", "--", "-", "-o")]
    pieces += [[str(root / "file.json")], [str(root / "dir")], [str(root / "missing")], [""]]
    return st.lists(st.sampled_from(pieces), max_size=8)


def click_params(args: list[str], spec: CommandSpec = SPEC) -> dict:
    return _rendered(spec).make_context(spec.name, list(args)).params


def same(fast: dict, slow: dict) -> bool:
    """Equal parameters, by repr: `--server-timeout nan` gives nan, which equals nothing."""
    return {k: repr(v) for k, v in fast.items()} == {k: repr(v) for k, v in slow.items()}


@pytest.mark.parametrize("name", sorted(SPECS))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_what_the_fast_path_accepts_click_reads_the_same(
    name: str, layout: Path, data: st.DataObject
) -> None:
    """For every argument list the fast path takes, click gives the same parameters."""
    spec = SPECS[name]
    args = [t for piece in data.draw(_token_lists(layout, spec)) for t in piece]
    fast = _fast.parse(args, spec)
    if fast is not None:
        assert same(fast, click_params(args, spec))


def _hook_lists(root: Path) -> list[list[str]]:
    f, d = str(root / "file.json"), str(root / "dir")
    return [
        ["--no-server", "--no-user", "--no-store", f],  # .pre-commit-hooks.yaml, one file
        ["--no-server", "--no-user", "--no-store", f, d, "--exit-zero"],
        [],
        [d, "--format", "json", "--select", "CTX1,CTX2", "--ignore=CTX301", "--select", "CTX3"],
        ["--format=sarif", "--output", str(root / "out.sarif"), d],
        ["--host", "http://gpu:11434", "--host", "http://b", "--server-timeout", "2.5"],
        ["--memory", "64GiB", "--parallel", "2", "--kv-cache-type", "q8_0", "--color", "never"],
        ["--config", f, "--isolated", "--log", f, "--no-log", "--since", "7d"],
        ["--", "-odd-name", "--no-server"],  # after `--`, arguments
        ["--memory", "1GB", "--memory", "2GB"],  # the last one wins
    ]


def test_a_hooks_argument_lists_take_the_fast_path(layout: Path) -> None:
    for args in _hook_lists(layout):
        fast = _fast.parse(args, SPEC)
        assert fast is not None, args
        assert same(fast, click_params(args)), args


def _apply_lists(root: Path) -> list[list[str]]:
    f, d = str(root / "file.json"), str(root / "dir")
    return [
        ["--yes", "--no-create", "--no-server", "--no-user", "--no-store", f],  # ctxfix-fix
        ["--dry-run", "--json", d, "--select", "CTX1"],
        ["--yes", "--target-ctx", "8192", "--verify-time-limit", "30", "--out-dir", d],
        ["--dry-run", "--journal-dir", d, "--name", "a=b", "--name", "c=d", "--in-place"],
    ]


def test_the_fix_hooks_argument_lists_take_the_fast_path(layout: Path) -> None:
    for args in _apply_lists(layout):
        fast = _fast.parse(args, APPLY)
        assert fast is not None, args
        assert same(fast, click_params(args, APPLY)), args
        assert APPLY.fast_if is not None and APPLY.fast_if(fast)


@pytest.mark.parametrize(
    "args",
    [
        ["--no-server"],  # would prompt: the prompt is click's
        ["--yes", "--out-dir", "FILE"],  # a file where a directory is wanted
        ["--yes", "--verify-time-limit", "0.5"],  # below the FloatRange
        ["--yes", "--target-ctx", "12"],  # below the IntRange
        ["-y"],
    ],
)
def test_apply_argument_lists_left_to_click(
    args: list[str], layout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(layout / "file.json") if a == "FILE" else a for a in args]
    assert _fast.try_run(["apply", *args]) is False
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "args",
    [
        ["-h"],
        ["--help"],
        ["--version"],
        ["-o", "x"],
        ["--format", "yaml"],
        ["--parallel", "0"],
        ["--server-timeout", "soon"],
        ["--no-server=1"],
        ["--select"],
        ["--nope"],
        ["-"],
        ["--select", "-x"],
    ],
)
def test_anything_else_is_left_to_click(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _fast.parse(args, SPEC) is None
    assert _fast.try_run(["scan", *args]) is False
    assert capsys.readouterr() == ("", "")


def test_a_directory_as_output_file_is_left_to_click(layout: Path) -> None:
    assert _fast.parse(["--output", str(layout / "dir")], SPEC) is None


def test_other_commands_are_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fast.try_run(["history"]) is False
    assert _fast.try_run(["--no-server", "scan"]) is False
    assert _fast.try_run([]) is False
    monkeypatch.setenv("_CTXFIX_COMPLETE", "bash_complete")  # shell completion is click's
    assert _fast.try_run(["scan", "--no-server"]) is False


def _both(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[object, object]:
    """(exit code, stdout, stderr) of the fast path and of the click path."""
    results = []
    for run in (_fast.try_run, cli_main):
        code: object = 0
        try:
            assert run(["scan", *args]) in (True, None)
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        results.append((code, out, err))
    return results[0], results[1]


def _broken_config(tmp: Path) -> Path:
    (tmp / "openclaw.json").write_text('{"models": {"providers": ')
    (tmp / "Modelfile").write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 8192\n")
    return tmp


@pytest.mark.parametrize(
    "args",
    [
        [str(DEMO), "--no-server", "--no-user"],
        [str(DEMO), "--no-server", "--no-user", "--format", "json"],
        [str(DEMO), "--no-server", "--no-user", "--format", "sarif"],
        [str(DEMO), "--no-server", "--no-user", "--format", "github", "--exit-zero"],
        [str(DEMO), "--no-server", "--no-user", "--color", "always"],
        [str(DEMO), "--no-server", "--no-user", "--select", "CTX3"],
        [str(DEMO / "Modelfile"), "--no-server", "--no-user", "--no-store"],
        ["BROKEN", "--no-server", "--no-user", "--no-store"],  # a warning on stderr
        [str(DEMO), "--no-server", "--config", "MISSING.yaml"],  # bad input: exit 2
        [str(DEMO), "--no-server", "--select", "CTX999"],  # an unknown code: exit 2
    ],
)
def test_both_paths_print_the_same_bytes(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(_broken_config(tmp_path)) if a == "BROKEN" else a for a in args]
    args = [str(tmp_path / a) if a == "MISSING.yaml" else a for a in args]
    fast, slow = _both(capsys, args)
    assert fast == slow
    assert fast[1] or fast[2]  # something was printed


def test_both_paths_write_the_same_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    args = [str(DEMO), "--no-server", "--no-user", "--format", "json", "--output", str(out)]
    written = []
    for run in (_fast.try_run, cli_main):
        with pytest.raises(SystemExit) as exc:
            run(["scan", *args])
        written.append((exc.value.code, out.read_bytes(), capsys.readouterr()))
        out.unlink()
    assert written[0] == written[1]
    assert written[0][0] == 1 and written[0][1].startswith(b"{")


@pytest.mark.parametrize(
    ("fault", "code", "err"),
    [
        (KeyboardInterrupt(), 2, "\nctxfix: aborted\n"),
        (EOFError(), 2, "\nctxfix: aborted\n"),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), 1, ""),
        (OSError(errno.EIO, "I/O error"), 2, "ctxfix: internal error: OSError"),
    ],
)
def test_interrupts_and_pipes_end_alike_on_both_paths(
    fault: BaseException,
    code: int,
    err: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C, end of input and a closed pipe cannot be caused in-process: a mock raises them."""

    def scan(*_a: object, **_k: object) -> None:
        raise fault

    monkeypatch.setattr("ctxfix.pipeline.scan", scan)
    fast, slow = _both(capsys, [str(DEMO), "--no-server", "--no-user"])
    assert fast == slow
    assert fast[0] == code and fast[2].startswith(err)


def _apply_both(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp: Path,
    extra: list[str],
) -> list[tuple[object, str, str, dict[str, bytes], list[str]]]:
    """Fast path then click path, each on a fresh copy of the demo at the same place and
    its own state dir: exit code, stdout, stderr, every file, the journal's file names."""
    work = tmp / "demo"
    args = [str(work), "--no-server", "--no-user", "--no-store", *extra]
    results = []
    for i, run in enumerate((_fast.try_run, cli_main)):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(DEMO, work, ignore=shutil.ignore_patterns("store"))
        state = tmp / f"state-{i}"
        monkeypatch.setenv("CTXFIX_STATE_DIR", str(state))
        code: object = 0
        try:
            run(["apply", *args])
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        ids = re.compile(r"\d{8}T\d{6}-\d+-[0-9a-f]+")  # a new journal id per apply
        files = {str(p.relative_to(work)): p.read_bytes() for p in work.rglob("*") if p.is_file()}
        journal = sorted(ids.sub("ID", str(p.relative_to(state))) for p in state.rglob("*"))
        results.append((code, ids.sub("ID", out), err, files, journal))
    return results


@pytest.mark.parametrize(
    "extra",
    [
        ["--dry-run"],
        ["--dry-run", "--json"],
        ["--dry-run", "--color", "always"],
        ["--yes", "--no-create"],  # the ctxfix-fix hook: edits the files
        ["--yes", "--no-create", "--select", "CTX9"],  # nothing selected
    ],
)
def test_apply_prints_and_writes_the_same_on_both_paths(
    extra: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    fast, slow = _apply_both(capsys, monkeypatch, tmp_path, extra)
    assert fast == slow
    assert fast[1] or fast[2]
    if "--yes" in extra and "--select" not in extra:
        assert fast[4], "the apply left no journal"


def _hook_entries() -> list[tuple[str, list[str]]]:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    return [(h["id"], h["entry"].split()[1:]) for h in hooks]


PROBE = (
    "import sys\n"
    "from ctxfix.launch import main\n"
    "code = 0\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "print('click' in sys.modules, code, file=sys.stderr)\n"
)


@pytest.mark.parametrize(("hook", "argv"), _hook_entries())
def test_the_pre_commit_hooks_never_import_click(
    hook: str, argv: list[str], tmp_path: Path
) -> None:
    """Each hook's command line (.pre-commit-hooks.yaml) runs without loading click (issue 15)."""
    shutil.copy(DEMO / "Modelfile", tmp_path / "Modelfile")
    env = {**os.environ, "CTXFIX_STATE_DIR": str(tmp_path / "state")}
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *argv, "Modelfile"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    # scan: findings, exit 1; apply: the file fixed, exit 0 (pre-commit fails on the change)
    assert run.stderr.splitlines()[-1] == ("False 1" if argv[0] == "scan" else "False 0")
    assert "CTX101" in run.stdout or "edited Modelfile" in run.stdout


def test_help_is_clicks() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, "scan", "-h"], capture_output=True, text=True, timeout=60
    )
    assert run.stderr.splitlines()[-1] == "True 0"
    assert "--no-server" in run.stdout
