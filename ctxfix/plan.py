"""Findings + world -> a `FixPlan`: the file edits and Ollama actions a fix needs.

Why a plan as plain data: `apply --dry-run` prints it, `apply` executes it,
tests compare it, and `to_json()` serialises it, all from one decision made
in one place. Nothing here writes or contacts a server.

Policy (DESIGN.md, issue 5):
  1. Raise what Ollama *serves* first. A stored/served model whose num_ctx or
     label is wrong gets a NEW definition named by `labels.relabel(old,
     target, settings.naming)` (`qwen3-coder:30b-v-128k` -> `qwen3-coder:30b-262k`
     under the default "k1000" convention), or `--name OLD=NEW`; the old one is
     left alone unless `--in-place`. Several stale models that map to the same
     new name produce one action (a model an agent uses wins as the parent).
     A new name that already exists and serves the target needs no action:
     that is what makes a second `apply` a no-op.
     A repo Modelfile is edited in place (only the num_ctx value, or one
     inserted `PARAMETER num_ctx` line).
  2. Then make every agent binding agree with what will be served. An agent
     is pointed at a new definition only when that definition will exist after
     this apply (created on a server now, or already there), so an agent is
     never left naming a model that does not exist. Windows are set to the
     served context and never above it; a num_ctx the agent passes is set to
     the same value; a timeout is raised to `window / prefill rate x 1.25`
     when a rate is known.
Offline (a store but no server that has the model): ctxfix does NOT write into
the store, which a real Ollama server owns (its blob GC and manifest cache
would not know about it). The action is kept with `host=None`: `apply` prints
the Modelfile and the exact `ollama create` command (and writes the Modelfile
under `--out-dir` when given); agents are renamed on the next apply, after the
model exists.
Suppressions (`--select/--ignore`, settings, per-path ignores, inline
`ctxfix: ignore[...]`): apply fixes exactly what scan would report. The
decision is made here, per model and per edit, not by filtering the finished
plan, because edits depend on each other: a model whose justifying findings
are all suppressed gets no action and no Modelfile edit, so its agents stay
on it and are aligned with what it serves now; an agent edit whose own code
is suppressed is left out. `ctxfix.selection.Suppressions` is the one
predicate scan filters its findings with.
Target context: one policy shared with the rules, `ctxfix.target.target_for`:
`--target-ctx` (capped at native), else native, lowered to the largest
multiple of 1024 that fits the memory budget when it is known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxfix.facts import Finding, KeyPath, format_key_path
from ctxfix.names import canonical, is_backup
from ctxfix.rules.timeout_below_prefill import MARGIN as TIMEOUT_MARGIN
from ctxfix.selection import Suppressions
from ctxfix.world import ResolvedBinding, ResolvedModel, World

FILE_ORIGINS = ("modelfile",)
MODEL_ORIGINS = ("store", "server")


# `apply --in-place` keeps the previous definition here until rollback (apply_ops);
# a backup is never a model to fix.
@dataclass(frozen=True)
class FileEdit:
    """One value to change in one file.

    `fmt` is the document format ("json", "jsonc", "json5", "yaml", "toml") or
    "modelfile"; `key` the key path in a document (None for a Modelfile);
    `line` the 1-based Modelfile line of the num_ctx (None when one is inserted).
    """

    file: str
    fmt: str
    key: KeyPath | None
    line: int | None
    old: Any
    new: Any
    code: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.fmt,
            "key": format_key_path(self.key) if self.key is not None else None,
            "line": self.line,
            "old": self.old,
            "new": self.new,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ModelAction:
    """Create (or with `--in-place` replace) an Ollama model `name` FROM `parent`.

    `host` is the server to create it on; None means no server has the
    parent, so apply only prints the `ollama create` command (see module doc).
    `store` names the model store the parent was read from, for the message.
    """

    kind: str  # "create" | "replace"
    name: str
    parent: str
    parameters: Mapping[str, Any]
    host: str | None
    store: str | None
    target_ctx: int
    code: str
    reason: str
    previous_parameters: Mapping[str, Any] | None = None

    def modelfile(self) -> str:
        """The Modelfile `ollama create` would be given for this action."""
        lines = [f"FROM {self.parent}"]
        lines += [f"PARAMETER {k} {v}" for k, v in self.parameters.items()]
        return "\n".join(lines) + "\n"

    def modelfile_name(self) -> str:
        """`Modelfile.qwen3-coder_30b-262k`: a file name safe on every OS."""
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in self.name)
        return f"Modelfile.{safe}"

    def command(self, modelfile_path: str | None = None) -> str:
        return f"ollama create {self.name} -f {modelfile_path or self.modelfile_name()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.name,
            "parent": self.parent,
            "parameters": dict(self.parameters),
            "host": self.host,
            "store": self.store,
            "target_ctx": self.target_ctx,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FixPlan:
    edits: tuple[FileEdit, ...] = ()
    actions: tuple[ModelAction, ...] = ()
    notes: tuple[str, ...] = ()  # what was left alone and why

    @property
    def empty(self) -> bool:
        return not self.edits and not self.actions

    def files(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.edits:
            seen.setdefault(e.file, None)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "edits": [e.to_json() for e in self.edits],
            "actions": [a.to_json() for a in self.actions],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PlanOptions:
    target_ctx: int | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # canonical old -> new (as given)
    in_place: bool = False
    no_create: bool = False


# --------------------------------------------------------------------------- targets


def target_for(m: ResolvedModel, world: World, opts: PlanOptions, notes: list[str]) -> int | None:
    """The context this model should serve (None when unknown or nothing fits).

    One policy for rules and plan: `ctxfix.target.target_for`; `--target-ctx`
    given to apply overrides the settings' one.
    """
    from dataclasses import replace

    from ctxfix.target import target_for as shared_target

    if opts.target_ctx and opts.target_ctx != world.settings.target_ctx:
        world = replace(world, settings=replace(world.settings, target_ctx=opts.target_ctx))
    t = shared_target(m, world)
    if t is None:
        if m.native_ctx is not None:
            notes.append(f"{m.name}: not even 1,024 tokens fit the memory budget; left alone")
        return None
    if t.source in ("memory",) or "above the native" in t.note:
        notes.append(f"{m.name}: {t.note}")
    return t.value


def _needs_fix(m: ResolvedModel, target: int) -> bool:
    from ctxfix.labels import find_label, label_matches

    served = m.served_ctx.value if m.served_ctx else None
    if m.definition.num_ctx_invalid is not None or served != target:
        return True
    if m.definition.num_ctx is None or m.definition.num_ctx.value != target:
        return True  # relies on a default or env, or above native (clamped)
    label = find_label(m.name)
    return label is not None and not label_matches(label, target)


def _reason_code(m: ResolvedModel, findings: Sequence[Finding]) -> str:
    codes = sorted(
        {f.code for f in findings if f.model and canonical_or(f.model) == canonical_or(m.name)}
    )
    return ",".join(codes) if codes else "CTX101"


def canonical_or(name: str) -> str:
    """Canonical model name, or the string itself for a path (repo Modelfiles)."""
    return name if "/" in name and name.startswith((".", "/")) else canonical(name)


def _store_root(m: ResolvedModel) -> str | None:
    """The store a stored model's manifest sits in (`.../manifests/h/ns/model/tag`)."""
    p = Path(m.definition.location.file)
    parts = p.parts
    if "manifests" in parts:
        i = len(parts) - 1 - parts[::-1].index("manifests")
        return str(Path(*parts[:i])) if i else "."
    return None


