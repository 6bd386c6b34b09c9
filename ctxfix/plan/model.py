"""The plan as plain data: file edits, Ollama model actions, and what is left unfixed.

Why plain data: `apply --dry-run` prints it, `apply` executes it, SARIF turns
its edits into `fixes`, the text report prints each finding's `fix:` line
from it, and tests compare it. One decision, many renderings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctxfix.facts import Finding, KeyPath, format_key_path
from ctxfix.records import field, record

MODEL_CODES = frozenset({"CTX101", "CTX102", "CTX103", "CTX104", "CTX105", "CTX302", "CTX303"})
"""Codes that say a model definition is wrong: what a new definition or Modelfile edit fixes."""


@record(frozen=True)
class FileEdit:
    """One value to change in one file.

    `fmt` is the document format ("json", "jsonc", "json5", "yaml", "toml") or
    "modelfile"; `key` the key path in a document (None for a Modelfile);
    `line` the 1-based Modelfile line of the num_ctx (None when one is inserted).
    `rename_key`: `new` replaces the *key* of the entry at `key` (opencode).
    `subject` is the finding subject it fixes (`AgentBinding.key` or
    `ModelDef.key`), `codes` the finding codes it resolves there; `creates`
    names the model this edit depends on (a reference repointed to it).
    """

    file: str
    fmt: str
    key: KeyPath | None
    line: int | None
    old: Any
    new: Any
    codes: tuple[str, ...]
    reason: str
    subject: str | None = None
    rename_key: bool = False
    creates: str | None = None
    also: tuple[str, ...] = ()  # other subjects sharing this key (deduplicated edits)

    @property
    def code(self) -> str:
        return self.codes[0] if self.codes else ""

    def describe(self) -> str:
        """`contextWindow 131,072 -> 262,144` for fix lines."""
        what = format_key_path(self.key) if self.key is not None else "num_ctx"
        if self.rename_key:
            return f"settings of {self.old} moved to {self.new}"
        return f"{what} {_v(self.old)} -> {_v(self.new)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.fmt,
            "key": format_key_path(self.key) if self.key is not None else None,
            "line": self.line,
            "old": self.old,
            "new": self.new,
            "code": ",".join(self.codes),
            "reason": self.reason,
        }


def _v(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@record(frozen=True)
class ModelAction:
    """Create (or with `--in-place` replace) an Ollama model `name` FROM `parent`.

    `host` is the server to create it on; None means no server has the
    parent, so apply only prints the `ollama create` command. `store` names
    the model store the parent was read from, for the message. `subjects`
    are the definitions (store and server copies) whose findings it fixes.
    """

    kind: str  # "create" | "replace"
    name: str
    parent: str
    parameters: Mapping[str, Any]
    host: str | None
    store: str | None
    target_ctx: int
    codes: tuple[str, ...]
    reason: str
    previous_parameters: Mapping[str, Any] | None = None
    subjects: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return ",".join(self.codes)

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
        """The shell command, every argument quoted for a POSIX shell."""
        path = modelfile_path or self.modelfile_name()
        import shlex  # only for the printed command

        return f"ollama create {shlex.quote(self.name)} -f {shlex.quote(path)}"

    def describe(self) -> str:
        verb = "replace" if self.kind == "replace" else "create"
        where = f" on {self.host}" if self.host else " (run the `ollama create` apply prints)"
        return f"{verb} {self.name} (FROM {self.parent}, num_ctx {self.target_ctx:,}){where}"

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


@record(frozen=True)
class Reuse:
    """A model whose fixed definition already exists: its agents move to `successor`."""

    name: str
    successor: str
    target_ctx: int
    subjects: tuple[str, ...]
    codes: tuple[str, ...]

    def describe(self) -> str:
        return f"move its agents to the existing {self.successor} (num_ctx {self.target_ctx:,})"


@record(frozen=True)
class Unfixed:
    """A reported finding apply leaves as it is, and why."""

    code: str
    subject: str | None
    where: str  # file or host, for the listing
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "where": self.where, "reason": self.reason}


class _PlanIndex:
    """FixPlan's lookups: (subject, code) -> edits and actions, name -> actions."""

    def __init__(self, plan: FixPlan) -> None:
        self.edits: dict[tuple[str | None, str], list[FileEdit]] = {}
        for e in plan.edits:
            for subject in dict.fromkeys((e.subject, *e.also)):
                for code in dict.fromkeys(e.codes):
                    self.edits.setdefault((subject, code), []).append(e)
        self.actions: dict[tuple[str | None, str], list[ModelAction]] = {}
        self.named: dict[str, list[ModelAction]] = {}
        self.order: dict[int, int] = {}
        for i, a in enumerate(plan.actions):
            self.order[id(a)] = i
            self.named.setdefault(a.name, []).append(a)
            for subject in dict.fromkeys(a.subjects):
                for code in dict.fromkeys(a.codes):
                    self.actions.setdefault((subject, code), []).append(a)


