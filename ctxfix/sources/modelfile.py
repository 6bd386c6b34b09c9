"""Lossless Modelfile model: parse, judge as Ollama would, and edit one value.

Why lossless: ctxfix edits Modelfiles that people keep in git. A fix must
change the bytes of one `num_ctx` value (or insert one line) and nothing
else, so a reviewer sees a one-line diff. The model therefore keeps the
exact source text; `render()` returns it byte for byte (comments, blank
lines, keyword case, `\"\"\"` blocks, CRLF, no final newline), and every
instruction carries the offsets of its value so an edit is a splice.

Why a hand-written state machine: Ollama's `parser/parser.go` is a rune-by-rune
state machine with quirks a regex would miss (a value ends only at a line
break whose trimmed buffer is fully quoted; `#` starts a comment only where
an instruction could start; `PARAMETER` names are letters, digits and `_`;
a keyword followed by a line break is an invalid command; non-printable
runes are dropped). We mirror it state for state, so what parses here is
exactly what `ollama create` accepts, with Ollama's own error wording.
Two deliberate differences, both in error *locations* only: line numbers
count a CRLF as one line break (Go counts `\\r` and `\\n` separately), and an
unterminated quote is reported at the line where the instruction starts.

The semantic view (`Modelfile.semantic()`) follows `CreateRequest` and
`api.FormatParams`: `stop` accumulates, other parameters are last-wins,
integers go through Go's `ParseInt` (so `1e+06` and `131072.0` fail with
`invalid int value [1e+06]`), floats through `ParseFloat`, and deprecated
parameters are ignored with a warning.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location, ModelDef, Sourced
from ctxfix.records import field, record

COMMANDS = (
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
)
ERR_INVALID_COMMAND = (
    'command must be one of "from", "license", "template", "system", "adapter", "draft", '
    '"renderer", "parser", "parameter", "message", or "requires"'
)
ERR_INVALID_ROLE = 'message role must be one of "system", "user", or "assistant"'
ERR_MISSING_FROM = "no FROM line"
ERR_EOF = "unexpected EOF"

# Every PARAMETER `ollama create` accepts, by the Go kind `api.FormatParams` parses it
# as: the json tags of `api.Options` and its embedded `api.Runner`
# (github:ollama/ollama api/types.go, checked at v0.33.0-rc2). `main_gpu` (*int) and
# `use_mmap` (*bool) are pointers, parsed like their element kind; any other name is
# `unknown parameter 'NAME'`. ParseInt / ParseFloat(32) / ParseBool as in FormatParams.
PARAMETER_KINDS: dict[str, str] = {
    # api.Runner: set when the model is loaded
    "num_ctx": "int",
    "num_batch": "int",
    "num_gpu": "int",
    "main_gpu": "int",
    "use_mmap": "bool",
    "num_thread": "int",
    "draft_num_predict": "int",
    # api.Options: per prediction
    "num_keep": "int",
    "seed": "int",
    "num_predict": "int",
    "top_k": "int",
    "top_p": "float",
    "min_p": "float",
    "typical_p": "float",
    "repeat_last_n": "int",
    "temperature": "float",
    "repeat_penalty": "float",
    "presence_penalty": "float",
    "frequency_penalty": "float",
    "stop": "list",
}
INT_PARAMS = frozenset(k for k, v in PARAMETER_KINDS.items() if v == "int")
FLOAT_PARAMS = frozenset(k for k, v in PARAMETER_KINDS.items() if v == "float")
BOOL_PARAMS = frozenset(k for k, v in PARAMETER_KINDS.items() if v == "bool")
LIST_PARAMS = frozenset(k for k, v in PARAMETER_KINDS.items() if v == "list")
# parser.go `deprecatedParameters`: accepted, ignored, "warning: parameter X is deprecated".
DEPRECATED_PARAMS = frozenset(
    {
        "penalize_newline",
        "low_vram",
        "f16_kv",
        "logits_all",
        "vocab_only",
        "use_mlock",
        "mirostat",
        "mirostat_tau",
        "mirostat_eta",
    }
)

_NIL, _NAME, _VALUE, _PARAM, _MESSAGE, _COMMENT = range(6)
_SPACE = " \t"
_NEWLINE = "\r\n"
# Go strings.TrimSpace over what the buffer can hold at its edges.
_TRIM = " \t\r\n\v\f\x85\xa0"
_VALUE_RUN = re.compile(r"[^ \t\r\n]+")
# Go number syntax, compiled on first use (re's cache): a plain "131072" or "0.7"
# takes the fast paths below, so most scans never compile these (issue 15)
_INT_RE = r"[+-]?[0-9]+"
_DEC_FLOAT_RE = (
    r"[+-]?(?:(?:\d(?:_?\d)*)(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?"
)
_HEX_FLOAT_RE = r"[+-]?0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)[pP][+-]?\d+"
_SPECIAL_FLOAT_RE = r"(?i)[+-]?(?:inf|infinity)|nan"
_FLOAT32_MAX = 3.4028234663852886e38
# compiled on first use (re's cache): most scans never need it (issue 15)
_SEMVER_RE = (
    r"v(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?"
)


def _is_print(ch: str) -> bool:
    """Go `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols, ASCII space."""
    o = ord(ch)
    if o < 0x80:
        return 0x20 <= o < 0x7F
    import unicodedata

    return unicodedata.category(ch)[0] in "LMNPS"


def _is_alpha(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _unquote(s: str) -> tuple[str, bool]:
    """parser.go `unquote`: strip `\"\"\"...\"\"\"` or `"..."`; (value, ok)."""
    if s[:3] == '"""':
        if len(s) >= 6 and s[-3:] == '"""':
            return s[3:-3], True
        return "", False
    if s[:1] == '"':
        if len(s) >= 2 and s[-1] == '"':
            return s[1:-1], True
        return "", False
    return s, True


