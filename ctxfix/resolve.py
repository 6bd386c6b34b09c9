"""Join the facts: native, served and label context per model; models per binding.

Why here and nowhere else: "what context does this agent actually get" depends
on up to six sources at once, and every rule, the plan and the report must
agree on the answer. Precedence (REFERENCE.md, "Context length behaviour"):

  served = request num_ctx (native API only)
         > Modelfile / params num_ctx (own, else inherited through FROM)
         > OLLAMA_CONTEXT_LENGTH (Ollama >= 0.5.13)
         > the server version's default (2048 / 4096 / VRAM tiers)
  clamped to the native context on Ollama >= 0.9.3 (and on an unknown version,
  which we take to be a current one).

  native = GGUF `<arch>.context_length` > server `model_info` > offline catalog
         > settings override (a fallback for models nothing else knows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ctxfix.errors import Warning_
from ctxfix.facts import AgentBinding, Geometry, ModelDef, ServerEnv, ServerInfo, Sourced
from ctxfix.names import canonical
from ctxfix.policy.hosts import base_url, is_local, same_host
from ctxfix.settings import Settings
from ctxfix.world import ResolvedBinding, ResolvedModel, World

MAX_FROM_DEPTH = 16

# envconfig.Uint / Uint64 variables ctxfix reads, with the server's defaults
# (github:ollama/ollama envconfig/config.go at v0.33.0-rc2)
UINT_ENV_DEFAULTS = {
    "OLLAMA_CONTEXT_LENGTH": 0,
    "OLLAMA_NUM_PARALLEL": 1,
    "OLLAMA_GPU_OVERHEAD": 0,
}


def _fmt(n: int) -> str:
    return f"{n:,}"


class _Index:
    """Model definitions by canonical name; servers first, then stores, then Modelfiles."""

    _ORDER: ClassVar[dict[str, int]] = {"server": 0, "store": 1, "modelfile": 2}

    def __init__(self, defs: Iterable[ModelDef]) -> None:
        self.by_name: dict[str, list[ModelDef]] = {}
        for d in defs:
            if d.origin == "modelfile":
                continue
            self.by_name.setdefault(canonical(d.name), []).append(d)
        for lst in self.by_name.values():
            lst.sort(key=lambda d: self._ORDER.get(d.origin, 9))

    def get(self, name: str, host: str | None = None) -> ModelDef | None:
        """The definition `name` resolves to on `host` (any source when no host).

        A live server's model answers only for that server: a binding to a
        remote host that was not scanned never joins another server's model of
        the same name (a store or Modelfile may still stand in, as a guess).
        """
        cands = self.by_name.get(canonical(name), [])
        if host:
            for d in cands:
                if d.host and same_host(d.host, host):
                    return d
            if not is_local(host):
                cands = [d for d in cands if d.origin != "server"]
        return cands[0] if cands else None


class Resolver:
    def __init__(
        self,
        defs: Sequence[ModelDef],
        servers: Sequence[ServerInfo],
        env: ServerEnv,
        settings: Settings,
    ) -> None:
        self.defs = list(defs)
        self.index = _Index(defs)
        self.servers = {s.host: s for s in servers}
        self.env = env
        self.settings = settings
        self.warnings: list[Warning_] = []
        self._hinted: set[str] = set()
        self._warned_env: set[Any] = set()

    # ---- server environment ------------------------------------------
    def check_env(self) -> None:
        """One warning per unsigned OLLAMA_* value the server would refuse.

        `envconfig.Uint` / `Uint64` (github:ollama/ollama envconfig/config.go)
        log "invalid environment variable, using default" for `-1`, `+8192`,
        `8_192`, `0x10` or a number over 2^64-1, and serve the default; the
        user sees nothing, so ctxfix says it, naming the value and the default.
        """
        from ctxfix.policy.envconfig import uint

        for key, default in UINT_ENV_DEFAULTS.items():
            ev = self.env.get(key)
            if ev is None or ev.location in self._warned_env:
                continue
            shown = "0: automatic" if key == "OLLAMA_CONTEXT_LENGTH" else None
            _value, problem = uint(ev.value, default, shown)
            if problem:
                self._warned_env.add(ev.location)
                self.warnings.append(Warning_(str(ev.location), f"{key}: {problem}"))

    # ---- server facts ------------------------------------------------
    def version_for(self, d: ModelDef) -> tuple[str | None, int | None]:
        """(ollama version, VRAM bytes) that serve this definition."""
        if self.settings.ollama_version:
            return self.settings.ollama_version, self._vram(d)
        if d.host and d.host in self.servers:
            s = self.servers[d.host]
            return s.version, self.settings.vram_bytes or s.vram_bytes
        if len(self.servers) == 1:
            s = next(iter(self.servers.values()))
            return s.version, self.settings.vram_bytes or s.vram_bytes
        return None, self.settings.vram_bytes

    def _vram(self, d: ModelDef) -> int | None:
        if self.settings.vram_bytes:
            return self.settings.vram_bytes
        if d.host and d.host in self.servers:
            return self.servers[d.host].vram_bytes
        return None

    def _hint_unscanned_host(self, b: AgentBinding) -> None:
        """Say once per host when an agent uses a remote server nobody asked us to scan."""
        if not b.host or self.settings.no_server or is_local(b.host):
            return
        if any(same_host(h, b.host) for h in self.servers):
            return
        base = base_url(b.host)
        if base in self._hinted:
            return
        self._hinted.add(base)
        self.warnings.append(
            Warning_(
                b.file,
                f"{b.agent} uses the Ollama server at {base}, which was not scanned; "
                f"pass --host {base} to judge its bindings against what it serves",
            )
        )

    # ---- FROM chain --------------------------------------------------
    def _chain(self, d: ModelDef) -> list[ModelDef]:
        """d, its parent definition, the parent's parent... (stores/servers only)."""
        out = [d]
        seen = {id(d)}
        cur = d
        for _ in range(MAX_FROM_DEPTH):
            if not cur.parent or self._is_local_path(cur):
                break
            nxt = self.index.get(cur.parent, cur.host)
            if nxt is None or id(nxt) in seen:
                break
            seen.add(id(nxt))
            out.append(nxt)
            cur = nxt
        return out

    def _geometry(self, chain: list[ModelDef]) -> tuple[Geometry | None, str | None]:
        for d in chain:
            if d.geometry is not None:
                src = "server" if d.origin == "server" else "gguf"
                return d.geometry, src
        last = chain[-1]
        if last.parent and self._is_local_path(last):
            geo = self._gguf_from_path(last)
            if geo is not None:
                return geo, "gguf"
        return None, None

    @staticmethod
    def _from_path(d: ModelDef) -> Path:
        """parser.go `expandPath`: FROM relative to the Modelfile's directory, `~` expanded."""
        base = Path(d.location.file).parent if d.origin == "modelfile" else Path(".")
        p = Path(d.parent or "").expanduser()
        return p if p.is_absolute() else base / p

    def _is_local_path(self, d: ModelDef) -> bool:
        """Whether `ollama create` reads FROM from disk rather than naming a model.

        parser.go `CreateRequest`: FROM is a local file or directory when the
        expanded path exists (`os.Stat`), whatever it looks like (`FROM
        weights` next to the Modelfile is a directory); otherwise a model name.
        A path-looking FROM that does not exist is still reported as a missing file.
        """
        if _looks_like_path(d.parent or ""):
            return True
        if d.origin != "modelfile":
            return False
        try:
            return self._from_path(d).exists()
        except (OSError, ValueError):
            return False

    def _gguf_from_path(self, d: ModelDef) -> Geometry | None:
        from ctxfix.errors import CtxfixError
        from ctxfix.sources.gguf import read_geometry

        p = self._from_path(d)
        try:
            if p.is_dir():
                from ctxfix.sources.modelfile import model_gguf

                p = model_gguf(p)  # parser.go filesForModel + server/create.go
            elif not p.is_file():
                self.warnings.append(
                    Warning_(d.location.file, f"FROM {d.parent}: no such GGUF file ({p})")
                )
                return None
            return read_geometry(p)
        except CtxfixError as exc:
            self.warnings.append(Warning_(exc.where, exc.problem))
            return None

    def _catalog_name(self, chain: list[ModelDef]) -> list[str]:
        names = []
        for d in chain:
            if d.origin != "modelfile":
                names.append(d.name)
            if d.parent and not self._is_local_path(d):
                names.append(d.parent)
        return names

    # ---- native ------------------------------------------------------
    def native(
        self,
        chain: list[ModelDef],
        geo: Geometry | None,
        geo_src: str | None,
        names: list[str],
    ):
        """`names` is `_catalog_name(chain)`, computed once per model by the caller."""
        if geo is not None and geo.context_length:
            where = next((d for d in chain if d.geometry is geo), chain[0])
            return Sourced(
                geo.context_length,
                geo_src or "gguf",
                where.location,
                note=f"{geo.arch}.context_length",
            )
        from ctxfix import catalog

        for name in names:
            entry = catalog.lookup(name)
            if entry is not None and entry.geometry.context_length:
                return Sourced(
                    entry.geometry.context_length, "catalog", note=f"ctxfix catalog: {name}"
                )
        for name in [*names, chain[0].name]:
            ov = self.settings.native_overrides.get(canonical(name))
            if ov is None:
                ov = self.settings.native_overrides.get(name)
            if ov:
                return Sourced(ov, "settings", note=f"native override for {name}")
        return None

    @staticmethod
    def _catalog_weights(names: list[str]) -> int | None:
        from ctxfix import catalog

        for name in names:
            entry = catalog.lookup(name)
            if entry is not None and entry.weights_bytes:
                return entry.weights_bytes
        return None

    @staticmethod
    def catalog_geometry(names: list[str]) -> Geometry | None:
        from ctxfix import catalog

        for name in names:
            entry = catalog.lookup(name)
            if entry is not None:
                return entry.geometry
        return None

    # ---- served ------------------------------------------------------
    def served(
        self,
        d: ModelDef,
        chain: list[ModelDef],
        native: Sourced[int] | None,
        version: str | None,
        vram: int | None,
    ):
        """The served context; (version, vram) is `version_for(d)`, computed once by the caller."""
        from ctxfix.ollama_defaults import (
            clamps_to_native,
            default_num_ctx,
            floor_num_ctx,
            supports_context_env,
        )
        from ctxfix.policy.envconfig import uint

        reasons: list[str] = []
        num = next((x.num_ctx for x in chain if x.num_ctx is not None), None)
        relies = False
        if num is not None:
            owner = next(x for x in chain if x.num_ctx is num)
            where = f" ({num.location})" if num.location else ""
            inherited = f", inherited from {owner.name}" if owner is not d else ""
            reasons.append(f"num_ctx {_fmt(num.value)} from {num.source}{where}{inherited}")
            served = num
        else:
            relies = True
            # the environment found here (shell, systemd, compose) describes this
            # machine's server: it does not set a remote host's default
            remote = bool(d.host) and not is_local(d.host)
            env = None if remote else self.env.get("OLLAMA_CONTEXT_LENGTH")
            env_val = None
            if env is not None:
                # 0: not set (the default applies); a refused value is warned in check_env
                env_val = uint(env.value, 0)[0]
            if env is not None and env_val and supports_context_env(version):
                served = Sourced(
                    env_val, "env", env.location, note=f"OLLAMA_CONTEXT_LENGTH={env.value}"
                )
                reasons.append(f"no num_ctx; OLLAMA_CONTEXT_LENGTH={env.value} ({env.location})")
            else:
                ov = None if remote else self.env.get("OLLAMA_GPU_OVERHEAD")
                overhead = uint(ov.value, 0)[0] if ov else 0
                served = default_num_ctx(
                    version,
                    vram,
                    overhead,
                    self.settings.gpu_count,
                    native.value if native is not None else None,
                )
                reasons.append(f"no num_ctx; server default {_fmt(served.value)} ({served.note})")
        floor, why = floor_num_ctx(served.value, version, any(x.vision for x in chain))
        if why:
            reasons.append(f"raised to {_fmt(floor)} ({why})")
            served = Sourced(floor, served.source, served.location, note=why)
        if native is not None and served.value > native.value and clamps_to_native(version):
            reasons.append(
                f"clamped to native {_fmt(native.value)} (Ollama >= 0.9.3 caps num_ctx at "
                "the model's context_length)"
            )
            served = Sourced(
                native.value,
                served.source,
                served.location,
                note=f"clamped from {_fmt(served.value)}",
            )
        return served, tuple(reasons), relies

    def resolve_model(self, d: ModelDef) -> ResolvedModel:
        from ctxfix import labels
        from ctxfix.memory import kv_bytes_per_token

        chain = self._chain(d)
        geo, geo_src = self._geometry(chain)
        names = self._catalog_name(chain)
        native = self.native(chain, geo, geo_src, names)
        if geo is None:
            geo = self.catalog_geometry(names)
        version, vram = self.version_for(d)
        served, reasons, relies = self.served(d, chain, native, version, vram)
        label_name = _label_source_name(d)
        label = labels.find_label(label_name) if label_name else None
        label_ctx = None
        if label is not None:
            label_ctx = Sourced(
                label.value, "label", d.location, note=f"'{label.text}' in {label_name}"
            )
        kv = None
        if geo is not None:
            try:
                kv = round(kv_bytes_per_token(geo))
            except Exception:  # geometry incomplete: the report shows no KV number
                kv = None
        return ResolvedModel(
            definition=d,
            native_ctx=native,
            served_ctx=served,
            label_ctx=label_ctx,
            label_text=label.text if label else None,
            geometry=geo,
            kv_bytes_per_token=kv,
            chain=reasons,
            relies_on_default=relies,
            weights_bytes=next((x.weights_bytes for x in chain if x.weights_bytes), None)
            or self._catalog_weights(names),
            server_version=version,
        )

    def resolve_binding(self, b: AgentBinding, models: list[ResolvedModel]) -> ResolvedBinding:
        self._hint_unscanned_host(b)
        target = self.index.get(b.model, b.host)
        rm = None
        if target is not None:
            rm = next((m for m in models if m.definition is target), None)
        if b.window_from_model and rm is not None:
            b = _adopt_model_num_ctx(b, rm, self._chain(rm.definition))
        if b.window_native and b.context_window is None and rm is not None and rm.native_ctx:
            from ctxfix.records import replace

            note = f"{b.agent} plans with the model's native context (/api/show)"
            window = Sourced(rm.native_ctx.value, rm.native_ctx.source, b.model_ref.location, note)
            b = replace(b, context_window=window)
        served = rm.served_ctx if rm else None
        native_val = rm.native_ctx.value if rm and rm.native_ctx else None
        if b.api == "native" and b.num_ctx is None and b.num_ctx_auto and native_val:
            served = Sourced(
                native_val,
                "request",
                b.model_ref.location,
                note=f"{b.agent} sizes num_ctx to each prompt (capped at native)",
            )
        if b.api == "native" and b.num_ctx is not None:
            value = b.num_ctx.value
            native = rm.native_ctx.value if rm and rm.native_ctx else None
            if native is not None and value > native:
                value = native
            served = Sourced(
                value, "request", b.num_ctx.location, note=f"num_ctx sent by {b.agent} per request"
            )
        return ResolvedBinding(binding=b, model=rm, served_ctx=served)


