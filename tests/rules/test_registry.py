"""The rule registry: every rule module documented, registered and explained."""

from __future__ import annotations

from ctxfix import rules


def test_every_rule_module_is_documented_and_registered():
    mods = list(rules.available())
    assert [m.CODE for m in mods] == sorted(rules.RULE_MODULES)
    for m in mods:
        doc = m.__doc__ or ""
        assert doc.startswith(f"{m.CODE} {m.NAME}:"), m.CODE
        for section in ("What it finds", "Why it matters", "Example that fails", "Fix"):
            assert section in doc, (m.CODE, section)
        assert m.SEVERITY in ("error", "warning", "info")
