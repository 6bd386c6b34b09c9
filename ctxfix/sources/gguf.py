"""Streaming GGUF metadata reader: header, KV section and (on request) tensor infos.

Why not `gguf.GGUFReader`: it memory-maps the whole file and builds a numpy
object per array element and per tensor (seconds and hundreds of MiB for one
header with a 151,936-token vocabulary), and it raises on tensor types it does
not know, losing all metadata. ctxfix needs a dozen numbers from the front of
a multi-GiB blob, in a pre-commit hook, so this reader:

* reads the file sequentially in bounded chunks and never touches tensor data;
* skips array payloads it does not need: numeric arrays by seeking, string
  arrays by walking their length prefixes (see `_Reader.skip_strings`);
* checks every length and count against the bytes that remain before using
  it, so a corrupt or hostile header costs no allocation proportional to a
  claimed length and fails with a `CtxfixError` naming the file and the byte
  offset, never a `struct.error`/`MemoryError` traceback.

Format (gguf-py `gguf_reader.py`, llama.cpp `ggml/src/gguf.cpp`): the magic is
always the four bytes `GGUF`; version (2 or 3), tensor count and KV count
follow in the file's byte order, which is detected the way gguf-py does it:
a version whose low 16 bits are zero is byte-swapped. (REFERENCE.md says a
big-endian magic reads `FUGG`; upstream writes `GGUF` in both orders.)

No `gguf` or `numpy` import here: the GGML type size table is embedded.
"""

from __future__ import annotations

import re
import struct
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry, TensorInfo
from ctxfix.records import record

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)

# GGUF value type codes (gguf-py GGUFValueType).
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL = 0, 1, 2, 3, 4, 5, 6, 7
STRING, ARRAY, UINT64, INT64, FLOAT64 = 8, 9, 10, 11, 12

# struct format character per fixed-size type.
_SCALAR_FMT: dict[int, str] = {
    UINT8: "B",
    INT8: "b",
    UINT16: "H",
    INT16: "h",
    UINT32: "I",
    INT32: "i",
    FLOAT32: "f",
    BOOL: "?",
    UINT64: "Q",
    INT64: "q",
    FLOAT64: "d",
}
_SCALAR_SIZE: dict[int, int] = {t: struct.calcsize("<" + f) for t, f in _SCALAR_FMT.items()}

# GGML tensor types: type id -> (block size in elements, bytes per block).
# From gguf-py `GGML_QUANT_SIZES` (gguf 0.19); ids 4, 5 and 31-33, 36-38 are
# retired upstream. A type missing here gets n_bytes 0 (unknown), not an error.
GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 40),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
    40: (64, 36),  # NVFP4
    41: (128, 18),  # Q1_0
}

GGML_MAX_DIMS = 4  # llama.cpp rejects tensor infos with more dimensions

# Arrays under these key prefixes are never materialised: they are the big
# tokenizer tables (tokens, scores, token_type, merges, precompiled_charsmap).
_NEVER_MATERIALISE = ("tokenizer.ggml.",)
# Other arrays are materialised as tuples while they stay under this budget
# (elements counted across nesting levels, and bytes of string elements).
_MAX_ELEMENTS = 4096
MAX_BLOCK_COUNT = 65_536  # real models have at most a few hundred layers
MAX_METADATA_STRINGS = 16_000_000  # a vocabulary and its merges: about 10^6
_MAX_STRING_BYTES = 1 << 20

_CHUNK = 1 << 20  # read size; the only buffer we ever allocate besides strings we keep


@record(frozen=True)
class ArrayInfo:
    """An array value that was skipped, not materialised: its element type and count."""

    elem_type: int
    count: int


