"""`--format sarif`: valid SARIF 2.1.0 that code scanning can show and fix from.

The official OASIS schema lives beside the clone (`<repo>/../shared/schemas/`),
never inside the repo; the validation tests skip with a reason when it is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctxfix.facts import Finding, Location
from ctxfix.pipeline import ScanResult
from ctxfix.report import sarif
from ctxfix.world import World

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
DEMO = REPO / "fixtures" / "demo"

needs_schema = pytest.mark.skipif(
    not SCHEMA.is_file(), reason=f"official SARIF schema not found at {SCHEMA}"
)


def _validate(doc: dict) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def _demo_copy(tmp_path: Path) -> Path:
    for name in ("Modelfile", "openclaw.json"):
        shutil.copy(DEMO / name, tmp_path / name)
    return tmp_path


def _scan_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CTXFIX_CACHE_DIR=str(cwd / ".cache"), NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "ctxfix", "scan", "--no-server", "--no-user", "--no-store", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _result(findings: list[Finding]) -> ScanResult:
    from ctxfix.selection import Suppressions

    world = World()
    return ScanResult(world, list(findings), Suppressions(world.settings, {}), list(findings))


@needs_schema
def test_demo_scan_is_valid_sarif_with_rules_locations_and_a_fix(tmp_path: Path) -> None:
    work = _demo_copy(tmp_path)
    out = work / "report.sarif"
    proc = _scan_cli(work, "--format", "sarif", "--output", str(out), "Modelfile", "openclaw.json")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""  # --output: nothing on stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    _validate(doc)

    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and "CTX101" in ids and "CTX301" in ids
    ctx101 = rules[ids.index("CTX101")]
    assert ctx101["name"] == "num-ctx-below-native"
    assert "Why it matters" in ctx101["help"]["text"]
    assert "### Fix" in ctx101["help"]["markdown"]
    assert ctx101["defaultConfiguration"]["level"] == "warning"

    by_rule = {r["ruleId"]: r for r in run["results"]}
    r = by_rule["CTX101"]
    assert ids[r["ruleIndex"]] == "CTX101"
    phys = r["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "Modelfile", "uriBaseId": "%SRCROOT%"}
    assert phys["region"] == {"startLine": 4, "startColumn": 19}
    # The fix replaces exactly the "131072" on line 4 with the native 262144.
    (change,) = r["fixes"][0]["artifactChanges"]
    (rep,) = change["replacements"]
    assert rep["deletedRegion"] == {
        "startLine": 4,
        "startColumn": 19,
        "endLine": 4,
        "endColumn": 25,
    }
    assert rep["insertedContent"]["text"] == "262144"
    line = (work / "Modelfile").read_text().splitlines()[3]
    assert line[18:24] == "131072"


def _finding(**kw) -> Finding:
    base = dict(code="CTX101", severity="warning", message="m", model="qwen3-coder:30b")
    base.update(kw)
    return Finding(**base)


@needs_schema
def test_server_finding_gets_a_logical_location_and_validates() -> None:
    f = _finding(
        code="CTX104",
        location=Location("http://gpu-box:11434"),
        host="http://gpu-box:11434",
        data={"current": None, "native": 262144},
    )
    doc = sarif.to_sarif(_result([f]))
    _validate(doc)
    (res,) = doc["runs"][0]["results"]
    (loc,) = res["locations"]
    assert "physicalLocation" not in loc
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == (
        "http://gpu-box:11434/qwen3-coder:30b"
    )
    assert "fixes" not in res


def test_a_finding_without_a_planned_edit_gets_no_fix(tmp_path: Path) -> None:
    """A SARIF fix is only ever the plan's edit: no plan, no fix (the prose stays)."""
    mf = tmp_path / "Modelfile"
    mf.write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 131072\n", encoding="utf-8")
    f = _finding(
        location=Location(str(mf), 2, 19, "num_ctx"),
        data={"current": 131072, "target": 262144},
        fix="set num_ctx to 262,144",
    )
    res = sarif.to_sarif(_result([f]), cwd=tmp_path)["runs"][0]["results"][0]
    assert "fixes" not in res
    assert res["properties"]["fix"] == "set num_ctx to 262,144"


def test_a_planned_modelfile_edit_is_the_minimal_replacement(tmp_path: Path) -> None:
    from ctxfix.plan import FileEdit, FixPlan

    mf = tmp_path / "Modelfile"
    mf.write_text("FROM qwen3-coder:30b\nPARAMETER num_ctx 1310720\n", encoding="utf-8")
    f = _finding(location=Location(str(mf), 2, 19, "num_ctx"), subject="m")
    edit = FileEdit(str(mf), "modelfile", None, 2, 1310720, 262144, ("CTX101",), "", "m")
    fix = sarif.plan_fix(f, FixPlan((edit,)), tmp_path)
    (change,) = fix["artifactChanges"]
    (rep,) = change["replacements"]
    # "1310720" -> "262144" differ from the first character: the whole number is replaced
    assert rep["deletedRegion"] == {
        "startLine": 2,
        "startColumn": 19,
        "endLine": 2,
        "endColumn": 26,
    }
    assert rep["insertedContent"]["text"] == "262144"


def test_files_outside_the_working_dir_get_absolute_file_uris(tmp_path: Path) -> None:
    inside = tmp_path / "repo"
    inside.mkdir()
    loc = sarif.artifact_location(str(tmp_path / "elsewhere" / "a b.json"), inside)
    assert loc == {"uri": (tmp_path / "elsewhere" / "a b.json").resolve().as_uri()}
    assert sarif.artifact_location("sub dir/Modelfile", inside) == {
        "uri": "sub%20dir/Modelfile",
        "uriBaseId": "%SRCROOT%",
    }


def test_rule_sections_split_every_rule_docstring() -> None:
    from ctxfix import rules

    for mod in rules.available():
        summary, sections = sarif.rule_sections(mod.__doc__ or "")
        assert summary, mod.CODE
        assert {"What it finds", "Why it matters", "Fix"} <= set(sections), mod.CODE
