"""CTX402 ctx-above-training: a num_ctx above n_ctx_train, from the server log."""

from __future__ import annotations

from evidence_worlds import BLOB, world
from worlds import model, run

TOO_LARGE = (
    "time=2026-11-30T08:00:00.000Z level=WARN source=server.go:114 "
    'msg="requested context size too large for model" num_ctx=300000 n_ctx_train=262144\n'
    "time=2026-11-30T08:00:01.000Z level=INFO source=llama_server.go:433 "
    f'msg="starting llama-server" cmd="/usr/lib/ollama/llama-server --model {BLOB} '
    '--port 40123 -c 262144 -np 1"\n'
)


def test_ctx402_names_the_model_of_the_next_load():
    from evidence_worlds import with_digest

    m = with_digest(model(num_ctx=300000, served=262144))
    (f,) = run("CTX402", world(TOO_LARGE, models=[m]))
    assert f.message == (
        "qwen3-coder:30b-v-128k: num_ctx 300,000 requested, above the training context "
        "262,144: Ollama served 262,144 (1 load on 2026-11-30)"
    )
    assert f.severity == "warning" and f.location.line == 1
    assert f.data["requested"] == 300000 and f.data["native"] == 262144


def test_ctx402_silent_without_the_line():
    assert run("CTX402", world("")) == []
