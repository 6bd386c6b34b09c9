"""The streaming GGUF reader against upstream's own reader, real geometry and bad input.

`gguf.GGUFReader` (the reference implementation in gguf-py) is the oracle:
for every file it can read, ctxfix's values must equal its values. Files are
written by gguf-py's `GGUFWriter` (fixtures/gen_gguf.py, or here per test).
"""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ctxfix.sources.gguf as G
from ctxfix.errors import CtxfixError
from ctxfix.sources.gguf import ArrayInfo, geometry_from_kv, read_geometry, read_metadata

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "gguf"
sys.path.insert(0, str(ROOT / "fixtures"))
import gen_gguf  # noqa: E402

gguf = pytest.importorskip("gguf")


# -- oracle ------------------------------------------------------------------------


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _oracle_fields(path: Path) -> dict[str, Any]:
    """GGUFReader's view: key -> scalar, or ("array", elem_type, count, flat leaves)."""
    reader = gguf.GGUFReader(path)
    out: dict[str, Any] = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            if field.types[-1] == gguf.GGUFValueType.STRING:
                leaves = [bytes(field.parts[i]).decode("utf-8", "replace") for i in field.data]
            else:
                leaves = field.contents()
            out[name] = ("array", int(field.types[1]), int(field.parts[4][0]), leaves)
        elif field.types[0] == gguf.GGUFValueType.STRING:
            out[name] = bytes(field.parts[-1]).decode("utf-8", "replace")
        else:
            out[name] = field.contents()
    return out


def _assert_matches_oracle(path: Path) -> None:
    ours = read_metadata(path).kv
    theirs = _oracle_fields(path)
    assert list(ours) == list(theirs)
    for key, expected in theirs.items():
        got = ours[key]
        if isinstance(expected, tuple) and expected[0] == "array":
            _, elem_type, count, leaves = expected
            if isinstance(got, ArrayInfo):
                assert (got.elem_type, got.count) == (elem_type, count), key
            else:
                assert len(got) == count, key
                assert _flatten(got) == leaves, key
        else:
            assert got == expected, key
            assert type(got) is type(expected), key


@pytest.mark.parametrize(
    "name", ["all-types", "v2", "big-endian", "hckv-u32", "hckv-i32", "gemma3-27b", "gpt-oss-20b"]
)
def test_values_equal_gguf_reader(name: str) -> None:
    _assert_matches_oracle(FIXTURES / f"{name}.gguf")


def test_all_types_values_and_skipped_arrays() -> None:
    kv = read_metadata(FIXTURES / "all-types.gguf").kv
    assert kv["t.u64"] == 2**64 - 1 and kv["t.i64"] == -(2**63) and kv["t.f64"] == 1e300
    assert kv["t.bool_true"] is True and kv["t.bool_false"] is False
    assert kv["t.str"] == "héllo, 世界 ✓"
    assert kv["t.str_bad_utf8"] == "ab\ufffdcd"  # replaced, not an exception
    assert kv["n.deep"] == (((1, 2), (3,)), ((4,),))
    assert kv["n.str"] == (("a", "b"), ("cé",))
    assert kv["tokenizer.ggml.tokens"] == ArrayInfo(G.STRING, 4500)
    assert kv["tokenizer.ggml.merges"] == ArrayInfo(G.STRING, 300)  # tokenizer: never kept
    assert kv["big.u32"] == ArrayInfo(G.UINT32, 4500)
    assert kv["big.str"] == ArrayInfo(G.STRING, 4500)
    assert kv["z.after_tokenizer"] == 42  # the skips landed exactly on the next key


def test_v2_and_big_endian_headers() -> None:
    v2 = read_metadata(FIXTURES / "v2.gguf")
    be = read_metadata(FIXTURES / "big-endian.gguf")
    assert (v2.version, v2.big_endian) == (2, False)
    assert (be.version, be.big_endian) == (3, True)
    assert (FIXTURES / "big-endian.gguf").read_bytes()[:4] == b"GGUF"
    for key in ("llama.context_length", "t.u64", "t.f64", "a.i16", "n.int"):
        assert be.kv[key] == v2.kv[key]
    assert be.kv["z.after"] == -7
    assert read_geometry(FIXTURES / "big-endian.gguf").head_count_kv == (2, 2)


