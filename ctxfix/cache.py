"""On-disk cache of GGUF geometry, keyed by blob digest.

Why: a model store holds tens of multi-gigabyte GGUF blobs whose headers
(tokenizer vocabularies of 150k+ strings) take tens of milliseconds each to
walk. Blobs in an Ollama store are content-addressed and immutable, so the
digest alone is a perfect cache key: a blob with the same digest always has the
same header. `ctxfix scan` runs in pre-commit and on every save, so the second
scan must read no GGUF header at all.

Layout: one small JSON file per digest, `<cache dir>/gguf/<hex>.json`. We
measured one-file-per-store against one-file-per-digest (bench/RESULTS.md,
"Model store scan"): reading 50 entries takes about a millisecond either
way, while per-digest files need no read-modify-write of a shared file (two
concurrent scans cannot lose each other's entries), share entries across
stores (the same blob pulled into two stores is read once), and confine a
corrupt entry to one model.

Every entry carries `format` (bumped when the meaning of a cached value
changes, e.g. the GGUF reader fixes a default) and its digest; the geometry
must have exactly today's `Geometry` field names, so an entry written by a
ctxfix with a different `Geometry` is treated as a miss and rewritten. A
corrupt or mismatched entry is ignored and re-read; writes are atomic (temp
file + `os.replace`), so a crash or a concurrent scan never leaves a half-
written entry behind. There is no fsync: an entry lost to a power cut is just
a miss. Cache trouble never fails a scan: a read-only or missing cache
directory just means no caching. Errors (a truncated blob) are not cached, so
a blob the user repairs is read again.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.digest import is_hex64
from ctxfix.facts import Geometry
from ctxfix.records import fields

FORMAT_VERSION = 1
CACHE_ENV = "CTXFIX_CACHE_DIR"

# Tensor infos are not cached: scans never ask for them and they can be large.
_UNCACHED = frozenset({"tensors"})
_GEOMETRY_FIELDS = tuple(f.name for f in fields(Geometry) if f.name not in _UNCACHED)


def default_cache_dir(
    environ: Mapping[str, str] | None = None, settings_dir: Path | None = None
) -> Path:
    """The cache directory: Settings.cache_dir > $CTXFIX_CACHE_DIR > the platform user cache."""
    if settings_dir is not None:
        return Path(settings_dir)
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV])
    from ctxfix.dirs import user_cache_dir

    return user_cache_dir()


def _hex(digest: str) -> str | None:
    """The hex of `sha256:<hex>` or `sha256-<hex>` (64 lowercase digits); None otherwise."""
    body = digest[7:]
    return body if digest[:7] in ("sha256:", "sha256-") and is_hex64(body) else None


def geometry_to_json(geometry: Geometry) -> dict[str, Any]:
    """A JSON-safe dict of every cached Geometry field (tuples become lists)."""
    out: dict[str, Any] = {}
    for name in _GEOMETRY_FIELDS:
        value = getattr(geometry, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def geometry_from_json(data: Any) -> Geometry | None:
    """Rebuild a Geometry; None when the dict does not match today's Geometry exactly."""
    if not isinstance(data, dict) or set(data) != set(_GEOMETRY_FIELDS):
        return None
    if not isinstance(data.get("arch"), str):
        return None
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return Geometry(**kwargs)
    except TypeError:
        return None


class DigestCache:
    """GGUF geometry by blob digest, one JSON file per digest.

    `hits`, `misses` and `writes` count what happened, for tests and the bench.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self._dir = self.directory / "gguf"
        self.hits = 0
        self.misses = 0
        self.writes = 0

    @classmethod
    def from_settings(
        cls, settings: Any = None, environ: Mapping[str, str] | None = None
    ) -> DigestCache:
        """Build from `Settings.cache_dir`, else $CTXFIX_CACHE_DIR, else the user cache dir."""
        settings_dir = getattr(settings, "cache_dir", None) if settings is not None else None
        return cls(default_cache_dir(environ, settings_dir))

    def path_for(self, digest: str) -> Path | None:
        """Where the entry for `digest` lives (None for a malformed digest)."""
        hx = _hex(digest)
        return None if hx is None else self._dir / f"{hx}.json"

    def get_geometry(self, digest: str) -> Geometry | None:
        """The cached geometry, or None (missing, corrupt, other format, other digest)."""
        path = self.path_for(digest)
        geometry = None
        if path is not None:
            try:
                entry = json.loads(path.read_bytes())
            except (OSError, ValueError):
                entry = None
            if (
                isinstance(entry, dict)
                and entry.get("format") == FORMAT_VERSION
                and entry.get("digest") == f"sha256:{_hex(digest)}"
            ):
                geometry = geometry_from_json(entry.get("geometry"))
        if geometry is None:
            self.misses += 1
        else:
            self.hits += 1
        return geometry

    def put_geometry(self, digest: str, geometry: Geometry) -> None:
        """Store atomically; a cache that cannot be written is silently skipped."""
        path = self.path_for(digest)
        if path is None:
            return
        entry = {
            "format": FORMAT_VERSION,
            "digest": f"sha256:{_hex(digest)}",
            "geometry": geometry_to_json(geometry),
        }
        data = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        tmp_name = None
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            import tempfile  # only when the cache is written

            fd, tmp_name = tempfile.mkstemp(dir=self._dir, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp_name, path)
            tmp_name = None
            self.writes += 1
        except OSError:
            pass
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
