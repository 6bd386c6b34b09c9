"""Worlds with server-log evidence for the CTX4xx rule tests (real-format log lines)."""

from __future__ import annotations

from worlds import binding, model

from ctxfix.evidence import LogEvidence
from ctxfix.records import replace
from ctxfix.sources.log_events import LogParser
from ctxfix.world import ResolvedModel, World

HEX = "fef241409206da05af13a786763ddec98036b16faf7c49beb93e8d297ad82f25"
DIGEST = f"sha256:{HEX}"
BLOB = f"/Users/dev/.ollama/models/blobs/sha256-{HEX}"

LOAD_131072 = (
    'time=2026-11-24T09:00:00.000Z level=INFO source=server.go:392 msg="starting runner" '
    f'cmd="/usr/local/bin/ollama runner --ollama-engine --model {BLOB} --port 5000"\n'
    "time=2026-11-24T09:00:01.000Z level=INFO source=runner.go:1271 msg=load "
    'request="{Operation:commit LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:Auto '
    'KvSize:131072 KvCacheType: NumThreads:8 GPULayers:[] MultiUserCache:false}"\n'
)


def truncation(day: int, prompt: int, new: int = 131072, limit: int = 131072) -> str:
    return (
        f"time=2026-11-{day:02d}T10:00:00.000Z level=WARN source=runner.go:186 "
        f'msg="truncating input prompt" limit={limit} prompt={prompt} keep=4 new={new}\n'
    )


def evidence(text: str, source: str = "server.log") -> LogEvidence:
    ev = LogEvidence()
    p = LogParser(source, ev)
    p.feed_block(text.encode())
    p.finish()
    return ev


def with_digest(m: ResolvedModel, digest: str = DIGEST) -> ResolvedModel:
    return replace(m, definition=replace(m.definition, model_digest=digest))


def world(text: str, *, bound: bool = True, models: list[ResolvedModel] | None = None) -> World:
    ms = models or [with_digest(model())]
    w = World(models=ms, bindings=[binding(ms[0])] if bound else [])
    w.evidence = evidence(text)
    return w
