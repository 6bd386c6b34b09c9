"""opencode reader: provider models, refs, ms timeouts, /v1 API."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import opencode

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures/configs/opencode"


def test_jsonc_config() -> None:
    f = FIX / "opencode.jsonc"
    big, small = opencode.read(f)
    assert (big.model, big.api, big.host, big.format) == (
        "qwen3-coder:30b",
        "openai",
        "http://localhost:11434/v1",
        "jsonc",
    )
    assert big.model_ref.location == Location(str(f), 4, 12, "model")
    assert big.context_window.location == Location(
        str(f), 17, 33, "provider.ollama.models.qwen3-coder:30b.limit.context"
    )
    assert (big.context_window.value, big.max_tokens.value) == (262144, 65536)
    assert big.num_ctx.value == 262144  # set, but /v1 ignores it
    # 600000 ms -> 600 s
    assert (big.timeout_s.value, big.timeout_unit_s) == (600.0, 0.001)
    assert big.timeout_s.location.line == 12
    assert big.edit_paths["timeout"] == ("provider", "ollama", "options", "timeout")
    assert small.model_ref.location.key == "small_model"
    assert small.num_ctx is None


def test_default_timeout_and_custom_provider_id() -> None:
    (b,) = opencode.read(FIX / "opencode.json")
    assert (b.model, b.model_ref.value) == ("llama3.3:70b", "lan/llama3.3:70b")
    assert (b.timeout_s.value, b.timeout_s.source) == (300.0, "default")
    assert b.format == "json"


def test_listed_but_unselected_model_is_located_at_its_key() -> None:
    text = (
        '{\n  "provider": {\n    "ollama": {\n      "options": {"baseURL": "http://h:11434/v1",'
        ' "timeout": false},\n      "models": {\n        "gemma3:27b": {}\n      }\n    }\n  }\n}\n'
    )
    (b,) = opencode.read(Path("opencode.json"), text)
    assert (b.model_ref.value, b.model_ref.location.line, b.timeout_s) == ("gemma3:27b", 6, None)


def test_other_json_rejected_and_malformed() -> None:
    assert opencode.read(Path("opencode.json"), '{"theme": "dark"}') == []
    with pytest.raises(CtxfixError) as err:
        opencode.read(Path("p/opencode.json"), '{\n  "model": "ollama/x"\n  "provider": {}\n}\n')
    assert err.value.where.startswith("p/opencode.json:3:")


def test_user_paths_honour_xdg() -> None:
    paths = opencode.user_paths({"XDG_CONFIG_HOME": "/x", "OPENCODE_CONFIG": "/o.json"}, Path("/h"))
    assert paths[:2] == [Path("/o.json"), Path("/x/opencode/opencode.json")]
    assert opencode.user_paths({}, Path("/h"))[0] == Path("/h/.config/opencode/opencode.json")
