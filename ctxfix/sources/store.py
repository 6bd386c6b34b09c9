"""Read an Ollama model store: manifests, params/config blobs, GGUF geometry.

Why: the store is the ground truth of what `ollama run NAME` serves. A
model's `num_ctx` lives in its params blob, not in any file a user edits, and
its native context lives in the GGUF header of a shared model blob. This
module turns every manifest under `manifests/<host>/<namespace>/<model>/<tag>`
into a `ModelDef` with provenance, and nothing more (no judgement).

Layout (as Ollama writes it, server/manifest.go and server/layer.go):
  manifests/<host>/<namespace>/<model>/<tag>   JSON, Go struct order, "\\n"-terminated
  blobs/sha256-<hex>                            content-addressed, immutable
Ollama finds manifests with the glob `manifests/*/*/*/*`; we walk exactly
those four levels too, so we list what `ollama list` lists.

Broken entries found while scanning never stop the scan (one corrupt manifest
among fifty is a warning line, the other 49 are still checked):
  - unreadable or corrupt manifest JSON          -> warning, entry skipped
  - params blob missing or not a JSON object      -> warning, entry skipped
    (reporting such a model as "num_ctx unset" would be a false finding)
  - model blob missing, or its GGUF unreadable    -> warning, entry kept with
    geometry None (native context falls back to the catalog)
  - config blob missing or corrupt                -> warning, details empty
A root the user named that is not a store is an error (`strict=True`).

num_ctx typing follows Ollama (api/types.go `Options.FromMap`), which decodes
params JSON into float64 and converts with int64(): `131072.0` and `1e+06`
are *accepted* there, a fraction is truncated, and a string, bool, array or
object is refused ("option num_ctx must be of type integer"). So only the
refused kinds become `num_ctx_invalid`; an accepted non-integer spelling keeps
its served value in `num_ctx` with a note naming the raw text.

GGUF geometry is cached by model-blob digest (`ctxfix.cache.DigestCache`), so a
warm scan opens no GGUF file. `write_model` creates a derived model offline
the way `ollama create NAME -f Modelfile` with `FROM PARENT` does it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.cache import DigestCache
from ctxfix.digest import is_hex64, sha256_hex
from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import Geometry, Location, ModelDef, Sourced
from ctxfix.names import (
    DEFAULT_HOST,
    DEFAULT_NAMESPACE,
    Name,
    canonical,
    name_problem,
    split_name,
)
from ctxfix.records import field, record

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
MEDIA_PREFIX = "application/vnd.ollama.image."
MEDIA_MODEL = MEDIA_PREFIX + "model"
MEDIA_PROJECTOR = MEDIA_PREFIX + "projector"
MEDIA_ADAPTER = MEDIA_PREFIX + "adapter"
MEDIA_PARAMS = MEDIA_PREFIX + "params"
WEIGHT_MEDIA = frozenset({MEDIA_MODEL, MEDIA_PROJECTOR, MEDIA_ADAPTER})

SYSTEM_STORE = Path("/usr/share/ollama/.ollama/models")


@record(frozen=True)
class StoreScan:
    """Everything one store yielded: models in manifest-path order, plus warnings."""

    root: Path
    models: list[ModelDef] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)


# --------------------------------------------------------------------------- roots


def default_store_roots(environ: Mapping[str, str], home: Path) -> list[Path]:
    """$OLLAMA_MODELS, ~/.ollama/models, /usr/share/ollama/.ollama/models: existing ones, once."""
    candidates: list[Path] = []
    if environ.get("OLLAMA_MODELS"):
        candidates.append(Path(environ["OLLAMA_MODELS"]).expanduser())
    candidates += [home / ".ollama" / "models", SYSTEM_STORE]
    out: list[Path] = []
    seen: set[Path] = set()
    for c in candidates:
        try:
            if not c.is_dir():
                continue
            key = c.resolve()
        except OSError:  # unreadable parent (e.g. /usr/share/ollama mode 700)
            continue
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


# --------------------------------------------------------------------------- names


def _name_from_parts(host: str, namespace: str, model: str, tag: str) -> str:
    return canonical(f"{host}/{namespace}/{model}:{tag}")


def _shortest(host: str, namespace: str, model: str, tag: str) -> str:
    """Ollama's `Name.DisplayShortest()`: defaults dropped, case kept (used in layer `from`)."""
    if host.lower() != DEFAULT_HOST:
        return f"{host}/{namespace}/{model}:{tag}"
    if namespace.lower() != DEFAULT_NAMESPACE:
        return f"{namespace}/{model}:{tag}"
    return f"{model}:{tag}"