class _Buf:
    """parser.go's `bytes.Buffer`, with the unquote test done without joining.

    Go re-reads the whole buffer at every blank inside a value
    (`unquote(strings.TrimSpace(b.String()))`); doing that in Python makes a
    100 KB TEMPLATE take seconds. Only the first and last three non-blank
    characters and the trimmed length decide the answer, so we track those.
    """

    __slots__ = ("_head", "_lead", "parts", "total")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.total = 0
        self._head: str | None = None  # first 3 chars of the trimmed text, once known
        self._lead = 0  # leading trim chars, valid once _head is known

    def append(self, s: str) -> None:
        self.parts.append(s)
        self.total += len(s)

    def clear(self) -> None:
        self.parts.clear()
        self.total = 0
        self._head = None

    def text(self) -> str:
        return "".join(self.parts)

    def _start(self) -> tuple[str, int]:
        if self._head is not None:
            return self._head, self._lead
        s = ""
        for p in self.parts:
            s += p
            st = s.lstrip(_TRIM)
            if len(st) >= 3:
                self._head, self._lead = st[:3], len(s) - len(st)
                return self._head, self._lead
        st = s.lstrip(_TRIM)
        return st, len(s) - len(st)

    def _end(self) -> tuple[str, int]:
        s = ""
        st = ""
        for p in reversed(self.parts):
            s = p + s
            st = s.rstrip(_TRIM)
            if len(st) >= 3:
                break
        return st[-3:], len(s) - len(st)

    def unquote_ok(self) -> bool:
        """`_, ok := unquote(strings.TrimSpace(b.String()))`."""
        head, lead = self._start()
        if not head.startswith('"'):
            return True
        tail, trail = self._end()
        n = self.total - lead - trail
        if head == '"""':
            return n >= 6 and tail == '"""'
        return n >= 2 and tail.endswith('"')


def parse_go_int(s: str) -> int | None:
    """Go `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits, int64 range."""
    if not (s.isascii() and s.isdigit()) and not re.fullmatch(_INT_RE, s):
        return None
    v = int(s)
    if not -(2**63) <= v < 2**63:
        return None
    return v


def parse_go_float32(s: str) -> float | None:
    """Go `strconv.ParseFloat(s, 32)`: decimal or hex literal, Inf/NaN, float32 range."""
    if s.isascii() and s.replace(".", "", 1).isdigit():  # "0.7", "12", "3.": plain decimals
        v = float(s)
    elif re.fullmatch(_SPECIAL_FLOAT_RE, s):
        return float(s)
    elif re.fullmatch(_HEX_FLOAT_RE, s):
        v = float.fromhex(s)
    elif re.fullmatch(_DEC_FLOAT_RE, s):
        v = float(s)
    else:
        return None
    if abs(v) > _FLOAT32_MAX:
        return None
    return v


