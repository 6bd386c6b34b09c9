"""Model-name normalisation: every source must agree on one name per model."""

import pytest

from ctxfix.names import canonical, same_model, split_name, strip_provider


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("qwen3-coder:30b", "qwen3-coder:30b"),
        ("Qwen3-Coder:30B", "qwen3-coder:30b"),
        ("qwen3-coder", "qwen3-coder:latest"),
        ("library/qwen3-coder:30b", "qwen3-coder:30b"),
        ("registry.ollama.ai/library/qwen3-coder:30b", "qwen3-coder:30b"),
        ("ollama/qwen3-coder:30b-v-128k", "qwen3-coder:30b-v-128k"),
        ("ollama_chat/qwen2.5-coder:32b", "qwen2.5-coder:32b"),
        (
            "hf.co/unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF:Q4_K_M",
            "hf.co/unsloth/qwen3-coder-30b-a3b-instruct-gguf:q4_k_m",
        ),
        ("myuser/mymodel", "myuser/mymodel:latest"),
        ("localhost:5000/team/model:v1", "localhost:5000/team/model:v1"),
    ],
)
def test_canonical(ref, expected):
    assert canonical(ref) == expected


def test_split_name_defaults():
    assert split_name("qwen3") == ("registry.ollama.ai", "library", "qwen3", "latest")
    assert split_name("hf.co/org/repo:Q4_K_M") == ("hf.co", "org", "repo", "Q4_K_M")


def test_strip_provider_leaves_other_prefixes():
    assert strip_provider("openai/gpt-4o") == "openai/gpt-4o"
    assert strip_provider("OLLAMA/x:1") == "x:1"


def test_same_model():
    assert same_model("ollama/Qwen3:8B", "qwen3:8b")
    assert not same_model("qwen3:8b", "qwen3:4b")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("qwen3-coder:30b-v-128k", "qwen3-coder:30b-131k"),
        ("m:" + "a" * 80, "m:" + "a" * 75 + "-131k"),
        ("m:" + "a" * 70 + "-v-128k-q4_K_M", "m:" + "a" * 68 + "-131k-q4_K_M"),
        ("m:" + "a-" * 40, "m:" + "a-" * 37 + "a-131k"),
        ("hf.co/o/" + "Q" * 76 + "-32K:q8", "hf.co/o/" + "Q" * 75 + "-131K:q8"),
    ],
    ids=["short", "80-char-tag", "label-inside-long-tag", "separators", "label-in-model"],
)
def test_a_new_model_name_fits_ollamas_80_byte_parts(old: str, new: str) -> None:
    """The name apply creates is one `ollama create` accepts, and still says its context."""
    from ctxfix.labels import find_label
    from ctxfix.names import name_problem
    from ctxfix.policy.usage import successor_name

    got = successor_name(old, 131072, "k1000")
    assert got == new
    assert name_problem(got) is None
    label = find_label(got)
    assert label is not None and 131072 in label.values


def test_an_80_char_tag_is_refused_once_it_grows() -> None:
    from ctxfix.names import name_problem

    assert name_problem("m:" + "a" * 80) is None
    assert "tag" in (name_problem("m:" + "a" * 80 + "-131k") or "")


def test_a_scheme_is_not_part_of_the_model_name() -> None:
    assert split_name("https://host:5000/team/model:v1") == ("host:5000", "team", "model", "v1")
    assert canonical("https://host:5000/team/Model:V1") == "host:5000/team/model:v1"
