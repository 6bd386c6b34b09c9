"""What `pipeline.scan` hands every command: the world, the findings, the plan.

Why its own module: the planner takes a scan result but must not import the
pipeline (data flows one way), so the record lives between the two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctxfix.facts import Finding
from ctxfix.records import field, record
from ctxfix.selection import Suppressions
from ctxfix.world import World

if TYPE_CHECKING:
    from ctxfix.plan import FixPlan


@record
class ScanResult:
    world: World
    raw_findings: list[Finding]  # every rule's findings, nothing suppressed
    suppressions: Suppressions
    findings: list[Finding] = field(default_factory=list)  # what scan reports, fix lines set
    targets: Any = None  # discover.Targets
    plan: FixPlan | None = None  # the default plan (scan's settings); apply builds its own
