"""CTX401 prompts-truncated: evidence of cut prompts, joined to the agent that sent them."""

from __future__ import annotations

from evidence_worlds import LOAD_131072, truncation, with_digest, world
from worlds import model, run

from ctxfix.records import replace


def test_ctx401_counts_time_range_largest_and_joins_the_binding():
    text = LOAD_131072 + truncation(24, 139820) + truncation(30, 146760) + truncation(27, 133000)
    (f,) = run("CTX401", world(text))
    assert f.message == (
        "openclaw -> qwen3-coder:30b-v-128k: 3 prompts cut in 7 days (2026-11-24 .. 2026-11-30) "
        "(largest 146,760 -> 131,072) at num_ctx 131,072"
    )
    assert f.severity == "error" and f.agent == "openclaw"
    assert (f.location.file, f.location.line) == ("server.log", 4)
    ev = f.data["evidence"]
    assert ev["count"] == 3 and ev["largest"]["prompt"] == 146760 and len(ev["samples"]) == 3
    assert f.data["related"][0]["file"] == "openclaw.json"
    assert f.fix is None


def test_ctx401_shared_blob_goes_to_the_name_serving_the_logged_context():
    capped = with_digest(model())  # num_ctx 131072
    base = with_digest(model(name="qwen3-coder:30b", num_ctx=None, served=4096))
    text = LOAD_131072 + truncation(30, 146760)
    (f,) = run("CTX401", world(text, bound=False, models=[base, capped]))
    assert f.model == "qwen3-coder:30b-v-128k"
    assert f.data["models"] == ["qwen3-coder:30b-v-128k"]


def test_ctx401_binding_names_the_other_names_of_an_ambiguous_blob():
    """Review: with a bound agent, the names sharing the blob were only in `data`."""
    capped = with_digest(model())  # num_ctx 131072
    base = with_digest(model(name="qwen3-coder:30b", num_ctx=None, served=4096))
    text = LOAD_131072.replace("KvSize:131072", "KvSize:8192") + truncation(30, 9000, 8192, 8192)
    (f,) = run("CTX401", world(text, models=[capped, base]))  # 8192: neither serves it
    assert f.message.startswith("openclaw -> qwen3-coder:30b-v-128k: 1 prompt cut on ")
    assert f.message.endswith("at num_ctx 8,192 (same blob: qwen3-coder:30b)")
    assert f.data["models"] == ["qwen3-coder:30b-v-128k", "qwen3-coder:30b"]


def test_ctx401_without_a_load_line_is_an_unattributed_warning():
    (f,) = run("CTX401", world(truncation(30, 146760)))
    assert f.severity == "warning"
    assert f.message.startswith("an unknown model (no load line before these events in the log)")


def test_ctx401_silent_without_evidence_or_truncation():
    w = world(LOAD_131072)
    assert run("CTX401", w) == []
    w.evidence = None
    assert run("CTX401", w) == []


def test_ctx401_rejections_are_reported_too():
    # upstream returns this as an HTTP 400 body; a log that records it (a gateway) counts
    text = LOAD_131072 + (
        'time=2026-11-30T10:00:00.000Z level=ERROR msg="upstream error" error="the prompt is '
        'longer than the context length currently available to the model; shorten the prompt"\n'
    )
    (f,) = run("CTX401", world(text))
    assert "1 prompt refused as longer than the context on 2026-11-30" in f.message


def test_ctx101_with_observed_truncation_becomes_an_error():
    text = LOAD_131072 + truncation(30, 146760)
    (f,) = run("CTX101", world(text))
    assert f.severity == "error"
    assert f.message.endswith(
        "; the server log shows 1 prompt cut on 2026-11-30 (largest 146,760 -> 131,072)"
    )
    assert f.data["observed"]["truncated"] == 1
    (f,) = run("CTX101", world(LOAD_131072))
    assert f.severity == "warning"


def test_ctx202_with_observed_truncation_becomes_an_error():
    text = LOAD_131072 + truncation(30, 146760)
    (f,) = run("CTX202", world(text))
    assert f.severity == "error" and "the server log shows 1 prompt cut" in f.message


def test_ctx104_with_observed_truncation_is_an_error_even_unused():
    m = with_digest(model(num_ctx=None, served=4096, served_source="default", relies=True))
    m = replace(m, served_ctx=replace(m.served_ctx, value=4096))
    load = LOAD_131072.replace("KvSize:131072", "KvSize:4096")
    w = world(load + truncation(30, 9000, new=4096, limit=4096), bound=False, models=[m])
    (f,) = run("CTX104", w)
    assert f.severity == "error" and "1 prompt cut" in f.message
