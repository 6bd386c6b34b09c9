"""opencode reader: provider models, refs, ms timeouts, /v1 API."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import opencode

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures/configs/opencode"
OPTS = ("provider", "ollama", "options")
HEADER = (*OPTS, "headerTimeout")


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
    # `timeout` 600000 ms bounds the whole request, but the unset `headerTimeout`
    # (300000 ms) ends the wait for the first chunk first: that is the bound
    assert (big.timeout_s.value, big.timeout_unit_s) == (300.0, 0.001)
    assert (big.timeout_s.source, big.timeout_s.location.line) == ("default", None)
    assert big.edit_paths["timeout"] == ("provider", "ollama", "options", "headerTimeout")
    assert big.timeout_also == ((("provider", "ollama", "options", "timeout"), 600000.0),)
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
    assert (b.model_ref.value, b.model_ref.location.line) == ("gemma3:27b", 6)
    assert b.timeout_s is not None and b.timeout_s.value == 300.0  # `false`: headerTimeout left


def _bounds(options: str) -> tuple[float | None, str | None, tuple]:
    head = '{"model": "ollama/m:1", "provider": {"ollama": {"options": {'
    text = head + options + '}, "models": {"m:1": {}}}}}'

    (b,) = opencode.read(Path("opencode.json"), text)
    where = b.edit_paths["timeout"][-1] if b.timeout_s else None
    return (b.timeout_s.value if b.timeout_s else None), where, b.timeout_also


@pytest.mark.parametrize(
    ("options", "want"),
    [
        # upstream provider.ts `timeoutFetch`: timeout has no default, headerTimeout 300000
        ("", (300.0, "headerTimeout", ())),
        ('"timeout": 120000', (120.0, "timeout", ((HEADER, 300000.0),))),
        ('"headerTimeout": 900000', (900.0, "headerTimeout", ())),
        (
            '"timeout": 600000, "headerTimeout": 900000',
            (600.0, "timeout", ((HEADER, 900000.0),)),
        ),
        ('"headerTimeout": false', (None, None, ())),
        ('"timeout": 60000, "headerTimeout": false', (60.0, "timeout", ())),
        ('"timeout": false, "headerTimeout": false', (None, None, ())),
        # a header timer is armed only for a number (`typeof headerTimeout === "number"`)
        ('"headerTimeout": "5m"', (None, None, ())),
        ('"timeout": 60000, "headerTimeout": "900000"', (60.0, "timeout", ())),
    ],
)
def test_the_smaller_of_timeout_and_header_timeout_bounds_the_prefill(
    options: str, want: tuple
) -> None:
    assert _bounds(options) == want


def test_other_json_rejected_and_malformed() -> None:
    assert opencode.read(Path("opencode.json"), '{"theme": "dark"}') == []
    with pytest.raises(CtxfixError) as err:
        opencode.read(Path("p/opencode.json"), '{\n  "model": "ollama/x"\n  "provider": {}\n}\n')
    assert err.value.where.startswith("p/opencode.json:3:")


def test_user_paths_honour_xdg() -> None:
    paths = opencode.user_paths({"XDG_CONFIG_HOME": "/x", "OPENCODE_CONFIG": "/o.json"}, Path("/h"))
    assert paths[:2] == [Path("/o.json"), Path("/x/opencode/opencode.json")]
    assert opencode.user_paths({}, Path("/h"))[0] == Path("/h/.config/opencode/opencode.json")
