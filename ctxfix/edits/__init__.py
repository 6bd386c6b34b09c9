"""Format-preserving documents: read values with positions, edit only their bytes.

Why: readers need `path:line:col` for every value they report, and fixes must
leave comments, quoting and layout alone. `load_document` parses JSON, JSONC,
JSON5, YAML and TOML into a `Document` (see document.py); `unified_diff`
shows an edit with secrets redacted. Format libraries load lazily.
"""

from __future__ import annotations

from ctxfix.edits.diff import unified_diff
from ctxfix.edits.document import Document, load_document

__all__ = ["Document", "load_document", "unified_diff"]
