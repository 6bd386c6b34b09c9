"""Crush (`crushrc`, `.crushrc`, and the deprecated `crush.json`, `.crush.json`).

Why: Crush talks to Ollama as a custom OpenAI-compatible provider (`/v1`),
so it cannot set num_ctx; it plans with each model's `context_window`, which
must match the served context or prompts are silently truncated.

Format (verified in charmbracelet/crush `internal/config/config.go` and
`internal/config/load.go`):

- `providers.<id>`: `type` ("openai", newer "openai-compat"; empty means
  openai), `base_url`, `api_key`, `models[]` of catwalk models:
  `{id, name, context_window, default_max_tokens}`;
- `models.large` / `models.small`: `{model, provider, max_tokens}`; a
  positive `max_tokens` there overrides the model's `default_max_tokens`.
- Files, later ones overriding earlier: `$XDG_CONFIG_HOME/crush/crush.json`
  (default `~/.config`), `$XDG_DATA_HOME/crush/crush.json` (default
  `~/.local/share`, written by the UI), then `crush.json` and `.crush.json`
  in the working directory. Plain JSON (`encoding/json`).
- No request timeout key exists in ProviderConfig: timeout stays unset.
- The current format is `crushrc`, Bash with Crush builtins (`README.md`
  "crushrc": "the old JSON format ... should be considered deprecated";
  `internal/shellconfig/provider.go`, `model.go`; read by
  `ctxfix.edits.crushrc`): `provider add ollama --type ollama --base-url
  http://localhost:11434/v1/` and `model add ollama/<id> --context-window N
  --default-max-tokens N`, `model large ollama/<id> --max-tokens N`. The
  `ollama` provider type still uses the `/v1` base URL the user gives.
- Load order (`internal/config/load.go lookupConfigs`, later wins, merged with
  `jsons.Merge`): `/etc/crush/crush.json` (Unix), the global `crush.json` and
  `crushrc` in `$CRUSH_GLOBAL_CONFIG` or `$XDG_CONFIG_HOME/crush` (default
  `~/.config/crush`, also on Windows: `%USERPROFILE%\\.config\\crush`), the data
  `crush.json` (`$CRUSH_GLOBAL_DATA`, `$XDG_DATA_HOME/crush`, `~/.local/share/crush`,
  Windows `%LOCALAPPDATA%\\crush`; never a crushrc there), then the project's
  files from the git root down to the working directory, and in each directory
  `.crushrc` > `crushrc` > `.crush.json` > `crush.json`. So a project file
  overrides the global ones. How a model redefined in a later file is merged:
  see `drop_overridden`.
- Not read: models Crush discovers itself (`--discover-models`, or an
  `ollama`-type provider with no models): `internal/discover/ollama.go` gives
  them the GGUF `context_length` of `/api/show`, the native window, not the
  served one.

A binding per model of every provider named "ollama" or whose base URL is on
port 11434.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ctxfix.facts import AgentBinding, KeyPath
from ctxfix.sources.agents._common import (
    api_for_url,
    binding_value,
    inline_ignores,
    is_ollama_url,
    model_binding,
    schema_names,
    to_int,
    to_str,
    with_refs,
)

AGENT = "crush"
FILE_NAMES: tuple[str, ...] = ("crush.json", ".crush.json", "crushrc", ".crushrc")
_RC_NAMES = frozenset({"crushrc", ".crushrc"})
SYSTEM_CONFIG = Path("/etc/crush/crush.json")  # internal/config/config_unix.go


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """The global crush.json and crushrc, then the data-dir crush.json (`GlobalConfig`,
    `shellConfigSibling`, `GlobalConfigData` in internal/config/load.go)."""
    if env.get("CRUSH_GLOBAL_CONFIG"):
        cfg_dir = Path(env["CRUSH_GLOBAL_CONFIG"]).expanduser()
    else:
        cfg = env.get("XDG_CONFIG_HOME")
        cfg_dir = (Path(cfg).expanduser() if cfg else home / ".config") / "crush"
    paths = [SYSTEM_CONFIG, cfg_dir / "crush.json", cfg_dir / "crushrc"]
    data = env.get("XDG_DATA_HOME")
    local = env.get("LOCALAPPDATA")
    if env.get("CRUSH_GLOBAL_DATA"):
        paths.append(Path(env["CRUSH_GLOBAL_DATA"]).expanduser() / "crush.json")
    else:
        paths.append(
            (Path(data).expanduser() if data else home / ".local" / "share")
            / "crush"
            / "crush.json"
        )
        if local:
            paths.append(Path(local) / "crush" / "crush.json")
    return paths


def detect(path: Path, data: Any) -> bool:
    """Crush's schema URL, a `providers` map of provider objects, or `models.large/small`."""
    if not isinstance(data, dict):
        return False
    if schema_names(data, "crush"):
        return True
    providers = data.get("providers")
    if isinstance(providers, dict) and any(
        isinstance(p, dict) and ("base_url" in p or isinstance(p.get("models"), list))
        for p in providers.values()
    ):
        return True
    models = data.get("models")
    return isinstance(models, dict) and bool({"large", "small"} & models.keys())


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per model of each Ollama provider."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    rc = path.name in _RC_NAMES
    doc = load_document(path, text, fmt="crushrc" if rc else None)
    if not rc and not detect(path, doc.data):
        return []
    suppressed = inline_ignores(doc.text)
    providers = doc.get(("providers",))
    if not isinstance(providers, dict):
        return []
    selected = doc.get(("models",))
    selected = selected if isinstance(selected, dict) else {}

    out: list[AgentBinding] = []
    for pid, prov in providers.items():
        if not isinstance(prov, dict) or prov.get("disable") is True:
            continue
        url = to_str(prov.get("base_url"))
        if pid != "ollama" and prov.get("type") != "ollama" and not is_ollama_url(url):
            continue
        models = prov.get("models")
        for i, m in enumerate(models if isinstance(models, list) else []):
            if not isinstance(m, dict) or to_str(m.get("id")) is None:
                continue
            base: KeyPath = ("providers", pid, "models", i)
            max_tokens = binding_value(doc, (*base, "default_max_tokens"), to_int)
            max_path: KeyPath = (*base, "default_max_tokens")
            for kind, sel in selected.items():
                if (
                    isinstance(sel, dict)
                    and sel.get("provider") == pid
                    and sel.get("model") == m["id"]
                    and (to_int(sel.get("max_tokens")) or 0) > 0
                ):
                    max_path = ("models", kind, "max_tokens")
                    max_tokens = binding_value(doc, max_path, to_int)
                    break
            out.append(
                model_binding(
                    doc,
                    (*base, "id"),
                    agent=AGENT,
                    suppressed=suppressed,
                    edit_paths={
                        "context_window": (*base, "context_window"),
                        "max_tokens": max_path,
                    },
                    api=api_for_url(url),
                    host=url,
                    context_window=binding_value(doc, (*base, "context_window"), to_int),
                    max_tokens=max_tokens,
                )
            )
    return with_refs(out, doc)