@record(frozen=True)
class GGUFMetadata:
    """Everything in a GGUF header except tensor data.

    `kv` maps key -> value: ints, floats, bools and strs for scalars; tuples for
    arrays small enough to matter (per-layer head counts, SWA patterns);
    `ArrayInfo` for the tokenizer tables and other big arrays. `tensors` is
    filled only when asked for (`want_tensors=True`); shapes are in the file's
    order (ggml `ne`, innermost dimension first), like `GGUFReader.tensors[i].shape`.
    """

    version: int
    big_endian: bool
    tensor_count: int
    kv: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    file_size: int

    @property
    def arch(self) -> str | None:
        value = self.kv.get("general.architecture")
        return value if isinstance(value, str) else None


class _OverBudget(Exception):
    """An array turned out too big to materialise; the caller skips it instead."""


class _Reader:
    """Bounded, buffered, sequential reads over one open file.

    `buf[pos:end]` holds the bytes at file offset `base + pos` onwards. Every
    read first checks the claimed size against `size - offset`, so nothing
    larger than the real file is ever requested. `buf` is one bytearray reused
    for every chunk (see `load`); bytes past `end` are stale.
    """

    def __init__(self, f: BinaryIO, size: int, where: str) -> None:
        self.f = f
        self.size = size
        self.where = where
        self.buf = bytearray()
        self.base = 0
        self.pos = 0
        self.end = 0
        self.order = "<"
        self._structs: dict[str, struct.Struct] = {}
        self.strings = 0  # string values walked, bounded by MAX_METADATA_STRINGS

    # -- errors -----------------------------------------------------------------

    def error(self, problem: str, offset: int) -> CtxfixError:
        return CtxfixError(self.where, f"{problem} at byte offset {offset}")

    @property
    def offset(self) -> int:
        return self.base + self.pos

    # -- buffer -----------------------------------------------------------------

    def load(self, off: int, want: int) -> int:
        """Buffer the file from `off`: `want` bytes or more, fewer only at EOF; return the count.

        Why one reused bytearray and `readinto`: a fresh `bytes` per 1 MiB
        chunk cost ~2 ms of allocation and page faults per 6 MB tokenizer
        header here, about a tenth of the whole read (bench/RESULTS.md). The
        buffer never outgrows `min(max(want, _CHUNK), size - off)`, and every
        caller has checked `want` against the bytes the file really has.
        """
        cap = min(max(want, _CHUNK), self.size - off)
        if len(self.buf) < cap:
            self.buf = bytearray(cap)
        self.f.seek(off)
        got = 0
        with memoryview(self.buf) as view:
            while got < cap:
                n = self.f.readinto(view[got:cap])
                if not n:  # EOF earlier than fstat said: the file shrank under us
                    break
                got += n
        self.base, self.pos, self.end = off, 0, got
        return got

    def need(self, n: int, what: str, at: int | None = None) -> None:
        """Make `n` bytes available at the current offset, or fail naming `what`."""
        if self.pos + n <= self.end:
            return
        off = self.offset
        if n > self.size - off or self.load(off, n) < n:
            raise self.error(
                f"truncated file: {what} runs past the end of the file", off if at is None else at
            )

    def fill(self, want: int) -> None:
        """Try to have `want` bytes buffered (fewer near EOF); never fails."""
        if self.end - self.pos < want:
            self.load(self.offset, min(want, self.size - self.offset))

    def drop(self, offset: int) -> None:
        """Move to `offset` with nothing buffered (the next read loads from there)."""
        self.base, self.pos, self.end = offset, 0, 0

    def skip(self, n: int, what: str, at: int) -> None:
        if n > self.size - self.offset:
            raise self.error(f"{what} runs past the end of the file", at)
        if self.pos + n <= self.end:
            self.pos += n
        else:
            self.drop(self.offset + n)

    # -- primitives -------------------------------------------------------------

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        st = self._structs.get(fmt)
        if st is None:
            st = self._structs[fmt] = struct.Struct(self.order + fmt)
        self.need(st.size, what)
        values = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return values

    def u32(self, what: str) -> int:
        return self.unpack("I", what)[0]

    def u64(self, what: str) -> int:
        return self.unpack("Q", what)[0]

    def raw_string(self, what: str) -> bytes:
        at = self.offset
        n = self.u64(f"length of {what}")
        if n > self.size - self.offset:
            raise self.error(f"{what} claims {n} bytes, past the end of the file", at)
        self.need(n, what, at)
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return data

    def string(self, what: str) -> str:
        return self.raw_string(what).decode("utf-8", errors="replace")

    # -- values -----------------------------------------------------------------

    def value(self, vtype: int, key: str, type_at: int, materialise: bool) -> Any:
        fmt = _SCALAR_FMT.get(vtype)
        if fmt is not None:
            return self.unpack(fmt, f"value of {key!r}")[0]
        if vtype == STRING:
            return self.string(f"value of {key!r}")
        if vtype == ARRAY:
            return self.array(key, materialise)
        raise self.error(f"unknown value type {vtype} for key {key!r}", type_at)

    def array_header(self, key: str) -> tuple[int, int, int]:
        """Read (elem_type, count) and check the payload can fit; return its offset too."""
        at = self.offset
        elem_type = self.u32(f"array type of {key!r}")
        count = self.u64(f"array length of {key!r}")
        if elem_type not in _SCALAR_FMT and elem_type not in (STRING, ARRAY):
            raise self.error(f"unknown array element type {elem_type} for key {key!r}", at)
        min_size = _SCALAR_SIZE.get(elem_type) or (8 if elem_type == STRING else 12)
        if count > (self.size - self.offset) // min_size:
            raise self.error(f"array {key!r} claims {count} elements, past the end of the file", at)
        return elem_type, count, at

    def array(self, key: str, materialise: bool) -> Any:
        elem_type, count, at = self.array_header(key)
        if materialise and count <= _MAX_ELEMENTS:
            start = self.offset
            budget = [_MAX_ELEMENTS - count, _MAX_STRING_BYTES]
            try:
                return self.array_body(elem_type, count, key, budget)
            except _OverBudget:
                self.drop(start)
        self.skip_array_body(elem_type, count, key, at)
        return ArrayInfo(elem_type, count)

    def array_body(self, elem_type: int, count: int, key: str, budget: list[int]) -> tuple:
        fmt = _SCALAR_FMT.get(elem_type)
        if fmt is not None:
            return self.unpack(f"{count}{fmt}", f"array {key!r}")
        out: list[Any] = []
        if elem_type == STRING:
            for _ in range(count):
                data = self.raw_string(f"string in array {key!r}")
                budget[1] -= len(data)
                if budget[1] < 0:
                    raise _OverBudget
                out.append(data.decode("utf-8", errors="replace"))
            return tuple(out)
        for _ in range(count):  # nested arrays
            inner_type, inner_count, _at = self.array_header(key)
            budget[0] -= inner_count
            if budget[0] < 0:
                raise _OverBudget
            out.append(self.array_body(inner_type, inner_count, key, budget))
        return tuple(out)

    def skip_array_body(self, elem_type: int, count: int, key: str, at: int) -> None:
        size = _SCALAR_SIZE.get(elem_type)
        if size is not None:
            self.skip(count * size, f"array {key!r}", at)
        elif elem_type == STRING:
            self.skip_strings(count, key)
        else:
            for _ in range(count):
                inner_type, inner_count, inner_at = self.array_header(key)
                self.skip_array_body(inner_type, inner_count, key, inner_at)

    def skip_strings(self, count: int, key: str) -> None:
        """Skip `count` length-prefixed strings without decoding them.

        Why a regex: a vocabulary and its merges are ~300,000 strings whose
        lengths must be walked one by one to find the end of the array. A
        Python loop costs 100-180 ns per string here; `re` walks blocks of
        short strings in C at about 50 ns (bench/RESULTS.md). The match is
        exact, not a heuristic: the pattern has one alternative per length
        n < 256 (the u64 n, then exactly n bytes), so a block either parses as
        exactly `_BLOCK` records or fails. A block that fails for want of
        buffered bytes is retried after a refill; any other failure (a string
        of 256+ bytes, the end of the file, a corrupt length) is walked by the
        plain loop, which checks every length, up to and including the first
        long string, and the blocks resume after it.
        """
        self.strings += count
        if self.strings > MAX_METADATA_STRINGS:  # e.g. a sparse file of empty strings
            raise self.error(
                f"more than {MAX_METADATA_STRINGS:,} metadata strings: not a model's GGUF",
                self.offset,
            )
        if count >= _FAST_MIN_STRINGS:
            match = _string_block_pattern(self.order == "<").match
            want = _BLOCK * (8 + 255)  # the most bytes a block can span
            while count >= _BLOCK:
                m = match(self.buf, self.pos, self.end)
                if m is None and self.end - self.pos < want and self.base + self.end < self.size:
                    self.fill(want)
                    m = match(self.buf, self.pos, self.end)
                if m is not None:
                    self.pos = m.end()
                    count -= _BLOCK
                else:
                    count -= self.walk_strings(_BLOCK, key, stop_after_long=True)
        self.walk_strings(count, key)

    def walk_strings(self, count: int, key: str, stop_after_long: bool = False) -> int:
        """The plain loop: read each u64 length, jump over the bytes (locals for speed).

        Walks `count` strings, or (`stop_after_long`) stops right after the
        first one of 256+ bytes; returns how many it walked.
        """
        unpack = (self._structs.get("Q") or struct.Struct(self.order + "Q")).unpack_from
        buf, pos, base, end, size = self.buf, self.pos, self.base, self.end, self.size
        walked = 0
        while walked < count:
            walked += 1
            if pos + 8 > end:
                self.buf, self.pos, self.base, self.end = buf, pos, base, end
                self.need(8, f"length of a string in array {key!r}")
                buf, pos, base, end = self.buf, self.pos, self.base, self.end
            n = unpack(buf, pos)[0]
            pos += 8
            if pos + n <= end:
                pos += n
            elif n > size - (base + pos):
                raise self.error(
                    f"string in array {key!r} claims {n} bytes, past the end of the file",
                    base + pos - 8,
                )
            else:
                base, pos, end = base + pos + n, 0, 0
            if stop_after_long and n > 255:
                break
        self.buf, self.pos, self.base, self.end = buf, pos, base, end
        return walked