def _match_child(parent: Path, want: str) -> Path | None:
    """The entry of `parent` named `want`, compared case-insensitively (exact match first)."""
    exact = parent / want
    if exact.exists():
        return exact
    try:
        with os.scandir(parent) as it:
            for entry in it:
                if entry.name.lower() == want.lower():
                    return parent / entry.name
    except OSError:
        return None
    return None


def find_model(root: Path, name: str) -> Path | None:
    """The manifest for NAME in this store, matching each part case-insensitively like Ollama.

    A name Ollama refuses (types/model/name.go `IsValid`: `..`, `/nn/mm`) has no
    manifest, and must never become a path outside the store.
    """
    if name_problem(name) is not None:
        return None
    here: Path | None = root / "manifests"
    for part in split_name(name):
        if here is None or not part:
            return None
        here = _match_child(here, part)
    return here if here is not None and here.is_file() else None


def manifest_path(root: Path, name: str) -> Path:
    """Where Ollama would write NAME's manifest (an existing spelling of the name wins)."""
    found = find_model(root, name)
    if found is not None:
        return found
    host, namespace, model, tag = split_name(name)
    return root / "manifests" / host / namespace / model / tag


def blob_path(root: Path, digest: str) -> Path:
    """`sha256:<hex>` -> `<root>/blobs/sha256-<hex>` (Ollama's file name for a digest)."""
    return root / "blobs" / digest.replace(":", "-", 1)


def _valid_digest(digest: Any) -> bool:
    return isinstance(digest, str) and digest.startswith("sha256:") and is_hex64(digest[7:])


# --------------------------------------------------------------------------- JSON


class _RawFloat(float):
    """A JSON float that remembers how it was written (`131072.0`, `1e+06`)."""

    raw: str

    def __new__(cls, text: str) -> _RawFloat:
        obj = super().__new__(cls, text)
        obj.raw = text
        return obj


def _load_json(path: Path) -> tuple[Any, bytes]:
    """Parse a JSON file; raises CtxfixError naming `path:line:col` and the problem."""
    from ctxfix.safe_read import read_bytes

    if not path.exists() and not path.is_symlink():
        raise CtxfixError(str(path), "missing")
    data = read_bytes(path)
    try:
        return json.loads(data, parse_float=_RawFloat), data
    except UnicodeDecodeError:
        raise CtxfixError(str(path), "not UTF-8 JSON") from None
    except json.JSONDecodeError as e:
        raise CtxfixError(f"{path}:{e.lineno}:{e.colno}", f"invalid JSON: {e.msg}") from None