def go_float_text(value: int) -> str:
    """How Ollama's `/api/show` prints a numeric parameter: Go's `%v` of a float64.

    Parameters are decoded from JSON as float64 and printed with `%v`
    (github:ollama/ollama server/routes.go, show handler), which is `%g`
    with the shortest digits and an exponent from 1e+06 up:
    262144 -> "262144", 1000000 -> "1e+06", 1048576 -> "1.048576e+06".
    """
    if abs(value) < 1_000_000:
        return str(value)
    digits = str(abs(value)).rstrip("0")
    exp = len(str(abs(value))) - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if value < 0 else ''}{mant}e+{exp:02d}"


def js_parse_int(text: str) -> int | None:
    """JavaScript's `Number.parseInt`: the leading integer digits (`"1.048576e+06"` -> 1)."""
    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    digits = ""
    for ch in s:
        if not ch.isdigit():
            break
        digits += ch
    return sign * int(digits) if digits else None


def _adopt_model_num_ctx(b: AgentBinding, m: ResolvedModel, chain: list[ModelDef]) -> AgentBinding:
    """Continue with no contextLength takes num_ctx from /api/show as it prints it."""
    from ctxfix.records import replace

    num = next((x.num_ctx for x in chain if x.num_ctx is not None), None)
    if num is None or b.context_window is None:
        return b
    printed = go_float_text(num.value)
    value = js_parse_int(printed)
    if value is None or value <= 0:
        return b
    note = f"{b.agent} adopts num_ctx from /api/show"
    if str(value) != printed:
        note += f": Number.parseInt('{printed}') = {value:,}"
    window = Sourced(value, "agent", b.context_window.location, note=note)
    sent = Sourced(value, "agent", b.context_window.location, note="sent as num_ctx")
    return replace(b, context_window=window, num_ctx=sent if b.num_ctx is not None else b.num_ctx)