_SCALARS = {
    G.UINT8: st.integers(0, 2**8 - 1),
    G.INT8: st.integers(-(2**7), 2**7 - 1),
    G.UINT16: st.integers(0, 2**16 - 1),
    G.INT16: st.integers(-(2**15), 2**15 - 1),
    G.UINT32: st.integers(0, 2**32 - 1),
    G.INT32: st.integers(-(2**31), 2**31 - 1),
    G.UINT64: st.integers(0, 2**64 - 1),
    G.INT64: st.integers(-(2**63), 2**63 - 1),
    G.FLOAT32: st.floats(width=32, allow_nan=False),
    G.FLOAT64: st.floats(allow_nan=False),
    G.BOOL: st.booleans(),
    G.STRING: st.text(max_size=40),
}
_KINDS = {v: k for k, v in gen_gguf._T.items()}


@st.composite
def _kv_value(draw: st.DrawFn) -> tuple[str, Any]:
    shape = draw(st.sampled_from(["scalar", "array", "nested"]))
    if shape == "nested":  # the writer types inner elements itself: i32, f32, bool, str
        leaf = draw(
            st.sampled_from([st.integers(-(2**31), 2**31 - 1), st.booleans(), st.text(max_size=8)])
        )
        inner = st.lists(leaf, min_size=1, max_size=4)
        return ("arr", draw(st.lists(inner, min_size=1, max_size=4)))
    vtype = draw(st.sampled_from(sorted(_SCALARS)))
    if shape == "scalar":
        return (_KINDS[vtype], draw(_SCALARS[vtype]))
    return (_KINDS[vtype], draw(st.lists(_SCALARS[vtype], min_size=1, max_size=12)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kv=st.dictionaries(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(
            lambda k: k != "general.architecture"
        ),
        _kv_value(),
        max_size=12,
    ),
    big_endian=st.booleans(),
)
def test_random_kv_sets_equal_gguf_reader(tmp_path: Path, kv: dict, big_endian: bool) -> None:
    path = tmp_path / "random.gguf"
    gen_gguf.write_gguf(path, "rnd", kv, big_endian=big_endian)
    _assert_matches_oracle(path)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32),
    count=st.integers(4097, 6000),
    long_every=st.sampled_from([0, 7, 300, 1000]),
    big_endian=st.booleans(),
    chunk=st.sampled_from([64, 5000, 1 << 20]),
)
def test_string_array_skip_lands_on_next_key(
    tmp_path: Path, seed: int, count: int, long_every: int, big_endian: bool, chunk: int
) -> None:
    """The fast skip (regex blocks + fallback walk) ends exactly where the array ends."""
    rng = random.Random(seed)
    alphabet = "abcĠ€😀\x00"
    strings = []
    for i in range(count):
        n = rng.choice([0, 1, 2, 3, 5, 8, 13, 40, 63])
        if long_every and i % long_every == 0:
            n = rng.choice([64, 65, 200, 300])  # up to 1200 bytes: some need the plain walk
        strings.append("".join(rng.choice(alphabet) for _ in range(n)))
    kv = {
        "a.first": 1,
        "tokenizer.ggml.tokens": ("str", strings),
        "x.strings": ("str", strings[::-1]),
        "z.last": ("u64", 2**63 + seed),
    }
    path = tmp_path / "strings.gguf"
    gen_gguf.write_gguf(path, "rnd", kv, big_endian=big_endian)
    old = G._CHUNK, G._FAST_MIN_STRINGS
    G._CHUNK = chunk  # small chunks put array records across buffer edges
    G._FAST_MIN_STRINGS = 1000  # the block pattern on every array here
    try:
        meta = read_metadata(path)
    finally:
        G._CHUNK, G._FAST_MIN_STRINGS = old
    assert meta.kv["tokenizer.ggml.tokens"] == ArrayInfo(G.STRING, count)
    assert meta.kv["x.strings"] == ArrayInfo(G.STRING, count)
    assert meta.kv["z.last"] == 2**63 + seed


