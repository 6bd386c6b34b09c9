"""ctxfix's per-user cache and state directories.

Why not always `platformdirs`: importing it costs ~8 ms on Linux (its `unix`
module pulls `tempfile`, `shutil`, `random`, `bz2` and `lzma`), and the
pre-commit hook needs the cache directory on every commit (the settings
validation marker). On Linux the answer is the XDG Base Directory
Specification, which is two lines: `$XDG_CACHE_HOME` (`$XDG_STATE_HOME`) when
it is an absolute path, else `$HOME/.cache` (`$HOME/.local/state`), plus our
app name. That is exactly what platformdirs returns there (platformdirs
`_xdg.py` `xdg_dir` and `unix.py` `user_cache_dir`/`user_state_dir`, with
its default `use_site_for_root=False`); tests/test_dirs.py checks ours
against it. Every other case (macOS, Windows, an unset or relative `HOME`)
is left to platformdirs, imported only then.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "ctxfix"

# (XDG variable, default under $HOME, platformdirs function)
_KINDS = {
    "cache": ("XDG_CACHE_HOME", ".cache", "user_cache_dir"),
    "state": ("XDG_STATE_HOME", ".local/state", "user_state_dir"),
}


def _user_dir(kind: str) -> Path:
    variable, default, fallback = _KINDS[kind]
    if sys.platform.startswith("linux"):
        base = os.environ.get(variable, "")
        if os.path.isabs(base):
            return Path(base, APP)
        home = os.environ.get("HOME", "")
        if os.path.isabs(home):
            return Path(home, default, APP)
    import platformdirs

    return Path(getattr(platformdirs, fallback)(APP))


def user_cache_dir() -> Path:
    """Where caches go: `$XDG_CACHE_HOME/ctxfix` or `~/.cache/ctxfix` on Linux."""
    return _user_dir("cache")


def user_state_dir() -> Path:
    """Where journals and verify history go: `$XDG_STATE_HOME/ctxfix` or `~/.local/state/ctxfix`."""
    return _user_dir("state")
