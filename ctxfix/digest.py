"""SHA-256 hex digests without loading OpenSSL.

Why: `import hashlib` loads `_hashlib`, i.e. OpenSSL's libcrypto, ~3 ms of a
pre-commit hook whose whole budget is ~100 ms (issue 15). CPython also ships
its own SHA-256 (`Modules/sha256module.c` as `_sha256` up to 3.11,
`Modules/sha2module.c` as `_sha2` from 3.12), which loads in a fraction of
that and gives the same digest; tests/test_digest.py checks it against
hashlib. A build without the builtin hashes falls back to hashlib.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_sha256: Callable[[bytes], Any]
try:
    from _sha2 import sha256 as _sha256  # CPython >= 3.12
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # CPython 3.11
    except ImportError:  # a build without builtin hashes
        from hashlib import sha256 as _sha256


def is_hex64(text: str) -> bool:
    """64 lowercase hex digits: the body of an Ollama `sha256:` digest (no regex to compile)."""
    return len(text) == 64 and not text.strip("0123456789abcdef")


def sha256_hex(data: bytes) -> str:
    """The lowercase hex SHA-256 of DATA (what Ollama names blobs by)."""
    return _sha256(data).hexdigest()