# Precedence of the project files in one directory, lowest first (lookupConfigs
# lists them high-to-low, then reverses the whole list before merging).
_DIR_RANK = {"crush.json": 0, ".crush.json": 1, "crushrc": 2, ".crushrc": 3}


def _model_key(b: AgentBinding) -> tuple[object, str]:
    """(provider id, model id): what a later Crush file redefines."""
    return b.edit_paths["model_ref"][1], b.model_ref.value


def merge(
    bindings: Iterable[AgentBinding], files: Sequence[Path], env: Mapping[str, str], home: Path
) -> list[AgentBinding]:
    """The pipeline's hook for an agent that merges its files: `drop_overridden`, given
    every Crush file found (`files`) and the user-level ones of this `env`."""
    return drop_overridden(bindings, files, user_paths(env, home))


def drop_overridden(
    bindings: Iterable[AgentBinding],
    files: Iterable[Path | str],
    user_files: Sequence[Path],
) -> list[AgentBinding]:
    """Drop each Crush binding whose model a later-loaded Crush file redefines.

    How Crush merges (charmbracelet/crush, `internal/config/load.go`
    `lookupConfigs`, `loadFromConfigPaths`, `loadFromBytes`): each file (a
    crushrc turned into JSON first) goes through `jsons.Merge`
    (github.com/qjebbs/go-jsons, `internal/merge/ordered.go`
    `mergeOrderedField`): objects merge key by key, scalars of later files win,
    and arrays are concatenated, earlier files' elements first. So
    `providers.<id>` merges field by field, but its `models` list is the
    concatenation of every file's list: two entries with the same id, not one
    entry with merged fields. `internal/agent/coordinator.go`
    `buildAgentModels` then takes the *last* entry with the selected id
    (its loop has no `break`) as `CatwalkCfg`, whose `context_window` drives
    auto-summarize (`internal/agent/agent.go`) and whose `default_max_tokens`
    the request (`coordinator.go`). The later file's whole entry wins: none of
    its unset fields come from the earlier entry, so a binding needs no value
    from another file, and the earlier binding is simply dropped; the later
    file is the one the user must edit. (`Config.GetModel`, used by the UI,
    returns the first entry: a display matter, not the window planned with.)

    Which file is "later" is decided only where Crush always loads both:
    - user-level files (`user_paths`: /etc, global crush.json, global
      crushrc, data crush.json) in that order;
    - project files of one directory: crush.json < .crush.json < crushrc <
      .crushrc;
    - a user-level binding is dropped when every scanned project directory
      with a Crush file overrides it, in that directory or an ancestor one
      (Crush in that directory loads the ancestors' files too); where one
      project does not, the user-level value is live there and is judged.
    Not modelled: a file in a subdirectory overriding one in an ancestor
    project directory (both are live, depending on where Crush runs: both
    are judged); the git-root bound of the upward walk; `models.large/small`
    merging field by field across files (each file's selection
    `max_tokens` applies to its own models only); provider fields inherited
    from an earlier file (a later file's provider with no `base_url`, or a
    later `disable: true`); two entries with one id inside a single file.
    """

    def norm(p: Path | str) -> str:
        return os.path.realpath(os.path.abspath(os.fspath(Path(p).expanduser())))

    bindings = list(bindings)
    defined: dict[str, set[tuple[object, str]]] = {}
    for b in bindings:
        if b.agent == AGENT:
            defined.setdefault(norm(b.file), set()).add(_model_key(b))
    if not defined:
        return bindings
    user_rank: dict[str, int] = {}
    for i, up in enumerate(user_files):
        user_rank.setdefault(norm(up), i)
    project = sorted(({norm(f) for f in files} | defined.keys()) - user_rank.keys())
    project_dirs = {os.path.dirname(f) for f in project}

    def in_or_above(f: str, d: str) -> bool:
        parent = os.path.dirname(f)
        return parent == d or d.startswith(parent.rstrip(os.sep) + os.sep)

    def overridden(b: AgentBinding) -> bool:
        f, key = norm(b.file), _model_key(b)
        if f in user_rank:
            rank = user_rank[f]
            if any(key in ks for g, ks in defined.items() if user_rank.get(g, -1) > rank):
                return True
            return bool(project_dirs) and all(
                any(key in defined.get(g, ()) and in_or_above(g, d) for g in project)
                for d in project_dirs
            )
        rank = _DIR_RANK.get(os.path.basename(f), -1)
        return any(
            key in ks
            and os.path.dirname(g) == os.path.dirname(f)
            and _DIR_RANK.get(os.path.basename(g), -1) > rank
            for g, ks in defined.items()
            if g not in user_rank
        )

    return [b for b in bindings if b.agent != AGENT or not overridden(b)]
