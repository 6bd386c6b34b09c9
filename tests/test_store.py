"""Ollama model store reader (ctxfix.sources.store) and the GGUF digest cache."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from ctxfix.cache import FORMAT_VERSION, DigestCache, default_cache_dir
from ctxfix.errors import CtxfixError
from ctxfix.settings import Settings
from ctxfix.sources import store
from ctxfix.sources.store import (
    default_store_roots,
    find_model,
    manifest_path,
    scan_store,
    write_model,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DEMO_STORE = FIXTURES / "demo" / "store"
HOSTS_STORE = FIXTURES / "stores" / "hosts"
BROKEN_STORE = FIXTURES / "stores" / "broken"
sys.path.insert(0, str(FIXTURES))

import gen_stores  # noqa: E402


def header(arch: str = "llama", ctx: int = 131072, blocks: int = 32, kv: int = 8) -> bytes:
    """A real, tensor-less GGUF header written by the gguf package."""
    return gen_stores.small_gguf(
        arch,
        {
            "general.name": f"{arch}-{ctx}-{blocks}",
            f"{arch}.context_length": ctx,
            f"{arch}.block_count": blocks,
            f"{arch}.embedding_length": 4096,
            f"{arch}.attention.head_count": 32,
            f"{arch}.attention.head_count_kv": kv,
        },
    )


def by_name(scan: store.StoreScan) -> dict[str, store.ModelDef]:
    return {m.name: m for m in scan.models}


def blob_size(root: Path, digest: str) -> int:
    return (root / "blobs" / digest.replace(":", "-")).stat().st_size


@pytest.fixture
def cache(tmp_path: Path) -> DigestCache:
    return DigestCache(tmp_path / "cache")


# --------------------------------------------------------------------------- demo


def test_demo_store_is_the_motivating_case(cache: DigestCache) -> None:
    scan = scan_store(DEMO_STORE, cache=cache, strict=True)
    assert scan.warnings == []
    models = by_name(scan)
    assert sorted(models) == ["qwen3-coder:30b", "qwen3-coder:30b-v-128k"]
    base, capped = models["qwen3-coder:30b"], models["qwen3-coder:30b-v-128k"]

    assert base.num_ctx is None  # the library model relies on the server default
    assert base.params["temperature"] == 0.7
    assert capped.num_ctx is not None and capped.num_ctx.value == 131072
    assert capped.num_ctx.source == "params"
    assert capped.num_ctx.location is not None and capped.num_ctx.location.key == "num_ctx"
    params_blob = Path(capped.num_ctx.location.file)
    assert params_blob.parent == DEMO_STORE / "blobs"
    assert json.loads(params_blob.read_bytes())["num_ctx"] == 131072

    assert base.model_digest == capped.model_digest
    for m in (base, capped):
        g = m.geometry
        assert g is not None
        assert (g.arch, g.context_length, g.block_count, g.head_count) == (
            "qwen3moe",
            262144,
            48,
            32,
        )
        assert g.head_count_kv == (4,) * 48
        assert (g.key_length, g.value_length, g.file_type) == (128, 128, 15)
        assert m.weights_bytes == gen_stores.QWEN3_CODER_30B_Q4_K_M_BYTES
        assert m.details["model_family"] == "qwen3moe"
        assert m.details["file_type"] == "Q4_K_M"
        assert m.origin == "store"
        assert m.digest == hashlib.sha256(Path(m.location.file).read_bytes()).hexdigest()
    assert Path(capped.location.file) == (
        DEMO_STORE / "manifests/registry.ollama.ai/library/qwen3-coder/30b-v-128k"
    )


def test_demo_params_blobs_are_byte_exact_ollama_output() -> None:
    """Ollama's json.Encoder: sorted keys, HTML escapes, no `.0`, trailing newline."""
    capped = find_model(DEMO_STORE, "qwen3-coder:30b-v-128k")
    assert capped is not None
    manifest = json.loads(capped.read_bytes())
    (params,) = [x for x in manifest["layers"] if x["mediaType"].endswith(".params")]
    blob = (DEMO_STORE / "blobs" / params["digest"].replace(":", "-")).read_bytes()
    assert blob == (
        b'{"num_ctx":131072,"repeat_penalty":1.05,"stop":["\\u003c|im_start|\\u003e",'
        b'"\\u003c|im_end|\\u003e","\\u003c|endoftext|\\u003e"],"temperature":0.7,'
        b'"top_k":20,"top_p":0.8}\n'
    )
    assert params is manifest["layers"][-1]  # create appends the new params layer last
    assert all(x["from"] == "qwen3-coder:30b" for x in manifest["layers"][:-1])
    assert capped.read_bytes().startswith(
        b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:'
    )
    assert capped.read_bytes().endswith(b"}]}\n")


