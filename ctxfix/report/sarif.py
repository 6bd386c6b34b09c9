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
  replacement, so a description alone is not a valid fix. We emit `fixes`
  only where the edit is a plain value replacement we can verify byte for
  byte (the current number is written exactly at the finding's line/column
  in a repo Modelfile or agent config); the prose fix always goes into
  `properties.fix`.
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

# Rules whose finding location points at the very value a fix replaces.
_VALUE_FIX_CODES = frozenset({"CTX101", "CTX103", "CTX105", "CTX201", "CTX202"})

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


def _old_text(f: Finding) -> str | None:
    if f.code == "CTX105":
        raw = f.data.get("raw")
        return str(raw) if raw is not None else None
    cur = f.data.get("current")
    return str(cur) if isinstance(cur, int) and not isinstance(cur, bool) else None


def _fixable_file(f: Finding) -> bool:
    """A repo Modelfile or an agent config: never a store blob or manifest."""
    from ctxfix.sources.modelfile import is_modelfile_name

    assert f.location is not None
    return f.agent is not None or is_modelfile_name(Path(f.location.file).name)


def value_replacement(f: Finding, cwd: Path) -> dict[str, Any] | None:
    """A SARIF `fix` replacing the current value with the target, when verifiable.

    Only when the file at the finding's line/column holds exactly the current
    value (a whole number token, not a prefix of a longer one): then the
    replacement is the same one `ctxfix apply` makes for a value edit.
    """
    loc = f.location
    target = f.data.get("target")
    if (
        f.code not in _VALUE_FIX_CODES
        or loc is None
        or loc.line is None
        or loc.col is None
        or _is_url(loc.file)
        or not isinstance(target, int)
        or isinstance(target, bool)
    ):
        return None
    old = _old_text(f)
    if old is None or old == str(target) or not _fixable_file(f):
        return None
    path = Path(loc.file) if Path(loc.file).is_absolute() else cwd / loc.file
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if loc.line > len(lines):
        return None
    text = lines[loc.line - 1]
    start = loc.col - 1
    end = start + len(old)
    if text[start:end] != old or re.match(r"[0-9A-Za-z_.]", text[end : end + 1]):
        return None
    return {
        "description": {"text": f.fix or f"set the value to {target}"},
        "artifactChanges": [
            {
                "artifactLocation": artifact_location(loc.file, cwd),
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": loc.line,
                            "startColumn": loc.col,
                            "endLine": loc.line,
                            "endColumn": loc.col + len(old),
                        },
                        "insertedContent": {"text": str(target)},
                    }
                ],
            }
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
        r["partialFingerprints"] = {"ctxfixFinding/v1": _fingerprint(f)}
        fix = value_replacement(f, cwd)
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
