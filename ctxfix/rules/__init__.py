"""Rule registry.

One module per rule (yamllint style). Each module has a docstring (what it
finds, why it matters, an example that fails, the fix) and defines `CODE`,
`NAME`, `SEVERITY` and `check(world) -> Iterator[Finding]`. `ctxfix explain
CODE` prints the docstring; `ctxfix rules` lists the table.

Modules are imported only when a scan runs or a rule is explained.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

# code -> module name under ctxfix.rules
RULE_MODULES: dict[str, str] = {
    "CTX101": "num_ctx_below_native",
    "CTX102": "label_mismatch",
    "CTX103": "num_ctx_above_native",
    "CTX104": "num_ctx_unset",
    "CTX105": "num_ctx_invalid",
    "CTX106": "loaded_ctx_differs",
    "CTX201": "agent_window_exceeds_served",
    "CTX202": "agent_window_below_native",
    "CTX203": "agent_model_missing",
    "CTX204": "num_ctx_ignored",
    "CTX301": "timeout_below_prefill",
    "CTX302": "context_exceeds_memory",
    "CTX303": "server_env_caps_context",
    "CTX401": "prompts_truncated",
    "CTX402": "ctx_above_training",
    "CTX403": "auto_ctx_stepped_down",
}


def load(code: str) -> ModuleType:
    """Import one rule module by code (KeyError for an unknown code)."""
    return importlib.import_module(f"ctxfix.rules.{RULE_MODULES[code.upper()]}")


def available() -> Iterator[ModuleType]:
    """Every rule module whose file exists, in code order."""
    for code in sorted(RULE_MODULES):
        try:
            yield load(code)
        except ModuleNotFoundError as exc:
            if exc.name != f"ctxfix.rules.{RULE_MODULES[code]}":
                raise
