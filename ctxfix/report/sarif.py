"""SARIF 2.1.0 (`--format sarif`) for GitHub code scanning and other SARIF viewers.

Why SARIF: `github/codeql-action/upload-sarif` turns it into code-scanning
alerts on the lines that cap a context window, with each rule's docs one click
away. The document validates against the official OASIS schema
(`sarif-schema-2.1.0.json`; see tests/test_sarif.py).

Shape decisions, each forced by the schema or by GitHub:
- Every rule is listed in `tool.driver.rules` (not only the ones that fired),
  so `ruleIndex` is stable and GitHub shows help for any rule.
- Rule help comes from the rule module docstring, split into its sections
  (What it finds / Why it matters / Example that fails / Fix).
- File URIs are relative to the working directory under `%SRCROOT%`, which
  is what code scanning expects when ctxfix runs from the repository root.
  Findings about a live server or a model with no file get a logical
  location only.
- SARIF's `fix` object *requires* `artifactChanges` with at least one
  replacement, so a description alone is not a valid fix. `fixes` are the
  file edits of the scan's FixPlan for that finding, rendered by apply's own
  editors (so applying them gives the bytes `apply` writes); the fix line
  (what apply does, or why it does not) always goes into `properties.fix`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from ctxfix import __version__
from ctxfix.facts import Finding, Location

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/ctxfix/ctxfix"
SRCROOT = "%SRCROOT%"

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}

_SECTION_NAMES = ("What it finds", "Why it matters", "Example that fails", "Fix")


_SECTION_RE = re.compile(
    r"^(?:The )?(What it finds|Why it matters|Example that fails|Fix)"
    r"(?:\s*\([^)]*\))?(?::{1,2}\s*(.*)|\s*)$",
    re.IGNORECASE,
)


def rule_sections(doc: str) -> tuple[str, dict[str, str]]:
    """Split a rule docstring into its one-line summary and its named sections.

    Rule docstrings (see ctxfix/rules/__init__.py) start with `CODE name:
    summary`, then sections titled What it finds / Why it matters / Example
    that fails / Fix at column 0. Two layouts exist and both are accepted:
    the title alone on its line with the body indented four spaces, or
    `Title: body text` running on (`Example that fails (...)::` included).
    Bodies come back dedented, inner blank lines kept.
    """
    lines = doc.strip("\n").splitlines()
    if not lines:
        return "", {}
    first = lines[0].strip()
    summary = first.split(":", 1)[1].strip() if ":" in first else first
    canon = {t.lower(): t for t in _SECTION_NAMES}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[1:]:
        m = _SECTION_RE.match(line) if line and not line[0].isspace() else None
        if m:
            current = sections.setdefault(canon[m.group(1).lower()], [])
            if m.group(2) and m.group(2).strip():
                current.append(m.group(2).strip())
            continue
        if current is not None:
            current.append(line[4:] if line.startswith("    ") else line.strip())
    return summary, {k: "\n".join(v).strip("\n") for k, v in sections.items()}


def _paragraph(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _markdown(code: str, name: str, summary: str, sections: dict[str, str]) -> str:
    out = [f"**{code} {name}**: {summary}", ""]
    for title, body in sections.items():
        out.append(f"### {title}")
        out.append("")
        if title == "Example that fails":
            out += ["```", body, "```"]
        else:
            out.append(body)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def rule_descriptor(mod: ModuleType) -> dict[str, Any]:
    """One `reportingDescriptor` built from a rule module's docstring and constants."""
    doc = (mod.__doc__ or "").strip()
    summary, sections = rule_sections(doc)
    full = _paragraph(sections.get("What it finds", "")) or summary
    return {
        "id": mod.CODE,
        "name": mod.NAME,
        "shortDescription": {"text": summary or mod.NAME},
        "fullDescription": {"text": full},
        "help": {
            "text": doc,
            "markdown": _markdown(mod.CODE, mod.NAME, summary, sections),
        },
        "defaultConfiguration": {"level": _LEVEL.get(mod.SEVERITY, "warning")},
        "properties": {"tags": ["ollama", "context-window"], "severity": mod.SEVERITY},
    }


def _is_url(file: str) -> bool:
    return "://" in file


