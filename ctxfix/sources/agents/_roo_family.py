"""Roo Code and its fork Kilo Code: provider profiles from an exported settings file.

Why: both extensions talk to Ollama's native `/api/chat` through the `ollama`
npm client and send `options.num_ctx` only when the profile sets
`ollamaNumCtx`; otherwise the model's num_ctx or the server default is
served, while the extension plans with the model's *native* context from
`/api/show` (`model_info.*context_length`). A 256k model served at 4,096
is then silently truncated. Upstream facts (RooCodeInc/Roo-Code at cb836567,
Apr 2026; Kilo-Org/kilocode `packages/types/src/provider-settings.ts` at
03eeb315 has the same `ollamaSchema`):

- `packages/types/src/provider-settings.ts` `ollamaSchema`: `ollamaModelId`,
  `ollamaBaseUrl` (default `http://localhost:11434`), `ollamaApiKey`,
  `ollamaNumCtx` (`z.number().int().min(128)`), with `apiProvider: "ollama"`.
- `src/api/providers/native-ollama.ts`: `chatOptions.num_ctx =
  ollamaNumCtx` "only if explicitly set"; no request timeout is passed to the
  client (`roo-cline.apiRequestTimeout` applies to the OpenAI-style providers).
- `src/api/providers/fetchers/ollama.ts parseOllamaModel`: `contextWindow` =
  the first `model_info` key containing `context_length` (the GGUF native
  length), whatever num_ctx is served.
- Storage: profiles live in VS Code's secret storage
  (`src/core/config/ProviderSettingsManager.ts`, encrypted: not readable).
  Readable: the export file (`src/core/config/importExport.ts`, default name
  `roo-code-settings.json`, Kilo `kilo-code-settings.json`):
  `{"providerProfiles": {"currentApiConfigName", "apiConfigs": {<name>:
  {...}}, "modeApiConfigs"}, "globalSettings": {...}}`, and the file named by
  the VS Code setting `roo-cline.autoImportSettingsPath` (Kilo
  `kilo-code.autoImportSettingsPath`), imported at every start
  (`src/utils/autoImportSettings.ts`; `~/` is the home directory, a relative
  path is relative to the home directory). An imported profile that fails the
  schema is skipped with a warning; unknown keys are dropped (zod).
- An export file takes effect only when it is imported; ctxfix edits it like
  any config (`ollamaModelId`, `ollamaNumCtx`), and says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import AgentBinding, KeyPath, ModelRef, Slot, Sourced
from ctxfix.records import record
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    location,
    model_binding,
    to_str,
    vscode_user_dirs,
)

DEFAULT_HOST = "http://localhost:11434"
OLLAMA_KEYS = frozenset({"ollamaModelId", "ollamaBaseUrl", "ollamaApiKey", "ollamaNumCtx"})
MIN_NUM_CTX = 128
_EXTENSION_DIRS = (".vscode", ".vscode-insiders", ".vscode-oss", ".cursor", ".windsurf")


@record(frozen=True)
class Flavour:
    """What differs between Roo Code and Kilo Code.

    Its methods are the reader interface (`ctxfix.sources.agents`) of that
    flavour's module, which binds them (`read = FLAVOUR.read`): the fork's
    reader differs from Roo Code's in its Flavour and its docstring only.
    """

    agent: str  # "roo-code"
    title: str  # "Roo Code"
    setting_prefix: str  # "roo-cline": VS Code settings are `roo-cline.*`
    export_name: str  # "roo-code-settings.json"
    extension_id: str  # "rooveterinaryinc.roo-cline": the extensions/<id>-<version> dir

    def user_paths(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """The file `<setting_prefix>.autoImportSettingsPath` names in VS Code's user
        settings (`auto_import_paths`)."""
        return auto_import_paths(self, env, home)

    def detect(self, path: Path, data: Any) -> bool:
        """An export: `providerProfiles.apiConfigs` of profile objects."""
        return is_export(data)

    def read(
        self,
        path: Path,
        text: str | None = None,
        notes: list[Warning_] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> list[AgentBinding]:
        """Bindings of every Ollama profile; `notes` says what is not readable or not live."""
        return read_export(self, path, text, notes, env)


def _auto_import_path(settings: Path, fl: Flavour, home: Path) -> Path | None:
    """`<prefix>.autoImportSettingsPath` from a VS Code settings.json, resolved like
    `autoImportSettings.ts resolvePath`; None when unset or unreadable."""
    from ctxfix.edits import load_document

    try:
        doc = load_document(settings, fmt="jsonc")
    except CtxfixError:
        return None  # the scan of other agents reports nothing about VS Code's file
    value = (
        doc.data.get(f"{fl.setting_prefix}.autoImportSettingsPath")
        if isinstance(doc.data, dict)
        else None
    )
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.startswith("~/"):
        return home / value[2:]
    p = Path(value)
    return p if p.is_absolute() else home / p


def installed(fl: Flavour, home: Path) -> bool:
    """Is the extension installed for VS Code or a fork (an extensions/<id>-<version> dir)?"""
    for d in _EXTENSION_DIRS:
        ext = home / d / "extensions"
        try:
            if any(p.name.lower().startswith(fl.extension_id + "-") for p in ext.iterdir()):
                return True
        except OSError:
            continue
    return False


def auto_import_paths(fl: Flavour, env: Mapping[str, str], home: Path) -> list[Path]:
    """The auto-import file each VS Code's settings name; else, when the extension is
    installed, the settings.json itself (read only to say the profiles are not readable)."""
    out: list[Path] = []
    settings_files = [d / "settings.json" for d in vscode_user_dirs(env, home)]
    for s in settings_files:
        if s.is_file():
            p = _auto_import_path(s, fl, home)
            if p is not None:
                out.append(p)
    if not out and installed(fl, home):
        out += [s for s in settings_files if s.is_file()][:1]
    return out


def is_export(data: Any) -> bool:
    """An export: `providerProfiles.apiConfigs` of profile objects."""
    if not isinstance(data, dict):
        return False
    profiles = data.get("providerProfiles")
    return isinstance(profiles, dict) and isinstance(profiles.get("apiConfigs"), dict)


def read_export(
    fl: Flavour,
    path: Path,
    text: str | None = None,
    notes: list[Warning_] | None = None,
    env: Mapping[str, str] | None = None,
) -> list[AgentBinding]:
    """Bindings of every Ollama profile; `notes` says what is not readable or not live."""
    from ctxfix.edits import load_document

    path = Path(path)
    doc = load_document(path, text, fmt="jsonc" if path.name == "settings.json" else None)
    if path.name == "settings.json" and not is_export(doc.data):
        if notes is not None and isinstance(doc.data, dict):
            notes.append(
                Warning_(
                    None,
                    f"{fl.title} keeps its provider profiles (ollamaModelId, ollamaNumCtx) in "
                    "VS Code's secret storage, which ctxfix cannot read: export them "
                    f"({fl.title} settings > Export) and scan the file, or set "
                    f"{fl.setting_prefix}.autoImportSettingsPath in {path}",
                )
            )
        return []
    if not is_export(doc.data):
        if isinstance(doc.data, dict) and "providerProfiles" in doc.data:
            # an export whose profiles are not an object: importExport.ts schema.parse fails
            # and the whole import is refused, so none of it is in effect
            where = location(doc, ("providerProfiles", "apiConfigs"))
            if where.line is None:
                where = location(doc, ("providerProfiles",))
            raise CtxfixError(
                str(where),
                f"providerProfiles.apiConfigs must be an object of profiles; "
                f"{fl.title} refuses to import this file",
            )
        return []
    suppressed = inline_ignores(doc.text)
    configs = doc.data["providerProfiles"]["apiConfigs"]
    out: list[AgentBinding] = []
    unknown: list[str] = []
    for name, prof in configs.items():
        if not isinstance(prof, dict) or prof.get("apiProvider") != "ollama":
            continue
        base: KeyPath = ("providerProfiles", "apiConfigs", name)
        unknown += [
            f"{name}.{k}" for k in prof if k.lower().startswith("ollama") and k not in OLLAMA_KEYS
        ]
        raw_nc = prof.get("ollamaNumCtx")
        if raw_nc is not None and (
            isinstance(raw_nc, bool) or not isinstance(raw_nc, int) or raw_nc < MIN_NUM_CTX
        ):
            if notes is not None:
                notes.append(
                    Warning_(
                        str(location(doc, (*base, "ollamaNumCtx"))),
                        f"profile {name!r}: ollamaNumCtx must be an integer >= {MIN_NUM_CTX}; "
                        f"{fl.title} skips the whole profile on import",
                    )
                )
            continue
        model = to_str(prof.get("ollamaModelId"))
        if model is None:
            continue
        ref_path: KeyPath = (*base, "ollamaModelId")
        nc_path: KeyPath = (*base, "ollamaNumCtx")
        num_ctx = binding_value(doc, nc_path, lambda v: v if isinstance(v, int) else None)
        if num_ctx is not None:
            num_ctx = Sourced(num_ctx.value, num_ctx.source, num_ctx.location, "sent as num_ctx")
        out.append(
            model_binding(
                doc,
                ref_path,
                agent=fl.agent,
                suppressed=suppressed,
                edit_paths={Slot.NUM_CTX: nc_path},
                api="native",
                host=to_str(prof.get("ollamaBaseUrl")) or DEFAULT_HOST,
                context_window=None,  # the server's native length: filled in by resolve
                window_native=True,
                num_ctx=num_ctx,
                refs=(ModelRef(ref_path, model),),
                manual={
                    Slot.CONTEXT_WINDOW: f"({fl.title} takes it from the model; set ollamaNumCtx "
                    f"in profile {name!r} and import the file)"
                },
            )
        )
    if unknown and notes is not None:
        notes.append(
            Warning_(
                str(doc.path),
                f"unknown to {fl.title}, dropped on import: {', '.join(unknown)} "
                "(the window it sends is ollamaNumCtx)",
            )
        )
    if out and notes is not None and not _auto_imported(fl, doc.path, env):
        notes.append(
            Warning_(
                str(doc.path),
                f"{fl.title} reads this export only when it is imported (settings > Import, or "
                f"{fl.setting_prefix}.autoImportSettingsPath): fixes here apply after that",
            )
        )
    return out


def _auto_imported(fl: Flavour, path: Path, env: Mapping[str, str] | None) -> bool:
    """Is `path` the auto-import file of this user's VS Code (imported at every start)?
    Unknown (False) without the user's environment (`--no-user`)."""
    if not env or not env.get("HOME"):
        return False
    try:
        target = os.path.realpath(path)
        paths = auto_import_paths(fl, env, Path(env["HOME"]))
        return any(os.path.realpath(p) == target for p in paths)
    except OSError:
        return False
