"""ctxfix.digest gives hashlib's SHA-256 without importing hashlib."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from ctxfix.digest import sha256_hex


@given(st.binary(max_size=4096))
def test_same_digest_as_hashlib(data: bytes) -> None:
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_openssl_is_not_loaded() -> None:
    code = (
        "import sys; from ctxfix.digest import sha256_hex; sha256_hex(b'');"
        "print('_hashlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
