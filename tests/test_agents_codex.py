"""Codex CLI config.toml reader: root settings, profiles, built-in provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import codex

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "codex"
MAIN = FIX / "config.toml"


def by_key(bindings):
    return {b.model_ref.location.key: b for b in bindings}


def test_root_and_ollama_profiles_become_bindings():
    got = by_key(codex.read(MAIN))
    # profiles.mistral uses a cloud provider: no binding
    assert sorted(got) == ["model", "profiles.big.model", "profiles.fast.model"]


def test_root_binding_values_and_locations():
    b = by_key(codex.read(MAIN))["model"]
    assert (b.agent, b.model, b.api, b.format) == ("codex", "qwen3-coder:30b", "openai", "toml")
    assert b.host == "http://localhost:11434/v1"
    assert (b.model_ref.location.line, b.model_ref.location.col) == (4, 9)
    assert b.context_window.value == 32768
    assert (b.context_window.location.line, b.context_window.location.key) == (
        6,
        "model_context_window",
    )
    assert b.num_ctx is None and b.max_tokens is None
    # 300000 ms -> 300 s
    assert b.timeout_s.value == 300.0 and b.timeout_unit_s == 0.001
    assert b.timeout_s.location.line == 15
    assert b.edit_paths == {
        "model_ref": ("model",),
        "context_window": ("model_context_window",),
        "max_tokens": ("model_max_output_tokens",),
        "timeout": ("model_providers", "ollama", "stream_idle_timeout_ms"),
    }


def test_user_table_named_ollama_carries_a_note():
    b = by_key(codex.read(MAIN))["model"]
    assert "built-in 'ollama' provider" in b.timeout_s.note


def test_profile_with_own_provider_window_and_output_cap():
    b = by_key(codex.read(MAIN))["profiles.big.model"]
    assert b.model == "qwen3-coder:30b-262k"
    assert b.host == "http://192.168.1.20:11434/v1"
    assert (b.context_window.value, b.context_window.location.line) == (262144, 32)
    assert b.context_window.location.key == "profiles.big.model_context_window"
    assert (b.max_tokens.value, b.max_tokens.location.line) == (16384, 33)
    # 600_000 ms (TOML underscores) -> 600 s, no note for a custom provider id
    assert (b.timeout_s.value, b.timeout_s.location.line, b.timeout_s.note) == (600.0, 21, "")
    assert b.edit_paths["context_window"] == ("profiles", "big", "model_context_window")
    assert b.edit_paths["timeout"] == ("model_providers", "gpu-box", "stream_idle_timeout_ms")


def test_profile_inherits_root_values_but_edits_go_into_the_profile():
    b = by_key(codex.read(MAIN))["profiles.fast.model"]
    assert b.model == "gpt-oss:20b"
    assert b.host == "http://localhost:11434/v1"
    # the window it plans with is the root one ...
    assert (b.context_window.value, b.context_window.location.key) == (
        32768,
        "model_context_window",
    )
    # ... but a fix is written into the active profile only
    assert b.edit_paths["context_window"] == ("profiles", "fast", "model_context_window")
    assert b.edit_paths["max_tokens"] == ("profiles", "fast", "model_max_output_tokens")


def test_builtin_ollama_provider_defaults():
    (b,) = codex.read(FIX / "builtin" / "config.toml")
    assert (b.model, b.host, b.api) == ("devstral:24b", "http://localhost:11434/v1", "openai")
    assert b.context_window is None
    assert (b.timeout_s.value, b.timeout_s.source) == (300.0, "default")
    # the built-in provider's timeout cannot be configured: nothing to edit
    assert "timeout" not in b.edit_paths
    assert b.edit_paths["context_window"] == ("model_context_window",)


def test_cloud_provider_gives_no_binding():
    assert codex.read(FIX / "x.toml", 'model = "gpt-5-codex"\nmodel_provider = "openai"\n') == []


def test_custom_provider_on_port_11434_is_ollama():
    text = (
        'model = "llama3.1:8b"\nmodel_provider = "box"\n\n'
        '[model_providers.box]\nname = "LAN"\nbase_url = "http://10.0.0.5:11434/v1"\n'
    )
    (b,) = codex.read(FIX / "config.toml", text)
    assert (b.model, b.host) == ("llama3.1:8b", "http://10.0.0.5:11434/v1")
    assert (b.timeout_s.source, b.edit_paths["timeout"]) == (
        "default",
        ("model_providers", "box", "stream_idle_timeout_ms"),
    )


def test_inline_ignore_comment_suppresses_codes():
    text = '# ctxfix: ignore[CTX202, ctx301]\nmodel = "qwen3:8b"\nmodel_provider = "ollama"\n'
    (b,) = codex.read(FIX / "config.toml", text)
    assert b.suppressed == frozenset({"CTX202", "CTX301"})


def test_cargo_config_toml_is_not_codex():
    path = FIX / "cargo" / ".cargo" / "config.toml"
    from ctxfix.edits.document import load_document

    assert not codex.detect(path, load_document(path).data)
    assert codex.read(path) == []


def test_user_paths_honour_codex_home(tmp_path):
    home = tmp_path / ".codex"
    assert codex.user_paths({}, tmp_path) == [
        home / "config.toml",
        home / "ollama-launch.config.toml",
    ]
    assert codex.user_paths({"CODEX_HOME": "/srv/codex"}, tmp_path) == [
        Path("/srv/codex/config.toml"),
        Path("/srv/codex/ollama-launch.config.toml"),
    ]


def test_malformed_toml_names_file_line_and_column():
    text = 'model = "x"\nmodel_provider = "ollama"\n[profiles.big\nmodel = 1\n'
    with pytest.raises(CtxfixError) as exc:
        codex.read(FIX / "config.toml", text)
    assert exc.value.where == f"{FIX / 'config.toml'}:3:14"


def test_wrong_shape_is_an_error_with_location():
    with pytest.raises(CtxfixError) as exc:
        codex.read(FIX / "config.toml", 'model_providers = "ollama"\n')
    assert exc.value.where == f"{FIX / 'config.toml'}:1:19"
    assert "must be a table" in exc.value.problem


def test_openhands_config_toml_is_not_codex():
    path = FIX.parent / "openhands" / "config.toml"
    assert codex.read(path) == []


def test_oss_provider_gives_a_binding_for_codex_oss():
    """`oss_provider = "ollama"`: `codex --oss` uses gpt-oss:20b on the built-in provider."""
    root, local = codex.read(FIX / "oss" / "config.toml")
    assert (root.model, root.host, root.api) == (
        "gpt-oss:20b",
        "http://localhost:11434/v1",
        "openai",
    )
    # the model is Codex's choice, located at the key that selects it; it is never renamed
    assert (root.model_ref.source, root.model_ref.location.key) == ("default", "oss_provider")
    assert root.pinned and "codex --oss" in root.pinned and root.refs == ()
    assert (root.context_window.value, root.context_window.location.line) == (131072, 6)
    assert (root.timeout_s.value, root.timeout_s.source) == (300.0, "default")
    assert "timeout" not in root.edit_paths
    assert local.context_window.value == 8192
    assert local.edit_paths["context_window"] == ("profiles", "local", "model_context_window")


def test_oss_provider_is_no_second_binding_when_the_provider_is_already_ollama():
    text = 'model = "qwen3:8b"\nmodel_provider = "ollama"\noss_provider = "ollama"\n'
    (b,) = codex.read(FIX / "config.toml", text)
    assert b.model == "qwen3:8b"


def test_oss_provider_lmstudio_is_not_ollama():
    assert codex.read(FIX / "config.toml", 'oss_provider = "lmstudio"\n') == []


def test_what_ollama_launch_codex_writes_is_read_with_its_catalog_window():
    """`ollama-launch.config.toml` + `model.json`: the window is the catalog's native 262,144."""
    (b,) = codex.read(FIX / "launch" / "ollama-launch.config.toml")
    assert (b.model, b.host) == ("qwen3-coder:30b", "http://127.0.0.1:11434/v1/")
    # model_catalog_json names /home/dev/.codex/model.json: the sibling launch writes is read
    w = b.context_window
    assert (w.value, w.location.file, w.location.line) == (
        262144,
        str(FIX / "launch" / "model.json"),
        5,
    )
    assert w.location.key == "models[0].context_window"
    assert b.written_by == "ollama launch"
    # both files are rewritten on every launch: nothing but the model is located for edits
    assert b.pinned and b.edit_paths == {"model_ref": ("model",)}