def parse_go_bool(s: str) -> bool | None:
    """Go `strconv.ParseBool`."""
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


@record(frozen=True)
class Instruction:
    """One instruction exactly as written.

    `value` is what Ollama sees (trimmed, quotes stripped; for MESSAGE the
    content without the role). `value_start:value_end` is the span of that
    value in the file text (inside the quotes when quoted), so an edit can
    splice it. `raw` is `text[start:end]`: the keyword through the last
    character before the line break that ends the instruction.
    """

    keyword: str  # as written: "FROM", "parameter"
    command: str  # lower-case: "from", "parameter", "message", ...
    name: str | None  # PARAMETER name (case kept), MESSAGE role, else None
    value: str
    raw: str
    line: int  # 1-based line of the keyword
    col: int  # 1-based column of the keyword
    start: int
    end: int
    value_start: int
    value_end: int
    value_line: int
    value_col: int


@record
class ModelfileSemantics:
    """What `ollama create` would build from the file (parser.go `CreateRequest`)."""

    from_: str  # the last FROM (Ollama: a later FROM of a model name replaces an earlier one)
    froms: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    system: str | None = None
    adapters: list[str] = field(default_factory=list)  # Ollama keeps only the last
    license: list[str] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (role, content)
    renderer: str | None = None
    parser: str | None = None
    requires: str | None = None
    drafts: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)  # ignored with a warning by Ollama


class Modelfile:
    """A parsed Modelfile that remembers its exact text."""

    def __init__(self, text: str, instructions: list[Instruction], path: str = "<string>"):
        self.text = text
        self.instructions = instructions
        self.path = path

    def __repr__(self) -> str:
        return f"Modelfile({self.path!r}, {len(self.instructions)} instructions)"

    def render(self) -> str:
        """The file text, byte-identical to what was parsed (or edited)."""
        return self.text

    # ---- queries -------------------------------------------------------
    def parameters(self, name: str) -> list[Instruction]:
        """Every `PARAMETER <name>` instruction, in order (name is case-sensitive, like Ollama)."""
        return [i for i in self.instructions if i.command == "parameter" and i.name == name]

    def num_ctx_instruction(self) -> Instruction | None:
        """The `PARAMETER num_ctx` that wins (the last one), or None."""
        found = self.parameters("num_ctx")
        return found[-1] if found else None

    def from_instruction(self) -> Instruction | None:
        """The last FROM (the parent reference `ollama create` uses)."""
        froms = [i for i in self.instructions if i.command == "from"]
        return froms[-1] if froms else None

    def line_ending(self) -> str:
        """The file's own line ending: that of its first line break, else `\\n`."""
        nl = self.text.find("\n")
        cr = self.text.find("\r")
        if cr != -1 and (nl == -1 or cr < nl):
            return "\r\n" if self.text.startswith("\r\n", cr) else "\r"
        return "\n"

    def _where(self, ins: Instruction | None = None) -> str:
        return f"{self.path}:{ins.line}" if ins else self.path

    def semantic(self) -> ModelfileSemantics:
        """Ollama's view; raises CtxfixError with Ollama's wording for what create rejects."""
        from_ins = self.from_instruction()
        if from_ins is None:
            raise CtxfixError(self.path, ERR_MISSING_FROM)
        sem = ModelfileSemantics(from_=from_ins.value)
        for ins in self.instructions:
            cmd = ins.command
            if cmd == "from":
                sem.froms.append(ins.value)
            elif cmd == "parameter":
                name = ins.name or ""
                if name in DEPRECATED_PARAMS:
                    sem.deprecated.append(name)
                    continue
                value = convert_parameter(name, ins.value, self._where(ins))
                if name in LIST_PARAMS:
                    sem.parameters.setdefault(name, []).extend(value)
                else:
                    sem.parameters[name] = value
            elif cmd == "template":
                sem.template = ins.value
            elif cmd == "system":
                sem.system = ins.value
            elif cmd == "adapter":
                sem.adapters.append(ins.value)
            elif cmd == "license":
                sem.license.append(ins.value)
            elif cmd == "message":
                sem.messages.append((ins.name or "", ins.value))
            elif cmd == "renderer":
                sem.renderer = ins.value
            elif cmd == "parser":
                sem.parser = ins.value
            elif cmd == "draft":
                sem.drafts.append(ins.value)
            elif cmd == "requires":
                req = ins.value if ins.value.startswith("v") else "v" + ins.value
                if not re.fullmatch(_SEMVER_RE, req):
                    raise CtxfixError(
                        self._where(ins), "requires must be a valid semver (e.g. 0.14.0)"
                    )
                sem.requires = req[1:]
        return sem


