"""What one planning run knows: the scan, the options, and the reasons it records.

Why an object: the model and binding planners share the scan's world, its
raw findings and suppressions (so apply fixes exactly what scan reports),
one memo of policy targets, and one place to record why something is left
unfixed, which `build_plan` turns into `FixPlan.unfixed`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ctxfix.facts import Finding
from ctxfix.plan.model import PlanOptions
from ctxfix.policy.target import Target, target_for
from ctxfix.records import field, record
from ctxfix.selection import Suppressions
from ctxfix.world import ResolvedModel, World


@record
class PlanContext:
    world: World
    findings: Sequence[Finding]  # every rule's findings, nothing suppressed
    sup: Suppressions
    opts: PlanOptions
    notes: list[str] = field(default_factory=list)
    reasons: dict[tuple[str | None, str], str] = field(default_factory=dict)
    reuses: list = field(default_factory=list)  # plan.model.Reuse
    _targets: dict[int, Target | None] = field(default_factory=dict)
    _by_subject: dict[str | None, list[tuple[int, Finding]]] | None = field(
        default=None, repr=False
    )

    def target(self, m: ResolvedModel) -> Target | None:
        """The policy target for `m` (apply's --target-ctx wins over the settings')."""
        if id(m) not in self._targets:
            self._targets[id(m)] = target_for(m, self.world, self.opts.target_ctx)
        return self._targets[id(m)]

    def reported(self, f: Finding) -> bool:
        """Would scan show `f` at warning level or above?"""
        return f.severity in ("error", "warning") and self.sup.reports(f)

    def findings_about(self, subjects: Sequence[str], codes: frozenset[str]) -> list[Finding]:
        """The findings about any of `subjects` with one of `codes`, in scan order.

        Indexed by subject once: asked per model, a walk over every finding
        made planning quadratic in the models (a 200-model fleet).
        """
        if self._by_subject is None:
            self._by_subject = {}
            for i, f in enumerate(self.findings):
                self._by_subject.setdefault(f.subject, []).append((i, f))
        hits = sorted(
            (i, f)
            for s in dict.fromkeys(subjects)
            for i, f in self._by_subject.get(s, ())
            if f.code in codes
        )
        return [f for _, f in hits]

    def leave(self, subject: str | None, reason: str, codes: Sequence[str] = ("*",)) -> None:
        """Record why findings about `subject` (these codes, or all) stay unfixed."""
        if (subject, "*") in self.reasons:
            return  # the first reason recorded for a subject is the most specific
        for c in codes:
            self.reasons.setdefault((subject, c), reason)

    def reason_for(self, f: Finding) -> str | None:
        return self.reasons.get((f.subject, f.code)) or self.reasons.get((f.subject, "*"))
