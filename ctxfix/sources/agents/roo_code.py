"""Roo Code (VS Code): Ollama provider profiles from an exported settings file.

See `ctxfix.sources.agents._roo_family` for the upstream facts
(RooCodeInc/Roo-Code `packages/types/src/provider-settings.ts`,
`src/api/providers/native-ollama.ts`, `src/api/providers/fetchers/ollama.ts`,
`src/core/config/importExport.ts`, `src/utils/autoImportSettings.ts`).
"""

from __future__ import annotations

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

# the reader interface, bound to this flavour (`_roo_family.Flavour`)
user_paths = FLAVOUR.user_paths
detect = FLAVOUR.detect
read = FLAVOUR.read
