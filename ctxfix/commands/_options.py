"""Options shared by `scan`, `apply` and `estimate`, and how they become Settings.

Why one place: the three commands must discover the same world from the same
flags. Precedence: command-line flag > settings file > built-in default.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctxfix.commands._spec import Opt
from ctxfix.settings import MAX_SERVER_TIMEOUT, Settings, check_positive

LOG_OPTIONS: tuple[Opt, ...] = (
    Opt(
        ("--log",),
        "logs",
        kind="multiple",
        metavar="FILE|-",
        help="Ollama server log to read as evidence (repeatable; - reads stdin). "
        "Without --no-user also ~/.ollama/logs, %LOCALAPPDATA%\\Ollama, "
        "journalctl -u ollama and docker logs of a compose ollama service. "
        "Logs inside scanned directories are not picked up.",
    ),
    Opt(("--no-log",), "no_log", kind="flag", help="Read no server log."),
    Opt(
        ("--since",),
        "since",
        metavar="DURATION|DATE",
        help="Only log events after this: 7d, 24h, 90m or an ISO date. Default: "
        "the last 7 days of the platform logs, --log files whole.",
    ),
)
"""`--log`, `--no-log`, `--since`: the server log as evidence (ctxfix.sources.server_log)."""

DISCOVERY_OPTIONS: tuple[Opt, ...] = (
    Opt(
        ("--host",),
        "hosts",
        kind="multiple",
        metavar="URL",
        help="Ollama server (repeatable). Default: $OLLAMA_HOST, then http://127.0.0.1:11434.",
    ),
    Opt(
        ("--hosts-file",),
        "hosts_file",
        type="file",
        metavar="FILE",
        help="Ollama servers, one URL per line, # comments; scanned concurrently with any --host.",
    ),
    Opt(("--no-server",), "no_server", kind="flag", help="Do not contact any server."),
    Opt(
        ("--server-timeout",),
        "server_timeout",
        type="float",
        metavar="S",
        help="Overall deadline per server: all its requests end within S "
        "(default 10 s; connect 0.5 s).",
    ),
    Opt(
        ("--store",),
        "stores",
        kind="multiple",
        type="path",
        metavar="DIR",
        help="Ollama model store (repeatable). Default: $OLLAMA_MODELS, "
        "~/.ollama/models, /usr/share/ollama/.ollama/models.",
    ),
    Opt(("--no-store",), "no_store", kind="flag", help="Do not read model stores."),
    Opt(
        ("--no-user",),
        "no_user",
        kind="flag",
        help="Skip configs under $HOME, systemd units and the process "
        "environment: only what the named paths say.",
    ),
    Opt(
        ("--memory",),
        "memory",
        metavar="SIZE",
        help="Memory budget for the models, e.g. 64GiB or 64GB.",
    ),
    Opt(
        ("--reserve",),
        "reserve",
        metavar="SIZE",
        help="Memory the OS keeps on unified-memory machines (default 4GiB): "
        "subtracted from a detected budget and in estimate's what-if table.",
    ),
    Opt(
        ("--vram",),
        "vram",
        metavar="SIZE",
        help="Total GPU memory of the server: Ollama >= 0.15.5 picks its default context from it.",
    ),
    Opt(
        ("--prefill-tps",),
        "prefill_tps",
        type="float",
        metavar="N",
        help="Prefill rate in tokens/s (for timeouts).",
    ),
    Opt(
        ("--kv-cache-type",),
        "kv_cache_type",
        type="choice",
        choices=("f16", "q8_0", "q4_0", "f32", "bf16"),
        help="KV cache type (OLLAMA_KV_CACHE_TYPE).",
    ),
    Opt(
        ("--parallel",),
        "parallel",
        type="int",
        min=1,
        help="OLLAMA_NUM_PARALLEL (KV cache is num_ctx x parallel).",
    ),
    Opt(
        ("--ollama-version",),
        "ollama_version",
        metavar="X.Y.Z",
        help="Assume this server version (defaults depend on it).",
    ),
    Opt(
        ("--config",),
        "config_file",
        type="file",
        help="Settings file (default: nearest .ctxfix.yaml or [tool.ctxfix] in pyproject.toml).",
    ),
    Opt(("--isolated",), "isolated", kind="flag", default=False, help="Ignore settings files."),
    *LOG_OPTIONS,
)
"""The options of every command that discovers a world (scan, apply, estimate, verify)."""


COLOR_OPTION = Opt(
    ("--color",),
    "color",
    type="choice",
    choices=("auto", "always", "never"),
    default="auto",
    show_default=True,
)
"""`--color` of the commands that print a report or a diff (scan, apply)."""


def use_color(mode: str, output: Path | None = None) -> bool:
    """`--color`: always, never, or auto (a terminal, no NO_COLOR, no --output file)."""
    import os
    import sys

    if mode == "always":
        return True
    if mode == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def discovery_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add DISCOVERY_OPTIONS to a click command (in table order)."""
    from ctxfix.commands._click import click_option

    for opt in reversed(DISCOVERY_OPTIONS):
        f = click_option(opt)(f)
    return f


def _parse_memory(value: Any, where: str) -> int:
    from ctxfix.errors import CtxfixError

    try:
        from ctxfix.budget import parse_size

        return parse_size(str(value), where=where)
    except (ValueError, ImportError) as exc:
        raise CtxfixError(where, f"invalid memory size {value!r}: {exc}") from None