def artifact_location(file: str, cwd: Path) -> dict[str, Any]:
    """`{"uri": ..., "uriBaseId": "%SRCROOT%"}` for files under cwd, an absolute file URI else."""
    p = Path(file)
    absolute = p if p.is_absolute() else (cwd / p)
    try:
        rel = absolute.resolve().relative_to(cwd.resolve())
    except (ValueError, OSError):
        return {"uri": absolute.resolve().as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": SRCROOT}


def plan_fix(f: Finding, plan: Any, cwd: Path) -> dict[str, Any] | None:
    """A SARIF `fix` made of exactly the file edits the plan makes for `f`.

    Why from the plan: `apply --dry-run` and SARIF must not disagree (a SARIF
    fix that `apply` would not make once turned a warning into a CTX201 error).
    Each edit is rendered by the same editors `apply` uses and reduced to its
    smallest replacement; an edit that cannot be rendered gives no fix.
    """
    from ctxfix.apply_ops import edit_replacement

    if plan is None:
        return None
    edits = plan.edits_for(f)
    if not edits:
        return None
    by_file: dict[str, list[dict[str, Any]]] = {}
    for e in edits:
        r = edit_replacement(e)
        if r is None:
            return None
        by_file.setdefault(r.file, []).append(
            {
                "deletedRegion": {
                    "startLine": r.start[0],
                    "startColumn": r.start[1],
                    "endLine": r.end[0],
                    "endColumn": r.end[1],
                },
                "insertedContent": {"text": r.text},
            }
        )
    return {
        "description": {"text": f.fix or "apply the planned edit"},
        "artifactChanges": [
            {"artifactLocation": artifact_location(file, cwd), "replacements": reps}
            for file, reps in by_file.items()
        ],
    }


def _logical_locations(f: Finding) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    host = f.host or (f.location.file if f.location and _is_url(f.location.file) else None)
    if f.model:
        fqn = f"{host.rstrip('/')}/{f.model}" if host else f.model
        out.append({"name": f.model, "fullyQualifiedName": fqn, "kind": "resource"})
    elif host:
        out.append({"name": host, "fullyQualifiedName": host, "kind": "namespace"})
    if f.location is not None and f.location.key:
        out.append({"name": f.location.key, "kind": "property"})
    return out


def _location(loc: Location | None, f: Finding, cwd: Path) -> dict[str, Any] | None:
    logical = _logical_locations(f)
    result: dict[str, Any] = {}
    if loc is not None and not _is_url(loc.file):
        physical: dict[str, Any] = {"artifactLocation": artifact_location(loc.file, cwd)}
        if loc.line is not None:
            region: dict[str, Any] = {"startLine": loc.line}
            if loc.col is not None:
                region["startColumn"] = loc.col
            physical["region"] = region
        result["physicalLocation"] = physical
    if logical:
        result["logicalLocations"] = logical
    return result or None


def _related_locations(f: Finding, cwd: Path) -> list[dict[str, Any]]:
    """`data.related` ({file, line, message}): the log line behind an evidence-raised
    finding, or the agent config an evidence finding (CTX4xx) joins."""
    out: list[dict[str, Any]] = []
    for i, rel in enumerate((f.data or {}).get("related") or ()):
        file = rel.get("file") if isinstance(rel, dict) else None
        if not file or _is_url(file) or file.startswith("<"):
            continue
        physical: dict[str, Any] = {"artifactLocation": artifact_location(file, cwd)}
        if isinstance(rel.get("line"), int):
            physical["region"] = {"startLine": rel["line"]}
        entry: dict[str, Any] = {"id": i + 1, "physicalLocation": physical}
        if rel.get("message"):
            entry["message"] = {"text": str(rel["message"])}
        out.append(entry)
    return out


def _fingerprint(f: Finding) -> str:
    """Stable across line moves: code + file + key + model (not the message numbers)."""
    loc = f.location
    parts = [f.code, loc.file if loc else "", (loc.key or "") if loc else "", f.model or ""]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def to_sarif(result, *, cwd: Path | None = None) -> dict[str, Any]:  # result: ScanResult
    """The SARIF log as a dict (one run)."""
    from ctxfix import rules as registry

    cwd = Path.cwd() if cwd is None else cwd
    mods = list(registry.available())
    index = {m.CODE: i for i, m in enumerate(mods)}
    results = []
    for f in result.findings:
        r: dict[str, Any] = {
            "ruleId": f.code,
            "level": _LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message},
        }
        if f.code in index:
            r["ruleIndex"] = index[f.code]
        loc = _location(f.location, f, cwd)
        if loc is not None:
            r["locations"] = [loc]
        related = _related_locations(f, cwd)
        if related:
            r["relatedLocations"] = related
        r["partialFingerprints"] = {"ctxfixFinding/v1": _fingerprint(f)}
        fix = plan_fix(f, getattr(result, "plan", None), cwd)
        if fix is not None:
            r["fixes"] = [fix]
        props: dict[str, Any] = {"severity": f.severity}
        if f.fix:
            props["fix"] = f.fix
        if f.data:
            props["data"] = json.loads(json.dumps(dict(f.data), default=str))
        r["properties"] = props
        results.append(r)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ctxfix",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(m) for m in mods],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": cwd.resolve().as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(result, *, color: bool = False) -> str:
    """SARIF JSON text; `color` is ignored (machine format)."""
    return json.dumps(to_sarif(result), indent=2) + "\n"
