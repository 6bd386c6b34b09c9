"""Plain facts passed between pipeline stages.

Why: data flows one way (discover -> sources -> resolve -> rules -> plan ->
report/apply). Sources turn a file or endpoint into these frozen records with
no judgement; resolve joins them; rules judge them. Every number that reaches
a user carries where it came from (`Sourced.source` + `Location`), because the
whole point of ctxfix is showing *why* a context is what it is.

Source tags used in `Sourced.source` (stable; they appear in JSON reports):
  modelfile  a PARAMETER line in a Modelfile
  params     the params blob of a model in a store
  server     /api/show or /api/ps of a live server
  gguf       GGUF metadata (`<arch>.context_length` ...)
  catalog    ctxfix's offline catalog (ctxfix/catalog.yaml)
  settings   .ctxfix.yaml / [tool.ctxfix] / a command-line override
  label      a context label in a model name ("128k")
  env        OLLAMA_* server environment (process, systemd, compose)
  default    a documented default (Ollama's or an agent's)
  agent      an agent config value
  request    num_ctx an agent sends per request
  measured   measured on a live server
  detected   detected on this machine (memory budget)
  memory     lowered to fit the memory budget
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from ctxfix.records import field, record

T = TypeVar("T")

KeyPath = tuple[str | int, ...]
"""A path into a structured document: ("models", "providers", "ollama", "models", 0, "id")."""


def format_key_path(path: KeyPath) -> str:
    """`("models", 0, "id")` -> `models[0].id` (for messages and reports)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@record(frozen=True)
class Location:
    """Where a fact lives. `file` is a path (as shown to the user) or a host URL."""

    file: str
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based
    key: str | None = None  # display key path, e.g. "models.providers.ollama.timeoutSeconds"

    def __str__(self) -> str:
        s = self.file
        if self.line is not None:
            s += f":{self.line}"
            if self.col is not None:
                s += f":{self.col}"
        return s


@record(frozen=True)
class Sourced(Generic[T]):
    """A value plus its provenance."""

    value: T
    source: str
    location: Location | None = None
    note: str = ""  # human reason, e.g. "Ollama >= 0.6.7 default"