# Below this many strings, compiling the block pattern (~5-9 ms, once per
# process) costs more than it saves; real vocabularies have 32k-262k tokens.
_FAST_MIN_STRINGS = 32768
_BLOCK = 256

# Lengths in the order the block pattern tries them: `re` tests a branch's
# alternatives one after the other (a one-byte check each), so the usual
# lengths of BPE tokens and merges (mostly 3-12 bytes, 6-8 the most common in
# bench/bench_gguf.py's Qwen-like mix) go first; 0 is rare and goes last.
_LENGTH_ORDER = [*sorted(range(1, 256), key=lambda n: (abs(n - 7), n)), 0]


@cache
def _string_block_pattern(little: bool) -> re.Pattern[bytes]:
    """A pattern matching exactly `_BLOCK` consecutive strings shorter than 256 bytes.

    One alternative per length n: the u64 n (low byte n then seven zero bytes
    little-endian; seven zero bytes then n big-endian) followed by exactly n
    arbitrary bytes. The first byte of an alternative decides it, so at most
    one alternative can match at any offset and the parse is unique.

    Measured choices (bench/RESULTS.md): a possessive repeat `{256}+` (each
    record is committed as it matches, so a failing block costs no
    backtracking) instead of an atomic group per record (an extra jump per
    string: ~30% slower); the seven zero bytes matched as one backreference
    `\\1` to a group that a lookahead captured from the first record's own
    zero bytes (one opcode per record instead of seven literals; if the first
    record has no seven zero bytes the block fails and is walked). The repeat
    has min = max, so it never reaches the part of CPython 3.11.0-3.11.4's
    possessive-repeat bug (gh-106052: a failed iteration past the minimum).
    """
    zeros = b"\x00" * 7
    head = [re.escape(bytes([n])) for n in _LENGTH_ORDER]
    body = [b".{%d}" % n if n else b"" for n in _LENGTH_ORDER]
    if little:  # n, 7 zero bytes, n bytes
        alts = b"|".join(head[i] + rb"\1" + body[i] for i in range(len(head)))
        pattern = b"(?=.(" + zeros + b"))(?:" + alts + b"){%d}+" % _BLOCK
    else:  # 7 zero bytes, n, n bytes
        alts = b"|".join(head[i] + body[i] for i in range(len(head)))
        pattern = b"(?=(" + zeros + rb"))(?:\1(?:" + alts + b")){%d}+" % _BLOCK
    return re.compile(pattern, re.DOTALL)


