"""Roo Code (VS Code): Ollama provider profiles from an exported settings file.

See `ctxfix.sources.agents._roo_family` for the upstream facts
(RooCodeInc/Roo-Code `packages/types/src/provider-settings.ts`,
`src/api/providers/native-ollama.ts`, `src/api/providers/fetchers/ollama.ts`,
`src/core/config/importExport.ts`, `src/utils/autoImportSettings.ts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import Warning_
from ctxfix.facts import AgentBinding
from ctxfix.sources.agents import _roo_family

FLAVOUR = _roo_family.Flavour(
    agent="roo-code",
    title="Roo Code",
    setting_prefix="roo-cline",
    export_name="roo-code-settings.json",
    extension_id="rooveterinaryinc.roo-cline",
)
AGENT = FLAVOUR.agent
FILE_NAMES: tuple[str, ...] = (FLAVOUR.export_name,)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """The file `roo-cline.autoImportSettingsPath` names in VS Code's user settings."""
    return _roo_family.user_paths(FLAVOUR, env, home)


def detect(path: Path, data: Any) -> bool:
    return _roo_family.detect(FLAVOUR, data)


def read(
    path: Path,
    text: str | None = None,
    notes: list[Warning_] | None = None,
    env: Mapping[str, str] | None = None,
) -> list[AgentBinding]:
    return _roo_family.read(FLAVOUR, path, text, notes, env)
