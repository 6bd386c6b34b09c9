"""Run discover -> sources -> resolve -> rules; the one entry point commands share.

Why: `scan`, `apply` and `estimate` must see exactly the same world. Bad
input the user named raises `CtxfixError` (exit 2); broken files found while
walking become warnings and the scan goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

from ctxfix.discover import Targets, discover
from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import AgentBinding, Finding, ModelDef, ServerEnv, ServerInfo
from ctxfix.progress import Progress
from ctxfix.scan_result import ScanResult
from ctxfix.settings import Settings
from ctxfix.world import World


def _read_modelfiles(
    targets: Targets, warnings: list[Warning_], progress: Progress | None = None
) -> list[ModelDef]:
    from ctxfix.sources.modelfile import read_modelfile

    progress = progress or Progress.disabled()
    progress.stage("reading Modelfiles", len(targets.modelfiles))
    out = []
    for path, explicit in targets.modelfiles:
        try:
            out.append(read_modelfile(path))
        except CtxfixError as exc:
            if explicit:
                raise
            warnings.append(Warning_(exc.where, exc.problem))
        progress.advance()
    return out


def _read_ggufs(targets: Targets, warnings: list[Warning_]) -> list[ModelDef]:
    """A .gguf named or found is a model definition of its own (native only)."""
    if not targets.ggufs:
        return []
    from ctxfix.facts import Location
    from ctxfix.sources.gguf import read_geometry

    out = []
    for path, explicit in targets.ggufs:
        try:
            geo = read_geometry(path)
        except CtxfixError as exc:
            if explicit:
                raise
            warnings.append(Warning_(exc.where, exc.problem))
            continue
        out.append(
            ModelDef(
                name=str(path),
                origin="gguf",
                location=Location(str(path)),
                geometry=geo,
                weights_bytes=path.stat().st_size,
            )
        )
    return out


def _read_stores(
    targets: Targets,
    settings: Settings,
    warnings: list[Warning_],
    progress: Progress | None = None,
) -> list[ModelDef]:
    if not targets.stores:
        return []
    from ctxfix.cache import DigestCache
    from ctxfix.sources.store import scan_store

    progress = progress or Progress.disabled()
    progress.stage("reading model stores", len(targets.stores))
    cache = DigestCache(settings.cache_dir)
    out: list[ModelDef] = []
    for root, explicit in targets.stores:
        scan = scan_store(root, cache=cache, strict=explicit)
        out.extend(scan.models)
        warnings.extend(scan.warnings)
        progress.advance()
    return out


def _server_hosts(targets: Targets, warnings: list[Warning_]) -> list[str]:
    """The hosts to ask, each server once; an explicit host no client can dial stops the scan."""
    if not targets.hosts:
        return []
    from ctxfix.redact import strip_userinfo
    from ctxfix.sources.hosts import dial_problem
    from ctxfix.sources.server import parse_host

    hosts: list[str] = []
    seen: set[str] = set()
    for h in targets.hosts:
        problem = dial_problem(h)
        if problem is None:
            # one server named twice (`host:1`, `http://host:1/`, a hosts file
            # and `--host`) is asked once: its models and findings once, not twice
            url = parse_host(h)
            if url not in seen:
                seen.add(url)
                hosts.append(h)
        elif targets.explicit_hosts:
            raise CtxfixError(strip_userinfo(h), f"invalid Ollama host: {problem}")
        else:  # $OLLAMA_HOST: Go's client fails to connect the same way; the scan goes on
            shown = strip_userinfo(h).encode("utf-8", "backslashreplace").decode()
            w = f"no Ollama server at {shown} ($OLLAMA_HOST): {problem}"
            warnings.append(Warning_(None, w + "; scanned files and stores only"))
    return hosts


class _ServerScan:
    """The servers' scan, started before the files are read and joined when needed.

    Why in the background (issue 15): a server scan is mostly waiting on the
    network (50 ms a round at 50 ms latency); reading Modelfiles, GGUFs and
    stores meanwhile, and importing the rule and plan modules, costs nothing
    then. Every host at once under one global bound
    (ctxfix.sources.server.GLOBAL_MAX): a fleet takes about as long as its
    slowest host, a dead one its own deadline. Hosts finished before the
    join are counted on the progress bar when it reaches its stage.
    """

    def __init__(self, hosts: list[str], settings: Settings) -> None:
        import threading

        self.hosts = hosts
        self._lock = threading.Lock()
        self._done = 0
        self._advance: Callable[[], None] | None = None
        self._scans: list = []
        self._error: BaseException | None = None

        def run() -> None:
            from ctxfix.sources.server import scan_hosts

            try:
                self._scans = scan_hosts(
                    hosts,
                    read_timeout=settings.server_timeout,
                    connect_timeout=settings.connect_timeout,
                    on_done=self._on_done,  # as each host finishes, not all at the end
                )
            except BaseException as exc:  # re-raised by join(), in the main thread
                self._error = exc

        self._thread = threading.Thread(target=run, name="ctxfix-servers", daemon=True)
        self._thread.start()

    def _on_done(self) -> None:
        with self._lock:
            advance = self._advance
            if advance is None:
                self._done += 1
                return
        advance()

    def join(
        self, warnings: list[Warning_], progress: Progress
    ) -> tuple[list[ServerInfo], list[ModelDef]]:
        progress.stage("asking Ollama servers", len(self.hosts))
        with self._lock:
            for _ in range(self._done):
                progress.advance()
            self._advance = progress.advance
        if self._thread.is_alive():
            _prefetch()
        self._thread.join()
        if self._error is not None:
            raise self._error
        servers: list[ServerInfo] = []
        models: list[ModelDef] = []
        for scan in self._scans:
            warnings.extend(scan.warnings)
            if scan.info is not None:
                servers.append(scan.info)
            models.extend(scan.models)
        return servers, models


def _prefetch() -> None:
    """Import what resolving, the rules and the plan need, while the servers answer."""
    from ctxfix import plan, resolve, rules  # noqa: F401 (imported now for their cost)

    for code in rules.RULE_MODULES:
        rules.load(code)


def _parameter_names(fn: Callable[..., object]) -> tuple[str, ...]:
    """The names `fn` takes as arguments (a reader is a plain function).

    Why not `inspect.signature`: importing `inspect` (ast, dis, tokenize) cost
    ~5 ms of every scan that reads an agent config (issue 15).
    """
    fn = getattr(fn, "__wrapped__", fn)
    code = fn.__code__
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def _read_agents(
    targets: Targets,
    warnings: list[Warning_],
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> list[AgentBinding]:
    """Every binding of every agent config found.

    A reader that takes `env` (Goose: `GOOSE_CONTEXT_LIMIT` and friends
    override its config file, crates/goose/src/model.rs) gets the process
    environment, so scan sees what the agent sees.

    An agent that merges its files (Crush: global, data-dir, project,
    `crush.drop_overridden`) judges a model a later file redefines once, in
    that file. That needs every file of that agent found at once, which a
    reader (one file per call) does not see: hence its `merge` hook, one pass
    after the reads.
    """
    progress = progress or Progress.disabled()
    progress.stage("reading agent configs", len(targets.agents))
    out: list[AgentBinding] = []
    # One file can belong to several agents (config.yaml: Continue, LiteLLM,
    # Goose); when it does not parse, each reader fails the same way, and the
    # user must see that once.
    seen: set[Warning_] = set()
    for t in targets.agents:
        try:
            params = _parameter_names(t.module.read)
            kwargs: dict[str, object] = {}
            if environ is not None and "env" in params:
                kwargs["env"] = environ
            if "notes" in params:  # what a reader could not read (Continue hub blocks)
                kwargs["notes"] = warnings
            out.extend(t.module.read(t.path, **kwargs))
        except CtxfixError as exc:
            if t.explicit:
                raise
            w = Warning_(exc.where, exc.problem)
            if w not in seen:
                seen.add(w)
                warnings.append(w)
        progress.advance()
    files_of: dict[ModuleType, list[Path]] = {}
    for t in targets.agents:
        if hasattr(t.module, "merge"):
            files_of.setdefault(t.module, []).append(t.path)
    for mod, files in files_of.items():
        out = mod.merge(out, files, environ or {}, Path.home() if home is None else home)
    return out


def _read_env(
    targets: Targets,
    environ: Mapping[str, str],
    settings: Settings,
    warnings: list[Warning_],
    home: Path | None,
) -> ServerEnv:
    from ctxfix.sources.environment import read_environment

    # --no-user means "only what the named paths say": no systemd units and no
    # process environment either, so pre-commit and CI give the same answer
    # on every machine.
    env, warns = read_environment(
        targets.compose_files,
        {} if settings.no_user else environ,
        system_units=not settings.no_user,
        home=None if settings.no_user else (home or Path.home()),
    )
    warnings.extend(warns)
    return env


def _reserve_kw(settings: Settings) -> dict[str, int]:
    """`reserve_bytes=` for detect_budget when the user set one (else its 4 GiB default)."""
    return {} if settings.reserve_bytes is None else {"reserve_bytes": settings.reserve_bytes}


def _with_local_facts(
    settings: Settings,
    targets: Targets,
    servers: list[ServerInfo],
    environ: Mapping[str, str],
    home: Path | None,
) -> Settings:
    """Fill the memory budget (and VRAM) from this machine, only when the models run here.

    "Here" means a server on a loopback address answered, or one of the default
    user store roots was scanned. A repo scan (CI, pre-commit, `--no-user`) or a
    remote host never picks up the scanning machine's memory: CTX302 then stays
    silent unless `--memory` is given.
    """
    if settings.no_user or (settings.memory_bytes and settings.vram_bytes):
        return settings
    from ctxfix.budget import detect_budget, nvidia_vram_bytes
    from ctxfix.policy.hosts import is_local
    from ctxfix.records import replace

    local_server = any(is_local(s.host) for s in servers)
    local_store = False
    if targets.stores:  # a default root counts, also when named with --store
        from ctxfix.sources.store import default_store_roots

        defaults = {p.resolve() for p in default_store_roots(environ, home or Path.home())}
        local_store = any(p.resolve() in defaults for p, _ in targets.stores)
    if not (local_server or local_store):
        return settings
    changes: dict[str, object] = {}
    if settings.memory_bytes is None:
        budget = detect_budget(True, **_reserve_kw(settings))
        if budget is not None:
            changes.update(memory_bytes=budget.value, memory_source=f"detected: {budget.note}")
    if settings.vram_bytes is None and local_server:
        vram = nvidia_vram_bytes()
        if vram:
            changes["vram_bytes"], changes["gpu_count"] = vram
    return replace(settings, **changes) if changes else settings


def build_world(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    progress: Progress | None = None,
) -> tuple[World, Targets]:
    environ = os.environ if environ is None else environ
    progress = progress or Progress.disabled()
    warnings: list[Warning_] = []
    progress.stage("discovering files")
    targets = discover(settings, environ, home)
    warnings.extend(targets.warnings)
    server_warnings: list[Warning_] = []  # in the report after the stores', as read
    hosts = _server_hosts(targets, server_warnings)
    pending = _ServerScan(hosts, settings) if hosts else None
    defs: list[ModelDef] = []
    defs += _read_modelfiles(targets, warnings, progress)
    defs += _read_ggufs(targets, warnings)
    defs += _read_stores(targets, settings, warnings, progress)
    servers, server_models = pending.join(server_warnings, progress) if pending else ([], [])
    warnings.extend(server_warnings)
    defs += server_models
    settings = _with_local_facts(settings, targets, servers, environ, home)
    bindings = _read_agents(targets, warnings, progress, {} if settings.no_user else environ, home)
    progress.stage("reading server environment")
    env = _read_env(targets, environ, settings, warnings, home)
    progress.stage("resolving contexts")

    from ctxfix.resolve import resolve

    world = resolve(defs, bindings, servers, env, settings, warnings)
    world.evidence = _read_logs(targets, settings, environ, home or Path.home(), world.warnings)
    if settings.measure_prefill:
        _measure(world)
    return world, targets


def _read_logs(
    targets: Targets,
    settings: Settings,
    environ: Mapping[str, str],
    home: Path,
    warnings: list[Warning_],
):
    """The server log as evidence (`ctxfix.evidence.LogEvidence`), None when none is read.

    Read: `--log` files, server.log / server-N.log in the scanned paths and, when
    the scan reads user-level config (not `--no-user`), the platform locations
    (ctxfix.sources.server_log). The log modules are imported only when one of
    those can exist, so a repo scan without logs pays nothing.
    """
    if settings.no_log or not settings.scan_files:
        return None
    from ctxfix.sources.environment import UNIT, UNIT_DIRS

    user_level = not settings.no_user
    maybe_user = user_level and (
        (home / ".ollama" / "logs").is_dir()
        or bool(environ.get("LOCALAPPDATA") and Path(environ["LOCALAPPDATA"], "Ollama").is_dir())
        or any(Path("/", d, UNIT).exists() for d in UNIT_DIRS)
        or bool(targets.compose_files)
    )
    if not (settings.logs or targets.logs or maybe_user):
        return None
    from datetime import UTC, datetime

    from ctxfix.sources import server_log

    log_targets = server_log.collect_targets(
        named=settings.logs,
        found=targets.logs,
        compose_files=targets.compose_files,
        user_level=user_level,
        environ=environ,
        home=home,
    )
    if not log_targets:
        return None
    since = server_log.parse_since(settings.since) if settings.since else None
    default_since = datetime.now(UTC) - server_log.DEFAULT_WINDOW
    return server_log.read_logs(log_targets, since, default_since, warnings)


def _measure(world: World) -> None:
    """Measure prefill on the server of each model an agent uses (opt-in: loads models)."""
    from ctxfix.facts import Sourced
    from ctxfix.measure import measure_prefill
    from ctxfix.names import canonical

    done: set[str] = set()
    for rb in world.bindings:
        m = rb.model
        if m is None or m.definition.host is None:
            continue
        key = canonical(m.name)
        if key in done:
            continue
        done.add(key)
        try:
            rate = measure_prefill(m.definition.host, m.name)
        except CtxfixError as exc:
            world.warnings.append(Warning_(exc.where, exc.problem))
            continue
        world.prefill_rates[key] = Sourced(
            rate, "measured", note=f"measured on {m.definition.host}"
        )
    if not done:
        world.warnings.append(
            Warning_(None, "--measure-prefill: no agent uses a model on a live server")
        )


def all_findings(world: World, progress: Progress | None = None) -> list[Finding]:
    """Every rule's findings, nothing suppressed, in a stable order.

    Why all of them: the planner must know which codes justify a fix even
    when the user hid them, to leave exactly those fixes out.
    """
    from ctxfix import rules

    progress = progress or Progress.disabled()
    progress.stage("checking rules")
    out: list[Finding] = []
    for mod in rules.available():
        out.extend(mod.check(world))
        progress.advance()
    order = {"error": 0, "warning": 1, "info": 2}
    out.sort(
        key=lambda f: (
            f.location.file if f.location else "",
            (f.location.line or 0) if f.location else 0,
            order.get(f.severity, 3),
            f.code,
        )
    )
    return out


def scan(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    progress: Progress | None = None,
    plan_options: object | None = None,
) -> ScanResult:
    """Discover, read, resolve, check and plan; `progress` is told about each stage.

    The reported findings are the raw ones minus suppressions, each with the
    `fix` line the plan renders for it (`FixPlan.fix_text`).
    """
    from ctxfix.plan import build_plan
    from ctxfix.records import replace
    from ctxfix.selection import Suppressions

    world, targets = build_world(settings, environ=environ, home=home, progress=progress)
    raw = all_findings(world, progress)
    sup = Suppressions.for_world(world)
    result = ScanResult(world=world, raw_findings=raw, suppressions=sup, targets=targets)
    plan = build_plan(result, plan_options)  # type: ignore[arg-type]
    result.plan = plan
    result.findings = [replace(f, fix=plan.fix_text(f)) for f in raw if sup.reports(f)]
    return result


def find_model(
    name: str,
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    with_world: bool = False,
):
    """A model by name from the stores/servers the settings point at (for `estimate`)."""
    from ctxfix.names import canonical
    from ctxfix.records import replace

    world, _ = build_world(replace(settings, scan_files=False), environ=environ)
    want = canonical(name)
    for m in world.models:
        if m.definition.origin != "modelfile" and canonical(m.name) == want:
            return (m, world) if with_world else m
    return None
