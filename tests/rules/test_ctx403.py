"""CTX403 auto-ctx-stepped-down: the automatic context lowered after an OOM load (0.30+)."""

from __future__ import annotations

from evidence_worlds import BLOB, with_digest, world
from worlds import model, run

OOM = (
    "time=2026-11-30T08:00:02.000Z level=WARN source=sched.go:652 "
    'msg="llama-server load failed; reducing automatic context and retrying once" '
    f"model={BLOB} old_num_ctx=262144 effective_num_ctx=262144 new_num_ctx=131072 "
    'old_num_batch=512 new_num_batch=512 loaded_count=0 evict_all=false error="out of memory"\n'
)


def test_ctx403_reports_the_step_down_for_the_auto_context_model():
    auto = with_digest(model(name="qwen3-coder:30b", num_ctx=None, relies=True))
    capped = with_digest(model())
    (f,) = run("CTX403", world(OOM, bound=False, models=[capped, auto]))
    assert f.message == (
        "qwen3-coder:30b: the automatic context 262,144 did not fit in memory: "
        "Ollama stepped down to 131,072 (1 time on 2026-11-30)"
    )
    assert f.data["old"] == 262144 and f.data["new"] == 131072


def test_ctx403_silent_without_the_line():
    assert run("CTX403", world("")) == []