def read_metadata(path: Path, *, want_tensors: bool = False) -> GGUFMetadata:
    """Read the header and KV section of a GGUF file (and tensor infos if asked)."""
    from ctxfix.safe_read import NotRegular, open_regular

    where = str(path)
    try:
        fd, st = open_regular(where)  # a FIFO named x.gguf must not hang the scan
        with open(fd, "rb", buffering=0) as f:
            return _read(_Reader(f, st.st_size, where), want_tensors)
    except NotRegular as e:
        raise CtxfixError(where, f"{e.kind}, not a regular file: not read") from None
    except OSError as e:
        raise CtxfixError(where, f"cannot read GGUF file: {e.strerror or e}") from None
    except RecursionError:
        raise CtxfixError(where, "metadata nested too deep: not read") from None


def _read(r: _Reader, want_tensors: bool) -> GGUFMetadata:
    r.need(4, "magic")
    magic = bytes(r.buf[:4])
    if magic != GGUF_MAGIC:
        raise r.error(f"not a GGUF file (magic {magic!r}, expected b'GGUF')", 0)
    r.pos = 4
    r.need(4, "version")
    version = struct.unpack_from("<I", r.buf, 4)[0]
    if version & 0xFFFF == 0:  # gguf-py: a byte-swapped version means the other byte order
        r.order = "<" if sys.byteorder == "big" else ">"
        version = struct.unpack_from(r.order + "I", r.buf, 4)[0]
    else:
        r.order = "<" if sys.byteorder == "little" else ">"
    if version not in SUPPORTED_VERSIONS:
        raise r.error(f"unsupported GGUF version {version} (supported: 2, 3)", 4)
    r.pos = 8
    tensor_count, kv_count = r.unpack("QQ", "header")
    if kv_count > (r.size - r.offset) // 13:  # smallest pair: u64 0, no key, u32 type, u8
        raise r.error(f"header claims {kv_count} key/value pairs, past the end of the file", 16)

    kv: dict[str, Any] = {}
    for _ in range(kv_count):
        at = r.offset
        key = r.string("key")
        if key in kv:
            raise r.error(f"duplicate key {key!r}", at)
        type_at = r.offset
        vtype = r.u32(f"type of {key!r}")
        materialise = not key.startswith(_NEVER_MATERIALISE)
        kv[key] = r.value(vtype, key, type_at, materialise)

    tensors: tuple[TensorInfo, ...] = ()
    if want_tensors:
        if tensor_count > (r.size - r.offset) // 24:  # smallest tensor info is 24 bytes
            raise r.error(f"header claims {tensor_count} tensors, past the end of the file", 8)
        tensors = tuple(_tensor_info(r) for _ in range(tensor_count))
    return GGUFMetadata(
        version=version,
        big_endian=r.order == ">",
        tensor_count=tensor_count,
        kv=kv,
        tensors=tensors,
        file_size=r.size,
    )


