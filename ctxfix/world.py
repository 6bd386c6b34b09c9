"""What resolve hands the rules: models and bindings with every context computed.

Why a separate record from the raw facts: the served context of a model
depends on several sources at once (Modelfile, store, server, env, version
defaults), and rules must not recompute it each in their own way.
"""

from __future__ import annotations

from typing import Any

from ctxfix.errors import Warning_
from ctxfix.facts import AgentBinding, Geometry, ModelDef, ServerEnv, ServerInfo, Sourced
from ctxfix.records import field, record
from ctxfix.settings import Settings


@record(frozen=True)
class ResolvedModel:
    """A model definition with native, served and label contexts resolved.

    `chain` lists, in order, the reasons the served context is what it is
    ("num_ctx 131072 from Modelfile line 3", "clamped to native 262144 (Ollama >= 0.9.3)").
    """

    definition: ModelDef
    native_ctx: Sourced[int] | None
    served_ctx: Sourced[int] | None
    label_ctx: Sourced[int] | None  # what the name claims ("128k" -> 131072)
    label_text: str | None  # the label as written ("v-128k")
    geometry: Geometry | None
    kv_bytes_per_token: int | None
    chain: tuple[str, ...] = ()
    relies_on_default: bool = False  # no num_ctx anywhere: served = env or default
    weights_bytes: int | None = None  # own, else the FROM chain's (a Modelfile has none)
    server_version: str | None = None  # the Ollama version that serves it, when known

    @property
    def name(self) -> str:
        return self.definition.name


@record(frozen=True)
class ResolvedBinding:
    """An agent binding joined to the model it uses (None when no source has it)."""

    binding: AgentBinding
    model: ResolvedModel | None
    served_ctx: Sourced[int] | None  # what this agent actually gets (request num_ctx wins)


@record
class World:
    models: list[ResolvedModel] = field(default_factory=list)
    bindings: list[ResolvedBinding] = field(default_factory=list)
    servers: list[ServerInfo] = field(default_factory=list)
    env: ServerEnv = field(default_factory=ServerEnv)
    settings: Settings = field(default_factory=Settings)
    warnings: list[Warning_] = field(default_factory=list)
    known_models: list[str] = field(default_factory=list)  # every name any store/server has
    # measured prefill rates by canonical model name (scan --measure-prefill)
    prefill_rates: dict[str, Sourced[float]] = field(default_factory=dict)
    # what the server log says happened (ctxfix.evidence.LogEvidence); None: no log read
    evidence: Any = None

    def prefill_rate(self, model: str) -> Sourced[float] | None:
        """Measured rate for this model, else the configured one (--prefill-tps/settings)."""
        from ctxfix.names import canonical

        measured = self.prefill_rates.get(canonical(model))
        if measured is not None:
            return measured
        if self.settings.prefill_tps:
            return Sourced(
                float(self.settings.prefill_tps),
                "settings",
                note=self.settings.prefill_source or "",
            )
        return None