def _go_float(x: float) -> str:
    """Go's encoding/json float64 text: shortest digits, `e` only outside [1e-6, 1e21).

    131072.0 -> `131072`, 1e-05 -> `0.00001`, 1e-07 -> `1e-7`, 1e21 -> `1e+21`.
    """
    a = abs(x)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        mant, exp = repr(x).split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}e{sign}{int(exp.lstrip('+-'))}"  # Go trims e-07 to e-7
    from decimal import Decimal  # rare: a float parameter

    text = format(Decimal(repr(x)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _go_json(value: Any, *, sort_keys: bool = True) -> str:
    """Compact JSON as Go's json.Encoder writes it: HTML-safe escapes; map keys sorted.

    Go sorts map keys; a struct keeps field order, so pass `sort_keys=False` and
    an insertion-ordered dict to mimic a struct (the config blob).
    """
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot encode {value} in JSON")
        return _go_float(value)
    if isinstance(value, str):
        s = json.dumps(value, ensure_ascii=False)
        for ch, esc in (
            ("<", "\\u003c"),
            (">", "\\u003e"),
            ("&", "\\u0026"),
            ("\u2028", "\\u2028"),
            ("\u2029", "\\u2029"),
        ):
            s = s.replace(ch, esc)
        return s
    if isinstance(value, Mapping):
        items = sorted(value.items()) if sort_keys else list(value.items())
        body = ",".join(f"{_go_json(str(k))}:{_go_json(v, sort_keys=sort_keys)}" for k, v in items)
        return "{" + body + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_go_json(v, sort_keys=sort_keys) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} in JSON")


def encode_params(params: Mapping[str, Any]) -> bytes:
    """A params blob exactly as Ollama's `json.NewEncoder(&b).Encode(map)` writes it."""
    return (_go_json(dict(params)) + "\n").encode()


def encode_config(config: Mapping[str, Any]) -> bytes:
    """A config blob as Ollama's json.NewEncoder writes its ConfigV2 struct (field order kept)."""
    return (_go_json(dict(config), sort_keys=False) + "\n").encode()


def encode_manifest(config: Mapping[str, Any], layers: list[Mapping[str, Any]]) -> bytes:
    """A manifest as Ollama's WriteManifest writes it: struct field order, compact, newline."""

    def layer(d: Mapping[str, Any]) -> str:
        parts = [
            f'"mediaType":{_go_json(d["mediaType"])}',
            f'"digest":{_go_json(d["digest"])}',
            f'"size":{int(d["size"])}',
        ]
        if d.get("from"):
            parts.append(f'"from":{_go_json(d["from"])}')
        return "{" + ",".join(parts) + "}"

    text = (
        f'{{"schemaVersion":2,"mediaType":"{MANIFEST_MEDIA_TYPE}",'
        f'"config":{layer(config)},"layers":[{",".join(layer(x) for x in layers)}]}}\n'
    )
    return text.encode()


# --------------------------------------------------------------------------- scan


def _num_ctx(
    params: Mapping[str, Any], where: Location
) -> tuple[Sourced[int] | None, Sourced[str] | None]:
    """num_ctx as Ollama's Options.FromMap would take it (see module docstring)."""
    if "num_ctx" not in params or params["num_ctx"] is None:
        return None, None
    raw = params["num_ctx"]
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None, Sourced(json.dumps(raw), "params", where)
    if isinstance(raw, int):
        return Sourced(raw, "params", where), None
    text = getattr(raw, "raw", repr(raw))
    if not math.isfinite(raw):
        return None, Sourced(text, "params", where)
    served = int(raw)  # Go: int64(float64) truncates toward zero
    if raw.is_integer():
        note = f"written as {text}; Ollama reads it as {served}"
    else:
        note = f"written as {text}; Ollama truncates it to {served}"
    return Sourced(served, "params", where, note), None


def _iter_manifests(manifests: Path) -> list[tuple[Path, tuple[str, str, str, str]]]:
    """Files at exactly manifests/*/*/*/* (Ollama's glob), sorted; dotfiles skipped."""
    out: list[tuple[Path, tuple[str, str, str, str]]] = []

    def dirs(p: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(p) as it:
                return sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            return []

    for h in dirs(manifests):
        if not h.is_dir():
            continue
        for n in dirs(Path(h.path)):
            if not n.is_dir():
                continue
            for m in dirs(Path(n.path)):
                if not m.is_dir():
                    continue
                for t in dirs(Path(m.path)):
                    if t.is_file():
                        out.append((Path(t.path), (h.name, n.name, m.name, t.name)))
    return out


def _read_geometry(path: Path, digest: str, cache: DigestCache | None) -> Geometry:
    """Geometry of a model blob: from the digest cache, else from its GGUF header (then cached)."""
    if cache is not None:
        cached = cache.get_geometry(digest)
        if cached is not None:
            return cached
    from ctxfix.sources.gguf import read_geometry

    try:
        geometry = read_geometry(path)
    except OSError as e:
        raise CtxfixError(str(path), f"cannot read: {e.strerror or e}") from None
    if cache is not None:
        cache.put_geometry(digest, geometry)
    return geometry


class _Skip(Exception):
    """A broken entry: the warning has been recorded, the model is left out."""


def _read_params(
    root: Path, path: Path, layer: Mapping[str, Any], name: str, warn: list[Warning_]
) -> tuple[dict[str, Any], Sourced[int] | None, Sourced[str] | None]:
    digest = layer.get("digest")
    if not _valid_digest(digest):
        warn.append(
            Warning_(str(path), f"params layer digest {digest!r} is invalid; {name} skipped")
        )
        raise _Skip
    ppath = blob_path(root, digest)
    try:
        loaded, _ = _load_json(ppath)
    except CtxfixError as e:
        if e.problem == "missing":
            warn.append(Warning_(str(path), f"params blob {ppath.name} is missing; {name} skipped"))
        else:
            warn.append(Warning_(e.where, f"corrupt params blob: {e.problem}; {name} skipped"))
        raise _Skip from None
    if not isinstance(loaded, dict):
        warn.append(Warning_(str(ppath), f"params blob is not a JSON object; {name} skipped"))
        raise _Skip
    return (loaded, *_num_ctx(loaded, Location(str(ppath), key="num_ctx")))


def _read_config(root: Path, path: Path, config: Any, warn: list[Warning_]) -> dict[str, Any]:
    if not isinstance(config, dict) or not config.get("digest"):
        return {}
    digest = config["digest"]
    if not _valid_digest(digest):
        warn.append(Warning_(str(path), f"config digest {digest!r} is invalid"))
        return {}
    cpath = blob_path(root, digest)
    try:
        loaded, _ = _load_json(cpath)
    except CtxfixError as e:
        if e.problem == "missing":
            warn.append(Warning_(str(path), f"config blob {cpath.name} is missing"))
        else:
            warn.append(Warning_(e.where, f"corrupt config blob: {e.problem}"))
        return {}
    if not isinstance(loaded, dict):
        warn.append(Warning_(str(cpath), "config blob is not a JSON object"))
        return {}
    return loaded


def _read_model_blob(
    root: Path,
    path: Path,
    layer: Mapping[str, Any] | None,
    name: str,
    cache: DigestCache | None,
    warn: list[Warning_],
) -> tuple[str | None, Geometry | None]:
    if layer is None:
        warn.append(Warning_(str(path), f"no model layer; {name} has no GGUF to read"))
        return None, None
    digest = layer.get("digest")
    if not _valid_digest(digest):
        warn.append(Warning_(str(path), f"model layer digest {digest!r} is invalid"))
        return None, None
    mpath = blob_path(root, digest)
    if not mpath.is_file():
        warn.append(Warning_(str(path), f"model blob {mpath.name} of {name} is missing"))
        return digest, None
    try:
        return digest, _read_geometry(mpath, digest, cache)
    except CtxfixError as e:
        warn.append(Warning_(e.where, f"{e.problem} (model blob of {name})"))
        return digest, None


def _read_manifest_entry(
    root: Path,
    path: Path,
    parts: tuple[str, str, str, str],
    cache: DigestCache | None,
    warn: list[Warning_],
) -> ModelDef:
    """One manifest -> ModelDef; raises _Skip (after warning) for an unusable entry."""
    name = _name_from_parts(*parts)
    try:
        manifest, raw = _load_json(path)
    except CtxfixError as e:
        warn.append(Warning_(e.where, f"corrupt manifest: {e.problem}; {name} skipped"))
        raise _Skip from None
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        warn.append(Warning_(str(path), f"not an Ollama manifest (no layers); {name} skipped"))
        raise _Skip

    model_layer: dict[str, Any] | None = None
    params_layer: dict[str, Any] | None = None
    weights: int | None = None
    # server/images.go projectorCapabilities: a projector layer makes the model "vision"
    vision = any(layer.get("mediaType") == MEDIA_PROJECTOR for layer in layers)
    for layer in layers:
        media = layer.get("mediaType")
        if media in WEIGHT_MEDIA:
            size = layer.get("size")
            if isinstance(size, int) and not isinstance(size, bool):
                weights = (weights or 0) + size
            if media == MEDIA_MODEL and model_layer is None:
                model_layer = layer
        elif media == MEDIA_PARAMS:
            params_layer = layer  # Ollama keeps one; the last one wins

    params: dict[str, Any] = {}
    num_ctx: Sourced[int] | None = None
    num_ctx_invalid: Sourced[str] | None = None
    if params_layer is not None:
        params, num_ctx, num_ctx_invalid = _read_params(root, path, params_layer, name, warn)
    details = _read_config(root, path, manifest.get("config"), warn)
    model_digest, geometry = _read_model_blob(root, path, model_layer, name, cache, warn)

    return ModelDef(
        name=name,
        origin="store",
        location=Location(str(path)),
        parent=None,
        num_ctx=num_ctx,
        num_ctx_invalid=num_ctx_invalid,
        params=params,
        geometry=geometry,
        weights_bytes=weights,
        digest=sha256_hex(raw),
        model_digest=model_digest,
        details=details,
        vision=vision,
    )


def scan_store(root: Path, *, cache: DigestCache | None = None, strict: bool = False) -> StoreScan:
    """Every model in the store at ROOT.

    `strict` is for a root the user named: anything but a store is a CtxfixError.
    A default root that is missing or empty yields an empty scan.
    """
    root = Path(root)
    manifests = root / "manifests"
    if not manifests.is_dir():
        if strict:
            if not root.exists():
                raise CtxfixError(str(root), "no such directory")
            problem = "not an Ollama model store (no manifests/ directory)"
            if (root / "models" / "manifests").is_dir():
                problem += f"; did you mean {root / 'models'}?"
            raise CtxfixError(str(root), problem)
        return StoreScan(root)
    models: list[ModelDef] = []
    warnings: list[Warning_] = []
    for path, parts in _iter_manifests(manifests):
        if not Name(*parts).is_valid():  # manifest/manifest.go Manifests: "bad manifest name"
            warnings.append(Warning_(str(path), "not a valid model name; Ollama skips it"))
            continue
        try:
            models.append(_read_manifest_entry(root, path, parts, cache, warnings))
        except _Skip:
            continue
    return StoreScan(root, models, warnings)


# --------------------------------------------------------------------------- write


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when writing (apply): keeps shutil/bz2/lzma off the scan path

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_blob(root: Path, data: bytes) -> dict[str, Any]:
    """Store DATA as a content-addressed blob (kept if present); returns {digest, size}."""
    digest = "sha256:" + sha256_hex(data)
    path = blob_path(root, digest)
    if not path.exists():
        _write_atomic(path, data)
    return {"digest": digest, "size": len(data)}


def write_model(root: Path, name: str, *, parent_manifest: Path, params: Mapping[str, Any]) -> str:
    """Create NAME from the model at PARENT_MANIFEST with PARAMS, offline, as `ollama create` does.

    The parent's params are merged under the new ones (new keys win), written as
    a new params blob appended last; every other layer is shared and marked
    `"from": <parent>` like Ollama's create. Returns the new manifest's sha256
    hex digest (what /api/tags reports). Raises CtxfixError on an unreadable parent.
    """
    root = Path(root)
    parent, _ = _load_json(Path(parent_manifest))
    if not isinstance(parent, dict) or not isinstance(parent.get("layers"), list):
        raise CtxfixError(str(parent_manifest), "not an Ollama manifest (no layers list)")
    try:
        rel = Path(parent_manifest).resolve().relative_to((root / "manifests").resolve())
        from_name = _shortest(*rel.parts) if len(rel.parts) == 4 else ""
    except ValueError:
        from_name = ""

    merged: dict[str, Any] = dict(params)
    layers: list[dict[str, Any]] = []
    for layer in parent["layers"]:
        if layer.get("mediaType") == MEDIA_PARAMS:
            existing, _ = _load_json(blob_path(root, layer["digest"]))
            if isinstance(existing, dict):
                for k, v in existing.items():
                    merged.setdefault(k, v)
            continue
        new = {k: layer[k] for k in ("mediaType", "digest", "size")}
        if from_name:
            new["from"] = from_name
        layers.append(new)
    if merged:
        blob = write_blob(root, encode_params(merged))
        layers.append({"mediaType": MEDIA_PARAMS, **blob})
    config = parent.get("config") or {}
    data = encode_manifest(config, layers)
    _write_atomic(manifest_path(root, name), data)
    return sha256_hex(data)