def _tensor_info(r: _Reader) -> TensorInfo:
    at = r.offset
    name = r.string("tensor name")
    n_dims = r.u32(f"dimension count of tensor {name!r}")
    if n_dims > GGML_MAX_DIMS:
        raise r.error(f"tensor {name!r} has {n_dims} dimensions (at most 4)", at)
    shape = r.unpack(f"{n_dims}Q", f"shape of tensor {name!r}")
    ggml_type, _offset = r.unpack("IQ", f"type of tensor {name!r}")
    n_elements = 1
    for d in shape:
        n_elements *= d
    block, type_size = GGML_TYPE_SIZES.get(ggml_type, (1, 0))
    return TensorInfo(
        name=name, shape=shape, ggml_type=ggml_type, n_bytes=n_elements * type_size // block
    )


# -- geometry -------------------------------------------------------------------


def _int(value: Any) -> int | None:
    """A GGUF or JSON number as int; None for missing, nulled or non-integral values."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_list(value: Any) -> list[int] | None:
    if isinstance(value, list | tuple):
        out = [_int(v) for v in value]
        if all(v is not None for v in out):
            return out  # type: ignore[return-value]
    return None


def _per_layer(value: Any, block_count: int | None) -> tuple[int, ...] | None:
    """Scalar -> one entry per layer (llama.cpp `get_key_or_arr`); array -> as given."""
    items = _int_list(value)
    if items is not None:
        return tuple(items)
    scalar = _int(value)
    if scalar is None:
        return None
    return (scalar,) * (block_count if block_count else 1)


def _swa_pattern(value: Any, block_count: int | None) -> tuple[bool, ...] | None:
    """Per-layer SWA flags from `<arch>.attention.sliding_window_pattern`.

    An array is one flag per layer (True = sliding window). A scalar bool
    applies to every layer (llama.cpp `get_key_or_arr`). An integer n > 1 is a
    period as in HF configs and llama.cpp `set_swa_pattern(n)`: in every n
    layers the last is global, the others slide.
    """
    if isinstance(value, list | tuple):
        if all(isinstance(v, bool | int) and not isinstance(v, float) for v in value):
            return tuple(bool(v) for v in value)
        return None
    if not block_count:
        return None
    if isinstance(value, bool):
        return (value,) * block_count
    n = _int(value)
    if n is None:
        return None
    if n <= 1:
        return (n == 0,) * block_count
    return tuple(i % n < n - 1 for i in range(block_count))


def _swa_period(value: Any) -> int | None:
    """The period when `sliding_window_pattern` is a scalar number (not a bool, not an array)."""
    if isinstance(value, bool | list | tuple):
        return None
    return _int(value)


def _vocab_size(kv: Mapping[str, Any], arch: str) -> int | None:
    """Vocabulary size as llama.cpp counts it (`n_vocab` = tokens in the tokenizer).

    llama.cpp reads `<arch>.vocab_size` or else the length of `tokenizer.ggml.tokens`
    (src/llama-model.cpp: `get_key(LLM_KV_VOCAB_SIZE) || get_arr_n(LLM_KV_TOKENIZER_LIST)`).
    The reader skips the token strings and keeps their count (`ArrayInfo`); a server's
    model_info may give the list itself, or null it.
    """
    n = _int(kv.get(f"{arch}.vocab_size"))
    if n:
        return n
    tokens = kv.get("tokenizer.ggml.tokens")
    if isinstance(tokens, ArrayInfo):
        return tokens.count or None
    if isinstance(tokens, list | tuple):
        return len(tokens) or None
    return None


def geometry_from_kv(
    kv: Mapping[str, Any],
    *,
    tensors: tuple[TensorInfo, ...] | list[TensorInfo] = (),
    file_size: int | None = None,
) -> Geometry:
    """Build a `Geometry` from GGUF metadata keys (a GGUF file or a server's model_info).

    Accepts plain JSON values: lists for arrays, None for arrays a server
    nulled. A nulled per-layer `head_count_kv` stays unknown (None) rather than
    falling back to `head_count`; the llama.cpp default (head_count_kv =
    head_count) applies only when the key is absent.
    """
    arch = _str(kv.get("general.architecture"))
    if not arch:
        raise CtxfixError(None, "model metadata has no general.architecture")

    def get(suffix: str) -> Any:
        return kv.get(f"{arch}.{suffix}")

    block_count = _int(get("block_count"))
    if block_count is not None and not 0 < block_count <= MAX_BLOCK_COUNT:
        # per-layer tables are built from it: 2^25 layers would take minutes and GBs
        raise CtxfixError(None, f"{arch}.block_count {block_count:,} is not a model's layer count")
    embedding = _int(get("embedding_length"))
    head_count_raw = get("attention.head_count")
    head_counts = _per_layer(head_count_raw, block_count)
    head_count = head_counts[0] if head_counts else None

    kv_key = f"{arch}.attention.head_count_kv"
    # llama.cpp: n_head_kv defaults to n_head (only when the key is absent)
    head_count_kv = _per_layer(kv[kv_key], block_count) if kv_key in kv else head_counts

    default_len = embedding // head_count if embedding and head_count else None
    key_length = _int(get("attention.key_length"))
    value_length = _int(get("attention.value_length"))

    rope_factor = _float(get("rope.scaling.factor"))
    if rope_factor is None:
        rope_factor = _float(get("rope.scale_linear"))  # llama.cpp's older key name

    return Geometry(
        arch=arch,
        context_length=_int(get("context_length")),
        block_count=block_count,
        embedding_length=embedding,
        head_count=head_count,
        head_count_kv=head_count_kv,
        key_length=key_length if key_length is not None else default_len,
        value_length=value_length if value_length is not None else default_len,
        sliding_window=_int(get("attention.sliding_window")),
        sliding_window_pattern=_swa_pattern(get("attention.sliding_window_pattern"), block_count),
        rope_scaling_type=_str(get("rope.scaling.type")),
        rope_scaling_factor=rope_factor,
        rope_original_context=_int(get("rope.scaling.original_context_length")),
        kv_lora_rank=_int(get("attention.kv_lora_rank")),
        key_length_mla=_int(get("attention.key_length_mla")),
        rope_dimension_count=_int(get("rope.dimension_count")),
        full_attention_interval=_int(get("full_attention_interval")),
        nextn_predict_layers=_int(get("nextn_predict_layers")),
        expert_count=_int(get("expert_count")),
        expert_used_count=_int(get("expert_used_count")),
        ssm_state_size=_int(get("ssm.state_size")),
        ssm_inner_size=_int(get("ssm.inner_size")),
        ssm_conv_kernel=_int(get("ssm.conv_kernel")),
        ssm_group_count=_int(get("ssm.group_count")),
        name=_str(kv.get("general.name")),
        basename=_str(kv.get("general.basename")),
        size_label=_str(kv.get("general.size_label")),
        file_type=_int(kv.get("general.file_type")),
        tensors=tuple(tensors),
        file_size=file_size,
        sliding_window_period=_swa_period(get("attention.sliding_window_pattern")),
        key_length_swa=_int(get("attention.key_length_swa")),
        value_length_swa=_int(get("attention.value_length_swa")),
        shared_kv_layers=_int(get("attention.shared_kv_layers")),
        vocab_size=_vocab_size(kv, arch),
    )


def read_geometry(path: Path, *, want_tensors: bool = False) -> Geometry:
    """`read_metadata` + `geometry_from_kv`, with errors naming the file."""
    meta = read_metadata(path, want_tensors=want_tensors)
    try:
        return geometry_from_kv(meta.kv, tensors=meta.tensors, file_size=meta.file_size)
    except CtxfixError as e:
        raise CtxfixError(str(path), e.problem) from None