@record(frozen=True)
class TensorInfo:
    """One tensor info record of a GGUF header (no data is read)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    n_bytes: int  # size of the tensor data in bytes, computed from type and shape


@record(frozen=True)
class Geometry:
    """Model metadata that decides context and KV-cache size.

    Built from GGUF metadata (`ctxfix.sources.gguf`), a server's `model_info`
    (`ctxfix.sources.server`) or the catalog. Defaults follow llama.cpp:
    key_length/value_length default to embedding_length // head_count;
    a scalar head_count_kv is expanded to one entry per layer.
    """

    arch: str
    context_length: int | None = None
    block_count: int | None = None
    embedding_length: int | None = None
    head_count: int | None = None
    head_count_kv: tuple[int, ...] | None = None  # per layer; 0 = recurrent / no KV
    key_length: int | None = None
    value_length: int | None = None
    sliding_window: int | None = None
    sliding_window_pattern: tuple[bool, ...] | None = None  # per layer True = SWA, when given
    rope_scaling_type: str | None = None
    rope_scaling_factor: float | None = None
    rope_original_context: int | None = None
    kv_lora_rank: int | None = None
    key_length_mla: int | None = None  # `<arch>.attention.key_length_mla` when present
    rope_dimension_count: int | None = None
    full_attention_interval: int | None = None
    nextn_predict_layers: int | None = None
    expert_count: int | None = None
    expert_used_count: int | None = None
    ssm_state_size: int | None = None
    ssm_inner_size: int | None = None
    ssm_conv_kernel: int | None = None
    ssm_group_count: int | None = None  # `<arch>.ssm.group_count` (Mamba-2, gated delta net)
    name: str | None = None
    basename: str | None = None
    size_label: str | None = None
    file_type: int | None = None
    tensors: tuple[TensorInfo, ...] = ()  # only when asked for (estimate needs MoE sizes)
    file_size: int | None = None  # bytes of the GGUF file when known
    # `<arch>.attention.sliding_window_pattern` when the GGUF gives a scalar period
    # (llama.cpp `get_key_or_arr` into `swa_period`): which layers slide then depends on
    # the architecture (`set_swa_pattern(n, dense_first)`), so keep the number
    sliding_window_period: int | None = None
    key_length_swa: int | None = None  # `<arch>.attention.key_length_swa` (gemma4)
    value_length_swa: int | None = None  # `<arch>.attention.value_length_swa`
    shared_kv_layers: int | None = None  # `<arch>.attention.shared_kv_layers` (gemma4)
    vocab_size: int | None = None  # `<arch>.vocab_size`, else the tokenizer's token count


@record(frozen=True)
class ModelDef:
    """One model definition as one source sees it (no judgement yet).

    `origin` is "modelfile" (a Modelfile in a repo), "store" (a manifest in an
    Ollama model store) or "server" (a live server's /api/show).
    `name` is the canonical Ollama name (see `ctxfix.names.canonical`), or for a
    repo Modelfile the name it would be created as when known, else the file path.
    """

    name: str
    origin: str
    location: Location
    parent: str | None = None  # FROM reference: model name or file path, as written
    num_ctx: Sourced[int] | None = None  # the value that wins (last PARAMETER num_ctx / params)
    num_ctx_invalid: Sourced[str] | None = None  # raw text Ollama rejects ("1e+06", "131072.0")
    params: Mapping[str, Any] = field(default_factory=dict)
    geometry: Geometry | None = None
    weights_bytes: int | None = None  # model blob + projector + adapters
    host: str | None = None  # server URL for origin == "server"
    digest: str | None = None  # manifest / server digest
    model_digest: str | None = None  # model (GGUF) blob digest
    details: Mapping[str, Any] = field(default_factory=dict)  # server/config-blob details
    loaded_ctx: Sourced[int] | None = None  # /api/ps context_length when loaded now
    vision: bool = False  # a projector layer or the server's "vision" capability

    @property
    def key(self) -> str:
        """Identity of this definition in findings and plans: origin, host, name, file."""
        return f"model:{self.origin}#{self.host or ''}#{self.name}#{self.location.file}"


@record(frozen=True)
class EnvValue:
    """One OLLAMA_* variable as found: value plus where (process env, unit file, compose)."""

    name: str
    value: str
    location: Location


@record(frozen=True)
class ServerEnv:
    """The server environment that shapes the served context."""

    values: Mapping[str, EnvValue] = field(default_factory=dict)

    def get(self, name: str) -> EnvValue | None:
        return self.values.get(name)


@record(frozen=True)
class ServerInfo:
    """A live Ollama server that answered."""

    host: str
    version: str | None = None
    vram_bytes: int | None = None


class Slot:
    """Where in an agent config a value lives: the keys of `AgentBinding.edit_paths`.

    Plain string constants, so a reader may still write the names
    ("context_window"); not an Enum, whose class costs ~0.3 ms to create at
    import (issue 15).
    """

    MODEL_REF = "model_ref"  # the reference that selects the model
    MODEL_ID = "model_id"  # a model entry's own id (OpenClaw `models[].id`)
    CONTEXT_WINDOW = "context_window"
    NUM_CTX = "num_ctx"  # num_ctx the agent sends
    MAX_TOKENS = "max_tokens"
    TIMEOUT = "timeout"


@record(frozen=True)
class ModelRef:
    """One place a config names a model: a string value at `path`, or (`is_key`) the
    key of the entry at `path` (opencode keys its model settings by model id)."""

    path: KeyPath
    text: str
    is_key: bool = False


@record(frozen=True)
class AgentBinding:
    """One agent's use of one Ollama model, with the location of every relevant value.

    `edit_paths` tells the planner where each value lives in `file` so the fix
    can write it: keys "model_ref", "context_window", "num_ctx", "max_tokens",
    "timeout" -> KeyPath. A value that is unset but could be inserted has its
    path too (the editor inserts it). `timeout_unit_s` converts the file's
    timeout unit to seconds (0.001 for milliseconds).
    """

    agent: str  # "openclaw", "continue", "aider", ...
    file: str
    model_ref: Sourced[str]  # as written: "ollama/qwen3-coder:30b-v-128k"
    model: str  # canonical Ollama name it resolves to
    api: str  # "native" (/api/chat) or "openai" (/v1)
    host: str | None = None  # base URL when the config names one
    context_window: Sourced[int] | None = None
    num_ctx: Sourced[int] | None = None  # num_ctx the agent sends per request
    num_ctx_auto: bool = False  # sizes num_ctx per request to the prompt (Aider): gets native
    max_tokens: Sourced[int] | None = None
    timeout_s: Sourced[float] | None = None
    timeout_unit_s: float = 1.0
    # other settings that bound the same wait, in the file's timeout unit (opencode's
    # `headerTimeout` beside `timeout`): (path, value now, the default when unset
    # included). `timeout_s` is the smallest bound, at edit_paths["timeout"]; the plan
    # raises each of these that is below the new timeout with it, or the wait stays cut.
    timeout_also: tuple[tuple[KeyPath, float], ...] = ()
    edit_paths: Mapping[str, KeyPath] = field(default_factory=dict)
    format: str = "json"  # document format for edits: json | jsonc | json5 | yaml | toml
    suppressed: frozenset[str] = frozenset()  # codes ignored inline (# ctxfix: ignore[...])
    # every place this file names the model (filled by the reader; the planner
    # renames exactly these and never re-reads the file)
    refs: tuple[ModelRef, ...] = ()
    # why the model reference must not be renamed (None: it may be)
    pinned: str | None = None
    # the window is unset and the agent adopts the model's num_ctx as /api/show
    # prints it, read with JavaScript's Number.parseInt (Continue's Ollama provider)
    window_from_model: bool = False
    # the agent takes its window from the server: the model's native context as
    # /api/show `model_info` gives it (Roo Code, Kilo Code); resolve fills it in
    window_native: bool = False
    # Slot -> where the user sets that value by hand when ctxfix cannot write it
    # (Cline's VS Code state.vscdb): shown with the findings apply leaves unfixed
    manual: Mapping[str, str] = field(default_factory=dict)
    # the tool that wrote this binding's window, when the file marks it ("ollama launch":
    # it writes the native context from /api/tags, not what the server serves)
    written_by: str | None = None

    @property
    def key(self) -> str:
        """Identity of this binding in findings and plans: file, agent, reference path."""
        ref = self.edit_paths.get(Slot.MODEL_REF, ())
        return f"binding:{self.file}#{self.agent}#{format_key_path(ref)}#{self.model}"


@record(frozen=True)
class Finding:
    """One problem a rule found. Serialised as the report's `findings[]`."""

    code: str
    severity: str  # "error" | "warning" | "info"
    message: str
    model: str | None = None
    location: Location | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    fix: str | None = None
    host: str | None = None
    agent: str | None = None
    subject: str | None = None  # ModelDef.key or AgentBinding.key: links the plan's fix
