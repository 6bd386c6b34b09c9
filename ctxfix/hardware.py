"""Machines for `ctxfix estimate`'s what-if table, and the decode-speed ceiling.

Why: "diagnose before you buy". Whether a context fits is memory; how fast a
model answers once it fits is memory bandwidth: decoding one token reads every
active weight and the KV cache in use once, so
``tokens/s <= bandwidth / (active weight bytes + KV bytes read per token)``.
That ceiling is what a user compares between machines.

Memory sizes: the listed configuration someone buying the machine for local
models would pick, i.e. the largest of a range (Mac Studio M2 Ultra 192 GB,
M3 Ultra 512 GB, Strix Halo 128 GB). DRAM and VRAM sold as "GB" are binary
(a "24 GB" RTX 4090 has 24 GiB), so memory is stored in GiB. Bandwidth is
decimal GB/s, as vendors quote it. For another configuration write
``NAME@SIZE`` (``"Mac Studio M3 Ultra@256GiB"``); SIZE goes through
`ctxfix.budget.parse_size` (GiB binary, GB decimal).
"""

from __future__ import annotations

import re

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry
from ctxfix.records import record, replace

GIB = 1024**3

# The OS and other programs keep this much of a unified-memory machine.
UNIFIED_RESERVE_BYTES = 4 * GIB


@record(frozen=True)
class Machine:
    name: str
    memory_bytes: int
    bandwidth_gbps: float  # decimal GB/s
    unified: bool  # CPU and GPU share the memory (the OS needs some of it)
    os_reserve: int = UNIFIED_RESERVE_BYTES  # --reserve / settings `reserve` override it

    @property
    def reserve_bytes(self) -> int:
        """Memory the OS keeps: `os_reserve` (4 GiB) on unified machines, none of VRAM."""
        return self.os_reserve if self.unified else 0

    @property
    def usable_bytes(self) -> int:
        return self.memory_bytes - self.reserve_bytes


MACHINES: tuple[Machine, ...] = (
    Machine("NVIDIA DGX Spark (GB10)", 128 * GIB, 273, True),
    Machine("Mac Studio M2 Ultra", 192 * GIB, 800, True),
    Machine("Mac Studio M3 Ultra", 512 * GIB, 819, True),
    Machine("AMD Ryzen AI Max+ 395 (Strix Halo)", 128 * GIB, 256, True),
    Machine("AMD Radeon RX 7900 XTX", 24 * GIB, 960, False),
    Machine("NVIDIA RTX 4090", 24 * GIB, 1008, False),
    Machine("AMD MI300X", 192 * GIB, 5300, False),
)


def _key(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def find_machine(spec: str) -> Machine:
    """`"RTX 4090"`, `"m3 ultra"`, `"Mac Studio M3 Ultra@256GiB"` -> a Machine.

    A case-insensitive substring of one machine's name selects it; ambiguity
    or no match is a one-line error listing the names.
    """
    from ctxfix.budget import parse_size

    name, _, size = spec.partition("@")
    k = _key(name)
    hits = [m for m in MACHINES if k and k in _key(m.name)]
    exact = [m for m in hits if _key(m.name) == k]
    if exact:
        hits = exact
    if len(hits) != 1:
        names = "; ".join(m.name for m in MACHINES)
        what = "matches several machines" if hits else "matches no machine"
        raise CtxfixError(None, f"--hardware '{name}' {what} (known: {names}; or 'all')")
    m = hits[0]
    if size:
        m = replace(m, memory_bytes=parse_size(size, where="--hardware"))
    return m


def decode_tps_ceiling(
    bandwidth_gbps: float, active_weight_bytes: int, kv_bytes_read_per_token: int
) -> float:
    """Bandwidth-bound upper limit on decode speed, tokens per second.

    Each generated token streams the active weights and the KV cache in use
    through the memory bus once; compute is assumed free. Real speeds are
    typically 50-80 % of this.
    """
    per_token = active_weight_bytes + kv_bytes_read_per_token
    if per_token <= 0:
        raise ValueError("bytes read per token must be positive")
    return bandwidth_gbps * 1e9 / per_token


_EXPERT_TENSOR = re.compile(r"^blk\.\d+\.ffn_[a-z0-9_]+_exps\.(weight|bias)$")


def active_weight_bytes(g: Geometry, weights_bytes: int) -> int:
    """Weight bytes read per token: all of them for a dense model; for MoE only the routed share.

    For a mixture of experts only `expert_used_count` of `expert_count`
    experts run per token, so of the routed expert tensors
    (`blk.N.ffn_{gate,up,down,gate_up}_exps`, sizes from the GGUF tensor infos)
    only that fraction is read; shared experts (`_shexp`), attention and
    embeddings are read in full. Without tensor infos or expert counts the
    model is treated as dense (an upper bound on bytes, a lower bound on speed).
    """
    if not (g.tensors and g.expert_count and g.expert_used_count):
        return weights_bytes
    expert = sum(t.n_bytes for t in g.tensors if _EXPERT_TENSOR.match(t.name))
    if not expert:
        return weights_bytes
    used = min(g.expert_used_count, g.expert_count)
    return weights_bytes - expert + expert * used // g.expert_count
