"""OLLAMA_* values read exactly as the server reads them.

Follows github:ollama/ollama envconfig/config.go (checked at fb3076099):

- `Var`: `strings.Trim(strings.TrimSpace(v), "\\"'")`: outer whitespace, then
  any run of quote characters at either end, are removed; inner spaces stay.
- `Uint` (OLLAMA_CONTEXT_LENGTH, OLLAMA_NUM_PARALLEL, ...): `strconv.ParseUint(s,
  10, 64)`: ASCII digits only (no sign, no `_`, no inner space), at most
  2^64-1; anything else logs "invalid environment variable, using default"
  and the default applies.
- `BoolWithDefault` (OLLAMA_FLASH_ATTENTION): `strconv.ParseBool`; a value it
  cannot parse counts as *true*.
"""

from __future__ import annotations

_GO_SPACE = " \t\n\v\f\r\x85\xa0"
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def var(value: str | None) -> str:
    """`envconfig.Var`."""
    return (value or "").strip(_GO_SPACE).strip("\"'")


def uint(value: str | None, default: int) -> tuple[int, str | None]:
    """`envconfig.Uint`: (the value the server uses, why the given one was refused)."""
    s = var(value)
    if not s:
        return default, None
    if s.isascii() and s.isdigit() and int(s) < 2**64:
        return int(s), None
    return default, f"{s!r} is not an unsigned integer, so Ollama uses the default ({default})"


def bool_with_default(value: str | None, default: bool | None) -> bool | None:
    """`envconfig.BoolWithDefault`: unset -> default; unparsable -> True."""
    s = var(value)
    if not s:
        return default
    # ParseBool's true values, and (as the server does) anything it cannot parse, are true
    return s not in _FALSE
