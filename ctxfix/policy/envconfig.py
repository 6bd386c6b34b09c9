"""OLLAMA_* values read exactly as the server reads them.

Follows github:ollama/ollama envconfig/config.go (checked at v0.33.0-rc2; its
tables are ported in tests/upstream/test_envconfig*.py):

- `Var`: `strings.Trim(strings.TrimSpace(v), "\\"'")`: outer whitespace (Go's
  `unicode.IsSpace`, so U+2003 or U+3000 too), then any run of quote characters
  at either end, are removed; inner spaces stay.
- `Uint` (OLLAMA_CONTEXT_LENGTH, OLLAMA_NUM_PARALLEL, ...): `strconv.ParseUint(s,
  10, 64)`: ASCII digits only (no sign, no `_`, no inner space), at most
  2^64-1; anything else logs "invalid environment variable, using default"
  and the default applies.
- `BoolWithDefault` (OLLAMA_FLASH_ATTENTION): `strconv.ParseBool`; a value it
  cannot parse counts as *true*.
"""

from __future__ import annotations

# unicode.IsSpace (Go): the White_Space property, which strings.TrimSpace trims
_GO_SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def _digits_value(digits: str) -> int:
    """The value of an ASCII digit string, capped at 2^64 so a 5,000-digit value
    cannot hit Python's int-conversion limit (it is out of every Go range anyway)."""
    t = digits.lstrip("0") or "0"
    return int(t) if len(t) <= 20 else 2**64


def var(value: str | None) -> str:
    """`envconfig.Var`."""
    return (value or "").strip(_GO_SPACE).strip("\"'")


def uint(value: str | None, default: int, shown: str | None = None) -> tuple[int, str | None]:
    """`envconfig.Uint`: (the value the server uses, why the given one was refused).

    `shown` is how the refusal names the default (`0: automatic`), else its number.
    """
    s = var(value)
    if not s:
        return default, None
    if s.isascii() and s.isdigit() and _digits_value(s) < 2**64:
        return _digits_value(s), None
    # a value with `@` may hold credentials (`user:pw@host`, no scheme for the URL
    # redaction to see): named, not quoted
    what = "the value" if "@" in s else repr(s)
    return default, (
        f"{what} is not an unsigned integer, so Ollama uses the default ({shown or default})"
    )


def bool_with_default(value: str | None, default: bool | None) -> bool | None:
    """`envconfig.BoolWithDefault`: unset -> default; unparsable -> True."""
    s = var(value)
    if not s:
        return default
    # ParseBool's true values, and (as the server does) anything it cannot parse, are true
    return s not in _FALSE


def _split_host_port(hp: str) -> tuple[str, str]:
    """Go's `net.SplitHostPort` (ValueError where it returns an error)."""
    if hp.startswith("["):
        end = hp.find("]")
        if end < 0 or not hp[end + 1 :].startswith(":"):
            raise ValueError("missing port")
        host, port = hp[1:end], hp[end + 2 :]
    else:
        i = hp.rfind(":")
        if i < 0:
            raise ValueError("missing port")
        host, port = hp[:i], hp[i + 1 :]
        if ":" in host:
            raise ValueError("too many colons")
    if any(c in port for c in "[]") or any(c in host for c in "[]"):
        raise ValueError("unexpected bracket")
    return host, port


def _parse_ip(text: str) -> str | None:
    """Go's `net.ParseIP(...).String()`, or None when it is not an address."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def host(value: str | None) -> str:
    """`envconfig.Host()` for an OLLAMA_HOST value, as the URL string Go prints.

    `1.2.3.4` -> `http://1.2.3.4:11434`; `::1` -> `http://[::1]:11434`;
    `https://x/ollama` -> `https://x:443/ollama`; `ollama.com` ->
    `https://ollama.com:443`; a port out of range -> the default port. It
    never fails: whatever the value, the server and the Go CLI use some URL.
    """
    s = var(value).strip(_GO_SPACE)
    default_port = "11434"
    scheme, sep, hostport = s.partition("://")
    if not sep:
        scheme, hostport = "http", s
        if s == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, _, path = hostport.partition("/")
    try:
        name, port = _split_host_port(hostport)
    except ValueError:
        name, port = "127.0.0.1", default_port
        ip = _parse_ip(hostport.strip("[]"))
        if ip is not None:
            name = ip
        elif hostport:
            name = hostport
    # strconv.ParseInt(port, 10, 32): optional sign, ASCII digits, int32 range
    digits = port[1:] if port[:1] in ("+", "-") else port
    n = _digits_value(digits) if digits.isascii() and digits.isdigit() else None
    if n is not None and port[:1] == "-":
        n = -n
    if n is None or not -(2**31) <= n < 2**31 or not 0 <= n <= 65535:
        port = default_port
    shown = f"[{name}]" if ":" in name else name
    url = f"{scheme}://{shown}:{port}"
    return f"{url}/{path}" if path else url


def connectable(url: str) -> str:
    """The URL to dial (`envconfig.ConnectableHost`): an unspecified address is this
    machine: `http://0.0.0.0:1234` -> 127.0.0.1, `[::]` -> `[::1]`. An empty host
    (`http://:1234`, which Go's dialer also takes as this machine) -> 127.0.0.1."""
    import ipaddress

    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    hostport, slash, path = rest.partition("/")
    try:
        name, port = _split_host_port(hostport)
    except ValueError:
        return url
    # Go's dialler reads the port with a sign (net.parsePort): `+9` dials 9
    digits = port[1:] if port[:1] in ("+", "-") else port
    if digits.isascii() and digits.isdigit() and digits != port and len(digits) <= 20:
        port = str(int(port))
        shown = f"[{name}]" if ":" in name else name
        url = f"{scheme}://{shown}:{port}{slash}{path}"
    if not name:
        return f"{scheme}://127.0.0.1:{port}{slash}{path}"
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return url
    mapped = getattr(ip, "ipv4_mapped", None)
    if ip.is_unspecified or (mapped is not None and mapped.is_unspecified):
        loop = "127.0.0.1" if ip.version == 4 or mapped is not None else "[::1]"
        return f"{scheme}://{loop}:{port}{slash}{path}"
    return url