@record(frozen=True)
class FixPlan:
    edits: tuple[FileEdit, ...] = ()
    actions: tuple[ModelAction, ...] = ()
    notes: tuple[str, ...] = ()  # decisions worth saying (what was left alone and why)
    unfixed: tuple[Unfixed, ...] = ()
    reuses: tuple[Reuse, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.edits and not self.actions

    def files(self) -> list[str]:
        return list(dict.fromkeys(e.file for e in self.edits))

    def _index(self) -> _PlanIndex:
        """Lookups by (subject, code) and by name, built on first use.

        Why: every finding asks for its edits and actions (text, JSON, SARIF,
        apply); scanning the whole plan per finding was quadratic, 80,000
        comparisons for a 200-model fleet. The plan is frozen, so the index
        never goes stale; it is not a field (no effect on eq, hash, repr).
        """
        idx = self.__dict__.get("_idx")
        if idx is None:
            idx = _PlanIndex(self)
            object.__setattr__(self, "_idx", idx)
        return idx

    def edits_for(self, f: Finding) -> list[FileEdit]:
        """The file edits that fix finding `f`, in plan order."""
        return list(self._index().edits.get((f.subject, f.code), ()))

    def actions_for(self, f: Finding) -> list[ModelAction]:
        """The model actions that fix `f` (directly, or that its edits point at)."""
        idx = self._index()
        direct = list(idx.actions.get((f.subject, f.code), ()))
        wanted = {e.creates for e in self.edits_for(f) if e.creates}
        linked = sorted(
            (a for name in wanted for a in idx.named.get(name, ()) if a not in direct),
            key=lambda a: idx.order[id(a)],
        )
        return [*direct, *linked]

    def reuses_for(self, f: Finding) -> list[Reuse]:
        """Existing successors `f`'s model moves to (only when an agent is repointed)."""
        moved = {e.creates for e in self.edits if e.creates}
        return [
            r
            for r in self.reuses
            if f.subject in r.subjects and f.code in r.codes and r.successor in moved
        ]

    def unfixed_for(self, f: Finding) -> Unfixed | None:
        for u in self.unfixed:
            if u.code == f.code and u.subject == f.subject:
                return u
        return None

    def fix_text(self, f: Finding) -> str | None:
        """The `fix:` line of a finding: what apply does for it, or why it does not."""
        parts = [a.describe() for a in self.actions_for(f)]
        parts += [r.describe() for r in self.reuses_for(f)]
        edits = self.edits_for(f)
        by_file: dict[str, list[str]] = {}
        for e in edits:
            by_file.setdefault(e.file, []).append(e.describe())
        parts += [f"{_short(file)}: {', '.join(d)}" for file, d in by_file.items()]
        if parts:
            return "apply: " + "; ".join(parts)
        u = self.unfixed_for(f)
        if u is not None:
            return f"not fixed by apply: {u.reason}"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "edits": [e.to_json() for e in self.edits],
            "actions": [a.to_json() for a in self.actions],
            "notes": list(self.notes),
            "unfixed": [u.to_json() for u in self.unfixed],
            "reuses": [
                {"model": r.name, "successor": r.successor, "target_ctx": r.target_ctx}
                for r in self.reuses
            ],
        }


def _short(file: str) -> str:
    return file.replace("\\", "/").rsplit("/", 1)[-1]


@record(frozen=True)
class PlanOptions:
    target_ctx: int | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # canonical old -> new (as given)
    in_place: bool = False
    no_create: bool = False
