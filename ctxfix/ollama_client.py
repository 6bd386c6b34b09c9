"""Import the official `ollama` client whatever `$OLLAMA_HOST` holds.

Why: `ollama/__init__.py` builds a default client at import time, which parses
`$OLLAMA_HOST`; a value it cannot parse (`http://[::1`) made the import raise
`ValueError`, and ctxfix died with an internal error even when `--host` named
a good server. ctxfix never uses that default client, so the import is
retried without the variable (restored right after).
"""

from __future__ import annotations

import os
from types import ModuleType


def load() -> ModuleType:
    try:
        import ollama
    except ValueError:
        bad = os.environ.pop("OLLAMA_HOST", None)
        try:
            import ollama
        finally:
            if bad is not None:
                os.environ["OLLAMA_HOST"] = bad
    return ollama