# --------------------------------------------------------------------------- suppressions

# Codes that say a model's definition is wrong: what justifies a new definition
# or a Modelfile edit. Agent codes (CTX2xx, CTX301) justify agent edits only.
MODEL_CODES = frozenset({"CTX101", "CTX102", "CTX103", "CTX104", "CTX105", "CTX302", "CTX303"})


@dataclass(frozen=True)
class _Gate:
    """What scan would report: every rule's raw findings and the suppressions."""

    sup: Suppressions
    raw: tuple[Finding, ...]

    @classmethod
    def for_world(cls, world: World) -> _Gate:
        from ctxfix.pipeline import all_findings

        return cls(Suppressions.for_world(world), tuple(all_findings(world)))

    def model_allowed(self, copies: Sequence[ResolvedModel]) -> bool:
        """May these definitions (one name: store and server copies) be fixed?

        Yes when scan reports at least one model finding about them. When no
        rule finds anything (the plan's own reason, e.g. `--target-ctx`), the
        fix counts as CTX101 at the definition's file.
        """
        found = [f for f in self.raw if f.code in MODEL_CODES and any(_about(f, m) for m in copies)]
        if not found:
            return self.sup.allows("CTX101", copies[0].definition.location.file)
        return any(self.sup.reports(f) for f in found)

    def binding_allows(self, code: str, rb: ResolvedBinding, attr: str) -> bool:
        """May an edit of `attr` coded `code` be made? Asked where scan would point."""
        from ctxfix.rules._util import binding_location

        return self.sup.allows(code, binding_location(rb, attr).file)