def build_settings(paths: tuple[Path, ...], opts: dict[str, Any], **extra: Any) -> Settings:
    """Merge settings file and flags into one Settings."""
    from ctxfix.config_file import find_settings_file, load_settings_file

    file_data: dict[str, Any] = {}
    settings_path: Path | None = None
    if not opts.get("isolated"):
        settings_path = opts.get("config_file")
        if settings_path is None:
            settings_path = find_settings_file([*paths, Path.cwd()])
        elif not settings_path.is_file():
            from ctxfix.errors import CtxfixError

            raise CtxfixError(str(settings_path), "settings file not found")
        if settings_path is not None:
            file_data = load_settings_file(settings_path)
    base = settings_path.parent if settings_path else Path.cwd()

    def pick(flag: str, key: str | None = None, default: Any = None) -> Any:
        v = opts.get(flag)
        if v not in (None, ()):
            return v
        return file_data.get(key or flag, default)

    memory_bytes = memory_source = None
    if opts.get("memory"):
        memory_bytes, memory_source = _parse_memory(opts["memory"], "--memory"), "--memory"
    elif "memory" in file_data:
        memory_bytes = _parse_memory(file_data["memory"], f"{settings_path}: memory")
        memory_source = f"settings file {settings_path}"
    reserve_bytes = None
    if opts.get("reserve"):
        reserve_bytes = _parse_memory(opts["reserve"], "--reserve")
    elif "reserve" in file_data:
        reserve_bytes = _parse_memory(file_data["reserve"], f"{settings_path}: reserve")
    vram_bytes = None
    if opts.get("vram"):
        vram_bytes = _parse_memory(opts["vram"], "--vram")
    elif "vram" in file_data:
        vram_bytes = _parse_memory(file_data["vram"], f"{settings_path}: vram")
    prefill = pick("prefill_tps")
    stores = tuple(opts.get("stores") or ()) or tuple(
        (base / s) for s in file_data.get("stores", ())
    )
    per_path = {k: tuple(v) for k, v in (file_data.get("per_path_ignores") or {}).items()}
    from ctxfix.names import canonical

    overrides = {canonical(k): int(v) for k, v in (file_data.get("native_overrides") or {}).items()}
    from ctxfix.selection import check_codes

    check_codes(tuple(extra.get("select") or ()), "--select")
    check_codes(tuple(extra.get("ignore") or ()), "--ignore")
    for key in ("select", "ignore"):
        check_codes(tuple(file_data.get(key, ())), f"{settings_path}: {key}")
    return Settings(
        paths=paths,
        hosts=_hosts(opts, file_data),
        no_server=bool(pick("no_server", default=False)),
        stores=stores,
        no_store=bool(pick("no_store", default=False)),
        no_user=bool(pick("no_user", default=False)),
        server_timeout=_positive(opts, file_data, "server_timeout", 10.0),
        memory_bytes=memory_bytes,
        memory_source=memory_source,
        prefill_tps=_positive(opts, file_data, "prefill_tps", None),
        prefill_source=(
            "--prefill-tps" if opts.get("prefill_tps") else ("settings" if prefill else None)
        ),
        kv_cache_type=pick("kv_cache_type"),
        parallel=pick("parallel"),
        ollama_version=pick("ollama_version"),
        vram_bytes=vram_bytes,
        reserve_bytes=reserve_bytes,
        select=tuple(extra.get("select") or ()) or tuple(file_data.get("select", ())),
        ignore=tuple(extra.get("ignore") or ()) or tuple(file_data.get("ignore", ())),
        per_path_ignores=per_path,
        native_overrides=overrides,
        naming=file_data.get("naming", "k1000"),
        target_ctx=extra.get("target_ctx") or file_data.get("target_ctx"),
        target_policy=file_data.get("target_policy", "fit"),
        measure_prefill=bool(extra.get("measure_prefill")),
        logs=tuple(opts.get("logs") or ())
        or tuple(_log_path(base, x) for x in file_data.get("logs", ())),
        # an explicit --log overrides the file's `no_log: true` (flags override the file)
        no_log=bool(opts["no_log"])
        if opts.get("no_log") is not None
        else bool(file_data.get("no_log")) and not opts.get("logs"),
        since=_since(opts.get("since")) or file_data.get("since"),
        settings_file=settings_path,
    )


_MAXIMUM = {"server_timeout": MAX_SERVER_TIMEOUT}


def _positive(
    opts: dict[str, Any], file_data: dict[str, Any], key: str, default: float | None
) -> float | None:
    """`--KEY` (checked here: flags bypass the schema), else the settings file's KEY
    (already checked by ctxfix.settings_schema when the file was loaded), else `default`."""
    if opts.get(key) is not None:
        return check_positive(opts[key], "--" + key.replace("_", "-"), _MAXIMUM.get(key))
    value = file_data.get(key)
    return default if value is None else float(value)


def _hosts(opts: dict[str, Any], file_data: dict[str, Any]) -> tuple[str, ...]:
    """`--host` values then `--hosts-file` lines (in order, once each), else the settings file."""
    hosts = tuple(opts.get("hosts") or ())
    if opts.get("hosts_file") is not None:
        from ctxfix.sources.hosts import read_hosts_file

        hosts = tuple(dict.fromkeys((*hosts, *read_hosts_file(opts["hosts_file"]))))
    return hosts or tuple(file_data.get("hosts", ()))


def _log_path(base: Path, value: str) -> str:
    """A settings file's `logs` entry: `-` (stdin) as is, else relative to the file."""
    if value == "-":
        return value
    return str(base / Path(value).expanduser())


def _since(value: Any) -> str | None:
    """Check `--since` early (a usage error is exit 2 before anything is read)."""
    if not value:
        return None
    from ctxfix.sources.server_log import parse_since

    parse_since(str(value))
    return str(value)


def split_codes(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        out.extend(c.strip().upper() for c in v.split(",") if c.strip())
    return tuple(out)
