"""Kilo Code (the Roo Code fork): Ollama provider profiles from an exported settings file.

See `ctxfix.sources.agents._roo_family` for the upstream facts
(Kilo-Org/kilocode keeps Roo Code's `packages/types/src/provider-settings.ts`,
`src/api/providers/native-ollama.ts`, `src/api/providers/fetchers/ollama.ts`,
`src/core/config/importExport.ts`, `src/utils/autoImportSettings.ts`).
The reader is Roo Code's, bound to Kilo Code's names (`FLAVOUR`): agent id,
`kilo-code.*` settings, export file name and extension id.
"""

from __future__ import annotations

from ctxfix.sources.agents import _roo_family

FLAVOUR = _roo_family.Flavour(
    agent="kilo-code",
    title="Kilo Code",
    setting_prefix="kilo-code",
    export_name="kilo-code-settings.json",
    extension_id="kilocode.kilo-code",
)
AGENT = FLAVOUR.agent
FILE_NAMES: tuple[str, ...] = (FLAVOUR.export_name,)

# the reader interface, bound to this flavour (`_roo_family.Flavour`)
user_paths = FLAVOUR.user_paths
detect = FLAVOUR.detect
read = FLAVOUR.read
