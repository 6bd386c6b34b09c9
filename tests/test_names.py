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
