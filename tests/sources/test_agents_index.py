"""The reader table in `ctxfix.sources.agents` matches every reader module.

Discovery classifies files from `agents.FILES` without importing the readers
(issue 15); each module's FILE_NAMES / PATH_GLOBS stay the truth, so the table
must equal them, and a staged file must import only its own readers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PurePath

import pytest

from ctxfix.sources import agents


@pytest.mark.parametrize("name", agents.AGENT_MODULES)
def test_table_equals_the_module(name: str) -> None:
    mod = agents.module(name)
    assert mod is not None
    expected = (tuple(mod.FILE_NAMES), tuple(getattr(mod, "PATH_GLOBS", ())))
    assert agents.FILES[name] == expected, f"agents.FILES[{name!r}] should be {expected!r}"


def test_every_reader_module_is_in_the_table() -> None:
    here = Path(agents.__file__).parent
    on_disk = {p.stem for p in here.glob("*.py") if not p.stem.startswith("_")}
    assert on_disk == set(agents.AGENT_MODULES)


@pytest.mark.parametrize(
    ("path", "readers"),
    [
        ("repo/openclaw.json", ["openclaw"]),
        ("repo/settings.json", ["zed", "qwen_code", "claude_code", "droid"]),
        ("repo/.continue/models/local.yaml", ["continue_dev"]),
        ("repo/notes.json", []),
    ],
)
def test_claimants(path: str, readers: list[str]) -> None:
    assert agents.claimants(PurePath(path)) == readers


def test_a_staged_file_imports_only_its_readers(tmp_path: Path) -> None:
    """The pre-commit hook's scan of one openclaw.json loads one reader, not 22."""
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "openclaw.json"
    code = (
        "import sys\n"
        "from ctxfix.cli import main\n"
        "try:\n"
        f"    main(['scan', {str(demo)!r}, '--no-server', '--no-user', '--no-store'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "                if m.startswith('ctxfix.sources.agents.') and '._' not in m)\n"
        "print(','.join(loaded), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.stderr.strip().splitlines()[-1] == "openclaw"
