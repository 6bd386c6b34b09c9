"""The pre-commit hooks: the `files:` pattern, and an end-to-end run of the real framework.

The end-to-end test runs `pre-commit try-repo` against this checkout, which
builds a virtualenv and pip-installs ctxfix into it (needs a package index;
CI has one). try-repo includes staged and modified *tracked* files but not
untracked ones (pre_commit/commands/try_repo.py: `git add -u` into a shadow
clone), so a checkout with new, uncommitted modules would install a broken
package. The test therefore snapshots the working tree (tracked and
untracked, minus ignored files) into a fresh one-commit repo and tries that:
what it tests is exactly what is on disk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
HOOKS = REPO / ".pre-commit-hooks.yaml"

CAPPED_MODELFILE = "FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n"


def _hooks() -> dict[str, dict]:
    return {h["id"]: h for h in YAML(typ="safe", pure=True).load(HOOKS.read_text())}


def _files_re() -> re.Pattern[str]:
    return re.compile(_hooks()["ctxfix"]["files"])


def _every_name_ctxfix_reads() -> list[str]:
    from ctxfix.config_file import SETTINGS_NAMES
    from ctxfix.discover import COMPOSE_NAMES
    from ctxfix.sources import agents

    names = ["Modelfile", "Modelfile.qwen", "qwen.Modelfile", "qwen.modelfile"]
    names += sorted(COMPOSE_NAMES) + list(SETTINGS_NAMES) + ["pyproject.toml"]
    for mod in agents.modules():
        names += list(mod.FILE_NAMES)
        for glob in getattr(mod, "PATH_GLOBS", ()):
            names.append(glob.replace("*", "local-qwen"))
    return names


def test_both_hooks_are_offline_and_share_one_pattern() -> None:
    hooks = _hooks()
    assert set(hooks) == {"ctxfix", "ctxfix-fix"}
    for h in hooks.values():
        assert h["language"] == "python"
        assert "--no-server" in h["entry"] and "--no-user" in h["entry"]
    assert hooks["ctxfix"]["entry"].startswith("ctxfix scan ")
    assert hooks["ctxfix-fix"]["entry"].startswith("ctxfix apply --yes --no-create ")
    assert hooks["ctxfix"]["files"] == hooks["ctxfix-fix"]["files"]


@pytest.mark.parametrize("name", _every_name_ctxfix_reads())
def test_files_pattern_covers_every_name_ctxfix_reads(name: str) -> None:
    rx = _files_re()
    assert rx.search(name), name
    assert rx.search(f"deploy/ollama/{name}"), name


@pytest.mark.parametrize(
    "path",
    ["README.md", "models/qwen.gguf", "src/config.py", "myopenclaw.json", "docs/settings.md"],
)
def test_files_pattern_skips_what_ctxfix_does_not_read(path: str) -> None:
    assert not _files_re().search(path)


# --------------------------------------------------------------------------- e2e


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def _checkout_files() -> list[Path]:
    """Files of this checkout as they are on disk (tracked + untracked, not ignored)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
        ).stdout.decode()
        rels = [Path(p) for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (sdist, tarball)
        rels = [p.relative_to(REPO) for p in REPO.rglob("*") if p.is_file()]
    keep_top = {"pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "LICENSE", "ctxfix"}
    return [
        r
        for r in rels
        if r.parts[0] in keep_top and "__pycache__" not in r.parts and (REPO / r).is_file()
    ]


def _snapshot(dest: Path, env: dict[str, str]) -> Path:
    for rel in _checkout_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target, follow_symlinks=True)
    _git(dest, "init", "-q", env=env)
    _git(dest, "add", "-A", env=env)
    _git(dest, "commit", "-q", "-m", "snapshot", env=env)
    return dest


def _try_repo(repo: Path, cwd: Path, env: dict[str, str], *args: str):
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), *args, "--color", "never"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # builds a virtualenv and pip-installs ctxfix and its dependencies
    )


@pytest.mark.e2e
def test_pre_commit_try_repo_fails_on_a_capped_modelfile_and_passes_after_the_fix(
    tmp_path: Path,
) -> None:
    pytest.importorskip("pre_commit", reason="the pre-commit framework is not installed")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    home = tmp_path / "home"
    store = tmp_path / "empty-store"
    home.mkdir()
    store.mkdir()
    env = dict(
        os.environ,
        HOME=str(home),
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        OLLAMA_MODELS=str(store),  # the default store: empty, whatever this machine has
        CTXFIX_CACHE_DIR=str(tmp_path / "cache"),
        CTXFIX_STATE_DIR=str(tmp_path / "state"),
        NO_COLOR="1",
        GIT_AUTHOR_NAME="ctxfix test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="ctxfix test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    env.pop("OLLAMA_HOST", None)
    snap = _snapshot(tmp_path / "ctxfix-snapshot", env)

    user = tmp_path / "user-repo"
    user.mkdir()
    _git(user, "init", "-q", env=env)
    (user / "Modelfile").write_text(CAPPED_MODELFILE, encoding="utf-8")
    shutil.copy(REPO / "fixtures" / "demo" / "openclaw.json", user / "openclaw.json")
    _git(user, "add", "-A", env=env)
    files = ["--files", "Modelfile", "openclaw.json"]

    # 1. Both hooks (sorted by id: ctxfix, then ctxfix-fix): the scan fails with
    #    the finding, the fixer edits the Modelfile and fails like a formatter.
    first = _try_repo(snap, user, env, *files)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert re.search(r"^Modelfile:2:19:.* CTX101 .*num_ctx 131,072", out, re.M), out
    assert "files were modified by this hook" in out, out
    assert "PARAMETER num_ctx 262144" in (user / "Modelfile").read_text(encoding="utf-8")
    assert "contextWindow: 131072" in (user / "openclaw.json").read_text(encoding="utf-8")

    # 2. After the fix the scan hook passes.
    second = _try_repo(snap, user, env, "ctxfix", *files)
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"ctxfix \(Ollama context windows\)\.+Passed", second.stdout), second.stdout