def convert_parameter(name: str, value: str, where: str) -> Any:
    """api.FormatParams for one PARAMETER: the typed value, or Ollama's error."""
    if name in INT_PARAMS:
        v = parse_go_int(value)
        if v is None:
            raise CtxfixError(where, f"invalid int value [{value}]")
        return v
    if name in FLOAT_PARAMS:
        f = parse_go_float32(value)
        if f is None:
            raise CtxfixError(where, f"invalid float value [{value}]")
        return f
    if name in BOOL_PARAMS:
        b = parse_go_bool(value)
        if b is None:
            raise CtxfixError(where, f"invalid bool value [{value}]")
        return b
    if name in LIST_PARAMS:
        return [value]
    raise CtxfixError(where, f"unknown parameter '{name}'")


class _Lines:
    """Offset -> (line, col), counting `\\r\\n`, `\\n` and a lone `\\r` as one break."""

    def __init__(self, text: str) -> None:
        starts = [0]
        for m in re.finditer(r"\r\n|\r|\n", text):
            starts.append(m.end())
        self.starts = starts

    def at(self, offset: int) -> tuple[int, int]:
        idx = bisect.bisect_right(self.starts, offset) - 1
        return idx + 1, offset - self.starts[idx] + 1


def parse(text: str, path: str = "<string>") -> Modelfile:
    """Parse like Ollama's `parser.ParseFile`, keeping every byte.

    Raises CtxfixError(f"{path}:{line}", problem) with Ollama's wording:
    `command must be one of ...`, `message role must be one of ...`,
    `unexpected EOF`; and CtxfixError(path, "no FROM line").
    """
    lines = _Lines(text)
    n = len(text)
    i = 1 if text.startswith("\ufeff") else 0  # Go's BOMOverride decoder drops it
    state = _NIL
    buf = _Buf()
    out: list[Instruction] = []
    inst_start = 0
    keyword = command = ""
    name: str | None = None
    vstart = 0

    def fail(problem: str, offset: int) -> CtxfixError:
        return CtxfixError(f"{path}:{lines.at(offset)[0]}", problem)

    def emit(end: int) -> None:
        value, _ = _unquote(buf.text().strip(_TRIM))
        vs, ve = _value_span(text, vstart, end)
        line, col = lines.at(inst_start)
        vline, vcol = lines.at(vs)
        out.append(
            Instruction(
                keyword=keyword,
                command=command,
                name=name,
                value=value,
                raw=text[inst_start:end],
                line=line,
                col=col,
                start=inst_start,
                end=end,
                value_start=vs,
                value_end=ve,
                value_line=vline,
                value_col=vcol,
            )
        )

    while i < n:
        r = text[i]
        # Fast paths that cannot change state: the body of a comment, a run of
        # non-blank value characters.
        if state == _COMMENT and r not in _NEWLINE:
            j = i
            while j < n and text[j] not in _NEWLINE:
                j += 1
            i = j
            continue
        if state == _VALUE and r not in _SPACE and r not in _NEWLINE:
            m = _VALUE_RUN.match(text, i)
            assert m is not None
            chunk = m.group()
            if chunk.isascii() and chunk.isprintable():
                buf.append(chunk)
            else:
                buf.append("".join(ch for ch in chunk if _is_print(ch)))
            i = m.end()
            continue

        # parseRuneForState
        keep = True  # Go returns r (True) or 0 (False)
        if state == _NIL:
            if r == "#":
                nxt, keep = _COMMENT, False
            elif r in _SPACE or r in _NEWLINE:
                nxt, keep = _NIL, False
            else:
                nxt = _NAME
        elif state == _NAME:
            if _is_alpha(r):
                nxt = _NAME
            elif r in _SPACE:
                nxt, keep = _VALUE, False
            else:
                raise fail(ERR_INVALID_COMMAND, inst_start)
        elif state == _VALUE:
            nxt = _NIL  # a space or a line break (other runes took the fast path)
        elif state == _PARAM:
            if _is_alpha(r) or "0" <= r <= "9" or r == "_":
                nxt = _PARAM
            elif r in _SPACE:
                nxt, keep = _VALUE, False
            else:
                got = buf.text()
                raise fail(f"{ERR_EOF}: {got}" if got else ERR_EOF, inst_start)
        elif state == _MESSAGE:
            if _is_alpha(r):
                nxt = _MESSAGE
            elif r in _SPACE:
                nxt, keep = _VALUE, False
            else:
                got = buf.text()
                raise fail(f"{ERR_EOF}: {got}" if got else ERR_EOF, inst_start)
        else:  # _COMMENT at a line break
            nxt, keep = _NIL, False

        if nxt != state:
            if state == _NAME:
                word = buf.text()
                low = word.lower()
                if low not in COMMANDS:
                    raise fail(ERR_INVALID_COMMAND, inst_start)
                keyword, command, name = text[inst_start:i], low, None
                if low == "parameter":
                    nxt = _PARAM
                elif low == "message":
                    nxt = _MESSAGE
                vstart = i + 1
            elif state == _PARAM:
                name = buf.text()
                vstart = i + 1
            elif state == _MESSAGE:
                role = buf.text()
                if role not in ("system", "user", "assistant"):
                    raise fail(ERR_INVALID_ROLE, inst_start)
                name = role
                vstart = i + 1
            elif state == _VALUE:
                if r in _SPACE or not buf.unquote_ok():
                    buf.append(r)
                    i += 1
                    continue
                emit(i)
            buf.clear()
            if state == _NIL and nxt == _NAME:
                inst_start = i
            state = nxt
        if keep and _is_print(r):
            buf.append(r)
        i += 1

    if state == _VALUE:
        if not buf.unquote_ok():
            raise fail(ERR_EOF, inst_start)
        emit(n)
    elif state not in (_NIL, _COMMENT):
        raise fail(ERR_EOF, inst_start)

    if not any(ins.command == "from" for ins in out):
        raise CtxfixError(path, ERR_MISSING_FROM)
    return Modelfile(text, out, path)