def _outcome(path: Path, *, fast: bool, chunk: int) -> Any:
    """What a user gets from the file: the KV dict, or the exact error line."""
    old = G._CHUNK, G._FAST_MIN_STRINGS
    G._CHUNK, G._FAST_MIN_STRINGS = chunk, (1000 if fast else 1 << 62)
    try:
        return read_metadata(path).kv
    except CtxfixError as e:
        return str(e)
    finally:
        G._CHUNK, G._FAST_MIN_STRINGS = old


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32),
    big_endian=st.booleans(),
    chunk=st.sampled_from([64, 5000, 1 << 20]),
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=3
    ),
)
def test_corrupt_string_array_block_skip_agrees_with_plain_walk(
    tmp_path: Path, seed: int, big_endian: bool, chunk: int, edits: list
) -> None:
    """Bytes changed inside a big string array: the block skip gives what the plain walk gives.

    Lengths that grow past 255, lose their zero high bytes or run off the end
    must send the fast path to the exact walk, so the result (values, or the
    error naming the byte offset) is the same with and without it.
    """
    rng = random.Random(seed)
    strings = ["x" * rng.choice([0, 1, 3, 7, 9, 40, 255, 256, 300]) for _ in range(2500)]
    kv = {"a.first": 1, "tokenizer.ggml.tokens": ("str", strings), "z.last": ("u32", 7)}
    path = tmp_path / "strings.gguf"
    gen_gguf.write_gguf(path, "rnd", kv, big_endian=big_endian)
    data = bytearray(path.read_bytes())
    start = data.index(b"tokenizer.ggml.tokens")  # edits land in the array (or its header)
    for where, byte in edits:
        data[start + int(where * (len(data) - start))] = byte
    path.write_bytes(bytes(data))
    assert _outcome(path, fast=True, chunk=chunk) == _outcome(path, fast=False, chunk=1 << 20)


def test_tensor_infos_equal_gguf_reader(tmp_path: Path) -> None:
    import numpy as np

    path = tmp_path / "tensors.gguf"
    w = gguf.GGUFWriter(path, "llama")
    w.add_tensor("a.f32", np.zeros((3, 4), dtype=np.float32))
    w.add_tensor("b.f16", np.zeros((2, 64), dtype=np.float16))
    q = gguf.GGMLQuantizationType
    w.add_tensor("c.q8_0", np.zeros((2, 34 * 2), dtype=np.uint8), raw_dtype=q.Q8_0)
    w.add_tensor("d.q4_k", np.zeros((3, 144), dtype=np.uint8), raw_dtype=q.Q4_K)
    w.add_tensor("e.q6_k", np.zeros((1, 2, 210), dtype=np.uint8), raw_dtype=q.Q6_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    ours = read_metadata(path, want_tensors=True)
    theirs = gguf.GGUFReader(path).tensors
    assert ours.tensor_count == len(theirs) == 5
    for mine, ref in zip(ours.tensors, theirs, strict=True):
        assert mine.name == ref.name
        assert mine.shape == tuple(int(d) for d in ref.shape)
        assert mine.ggml_type == int(ref.tensor_type)
        assert mine.n_bytes == int(ref.n_bytes)


# -- geometry of real models -------------------------------------------------------


def test_qwen3_coder_geometry_and_moe_tensors() -> None:
    g = read_geometry(FIXTURES / "qwen3-coder-30b.gguf", want_tensors=True)
    assert (g.arch, g.context_length, g.block_count, g.embedding_length) == (
        "qwen3moe",
        262144,
        48,
        2048,
    )
    assert g.head_count == 32 and g.head_count_kv == (4,) * 48
    assert (g.key_length, g.value_length) == (128, 128)
    assert (g.expert_count, g.expert_used_count) == (128, 8)
    assert (g.name, g.basename, g.size_label, g.file_type) == (
        "Qwen3 Coder 30B A3B Instruct",
        "Qwen3-Coder",
        "30B-A3B",
        15,
    )
    # The KV cache DESIGN.md derives: 48 x 4 x (128 + 128) x 2 bytes = 96 KiB per token.
    assert sum(g.head_count_kv) * (g.key_length + g.value_length) * 2 == 96 * 1024
    assert len(g.tensors) == 579
    by_name = {t.name: t for t in g.tensors}
    gate = by_name["blk.0.ffn_gate_exps.weight"]
    assert gate.shape == (2048, 768, 128) and gate.ggml_type == 12
    assert gate.n_bytes == 2048 * 768 * 128 // 256 * 144
    total = sum(t.n_bytes for t in g.tensors)
    assert 18.0e9 < total < 19.0e9  # Ollama lists this Q4_K_M blob at ~18.6 GB
    experts = sum(t.n_bytes for t in g.tensors if "_exps" in t.name)
    active = total - experts + experts * 8 // 128
    assert 1.5e9 < active < 2.5e9  # "A3B": ~3.3B active parameters at ~4.9 bits


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("llama3.1:8b", dict(context_length=131072, block_count=32, key_length=128, hkv=8)),
        ("llama3.3:70b", dict(context_length=131072, block_count=80, key_length=128, hkv=8)),
        ("qwen2.5-coder:32b", dict(context_length=32768, block_count=64, key_length=128, hkv=8)),
        ("deepseek-r1:7b", dict(context_length=131072, block_count=28, key_length=128, hkv=4)),
        # Devstral's head dim 128 is written out: the default would be 5120 // 32 = 160.
        ("devstral:latest", dict(context_length=131072, block_count=40, key_length=128, hkv=8)),
        ("gemma3:27b", dict(sliding_window=1024, rope_scaling_type="linear", hkv=16)),
        (
            "gpt-oss:20b",
            dict(
                sliding_window=128,
                key_length=64,
                rope_scaling_type="yarn",
                rope_scaling_factor=32.0,
                rope_original_context=4096,
                expert_count=32,
                expert_used_count=4,
                hkv=8,
            ),
        ),
        ("glm-4.5-air:latest", dict(block_count=47, nextn_predict_layers=1, head_count=96, hkv=8)),
        (
            "deepseek-v2:16b",
            dict(
                kv_lora_rank=512,
                key_length_mla=192,
                key_length=576,
                value_length=512,
                rope_dimension_count=64,
                hkv=1,
            ),
        ),
        (
            "qwen3-next:80b",
            dict(
                full_attention_interval=4,
                ssm_conv_kernel=4,
                ssm_state_size=128,
                ssm_inner_size=4096,
                ssm_group_count=16,
                key_length=256,
                hkv=2,
            ),
        ),
    ],
)
def test_model_geometry(model: str, expected: dict[str, Any]) -> None:
    g = read_geometry(FIXTURES / f"{gen_gguf.slug(model)}.gguf")
    assert g.arch == gen_gguf.MODELS[model]["arch"]
    hkv = expected.pop("hkv")
    assert g.head_count_kv == (hkv,) * g.block_count
    for field, value in expected.items():
        assert getattr(g, field) == value, field
    assert g.tensors == ()  # only on request


