"""ctxfix.dirs gives the directories platformdirs gives, without importing it on Linux."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from ctxfix import dirs

CASES = [
    {"HOME": "/home/ann"},
    {"HOME": "/home/ann", "XDG_CACHE_HOME": "/var/cache/ann", "XDG_STATE_HOME": "/srv/state"},
    {"HOME": "/home/ann", "XDG_CACHE_HOME": "relative/cache", "XDG_STATE_HOME": ""},
    {"HOME": "/home/ann/", "XDG_CACHE_HOME": "  ", "XDG_STATE_HOME": "/s/"},
    {"HOME": "relative-home"},
]


@pytest.mark.parametrize("env", CASES, ids=[str(i) for i in range(len(CASES))])
def test_same_directories_as_platformdirs(monkeypatch: pytest.MonkeyPatch, env: dict) -> None:
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert dirs.user_cache_dir() == Path(platformdirs.user_cache_dir("ctxfix"))
    assert dirs.user_state_dir() == Path(platformdirs.user_state_dir("ctxfix"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG fast path is Linux's")
def test_linux_answer_does_not_import_platformdirs(tmp_path: Path) -> None:
    code = (
        "import sys; from ctxfix import dirs; print(dirs.user_cache_dir(), dirs.user_state_dir());"
        "print('platformdirs' in sys.modules)"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == f"{tmp_path}/.cache/ctxfix {tmp_path}/.local/state/ctxfix"
    assert out[1] == "False"
