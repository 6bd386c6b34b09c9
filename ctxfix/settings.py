"""Effective settings: command-line flags over `.ctxfix.yaml` / `[tool.ctxfix]`.

Why one frozen record: every stage reads the same options (memory budget,
prefill rate, hosts, overrides) and none may mutate them. Loading and schema
validation of settings files live in `ctxfix.config_file`; this module only
holds the merged result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxfix.records import field, record


@record(frozen=True)
class Settings:
    paths: tuple[Path, ...] = ()
    scan_files: bool = True  # False: models only (stores, servers), no files walked (estimate)
    hosts: tuple[str, ...] = ()  # empty: $OLLAMA_HOST then http://127.0.0.1:11434
    no_server: bool = False
    stores: tuple[Path, ...] = ()  # empty: $OLLAMA_MODELS, ~/.ollama/models, /usr/share/...
    no_store: bool = False
    no_user: bool = False
    server_timeout: float = 10.0
    connect_timeout: float = 0.5
    memory_bytes: int | None = None
    memory_source: str | None = None  # "flag", "settings", "detected: ..." for the report
    # memory the OS keeps on unified-memory / RAM-only machines (None: 4 GiB);
    # subtracted from a detected budget and from the what-if machines
    reserve_bytes: int | None = None
    prefill_tps: float | None = None
    prefill_source: str | None = None
    kv_cache_type: str | None = None  # f16 | q8_0 | q4_0 | f32 | bf16
    parallel: int | None = None
    ollama_version: str | None = None
    vram_bytes: int | None = None  # total VRAM of the server's GPUs (0.15.5+ default tiers)
    gpu_count: int | None = None  # GPUs behind vram_bytes, when detected (nvidia-smi)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_path_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    native_overrides: Mapping[str, int] = field(default_factory=dict)  # model name -> ctx
    naming: str = "k1000"  # new-model label convention, see ctxfix.labels
    target_ctx: int | None = None
    # "fit": native lowered to what fits the memory budget (when known);
    # "native": always aim for native, and let CTX302 report what does not fit
    target_policy: str = "fit"
    measure_prefill: bool = False
    settings_file: Path | None = None
    cache_dir: Path | None = None  # GGUF digest cache; None = platformdirs user cache
    # server log evidence (ctxfix.sources.server_log): --log FILE|- (repeatable),
    # --no-log, --since DURATION|DATE (None: named logs whole, platform logs 7 days)
    logs: tuple[str, ...] = ()
    no_log: bool = False
    since: str | None = None


MAX_SERVER_TIMEOUT = 86_400.0
"""A day: the largest deadline per server. Python's socket and lock timeouts
overflow above `threading.TIMEOUT_MAX` (~9.2e9 s on Linux), with a traceback."""


def check_positive(value: Any, where: str, maximum: float | None = None) -> float:
    """`value` as a finite number above 0 (and at most `maximum`), else CtxfixError at `where`.

    Why: `inf` and numbers too big for a timeout overflowed the socket timeout
    (a traceback in a thread), `nan` made every request time out at once, and
    an integer of 400 digits does not convert to a float at all.
    """
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        number = math.nan
    if not math.isfinite(number) or number <= 0 or (maximum is not None and number > maximum):
        from ctxfix.errors import CtxfixError

        bound = f" and at most {maximum:,.0f}" if maximum is not None else ""
        huge = isinstance(value, int) and value.bit_length() > 64  # repr fails past 4,300 digits
        shown = "a huge integer" if huge else repr(value)
        raise CtxfixError(where, f"must be a number above 0{bound}, not {shown}")
    return number