def _looks_like_path(ref: str) -> bool:
    return (
        ref.startswith((".", "/", "~")) or ref.lower().endswith((".gguf", ".bin")) or ("\\" in ref)
    )


def _label_source_name(d: ModelDef) -> str | None:
    if d.origin != "modelfile":
        return d.name
    # Modelfile.<name> / <name>.Modelfile carry the model name they create
    name = Path(d.location.file).name
    for prefix in ("Modelfile.",):
        if name.startswith(prefix):
            return name[len(prefix) :]
    for suffix in (".Modelfile", ".modelfile"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def merge_views(defs: Sequence[ModelDef], warnings: list[Warning_]) -> list[ModelDef]:
    """One definition per model a server serves, even when a local store holds it too.

    The server's view wins for what is served (num_ctx, host); the store's GGUF
    geometry fills in what /api/show leaves out (per-layer arrays are null
    there). Disagreements (num_ctx, model blob) are reported as warnings: the
    store may belong to another server, or the model was re-created.
    """
    from ctxfix.records import replace

    stores: dict[str, list[ModelDef]] = {}
    for d in defs:
        if d.origin == "store":
            stores.setdefault(canonical(d.name), []).append(d)
    merged_away: set[int] = set()
    out: list[ModelDef] = []
    for d in defs:
        if d.origin != "server":
            continue
        same = stores.get(canonical(d.name), [])
        for st in same:
            merged_away.add(id(st))
            a = d.num_ctx.value if d.num_ctx else None
            b = st.num_ctx.value if st.num_ctx else None
            if a != b:
                warnings.append(
                    Warning_(
                        d.host,
                        f"{d.name}: server serves num_ctx {a} but store {st.location.file} "
                        f"says {b}; using the server's",
                    )
                )
            if d.model_digest and st.model_digest and d.model_digest != st.model_digest:
                warnings.append(
                    Warning_(
                        d.host,
                        f"{d.name}: server and store {st.location.file} hold different model "
                        "blobs (re-pulled or another machine's store)",
                    )
                )
            elif st.geometry is not None:
                d = replace(
                    d, geometry=st.geometry, weights_bytes=d.weights_bytes or st.weights_bytes
                )
        out.append(d)
    return [x for x in defs if x.origin not in ("server",) and id(x) not in merged_away] + out


def resolve(
    defs: Sequence[ModelDef],
    bindings: Sequence[AgentBinding],
    servers: Sequence[ServerInfo],
    env: ServerEnv,
    settings: Settings,
    warnings: list[Warning_],
) -> World:
    from ctxfix.names import is_backup

    # rollback copies made by `apply --in-place` are ctxfix's own, not the user's models
    defs = [d for d in merge_views(defs, warnings) if not is_backup(d.name)]
    r = Resolver(defs, servers, env, settings)
    r.check_env()
    models = [r.resolve_model(d) for d in defs]
    resolved_bindings = [r.resolve_binding(b, models) for b in bindings]
    warnings.extend(r.warnings)
    known = sorted({canonical(d.name) for d in defs if d.origin != "modelfile"})
    return World(
        models=models,
        bindings=resolved_bindings,
        servers=list(servers),
        env=env,
        settings=settings,
        warnings=warnings,
        known_models=known,
    )