def test_per_layer_head_count_kv_u32_and_i32() -> None:
    for name in ("hckv-u32", "hckv-i32"):
        g = read_geometry(FIXTURES / f"{name}.gguf")
        assert g.head_count_kv == tuple(gen_gguf.HCKV_LAYERS)
        assert g.key_length == 2048 // 32


def test_geometry_from_server_json() -> None:
    """/api/show model_info: lists for arrays, null for arrays the server left out."""
    info = {
        "general.architecture": "gemma3",
        "gemma3.context_length": 131072,
        "gemma3.block_count": 6,
        "gemma3.embedding_length": 1024,
        "gemma3.attention.head_count": 8,
        "gemma3.attention.head_count_kv": [2, 2, 2, 2, 2, 1],
        "gemma3.attention.sliding_window_pattern": [True, True, True, True, True, False],
        "gemma3.rope.scaling.factor": 8,
        "general.file_type": 15.0,
    }
    g = geometry_from_kv(info)
    assert g.head_count_kv == (2, 2, 2, 2, 2, 1)
    assert g.sliding_window_pattern == (True,) * 5 + (False,)
    assert (g.key_length, g.rope_scaling_factor, g.file_type) == (128, 8.0, 15)
    nulled = dict(info, **{"gemma3.attention.head_count_kv": None})
    assert geometry_from_kv(nulled).head_count_kv is None  # unknown, not head_count
    absent = {k: v for k, v in info.items() if "head_count_kv" not in k}
    assert geometry_from_kv(absent).head_count_kv == (8,) * 6  # llama.cpp default


def test_sliding_window_pattern_as_period() -> None:
    kv = {"general.architecture": "x", "x.block_count": 12, "x.attention.sliding_window_pattern": 6}
    pattern = geometry_from_kv(kv).sliding_window_pattern
    assert pattern == (True,) * 5 + (False,) + (True,) * 5 + (False,)


def test_missing_architecture_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "noarch.gguf"
    gen_gguf.write_gguf(path, "llama", {})
    data = path.read_bytes()
    path.write_bytes(data.replace(b"general.architecture", b"general.architectur_"))
    with pytest.raises(CtxfixError) as e:
        read_geometry(path)
    assert e.value.where == str(path) and "general.architecture" in e.value.problem