def _value_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Span of the unquoted value inside `text[start:end]` (the raw value region)."""
    lo, hi = start, end
    while lo < hi and (text[lo] in _TRIM or not _is_print(text[lo])):
        lo += 1
    while hi > lo and (text[hi - 1] in _TRIM or not _is_print(text[hi - 1])):
        hi -= 1
    s = text[lo:hi]
    if s.startswith('"""') and len(s) >= 6 and s.endswith('"""'):
        return lo + 3, hi - 3
    if s.startswith('"') and len(s) >= 2 and s.endswith('"'):
        return lo + 1, hi - 1
    return lo, hi


def decode(data: bytes) -> str:
    """Bytes -> text the way Ollama reads a Modelfile, reversibly.

    A UTF-16 BOM selects UTF-16 (Ollama's BOMOverride decoder); otherwise
    UTF-8, with undecodable bytes kept as surrogate escapes so a rewrite
    (`encode`) restores them byte for byte.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8", errors="surrogateescape")


def encode(text: str, original: bytes | None = None) -> bytes:
    """Inverse of `decode` (UTF-16 when the original file was UTF-16)."""
    if original is not None and original.startswith(b"\xff\xfe"):
        return b"\xff\xfe" + text.encode("utf-16-le")
    if original is not None and original.startswith(b"\xfe\xff"):
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode("utf-8", errors="surrogateescape")


def load(path: Path) -> Modelfile:
    """Read and parse a Modelfile from disk (no newline translation)."""
    from ctxfix.safe_read import read_bytes

    data = read_bytes(path)
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        raise CtxfixError(f"{path}", f"not valid UTF-16 at byte {exc.start}") from None
    return parse(text, str(path))


def read_modelfile(path: Path) -> ModelDef:
    """A repo Modelfile as a model definition (origin "modelfile").

    `num_ctx` is the winning `PARAMETER num_ctx` when Go's ParseInt accepts
    it. A value Ollama rejects (`1e+06`, `131072.0`) does not raise here: it
    becomes `num_ctx_invalid` (the first rejected num_ctx line, since
    `ollama create` stops at it) so rule CTX105 can report and fix it.
    Other parameters go to `params`, typed where Ollama's type accepts the
    value, else the raw string, under the name as written (so `NUM_CTX`
    stays visible to the rules). Syntax errors and a missing FROM raise.
    """
    mf = load(path)
    where = str(path)
    from_ins = mf.from_instruction()
    assert from_ins is not None  # parse() guarantees a FROM
    num_ctx: Sourced[int] | None = None
    invalid: Sourced[str] | None = None
    params: dict[str, Any] = {}
    for ins in mf.instructions:
        if ins.command != "parameter":
            continue
        pname = ins.name or ""
        loc = Location(where, ins.value_line, ins.value_col, pname)
        if pname == "num_ctx":
            v = parse_go_int(ins.value)
            if v is None:
                if invalid is None:
                    invalid = Sourced(ins.value, "modelfile", loc)
                num_ctx = None
            else:
                num_ctx = Sourced(v, "modelfile", loc)
            continue
        try:
            typed = convert_parameter(pname, ins.value, where)
        except CtxfixError:
            typed = ins.value
        if pname in LIST_PARAMS:
            params.setdefault(pname, []).extend(typed)
        else:
            params[pname] = typed
    return ModelDef(
        name=where,
        origin="modelfile",
        location=Location(where, from_ins.line, from_ins.col),
        parent=from_ins.value,
        num_ctx=num_ctx,
        num_ctx_invalid=invalid,
        params=params,
    )


def is_modelfile_name(name: str) -> bool:
    """`Modelfile`, `Modelfile.*`, `*.Modelfile`, `*.modelfile` (the names ctxfix discovers)."""
    return (
        name == "Modelfile"
        or (name.startswith("Modelfile.") and len(name) > len("Modelfile."))
        or (name.endswith(".Modelfile") and len(name) > len(".Modelfile"))
        or (name.endswith(".modelfile") and len(name) > len(".modelfile"))
    )


# --------------------------------------------------------------------------- FROM <directory>

ERR_MODEL_NOT_FOUND = "no Modelfile or safetensors files found"
"""parser.go `ErrModelNotFound`, what `ollama create` says for a directory without weights."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"%!PS-Adobe-", "application/postscript"),
    (b"\xfe\xff", "text/plain"),  # UTF-16BE BOM
    (b"\xff\xfe", "text/plain"),  # UTF-16LE BOM
    (b"\xef\xbb\xbf", "text/plain"),  # UTF-8 BOM
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"\x00\x00\x02\x00", "image/x-icon"),
    (b"BM", "image/bmp"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"OggS\x00", "application/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\x1f\x8b\x08", "application/x-gzip"),
    (b"PK\x03\x04", "application/zip"),
    (b"Rar!\x1a\x07\x00", "application/x-rar-compressed"),
    (b"Rar!\x1a\x07\x01\x00", "application/x-rar-compressed"),
    (b"\x00asm", "application/wasm"),
)
# WHATWG "binary data byte": what makes Go's sniffer say octet-stream rather than text
_BINARY_BYTES = (
    frozenset(range(0x00, 0x09))
    | {0x0B}
    | frozenset(range(0x0E, 0x1B))
    | frozenset(range(0x1C, 0x20))
)


def sniff_content_type(head: bytes) -> str:
    """Go `http.DetectContentType(head)` cut at `;`, for the files a model directory holds.

    A subset of Go's sniff table (net/http/sniff.go): the leading-signature
    types above, markup (`<?xml`, `<html`... after leading whitespace), then
    text/plain unless a binary byte occurs. A GGUF (`GGUF` + a binary version
    number) is application/octet-stream, a PyTorch zip application/zip, JSON
    text/plain, which is all `filesForModel` asks about.
    """
    head = head[:512]
    for sig, ctype in _SIGNATURES:
        if head.startswith(sig):
            return ctype
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    lead = head.lstrip(b"\t\n\x0c\r ")
    if lead[:5].lower() == b"<?xml":
        return "text/xml"
    for tag in (b"<!doctype html", b"<html", b"<head", b"<script", b"<body", b"<!--"):
        if lead[: len(tag)].lower() == tag and lead[len(tag) : len(tag) + 1] in (b" ", b">"):
            return "text/html"
    if any(b in _BINARY_BYTES for b in head):
        return "application/octet-stream"
    return "text/plain"


def _go_glob(directory: Path, pattern: str) -> list[Path]:
    """Go `filepath.Glob(dir/pattern)` for `pattern` = `[sub/]name-glob`: sorted, dotfiles too."""
    import fnmatch
    import os

    parts = pattern.split("/")
    dirs = [directory]
    for i, part in enumerate(parts):
        nxt: list[Path] = []
        for d in dirs:
            try:
                names = sorted(os.listdir(d))
            except OSError:
                continue
            for n in names:
                if fnmatch.fnmatchcase(n, part) and (i == len(parts) - 1 or (d / n).is_dir()):
                    nxt.append(d / n)
        dirs = nxt
    return dirs


def _glob_typed(directory: Path, pattern: str, content_type: str) -> list[Path]:
    """parser.go `glob`: the matches; CtxfixError when one sniffs as another type."""
    matches = _go_glob(directory, pattern)
    for m in matches:
        try:
            with open(m, "rb") as f:
                head = f.read(512)
        except OSError as exc:
            raise CtxfixError(str(m), f"cannot read: {exc.strerror or exc}") from None
        ct = sniff_content_type(head)
        if content_type and ct != content_type:
            raise CtxfixError(str(m), f"invalid content type: expected {ct} for {m}")
    return matches


def _first_glob(directory: Path, pattern: str, content_type: str) -> list[Path]:
    """`if x, _ := glob(...); len(x) > 0`: a failing glob counts as no match."""
    try:
        return _glob_typed(directory, pattern, content_type)
    except CtxfixError:
        return []


# parser.go filesForModel: weight files, in the order Ollama tries them
_WEIGHT_FAMILIES = (
    ("model*.safetensors", "", "safetensors"),
    ("consolidated*.safetensors", "", "safetensors"),
    ("pytorch_model*.bin", "application/zip", "pytorch"),
    ("consolidated*.pth", "application/zip", "pytorch"),
    ("*.gguf", "application/octet-stream", "gguf"),
    ("*.bin", "application/octet-stream", "gguf"),
)


def files_for_model(directory: Path) -> tuple[str, list[Path]]:
    """parser.go `filesForModel`: (weight format, every file `ollama create` uploads).

    The first family present wins, in Ollama's order: `model*.safetensors`
    (plus `*/model*.safetensors`), `consolidated*.safetensors`,
    `pytorch_model*.bin` (zip), `consolidated*.pth` (zip), `*.gguf`, `*.bin`
    (GGUF without the extension); then `*.json`, `*/*.json`,
    `chat_template.jinja` and `tokenizer.model`. The format is `safetensors`,
    `pytorch` or `gguf`. Raises CtxfixError with Ollama's wording when no
    family matches, or when a config file is not the type Ollama expects.
    """
    for family in _WEIGHT_FAMILIES:
        files = _first_glob(directory, family[0], family[1])
        if files:
            break
    else:
        raise CtxfixError(str(directory), ERR_MODEL_NOT_FOUND)
    pattern, _content_type, kind = family
    if pattern == "model*.safetensors":
        files += _glob_typed(directory, "*/model*.safetensors", "")
    files += _glob_typed(directory, "*.json", "text/plain")
    files += _glob_typed(directory, "*/*.json", "text/plain")  # Go's `**` is one level
    files += _glob_typed(directory, "chat_template.jinja", "text/plain")
    files += _first_glob(directory, "tokenizer.model", "application/octet-stream") or _first_glob(
        directory, "*/tokenizer.model", "text/plain"
    )
    return kind, files


# compiled on first use (re's cache): most scans never need it (issue 15)
_SPLIT_RE = r"^(.*)-(\d{5})-of-(\d{5})\.gguf$"
_NOT_MODEL_KINDS = ("adapter", "projector", "mmproj")


def _split_uint(kv: dict, key: str, arch: object) -> int | None:
    """create.go `splitGGUFUint`: the key, else `<arch>.key`, as a uint16."""
    for k in (key, f"{arch}.{key}"):
        v = kv.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 0xFFFF:
            return v
    return None


def _split_group(f: Path, kv: dict, arch: object) -> str:
    """Which model a GGUF is part of (server/create.go `splitGGUFGroupKey`).

    A part of a split model says so in its metadata (`split.count` > 1), not by
    its name alone: Ollama merges the parts named `<prefix>-00001-of-0000N.gguf`
    whose `split.count` and `split.no` agree with the name, refuses parts whose
    name or numbers disagree, and treats a file with a split-like name but no
    split metadata as a model of its own.
    """
    count = _split_uint(kv, "split.count", arch)
    if count is None or count <= 1:
        return f"file:{f.name}"
    m = re.match(_SPLIT_RE, f.name)
    if m is None or int(m.group(2)) == 0 or int(m.group(3)) == 0:
        raise CtxfixError(
            str(f), f'split GGUF "{f.name}" must use llama.cpp split filename pattern'
        )
    if int(m.group(3)) != count:
        raise CtxfixError(
            str(f),
            f'split GGUF "{f.name}" filename count {int(m.group(3))} does not match'
            f" metadata count {count}",
        )
    split_no = _split_uint(kv, "split.no", arch)
    if split_no is None:
        raise CtxfixError(str(f), f'split GGUF "{f.name}" is missing split.no metadata')
    if split_no != int(m.group(2)) - 1:
        raise CtxfixError(
            str(f),
            f'split GGUF "{f.name}" filename index {int(m.group(2)) - 1} does not match'
            f" metadata index {split_no}",
        )
    return f"split:{m.group(1)}"


def model_gguf(directory: Path) -> Path:
    """The GGUF whose header describes the model `FROM <directory>` creates.

    `filesForModel` picks the files; the server (server/create.go
    `convertModelFromFilesWithMediaType`) then sorts them, makes each GGUF a
    layer (an adapter or projector by `general.type`, a standalone vision
    model by `vision.block_count`, else the model) and merges split files
    (`name-00001-of-00003.gguf`) into one. So: the GGUFs that are models,
    split parts counted once (their first part holds the metadata). Exactly
    one -> that file. Raises CtxfixError (naming the directory) for safetensors
    or PyTorch weights (converted by Ollama; no GGUF header to read), for no
    weights, and for several model GGUFs (which one serves is not decided here).
    """
    from ctxfix.sources.gguf import read_metadata

    kind, files = files_for_model(directory)
    where = str(directory)
    if kind != "gguf":
        raise CtxfixError(where, f"holds {kind} weights, which Ollama converts; no GGUF to read")
    models: dict[str, Path] = {}
    for f in sorted(p for p in files if p.suffix in (".gguf", ".bin")):
        try:
            kv = read_metadata(f).kv
        except CtxfixError:
            continue  # not a GGUF: `ollama create` refuses it ("not in GGUF format")
        gtype = kv.get("general.type")
        if isinstance(gtype, str) and gtype.lower() in _NOT_MODEL_KINDS:
            continue
        arch = kv.get("general.architecture")
        if not kv.get(f"{arch}.block_count") and (
            kv.get(f"{arch}.vision.block_count")
            # create.go isProjectorGGUF: a clip GGUF with only an audio or vision encoder
            or (
                arch == "clip"
                and (kv.get("clip.has_vision_encoder") or kv.get("clip.has_audio_encoder"))
            )
        ):
            continue
        models.setdefault(_split_group(f, kv, arch), f)
    if len(models) == 1:
        return next(iter(models.values()))
    if not models:
        raise CtxfixError(where, "no model GGUF in the directory")
    names = ", ".join(sorted(p.name for p in models.values()))
    raise CtxfixError(where, f"holds several model GGUFs ({names}); name one in FROM")