def _about(f: Finding, m: ResolvedModel) -> bool:
    """Is finding `f` about definition `m`? Same name and host, and in its file
    (CTX303 points at the environment that caps it instead)."""
    d = m.definition
    if f.model != d.name or f.host != d.host:
        return False
    return f.code == "CTX303" or f.location is None or f.location.file == d.location.file


# --------------------------------------------------------------------------- models


@dataclass
class _Fixed:
    """Where a model's fix leads: the definition agents should use and what it serves."""

    new_name: str
    target: int
    available: bool  # exists after this apply (created on a server now, or already there)
    hosts: tuple[str | None, ...] = ()  # where it exists/will exist (None: a store)


def _existing(world: World, name: str) -> list[ResolvedModel]:
    want = canonical(name)
    return [
        m
        for m in world.models
        if m.definition.origin in MODEL_ORIGINS and canonical(m.name) == want
    ]


def _plan_models(
    world: World,
    findings: Sequence[Finding],
    opts: PlanOptions,
    notes: list[str],
    gate: _Gate,
) -> tuple[list[FileEdit], list[ModelAction], dict[str, _Fixed], set[str]]:
    """Modelfile edits, model actions, where each fixed model leads, and the
    canonical names whose fix is suppressed (held: they keep serving what they do)."""
    from ctxfix.labels import relabel

    edits: list[FileEdit] = []
    actions: dict[tuple[str | None, str], ModelAction] = {}
    fixed: dict[str, _Fixed] = {}
    held: set[str] = set()
    used = {canonical(rb.binding.model) for rb in world.bindings}
    # repo Modelfiles: edit in place
    for m in world.models:
        if m.definition.origin not in FILE_ORIGINS:
            continue
        target = target_for(m, world, opts, notes)
        if target is None:
            continue
        d = m.definition
        cur = d.num_ctx.value if d.num_ctx else None
        if cur == target and d.num_ctx_invalid is None:
            continue
        if not gate.model_allowed([m]):
            continue
        edits.append(
            FileEdit(
                file=d.location.file,
                fmt="modelfile",
                key=None,
                line=d.num_ctx.location.line if d.num_ctx and d.num_ctx.location else None,
                old=d.num_ctx_invalid.value if d.num_ctx_invalid else cur,
                new=target,
                code=_reason_code(m, findings),
                reason=f"num_ctx {cur if cur is not None else 'unset'} -> {target:,}",
            )
        )
    # stored / served models: one group per canonical name; a server copy wins over a store copy
    groups: dict[str, list[ResolvedModel]] = {}
    for m in world.models:
        if m.definition.origin in MODEL_ORIGINS and not is_backup(m.name):
            groups.setdefault(canonical(m.name), []).append(m)
    # models agents use first, so they become the parent when two map to one new name
    order = sorted(groups, key=lambda n: (n not in used, n))
    for cname in order:
        copies = groups[cname]
        servers = [m for m in copies if m.definition.origin == "server"]
        m = servers[0] if servers else copies[0]
        target = target_for(m, world, opts, notes)
        if target is None or not _needs_fix(m, target):
            continue
        if not gate.model_allowed(copies):
            held.add(cname)
            continue
        if opts.in_place:
            new_name, kind = m.name, "replace"
        else:
            override = opts.names.get(cname)
            new_name = override or relabel(m.name, target, world.settings.naming)
            kind = "create"
            if canonical(new_name) == cname:
                notes.append(
                    f"{m.name}: its name already says {target:,}; use --in-place or "
                    "--name OLD=NEW to fix its num_ctx"
                )
                continue
        have = [x for x in _existing(world, new_name) if x.served_ctx is not None]
        if kind == "create" and have:
            if all(x.served_ctx.value == target for x in have):  # type: ignore[union-attr]
                fixed[cname] = _Fixed(
                    new_name, target, True, tuple(x.definition.host for x in have)
                )
                continue
            notes.append(
                f"{m.name}: {new_name} already exists and serves "
                f"{have[0].served_ctx.value:,}, not {target:,}; left alone "  # type: ignore[union-attr]
                "(pass --name OLD=NEW)"
            )
            continue
        if opts.no_create:
            continue
        hosts: list[str | None] = [x.definition.host for x in servers] or [None]
        code = _reason_code(m, findings)
        for host in hosts:
            key = (host, canonical(new_name))
            if key in actions:
                continue  # another stale model already leads here (an agent's wins)
            prev = dict(m.definition.params) if kind == "replace" else None
            if prev is not None and m.definition.num_ctx is not None:
                prev["num_ctx"] = m.definition.num_ctx.value
            actions[key] = ModelAction(
                kind=kind,
                name=new_name,
                parent=m.name,
                parameters={"num_ctx": target},
                host=host,
                store=None if host else _store_root(m),
                target_ctx=target,
                code=code,
                reason=_model_reason(m, target),
                previous_parameters=prev,
            )
        fixed[cname] = _Fixed(new_name, target, hosts != [None], tuple(hosts))
    return edits, list(actions.values()), fixed, held