# -- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("truncated", "past the end of the file at byte offset 1065"),
        ("bad-magic", "not a GGUF file (magic b'GGUX', expected b'GGUF') at byte offset 0"),
        ("unknown-type", "unknown value type 13 for key 'bad.key' at byte offset 117"),
        (
            "huge-string",
            "claims 4611686018427387904 bytes, past the end of the file at byte offset",
        ),
        ("huge-array", "claims 1152921504606846976 elements, past the end of the file at byte"),
    ],
)
def test_bad_files_name_file_and_offset(name: str, problem: str) -> None:
    path = FIXTURES / f"{name}.gguf"
    tracemalloc.start()
    try:
        with pytest.raises(CtxfixError) as e:
            read_metadata(path, want_tensors=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.where == str(path)
    assert problem in e.value.problem
    assert str(e.value).startswith(f"{path}: ")
    assert peak < 4 << 20  # no allocation proportional to a claimed length


def test_every_truncation_is_a_ctxfix_error(tmp_path: Path) -> None:
    data = (FIXTURES / "v2.gguf").read_bytes()
    path = tmp_path / "cut.gguf"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(CtxfixError, match=r"at byte offset \d+$"):
            read_metadata(path)


def test_truncated_tensor_infos(tmp_path: Path) -> None:
    data = (FIXTURES / "qwen3-coder-30b.gguf").read_bytes()
    path = tmp_path / "cut.gguf"
    for cut in range(len(data) - 1, len(data) - 400, -37):
        path.write_bytes(data[:cut])
        read_metadata(path)  # the KV section is whole
        with pytest.raises(CtxfixError, match=r"at byte offset \d+$"):
            read_metadata(path, want_tensors=True)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["all-types", "big-endian", "qwen3-coder-30b"]),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=6),
)
def test_corrupt_bytes_never_traceback(tmp_path: Path, name: str, edits: list) -> None:
    data = bytearray((FIXTURES / f"{name}.gguf").read_bytes())
    for where, byte in edits:
        data[int(where * len(data))] = byte
    path = tmp_path / "corrupt.gguf"
    path.write_bytes(bytes(data))
    try:
        read_geometry(path, want_tensors=True)
    except CtxfixError as e:
        assert e.where == str(path)


def test_unsupported_version_and_duplicate_key(tmp_path: Path) -> None:
    data = (FIXTURES / "v2.gguf").read_bytes()
    path = tmp_path / "v4.gguf"
    path.write_bytes(data[:4] + struct.pack("<I", 4) + data[8:])
    with pytest.raises(CtxfixError, match=r"unsupported GGUF version 4 .* at byte offset 4"):
        read_metadata(path)
    gen_gguf.write_gguf(path, "llama", {"k.aaa": 1, "k.bbb": 2})
    path.write_bytes(path.read_bytes().replace(b"k.bbb", b"k.aaa"))
    with pytest.raises(CtxfixError, match=r"duplicate key 'k\.aaa' at byte offset"):
        read_metadata(path)


def test_missing_file_is_a_ctxfix_error(tmp_path: Path) -> None:
    with pytest.raises(CtxfixError, match="cannot read GGUF file"):
        read_metadata(tmp_path / "nope.gguf")


def test_unknown_tensor_type_keeps_metadata(tmp_path: Path) -> None:
    """GGUFReader raises on a tensor type it does not know; ctxfix keeps the header."""
    path = tmp_path / "newtype.gguf"
    gen_gguf.write_gguf(path, "llama", {"llama.context_length": 8192}, [("t.weight", (32,), 0)])
    data = path.read_bytes()
    tail = struct.pack("<IQ", 0, 0)
    assert data.endswith(tail)
    path.write_bytes(data[: -len(tail)] + struct.pack("<IQ", 200, 0))
    meta = read_metadata(path, want_tensors=True)
    assert meta.kv["llama.context_length"] == 8192
    assert meta.tensors[0].ggml_type == 200 and meta.tensors[0].n_bytes == 0


# -- properties of the module and the fixtures ------------------------------------


def test_reader_does_not_import_gguf_or_numpy() -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from ctxfix.sources.gguf import read_geometry\n"
        f"read_geometry(Path({str(FIXTURES / 'all-types.gguf')!r}))\n"
        f"read_geometry(Path({str(FIXTURES / 'qwen3-coder-30b.gguf')!r}), want_tensors=True)\n"
        "assert 'gguf' not in sys.modules and 'numpy' not in sys.modules, 'heavy import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ggml_type_table_matches_gguf_package() -> None:
    upstream = {int(t): tuple(v) for t, v in gguf.GGML_QUANT_SIZES.items()}
    assert upstream == G.GGML_TYPE_SIZES


def test_fixtures_are_reproducible(tmp_path: Path) -> None:
    gen_gguf.build_all(tmp_path)
    built = sorted(p.name for p in tmp_path.glob("*.gguf"))
    assert built == sorted(p.name for p in FIXTURES.glob("*.gguf"))
    for name in built:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name
        assert (tmp_path / name).stat().st_size < 200_000, name
