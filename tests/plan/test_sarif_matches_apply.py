"""SARIF `fixes` are the plan's edits: applying them gives the bytes `apply` writes.

Regression (issue 10): on the offline demo SARIF proposed `contextWindow
131072 -> 262144` in openclaw.json, which `apply --dry-run` (rightly) does
not make, and applying it turned a warning into a CTX201 error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_apply_demo import DEMO, demo, run_cli  # noqa: F401  (fixture)


def _apply_sarif(doc: dict, root: Path) -> dict[str, str]:
    """Apply every distinct replacement of every fix; {relative path: new text}."""
    reps: dict[str, set[tuple[int, int, int, int, str]]] = {}
    for r in doc["runs"][0]["results"]:
        for fix in r.get("fixes", []):
            for ch in fix["artifactChanges"]:
                uri = ch["artifactLocation"]["uri"]
                for rep in ch["replacements"]:
                    d = rep["deletedRegion"]
                    reps.setdefault(uri, set()).add(
                        (
                            d["startLine"],
                            d["startColumn"],
                            d["endLine"],
                            d["endColumn"],
                            rep["insertedContent"]["text"],
                        )
                    )
    out: dict[str, str] = {}
    for uri, rs in reps.items():
        text = (root / uri).read_text(encoding="utf-8")
        starts = [0]
        for line in text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))

        def off(line: int, col: int, starts=starts) -> int:
            return starts[line - 1] + col - 1

        for sl, sc, el, ec, new in sorted(rs, reverse=True):
            text = text[: off(sl, sc)] + new + text[off(el, ec) :]
        out[uri] = text
    return out


def _applied(root: Path, files: list[str]) -> dict[str, str]:
    return {f: (root / f).read_text(encoding="utf-8") for f in files}


@pytest.mark.parametrize("online", [False, True], ids=["offline", "server"])
def test_sarif_fixes_equal_apply(
    online: bool, tmp_path: Path, monkeypatch, capsys, request
) -> None:
    if online:
        work, srv = request.getfixturevalue("demo")
        opts = ["--host", srv.url, "--no-user", "--prefill-tps", "400", "."]
    else:
        work = tmp_path / "demo"
        shutil.copytree(DEMO, work)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.setenv("CTXFIX_STATE_DIR", str(tmp_path / "state"))
        monkeypatch.chdir(work)
        opts = ["--no-server", "--no-user", "--prefill-tps", "400", "."]
    code, out, err = run_cli(capsys, "scan", "--format", "sarif", *opts)
    sarif = json.loads(out)
    proposed = _apply_sarif(sarif, work)
    assert proposed, "the demo has fixable findings: SARIF must carry fixes"
    if not online:  # the regression: no window raise the offline apply would not make
        assert "contextWindow: 262144" not in proposed.get("openclaw.json", "")
    code, out, err = run_cli(capsys, "apply", "--yes", *opts)
    assert code == 0, out + err
    assert _applied(work, list(proposed)) == proposed
