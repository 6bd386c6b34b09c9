"""Factory Droid (`~/.factory/settings.json` `customModels`, legacy `config.json`).

Why: Droid reaches Ollama as a BYOK custom model on the OpenAI-compatible
`/v1` API (`provider: "generic-chat-completion-api"`), which cannot set
num_ctx, so the model runs at whatever the server serves, often the 4,096
default, while Ollama's own guide asks for at least 32K for Droid
(docs.ollama.com/droid). No window is written anywhere: the binding shows the
served context and whether the model exists.

Format (docs.factory.ai `cli/byok` "Configuration Reference"; github:ollama/ollama
`cmd/launch/droid.go`; Droid itself is closed source):

- Files: `~/.factory/settings.json` (and `settings.local.json`), `customModels[]`
  in camelCase: `model` (sent to the API), `displayName`, `baseUrl`, `apiKey`,
  `provider` ("anthropic", "openai", "generic-chat-completion-api"),
  `maxOutputTokens`, plus `id`/`index` in what launch writes; legacy
  `~/.factory/config.json`, `custom_models[]` in snake_case (`model`,
  `base_url`, `api_key`, `provider`, `max_tokens`); both are merged, settings
  winning. `~` is `os.UserHomeDir` (`%USERPROFILE%` on Windows).
- No context-window or timeout key is documented; what Droid assumes for an
  unknown model's window cannot be read from its source, so the window stays
  unset (CTX201/CTX202 cannot fire) and so does the timeout.
- `ollama launch droid` (`droid.go updateDroidSettings`) rewrites its own
  entries, marked `apiKey: "ollama"` (it keeps every entry with another key),
  on `$OLLAMA_HOST/v1` with `provider: "generic-chat-completion-api"`,
  `maxOutputTokens` 64,000 unless known, and `sessionDefaultSettings.model =
  "custom:<model>-0"`. It writes no window.

A binding per custom model whose base URL is on port 11434 (or that launch
wrote). The model is pinned in launch's entries: launch rewrites them when the
models differ from the ones it saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import AgentBinding, KeyPath
from ctxfix.sources.agents._common import (
    binding_value,
    inline_ignores,
    is_ollama_url,
    location,
    model_binding,
    to_int,
    to_str,
    with_refs,
)

AGENT = "droid"
FILE_NAMES: tuple[str, ...] = ("settings.json", "settings.local.json", "config.json")

LAUNCH_API_KEY = "ollama"  # droid.go: the apiKey of the entries launch owns
# (list key, base URL key, API key, max output key) for settings.json and legacy config.json
_SHAPES = (
    ("customModels", "baseUrl", "apiKey", "maxOutputTokens"),
    ("custom_models", "base_url", "api_key", "max_tokens"),
)


def user_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """`~/.factory/settings.json`, `settings.local.json`, then the legacy `config.json`."""
    base = home / ".factory"
    return [base / "settings.json", base / "settings.local.json", base / "config.json"]


def _shape(data: Any) -> tuple[str, str, str, str] | None:
    if not isinstance(data, dict):
        return None
    for shape in _SHAPES:
        models = data.get(shape[0])
        if isinstance(models, list) and any(
            isinstance(m, dict) and "model" in m and ("provider" in m or shape[1] in m)
            for m in models
        ):
            return shape
    return None


def detect(path: Path, data: Any) -> bool:
    """A `customModels` (or legacy `custom_models`) list of model entries."""
    return _shape(data) is not None


def read(path: Path, text: str | None = None) -> list[AgentBinding]:
    """One binding per custom model served by Ollama."""
    from ctxfix.edits.document import load_document

    path = Path(path)
    doc = load_document(path, text, "json")
    shape = _shape(doc.data)
    if shape is None:
        if isinstance(doc.data, dict) and isinstance(doc.data.get("customModels"), dict):
            where = str(location(doc, ("customModels",)))
            raise CtxfixError(where, "customModels must be a list of model entries")
        return []
    key, url_key, api_key_key, max_key = shape
    suppressed = inline_ignores(doc.text)
    out: list[AgentBinding] = []
    for i, m in enumerate(doc.data[key]):
        if not isinstance(m, dict) or to_str(m.get("model")) is None:
            continue
        url = to_str(m.get(url_key))
        launched = m.get(api_key_key) == LAUNCH_API_KEY and key == "customModels"
        if not (is_ollama_url(url) or launched):
            continue
        base: KeyPath = (key, i)
        out.append(
            model_binding(
                doc,
                (*base, "model"),
                agent=AGENT,
                suppressed=suppressed,
                api="anthropic" if m.get("provider") == "anthropic" else "openai",
                host=url,
                context_window=None,  # no window key exists
                max_tokens=binding_value(doc, (*base, max_key), to_int),
                pinned="ollama launch droid rewrites its entries when the models differ"
                if launched
                else None,
            )
        )
    return with_refs(out, doc)