def _model_reason(m: ResolvedModel, target: int) -> str:
    served = m.served_ctx.value if m.served_ctx else None
    s = f"{served:,}" if served is not None else "unknown"
    return (
        f"{m.name} serves {s}; native {m.native_ctx.value:,} -> serve {target:,}"
        if (m.native_ctx)
        else f"{m.name} serves {s} -> serve {target:,}"
    )


# --------------------------------------------------------------------------- agents


def _split_ref(ref: str, model: str) -> tuple[str, str] | None:
    """`ollama/qwen3-coder:30b-v-128k` -> (`ollama/`, `qwen3-coder:30b-v-128k`)."""
    want = canonical(model)
    # shortest tail first: `ollama/x` must keep `ollama/` even though canonical() strips it
    for j in reversed([0] + [i + 1 for i, c in enumerate(ref) if c == "/"]):
        tail = ref[j:]
        if tail and canonical(tail) == want:
            return ref[:j], tail
    return None


def _renamed(
    ref: str, old_model: str, new_name: str, world: World, opts: PlanOptions
) -> str | None:
    """The reference text naming `new_name`, in the style `ref` was written in.

    The provider prefix stays (`ollama/`, `ollama_chat/`, an OpenClaw provider
    id); when the new name is the old one relabelled, the label is swapped in
    the name as written (keeping its case and tag style), else `new_name` is used.
    """
    from ctxfix.labels import find_label, relabel

    split = _split_ref(ref, old_model)
    if split is None:
        return None
    prefix, written = split
    label = find_label(new_name)
    if canonical(old_model) not in opts.names and label is not None:
        for ctx in sorted(label.values):
            try:
                guess = relabel(written, ctx, world.settings.naming)
            except ValueError:
                continue
            if canonical(guess) == canonical(new_name):
                return prefix + guess
    return prefix + new_name


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    return host in ("127.0.0.1", "localhost", "::1", "0.0.0.0")


def _reachable(binding_host: str | None, hosts: Sequence[str | None]) -> bool:
    """Will the agent's server have the new model? Loopback URLs count as one local server."""
    if binding_host is None:
        return True
    from ctxfix.resolve import _same_host

    for h in hosts:
        if h is None:
            return _is_loopback(binding_host)  # an existing store model: the local server's
        if _same_host(h, binding_host) or (_is_loopback(h) and _is_loopback(binding_host)):
            return True
    return False


def _inherited(value: Any, path: KeyPath) -> bool:
    """True when a value is read from elsewhere (OpenHands `[llm]` defaults, shared keys).

    Another binding may change the value at its source, so a binding that
    inherits it gets its own explicit value, written at its own path.
    """
    loc = getattr(value, "location", None)
    return bool(loc is not None and loc.key and loc.key != format_key_path(path))