def test_catalog_window_loses_to_model_context_window(tmp_path):
    (tmp_path / "cat.json").write_text('{"models": [{"slug": "llama3.1:8b", "context_window": 8}]}')
    text = (
        'model = "llama3.1:8b"\nmodel_provider = "box"\nmodel_catalog_json = "cat.json"\n'
        "model_context_window = 65536\n\n"
        '[model_providers.box]\nbase_url = "http://10.0.0.5:11434/v1"\n'
    )
    (b,) = codex.read(tmp_path / "config.toml", text)
    assert (b.context_window.value, b.written_by, b.pinned) == (65536, None, None)
    (b,) = codex.read(tmp_path / "config.toml", text.replace("model_context_window = 65536\n", ""))
    assert (b.context_window.value, b.context_window.location.file) == (
        8,
        str(tmp_path / "cat.json"),
    )
    assert b.edit_paths["context_window"] == ("model_context_window",)  # an override wins


def test_user_paths_include_the_ollama_launch_profile(tmp_path):
    assert tmp_path / ".codex" / "ollama-launch.config.toml" in codex.user_paths({}, tmp_path)


def test_what_ollama_launch_chatgpt_writes_is_marked_and_its_model_pinned():
    """codex_app.go: the user's config.toml names `ollama-launch-models.json` beside it."""
    (b,) = codex.read(FIX / "app" / "config.toml")
    assert (b.model, b.context_window.value) == ("qwen3-coder:30b", 262144)
    # model_catalog_json names /home/dev/.codex/...: the catalog beside the config is read
    assert b.context_window.location.file == str(FIX / "app" / "ollama-launch-models.json")
    assert b.written_by == "ollama launch"
    assert b.pinned and "chatgpt" in b.pinned  # launch puts its saved model back
    # the user's own file: the window is fixed with model_context_window, which Codex prefers
    assert b.edit_paths["context_window"] == ("model_context_window",)


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://localhost:11434/v1"),
        ({"CODEX_OSS_PORT": "11500"}, "http://localhost:11500/v1"),
        ({"CODEX_OSS_PORT": "+11500"}, "http://localhost:11500/v1"),  # Rust u16 parse
        ({"CODEX_OSS_PORT": " 11500"}, "http://localhost:11434/v1"),  # not trimmed
        ({"CODEX_OSS_PORT": "70000"}, "http://localhost:11434/v1"),
        (
            {"CODEX_OSS_BASE_URL": "http://gpu:11434/v1", "CODEX_OSS_PORT": "1"},
            "http://gpu:11434/v1",
        ),
        ({"CODEX_OSS_BASE_URL": "  ", "CODEX_OSS_PORT": "1"}, "http://localhost:1/v1"),
    ],
)
def test_codex_oss_url_follows_create_oss_provider(env: dict, url: str, tmp_path) -> None:
    """codex-rs/model-provider-info/src/lib.rs create_oss_provider: env moves --oss's server."""
    from ctxfix.sources.agents import codex

    cfg = tmp_path / "config.toml"
    cfg.write_text('oss_provider = "ollama"\nmodel_context_window = 8192\n')
    (b,) = codex.read(cfg, env=env)
    assert b.host == url and b.model == "gpt-oss:20b"