def test_write_model_reproduces_ollama_create(tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(DEMO_STORE, root)
    expected = (root / "manifests/registry.ollama.ai/library/qwen3-coder/30b-v-128k").read_bytes()
    parent = find_model(root, "qwen3-coder:30b")
    assert parent is not None

    digest = write_model(
        root,
        "qwen3-coder:30b-again",
        parent_manifest=parent,
        params={"num_ctx": 131072, "temperature": 0.7, "top_p": 0.8, "top_k": 20},
    )

    written = root / "manifests/registry.ollama.ai/library/qwen3-coder/30b-again"
    assert written.read_bytes() == expected
    assert digest == hashlib.sha256(expected).hexdigest()
    models = by_name(scan_store(root))
    assert models["qwen3-coder:30b-again"].num_ctx.value == 131072
    assert models["qwen3-coder:30b-again"].digest == digest


def test_write_model_new_params_win_and_target_fix_name(tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(DEMO_STORE, root)
    capped = find_model(root, "qwen3-coder:30b-v-128k")
    write_model(root, "qwen3-coder:30b-262k", parent_manifest=capped, params={"num_ctx": 262144})
    fixed = by_name(scan_store(root))["qwen3-coder:30b-262k"]
    assert fixed.num_ctx.value == 262144
    assert fixed.params["top_k"] == 20  # the rest is inherited
    assert fixed.model_digest == by_name(scan_store(root))["qwen3-coder:30b"].model_digest


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "ref",
    [
        "qwen3-coder:30b-v-128k",
        "Qwen3-Coder:30B-V-128K",
        "library/qwen3-coder:30b-v-128k",
        "registry.ollama.ai/library/qwen3-coder:30b-v-128k",
        "REGISTRY.OLLAMA.AI/Library/QWEN3-CODER:30b-v-128k",
    ],
)
def test_find_model_applies_ollama_defaults_and_ignores_case(ref: str) -> None:
    assert find_model(DEMO_STORE, ref) == (
        DEMO_STORE / "manifests/registry.ollama.ai/library/qwen3-coder/30b-v-128k"
    )


def test_find_model_latest_default_and_misses(tmp_path: Path) -> None:
    root = tmp_path / "s"
    gen_stores.build_store(
        root, {"coder:latest": {"gguf": header()}, "coder:7b": {"gguf": header()}}
    )
    assert find_model(root, "coder") == root / "manifests/registry.ollama.ai/library/coder/latest"
    assert find_model(root, "coder:13b") is None
    assert find_model(root, "other") is None
    assert find_model(tmp_path / "nowhere", "coder") is None


def test_manifest_path_keeps_an_existing_spelling() -> None:
    assert manifest_path(HOSTS_STORE, "mycoder") == (
        HOSTS_STORE / "manifests/registry.ollama.ai/library/MyCoder/Latest"
    )
    assert manifest_path(HOSTS_STORE, "hf.co/Org/Repo:Q8_0") == (
        HOSTS_STORE / "manifests/hf.co/Org/Repo/Q8_0"
    )


def test_any_host_and_namespace_and_mixed_case(cache: DigestCache) -> None:
    scan = scan_store(HOSTS_STORE, cache=cache, strict=True)
    assert scan.warnings == []
    models = by_name(scan)
    assert set(models) == {
        "llama3.1:8b",
        "llama3.1:8b-lora",
        "gemma3:27b",
        "hf.co/unsloth/qwen3-coder-30b-a3b-instruct-gguf:q4_k_m",
        "registry.example.com/team/coder:v2",
        "myteam/coder:latest",
        "mycoder:latest",
    }
    hf = models["hf.co/unsloth/qwen3-coder-30b-a3b-instruct-gguf:q4_k_m"]
    assert hf.num_ctx.value == 65536
    assert hf.geometry.context_length == 262144
    assert Path(hf.location.file).parts[-4:] == (
        "hf.co",
        "unsloth",
        "Qwen3-Coder-30B-A3B-Instruct-GGUF",
        "Q4_K_M",
    )
    assert models["registry.example.com/team/coder:v2"].num_ctx.value == 16384
    assert models["myteam/coder:latest"].num_ctx.value == 8192
    mixed = models["mycoder:latest"]
    assert mixed.num_ctx.value == 65536
    assert mixed.params["stop"] == ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    assert find_model(HOSTS_STORE, "hf.co/unsloth/qwen3-coder-30b-a3b-instruct-gguf:q4_k_m")


def test_weights_include_projector_and_adapter(cache: DigestCache) -> None:
    models = by_name(scan_store(HOSTS_STORE, cache=cache))
    for name, extra in (("gemma3:27b", ".projector"), ("llama3.1:8b-lora", ".adapter")):
        manifest = json.loads(find_model(HOSTS_STORE, name).read_bytes())
        sizes = {x["mediaType"].rsplit(".", 1)[-1]: x["size"] for x in manifest["layers"]}
        model_bytes = blob_size(HOSTS_STORE, models[name].model_digest)
        extra_bytes = sizes[extra[1:]]
        assert extra_bytes > 0
        assert models[name].weights_bytes == model_bytes + extra_bytes
    # template/params/license layers are not weights
    plain = models["llama3.1:8b"]
    assert plain.weights_bytes == blob_size(HOSTS_STORE, plain.model_digest)


# --------------------------------------------------------------------------- broken


def test_broken_entries_warn_and_the_scan_goes_on(cache: DigestCache) -> None:
    scan = scan_store(BROKEN_STORE, cache=cache, strict=True)
    models = by_name(scan)
    warnings = [str(w) for w in scan.warnings]
    lib = BROKEN_STORE / "manifests/registry.ollama.ai/library"

    def warned(path_prefix: str, text: str) -> bool:
        return any(w.startswith(path_prefix) and text in w for w in warnings)

    # corrupt manifest: skipped, warning names file:line:col
    assert "corrupt:latest" not in models
    assert warned(f"{lib / 'corrupt/latest'}:1:", "corrupt manifest: invalid JSON")
    # params blob missing: skipped (it would look like "num_ctx unset")
    assert "noparams:latest" not in models
    assert warned(str(lib / "noparams/latest"), "params blob sha256-")
    # model blob missing: kept, no geometry
    assert models["noblob:latest"].geometry is None
    assert models["noblob:latest"].num_ctx.value == 8192
    assert warned(str(lib / "noblob/latest"), "model blob sha256-")
    assert any("is missing" in w for w in warnings if "noblob" in w)
    # truncated GGUF: kept, warning names the blob file
    assert models["truncated:latest"].geometry is None
    truncated_blob = str(BROKEN_STORE / "blobs" / "sha256-")
    assert warned(truncated_blob, "(model blob of truncated:latest)")
    # the healthy model is fully read
    assert models["llama3.1:8b"].geometry.context_length == 131072
    assert models["llama3.1:8b"].num_ctx.value == 32768
    assert len(scan.warnings) == 4


def test_num_ctx_typing_follows_ollama(cache: DigestCache) -> None:
    models = by_name(scan_store(BROKEN_STORE, cache=cache))
    floaty = models["floatctx:latest"]
    assert floaty.num_ctx.value == 131072  # Options.FromMap: int64(float64)
    assert "131072.0" in floaty.num_ctx.note
    assert floaty.num_ctx_invalid is None
    stringy = models["stringctx:latest"]
    assert stringy.num_ctx is None
    assert stringy.num_ctx_invalid.value == '"131072"'
    assert stringy.num_ctx_invalid.location.key == "num_ctx"


@pytest.mark.parametrize(
    ("raw", "served", "invalid", "note"),
    [
        (b'{"num_ctx":1e+06}\n', 1000000, None, "1e+06"),
        (b'{"num_ctx":4096.9}\n', 4096, None, "truncates"),
        (b'{"num_ctx":true}\n', None, "true", None),
        (b'{"num_ctx":[4096]}\n', None, "[4096]", None),
        (b'{"num_ctx":null}\n', None, None, None),
        (b'{"num_ctx":8192}\n', 8192, None, ""),
    ],
)
def test_num_ctx_spellings(tmp_path: Path, raw: bytes, served, invalid, note) -> None:
    root = tmp_path / "s"
    gen_stores.build_store(root, {"m:1": {"gguf": header(), "params_raw": raw}})
    (m,) = scan_store(root).models
    assert (m.num_ctx.value if m.num_ctx else None) == served
    assert (m.num_ctx_invalid.value if m.num_ctx_invalid else None) == invalid
    if served is not None:
        assert (note in m.num_ctx.note) if note else m.num_ctx.note == ""


def test_params_that_are_not_an_object_skip_the_model(tmp_path: Path) -> None:
    root = tmp_path / "s"
    gen_stores.build_store(
        root,
        {"ok:1": {"gguf": header()}, "bad:1": {"gguf": header(), "params_raw": b"[1, 2]\n"}},
    )
    scan = scan_store(root)
    assert [m.name for m in scan.models] == ["ok:1"]
    (w,) = scan.warnings
    assert w.where.startswith(str(root / "blobs" / "sha256-"))
    assert "not a JSON object" in w.problem and "bad:1" in w.problem


def test_missing_config_blob_keeps_the_model(tmp_path: Path) -> None:
    root = tmp_path / "s"
    gen_stores.build_store(root, {"m:1": {"gguf": header(), "params": {"num_ctx": 2048}}})
    manifest = json.loads(find_model(root, "m:1").read_bytes())
    (root / "blobs" / manifest["config"]["digest"].replace(":", "-")).unlink()
    scan = scan_store(root)
    (m,) = scan.models
    assert m.num_ctx.value == 2048 and m.details == {}
    (w,) = scan.warnings
    assert w.where == str(find_model(root, "m:1")) and "config blob" in w.problem


def test_only_ollamas_four_levels_are_manifests(tmp_path: Path) -> None:
    root = tmp_path / "s"
    gen_stores.build_store(root, {"m:1": {"gguf": header()}})
    (root / "manifests/registry.ollama.ai/library/m/.DS_Store").write_bytes(b"\x00junk")
    (root / "manifests/registry.ollama.ai/stray").write_text("not a manifest")
    scan = scan_store(root)
    assert [m.name for m in scan.models] == ["m:1"]
    assert scan.warnings == []


# --------------------------------------------------------------------------- roots


def test_strict_root_that_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(CtxfixError) as e:
        scan_store(tmp_path, strict=True)
    assert e.value.where == str(tmp_path)
    assert e.value.problem == "not an Ollama model store (no manifests/ directory)"
    with pytest.raises(CtxfixError, match="no such directory"):
        scan_store(tmp_path / "missing", strict=True)
    # a default root that is not (yet) a store is simply empty
    assert scan_store(tmp_path).models == []
    assert scan_store(tmp_path / "missing").warnings == []


def test_strict_root_one_level_too_high_gets_a_hint(tmp_path: Path) -> None:
    gen_stores.build_store(tmp_path / ".ollama" / "models", {"m:1": {"gguf": header()}})
    with pytest.raises(CtxfixError, match=r"did you mean .*\.ollama/models\?"):
        scan_store(tmp_path / ".ollama", strict=True)


def test_default_store_roots(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ollama" / "models").mkdir(parents=True)
    custom = tmp_path / "custom"
    custom.mkdir()
    roots = default_store_roots({"OLLAMA_MODELS": str(custom)}, home)
    assert roots[:2] == [custom, home / ".ollama" / "models"]
    # missing ones are left out; the same directory is listed once
    assert default_store_roots({"OLLAMA_MODELS": str(tmp_path / "nope")}, home)[0] == (
        home / ".ollama" / "models"
    )
    same = default_store_roots({"OLLAMA_MODELS": str(home / ".ollama" / "models")}, home)
    assert same.count(home / ".ollama" / "models") == 1
    assert default_store_roots({}, tmp_path / "nohome") == [
        p for p in [store.SYSTEM_STORE] if p.is_dir()
    ]


# --------------------------------------------------------------------------- cache


def two_model_store(root: Path) -> None:
    gen_stores.build_store(
        root,
        {
            "a:1": {"gguf": header(ctx=32768), "params": {"num_ctx": 8192}},
            "a:2": {"base": "a:1", "params": {"num_ctx": 16384}},
            "b:1": {"gguf": header("qwen3moe", 262144, 48, 4)},
        },
    )


def test_warm_scan_reads_no_gguf_header(tmp_path: Path) -> None:
    root = tmp_path / "s"
    two_model_store(root)
    cache = DigestCache(tmp_path / "cache")
    cold = scan_store(root, cache=cache)
    assert (cache.hits, cache.misses, cache.writes) == (1, 2, 2)  # a:2 shares a:1 blob

    # Destroy every model blob: a warm scan that opened one would now fail.
    for m in cold.models:
        (root / "blobs" / m.model_digest.replace(":", "-")).write_bytes(b"")
    warm_cache = DigestCache(tmp_path / "cache")
    warm = scan_store(root, cache=warm_cache)
    assert warm.warnings == []
    assert [m.geometry for m in warm.models] == [m.geometry for m in cold.models]
    assert (warm_cache.hits, warm_cache.misses) == (3, 0)

    # Without the cache the emptied blobs are reported, which proves the blobs were broken.
    uncached = scan_store(root)
    assert len(uncached.warnings) == 3


def test_corrupt_cache_entry_is_ignored_and_rewritten(tmp_path: Path) -> None:
    root = tmp_path / "s"
    two_model_store(root)
    cache = DigestCache(tmp_path / "cache")
    cold = by_name(scan_store(root, cache=cache))
    digest = cold["b:1"].model_digest
    entry = cache.path_for(digest)
    for garbage in (
        b"{not json",
        b"",
        b"\xff\xfe",
        json.dumps({"format": FORMAT_VERSION + 1, "digest": digest, "geometry": {}}).encode(),
        json.dumps(
            {"format": FORMAT_VERSION, "digest": digest, "geometry": {"arch": "x"}}
        ).encode(),
        entry.read_bytes().replace(digest[7:].encode(), b"0" * 64),  # someone else's entry
    ):
        entry.write_bytes(garbage)
        again = DigestCache(tmp_path / "cache")
        models = by_name(scan_store(root, cache=again))
        assert models["b:1"].geometry == cold["b:1"].geometry
        assert (again.misses, again.writes) == (1, 1)
        assert json.loads(entry.read_bytes())["format"] == FORMAT_VERSION


def test_unwritable_cache_never_fails_a_scan(tmp_path: Path) -> None:
    root = tmp_path / "s"
    two_model_store(root)
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    scan = scan_store(root, cache=DigestCache(blocker))
    assert scan.warnings == []
    assert by_name(scan)["b:1"].geometry.context_length == 262144


def test_truncated_blob_is_not_cached(tmp_path: Path) -> None:
    cache = DigestCache(tmp_path / "cache")
    scan_store(BROKEN_STORE, cache=cache)
    again = DigestCache(tmp_path / "cache")
    scan = scan_store(BROKEN_STORE, cache=again)
    assert any("truncated:latest" in str(w) for w in scan.warnings)
    assert again.misses == 1  # only the truncated blob is read again


def test_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_cache_dir({"CTXFIX_CACHE_DIR": str(tmp_path / "e")}) == tmp_path / "e"
    assert default_cache_dir({"CTXFIX_CACHE_DIR": "x"}, tmp_path / "s") == tmp_path / "s"
    monkeypatch.setenv("CTXFIX_CACHE_DIR", str(tmp_path / "env"))
    assert DigestCache.from_settings(Settings()).directory == tmp_path / "env"
    assert DigestCache.from_settings(Settings(cache_dir=tmp_path / "set")).directory == (
        tmp_path / "set"
    )
    import platformdirs

    assert default_cache_dir({}) == Path(platformdirs.user_cache_dir("ctxfix"))


# --------------------------------------------------------------------------- fixtures


def test_fixture_stores_are_content_addressed() -> None:
    """Every blob hashes to its name; every layer size but the demo model's is the blob length."""
    demo_model = None
    for root in (DEMO_STORE, HOSTS_STORE, BROKEN_STORE):
        for blob in (root / "blobs").iterdir():
            assert blob.name == "sha256-" + hashlib.sha256(blob.read_bytes()).hexdigest()
        for m in scan_store(root).models:
            manifest = json.loads(Path(m.location.file).read_bytes())
            for layer in [manifest["config"], *manifest["layers"]]:
                path = root / "blobs" / layer["digest"].replace(":", "-")
                if not path.exists():
                    continue
                if root == DEMO_STORE and layer["mediaType"].endswith(".model"):
                    demo_model = layer["size"]
                    continue
                assert layer["size"] == path.stat().st_size
    assert demo_model == gen_stores.QWEN3_CODER_30B_Q4_K_M_BYTES


def test_build_store_is_deterministic(tmp_path: Path) -> None:
    for name in ("one", "two"):
        two_model_store(tmp_path / name)

    def snapshot(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    mtimes = {p.stat().st_mtime for p in (tmp_path / "one").rglob("*") if p.is_file()}
    assert mtimes == {gen_stores.FIXED_MTIME}