def _other_refs(file: str, fmt: str, model: str, known: list[KeyPath]) -> list[KeyPath]:
    """Every other string value in `file` that names `model` (Zed's `agent.default_model`).

    A rename must rename every reference in the file at once, or a selection
    and the definition it points at drift apart.
    """
    from ctxfix.edits import load_document

    try:
        data = load_document(Path(file), fmt=fmt).data
    except Exception:
        return []
    out: list[KeyPath] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))
        elif isinstance(node, str) and path not in known:
            try:
                if _split_ref(node, model) is not None:
                    out.append(path)
            except Exception:
                return

    walk(data, ())
    return out


def _pinned(rb: ResolvedBinding) -> bool:
    """True when the model name is itself a key in the config (opencode, aider metadata/settings).

    Renaming the reference would orphan the settings stored under that key,
    so such a binding keeps its model and only its values are aligned.
    """
    b = rb.binding
    ref_path = b.edit_paths.get("model_ref", ())
    if b.agent == "aider" and ref_path and isinstance(ref_path[0], int):
        return True  # .aider.model.settings.yml `- name:` matches the model chosen elsewhere
    want = canonical(b.model)
    for path in b.edit_paths.values():
        for part in path:
            if isinstance(part, str) and (":" in part or "/" in part):
                try:
                    if canonical(part) == want:
                        return True
                except Exception:
                    continue
    return False


def _plan_bindings(
    world: World,
    findings: Sequence[Finding],
    opts: PlanOptions,
    fixed: Mapping[str, _Fixed],
    notes: list[str],
    gate: _Gate,
    held: set[str],
) -> list[FileEdit]:
    edits: list[FileEdit] = []
    rate = world.settings.prefill_tps
    for rb in world.bindings:
        b = rb.binding
        m = rb.model
        if m is None:
            continue
        if not _reachable(b.host, (m.definition.host,)):
            notes.append(
                f"{b.file}: {b.agent} uses {b.model} on {b.host}, which ctxfix did not scan; "
                "left alone (pass --host for it)"
            )
            continue
        paths = b.edit_paths
        cname = canonical(b.model)
        fx = fixed.get(cname)
        model_target: int | None = None
        if fx is not None:
            model_target = fx.target
        elif cname not in held and m.native_ctx is not None:
            model_target = target_for(m, world, opts, [])
        rename_to: str | None = None
        if fx is not None and fx.available and canonical(fx.new_name) != cname:
            if not _reachable(b.host, fx.hosts):
                notes.append(
                    f"{b.file}: {b.agent} uses {b.model} on {b.host}, where ctxfix did not "
                    f"create {fx.new_name}; not renamed"
                )
            elif _pinned(rb):
                notes.append(
                    f"{b.file}: {b.agent} keys its settings by the model name "
                    f"{b.model_ref.value!r}; not renamed to {fx.new_name}"
                )
            else:
                rename_to = fx.new_name
        sends_num_ctx = b.api == "native" and b.num_ctx is not None and "num_ctx" in paths
        num_ctx_ok = (
            b.num_ctx is not None
            and "num_ctx" in paths
            and gate.binding_allows("CTX201", rb, "num_ctx")
        )
        if sends_num_ctx and not num_ctx_ok:  # its request num_ctx stays and wins
            served_after = rb.served_ctx.value if rb.served_ctx else None
        elif sends_num_ctx and model_target:
            served_after: int | None = model_target
        elif rename_to is not None or (fx is not None and fx.available and opts.in_place):
            served_after = fx.target if fx else None
        else:
            served_after = rb.served_ctx.value if rb.served_ctx else None
        if rename_to is not None:
            ref_paths = [p for k in ("model_ref", "model_id") if (p := paths.get(k)) is not None]
            ref_paths += _other_refs(b.file, b.format, b.model, ref_paths)
            for path in ref_paths:
                old = b.model_ref.value if path == paths.get("model_ref") else None
                edits.append(
                    _RefEdit(b.file, b.format, path, old, b.model, rename_to, b.agent).build(
                        world, opts
                    )
                )
        if served_after is None:
            continue
        window_after = served_after
        if b.context_window is not None and "context_window" in paths:
            inherited = _inherited(b.context_window, paths["context_window"])
            code = "CTX201" if b.context_window.value > served_after else "CTX202"
            # always (a key shared by several bindings takes the smallest served),
            # unless the user hid this code: then the window stays as written
            if gate.binding_allows(code, rb, "context_window"):
                edits.append(
                    FileEdit(
                        b.file,
                        b.format,
                        paths["context_window"],
                        None,
                        None if inherited else b.context_window.value,
                        served_after,
                        code,
                        f"{b.agent} window {b.context_window.value:,} -> served {served_after:,}",
                    )
                )
            else:
                window_after = b.context_window.value
        if num_ctx_ok:
            edits.append(
                FileEdit(
                    b.file,
                    b.format,
                    paths["num_ctx"],
                    None,
                    b.num_ctx.value,
                    served_after,
                    "CTX201",
                    f"{b.agent} passes num_ctx {b.num_ctx.value:,} -> {served_after:,}",
                )
            )
        if (
            rate
            and b.timeout_s is not None
            and "timeout" in paths
            and gate.binding_allows("CTX301", rb, "timeout_s")
        ):
            need_s = math.ceil(window_after / rate * TIMEOUT_MARGIN)
            if b.timeout_s.value < need_s:
                new_value = need_s / b.timeout_unit_s
                new_t: int | float = (
                    round(new_value) if abs(new_value - round(new_value)) < 1e-9 else new_value
                )
                old_t = b.timeout_s.value / b.timeout_unit_s
                edits.append(
                    FileEdit(
                        b.file,
                        b.format,
                        paths["timeout"],
                        None,
                        int(old_t) if float(old_t).is_integer() else old_t,
                        new_t,
                        "CTX301",
                        f"prefill of {window_after:,} tokens at {rate:g} tok/s x "
                        f"{TIMEOUT_MARGIN} needs {need_s} s",
                    )
                )
    return edits


