"""Context labels: what a model name claims, and the labels ctxfix writes.

Names are real Ollama library tags and hf.co repos (plus the custom names
from the motivating case), so a change that starts reading `30b`, `q4_K_M`
or `2507` as a context shows up here.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctxfix.labels import (
    DEFAULT_CONVENTION,
    find_label,
    format_label,
    label_matches,
    relabel,
)

K128 = {128000, 131072}

LABELLED = [
    # (name, label text, a value it must match, nominal value)
    ("qwen3-coder:30b-v-128k", "v-128k", 131072, 131072),
    ("30b-v-128k", "v-128k", 128000, 131072),
    ("v-128k", "v-128k", 131072, 131072),
    ("qwen3-coder:30b-262k", "262k", 262144, 262144),
    ("qwen3-coder:30b-256k", "256k", 262144, 262144),
    ("yarn-mistral:7b-128k", "128k", 131072, 131072),
    ("yarn-mistral:7b-64k", "64k", 65536, 65536),
    ("yarn-llama2:13b-128k-q4_0", "128k", 131072, 131072),
    ("llama3-gradient:8b-instruct-1048k-q4_K_M", "1048k", 1048576, 1048576),
    ("phi3:14b-medium-128k-instruct-q4_0", "128k", 128000, 131072),
    ("phi3:14b-medium-4k-instruct-q4_K_M", "4k", 4096, 4096),
    ("vicuna:13b-v1.5-16k-q4_0", "16k", 16384, 16384),
    ("hf.co/unsloth/Qwen3-30B-A3B-128K-GGUF:Q4_K_M", "128K", 131072, 131072),
    ("hf.co/unsloth/Qwen2.5-Coder-32B-Instruct-128K-GGUF:Q8_0", "128K", 131072, 131072),
    ("hf.co/bartowski/Qwen2.5-7B-Instruct-1M-GGUF:Q4_K_M", "1M", 1000000, 1048576),
    ("hf.co/microsoft/Phi-3-mini-4k-instruct-gguf:Q4", "4k", 4000, 4096),
    ("qwen2.5-coder-32k:latest", "32k", 32768, 32768),
    ("qwen2.5-coder:32b-ctx32k", "ctx32k", 32768, 32768),
    ("qwen2.5-coder:32b-ctx-32k", "ctx-32k", 32000, 32768),
    ("llama3.1:8b-32kctx", "32kctx", 32768, 32768),
    ("llama3.1:8b-32k-ctx", "32k-ctx", 32768, 32768),
    ("qwen3:8b-ctx40960", "ctx40960", 40960, 40960),
    ("llama3.1:8b-32768", "32768", 32768, 32768),
    ("mistral:7b-2m", "2m", 2097152, 2097152),
    ("ollama/qwen3-coder:30b-v-128k", "v-128k", 131072, 131072),
]


@pytest.mark.parametrize(("name", "text", "ctx", "nominal"), LABELLED)
def test_find_label_reads_real_and_custom_names(name, text, ctx, nominal):
    label = find_label(name)
    assert label is not None
    assert label.text == text
    assert name[label.start : label.end] == text
    assert label_matches(label, ctx)
    assert label.value == nominal


@pytest.mark.parametrize(
    "name",
    [
        "qwen3-coder:30b",
        "qwen3-coder:30b-a3b-q4_K_M",
        "qwen3:30b-a3b-instruct-2507-q4_K_M",
        "qwen3:235b-a22b-thinking-2507-q8_0",
        "mistral-nemo:12b-instruct-2407-q4_K_M",
        "mistral-small:24b-instruct-2501-q4_K_M",
        "command-r:35b-08-2024-q4_K_M",
        "mixtral:8x7b-instruct-v0.1-q4_K_M",
        "mixtral:8x22b",
        "mistral:7b-instruct-v0.3-q4_K_M",
        "llama3.1:8b-instruct-fp16",
        "llama3.2:1b-instruct-q8_0",
        "qwen2.5-coder:1.5b-instruct-q8_0",
        "gemma3n:e4b-it-q4_K_M",
        "gemma3:27b-it-qat",
        "deepseek-r1:7b-qwen-distill-q4_K_M",
        "deepseek-coder-v2:16b-lite-instruct-q4_0",
        "glm-4.5-air",
        "smollm2:135m",
        "gemma3:270m",
        "all-minilm:33m",
        "embeddinggemma:300m",
        "nomic-embed-text:v1.5",
        "llava:7b-v1.6-mistral-q4_K_M",
        "hf.co/unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF:UD-Q4_K_XL",
        "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:IQ2_XXS",
        "hf.co/unsloth/Llama-4-Scout-17B-16E-Instruct-GGUF:Q4_K_M",
        "qwen3:0.6b",
        "codellama:7b-code-q4_0",
    ],
)
def test_sizes_quants_versions_and_dates_are_not_labels(name):
    assert find_label(name) is None


def test_tag_label_wins_over_repo_label_and_host_is_ignored():
    label = find_label("hf.co/unsloth/Qwen3-30B-A3B-128K-GGUF:Q4_K_M-262k")
    assert label.text == "262k"
    assert find_label("registry-64k.example.com/team-32k/model:7b") is None


def test_128k_means_both_128000_and_131072():
    label = find_label("128k")
    assert label.values >= K128
    assert not label_matches(label, 262144)
    assert not label_matches(label, 65536)


def test_262k_reads_back_as_262144_for_the_motivating_fix():
    label = find_label("30b-262k")
    assert 262144 in label.values
    assert not label_matches(label, 131072)


@pytest.mark.parametrize(
    ("ctx", "k1000", "k1024"),
    [
        (262144, "262k", "256k"),
        (131072, "131k", "128k"),
        (32768, "32k", "32k"),
        (40960, "40k", "40k"),
        (4096, "4k", "4k"),
        (1048576, "1m", "1m"),
        (1000000, "1m", "1m"),
        (100000, "100k", "100k"),
        (12345, "ctx12345", "ctx12345"),
    ],
)
def test_format_label_conventions(ctx, k1000, k1024):
    assert format_label(ctx, "k1000") == k1000
    assert format_label(ctx, "k1024") == k1024


def test_default_convention_names_the_motivating_model_262k():
    assert DEFAULT_CONVENTION == "k1000"
    assert format_label(262144) == "262k"


def test_format_label_rejects_unknown_convention():
    with pytest.raises(ValueError):
        format_label(4096, "k999")


@pytest.mark.parametrize(
    ("name", "ctx", "expected"),
    [
        ("qwen3-coder:30b-v-128k", 262144, "qwen3-coder:30b-262k"),
        ("qwen3-coder:30b", 262144, "qwen3-coder:30b-262k"),
        ("qwen3-coder", 262144, "qwen3-coder:262k"),
        ("qwen3-coder:latest", 262144, "qwen3-coder:262k"),
        ("ollama/qwen3-coder:30b-v-128k", 262144, "ollama/qwen3-coder:30b-262k"),
        ("yarn-mistral:7b-64k", 131072, "yarn-mistral:7b-131k"),
        ("qwen2.5-coder:32b-ctx32k", 32768, "qwen2.5-coder:32b-32k"),
        (
            "hf.co/unsloth/Qwen3-30B-A3B-128K-GGUF:Q4_K_M",
            262144,
            "hf.co/unsloth/Qwen3-30B-A3B-262K-GGUF:Q4_K_M",
        ),
        ("phi3:14b-medium-4k-instruct-q4_K_M", 131072, "phi3:14b-medium-131k-instruct-q4_K_M"),
    ],
)
def test_relabel(name, ctx, expected):
    assert relabel(name, ctx) == expected


def test_relabel_k1024_convention():
    assert relabel("qwen3-coder:30b-v-128k", 262144, "k1024") == "qwen3-coder:30b-256k"


@given(
    st.integers(min_value=1, max_value=16 * 1048576),
    st.sampled_from(["k1000", "k1024"]),
    st.sampled_from(["qwen3-coder:30b", "qwen3-coder:30b-v-128k", "llama3.1", "m:8b-q4_K_M"]),
)
def test_property_relabel_reads_back_as_the_target(ctx, convention, name):
    new = relabel(name, ctx, convention)
    label = find_label(new)
    assert label is not None
    assert label_matches(label, ctx)
    assert label.text.lower() == format_label(ctx, convention)
