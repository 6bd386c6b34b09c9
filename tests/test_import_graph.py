"""The pipeline flows one way: policy and plan never import upward.

DESIGN.md: `ctxfix/policy/` imports nothing from sources, rules, plan or
report (it is pure); `ctxfix/plan/` imports nothing from pipeline, rules,
resolve or edits and reads no file. Checked on the source (every `import`,
top level or inside a function), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "ctxfix"

FORBIDDEN = {
    "policy": (
        "ctxfix.sources",
        "ctxfix.rules",
        "ctxfix.plan",
        "ctxfix.report",
        "ctxfix.pipeline",
        "ctxfix.resolve",
        "ctxfix.edits",
        "ctxfix.apply_ops",
        "ctxfix.commands",
    ),
    "plan": (
        "ctxfix.pipeline",
        "ctxfix.rules",
        "ctxfix.resolve",
        "ctxfix.edits",
        "ctxfix.sources",
        "ctxfix.report",
        "ctxfix.apply_ops",
        "ctxfix.commands",
    ),
}
NO_IO = ("open", "read_text", "read_bytes", "load_document", "urlopen")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_upward(layer: str) -> None:
    bad = [
        f"{p.relative_to(PKG.parent)} imports {mod}"
        for p in sorted((PKG / layer).glob("*.py"))
        for mod in _imports(p)
        if mod.startswith(FORBIDDEN[layer])
    ]
    assert bad == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_reads_no_file(layer: str) -> None:
    calls = []
    for p in sorted((PKG / layer).glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in NO_IO:
                    calls.append(f"{p.name}: {name}()")
    assert calls == []


def test_the_check_can_fail(tmp_path: Path) -> None:
    """The parser sees a lazy import inside a function (so the tests above can fail)."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from ctxfix.rules import x\n", encoding="utf-8")
    assert _imports(f) == ["ctxfix.rules"]