@dataclass(frozen=True)
class _RefEdit:
    file: str
    fmt: str
    path: KeyPath
    old_text: str | None
    old_model: str
    new_name: str
    agent: str

    def build(self, world: World, opts: PlanOptions) -> FileEdit:
        old = self.old_text
        if old is None:  # model_id: read what is written there
            from ctxfix.edits import load_document

            try:
                old = str(load_document(Path(self.file), fmt=self.fmt).get(self.path, ""))
            except Exception:
                old = self.old_model
        new = _renamed(old, self.old_model, self.new_name, world, opts) or self.new_name
        return FileEdit(
            self.file,
            self.fmt,
            self.path,
            None,
            old,
            new,
            "CTX102",
            f"{self.agent}: use {self.new_name}",
        )


# --------------------------------------------------------------------------- entry


def _dedupe(edits: Iterable[FileEdit]) -> list[FileEdit]:
    """One edit per (file, key). Bindings sharing a key must agree: a shared window
    or num_ctx takes the smallest value any of them is served (never above what
    is served), a shared timeout the largest; otherwise the first edit wins.
    Edits that would write the value already there are dropped."""
    groups: dict[tuple[str, Any, Any], list[FileEdit]] = {}
    for e in edits:
        groups.setdefault((e.file, e.key, e.line), []).append(e)
    out: list[FileEdit] = []
    for group in groups.values():
        pick = group[0]
        if all(isinstance(e.new, int) and not isinstance(e.new, bool) for e in group):
            choose = max if pick.code == "CTX301" else min
            pick = choose(group, key=lambda e: e.new)
        if pick.old != pick.new:
            out.append(pick)
    return out


def build_plan(
    world: World, findings: Sequence[Finding], opts: PlanOptions | None = None
) -> FixPlan:
    """The fix for a scanned world (see module doc for the policy)."""
    opts = opts or PlanOptions(target_ctx=world.settings.target_ctx)
    notes: list[str] = []
    gate = _Gate.for_world(world)
    model_edits, actions, fixed, held = _plan_models(world, findings, opts, notes, gate)
    agent_edits = _plan_bindings(world, findings, opts, fixed, notes, gate, held)
    edits = _dedupe([*model_edits, *agent_edits])
    return FixPlan(tuple(edits), tuple(actions), tuple(dict.fromkeys(notes)))


def parse_names(values: Iterable[str]) -> dict[str, str]:
    """`--name OLD=NEW` options -> {canonical OLD: NEW}; CtxfixError on a malformed one."""
    from ctxfix.errors import CtxfixError

    out: dict[str, str] = {}
    for v in values:
        old, sep, new = v.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CtxfixError("--name", f"expected OLD=NEW, got {v!r}")
        out[canonical(old.strip())] = new.strip()
    return out
