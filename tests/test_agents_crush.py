"""Crush crush.json reader: custom Ollama providers and selected-model overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import crush

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "crush"
MAIN = FIX / "crush.json"


def test_every_model_of_the_ollama_provider_is_a_binding():
    got = [(b.model, b.model_ref.location.key) for b in crush.read(MAIN)]
    # LM Studio on :1234 is not Ollama
    assert got == [
        ("qwen3-coder:30b", "providers.ollama.models[0].id"),
        ("devstral:24b", "providers.ollama.models[1].id"),
    ]


def test_binding_values_and_locations():
    b = crush.read(MAIN)[0]
    assert (b.agent, b.api, b.host, b.format) == (
        "crush",
        "openai",
        "http://localhost:11434/v1/",
        "json",
    )
    assert (b.model_ref.location.line, b.model_ref.location.col) == (11, 17)
    assert (b.context_window.value, b.context_window.location.line) == (256000, 12)
    assert b.num_ctx is None and b.timeout_s is None
    assert b.edit_paths["context_window"] == ("providers", "ollama", "models", 0, "context_window")


def test_selected_model_max_tokens_overrides_the_default():
    large, small = crush.read(MAIN)
    assert (large.max_tokens.value, large.max_tokens.location.key) == (
        16384,
        "models.large.max_tokens",
    )
    assert large.edit_paths["max_tokens"] == ("models", "large", "max_tokens")
    # models.small sets no max_tokens: the model's default_max_tokens applies
    assert (small.max_tokens.value, small.max_tokens.location.line) == (8192, 19)


def test_custom_provider_id_on_port_11434():
    (b,) = crush.read(FIX / "project" / ".crush.json")
    assert (b.model, b.host, b.context_window.value, b.max_tokens.value) == (
        "gpt-oss:120b",
        "http://192.168.1.20:11434/v1",
        131072,
        32768,
    )


def test_disabled_provider_is_skipped():
    text = (
        '{"providers": {"ollama": {"disable": true, "base_url": "http://localhost:11434/v1",'
        ' "models": [{"id": "qwen3:8b", "context_window": 32768}]}}}'
    )
    assert crush.read(MAIN, text) == []


def test_opencode_json_is_not_crush():
    text = """{
  "$schema": "https://opencode.ai/config.json",
  "model": "ollama/qwen3:8b",
  "provider": { "ollama": { "npm": "@ai-sdk/openai-compatible",
    "options": { "baseURL": "http://localhost:11434/v1" },
    "models": { "qwen3:8b": { "limit": { "context": 32768, "output": 8192 } } } } }
}"""
    assert not crush.detect(MAIN, {"$schema": "https://opencode.ai/config.json"})
    assert crush.read(FIX / "opencode.json", text) == []


def test_user_paths_honour_xdg(tmp_path):
    """load.go lookupConfigs: system, global JSON, global crushrc, data JSON (no crushrc)."""
    assert crush.user_paths({}, tmp_path) == [
        Path("/etc/crush/crush.json"),
        tmp_path / ".config" / "crush" / "crush.json",
        tmp_path / ".config" / "crush" / "crushrc",
        tmp_path / ".local" / "share" / "crush" / "crush.json",
    ]
    assert crush.user_paths({"XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d"}, tmp_path)[1:] == [
        Path("/c/crush/crush.json"),
        Path("/c/crush/crushrc"),
        Path("/d/crush/crush.json"),
    ]
    env = {"CRUSH_GLOBAL_CONFIG": "/g", "CRUSH_GLOBAL_DATA": "/s", "XDG_CONFIG_HOME": "/c"}
    assert crush.user_paths(env, tmp_path)[1:] == [
        Path("/g/crush.json"),
        Path("/g/crushrc"),
        Path("/s/crush.json"),
    ]
    win = crush.user_paths({"LOCALAPPDATA": "C:/Users/u/AppData/Local"}, tmp_path)
    assert win[-1] == Path("C:/Users/u/AppData/Local/crush/crush.json")


def test_malformed_json_names_file_line_and_column():
    text = '{\n  "providers": {\n    "ollama": { "base_url" "x" }\n  }\n}\n'
    with pytest.raises(CtxfixError) as exc:
        crush.read(MAIN, text)
    assert exc.value.where == f"{MAIN}:3:28"


# --------------------------------------------------------------------------- crushrc

RC = FIX / "rc" / "crushrc"


def test_crushrc_builtins_are_bindings():
    """`provider add` / `model add` / `model large|small` flags, located on their lines."""
    qwen, llama = crush.read(RC)
    assert (qwen.model, qwen.api, qwen.host, qwen.format) == (
        "qwen3-coder:30b",
        "openai",
        "http://localhost:11434/v1/",
        "crushrc",
    )
    cw = qwen.context_window
    assert (cw.value, cw.location.line, cw.location.col) == (256000, 13, 20)
    assert (qwen.max_tokens.value, qwen.max_tokens.location.key) == (
        16384,
        "models.large.max_tokens",
    )
    assert [r.path for r in qwen.refs] == [
        ("providers", "ollama", "models", 0, "id"),
        ("models", "large", "model"),
    ]
    # no --context-window: nothing to judge, and Crush fills it from discovery
    assert (llama.model, llama.context_window) == ("llama3.3:70b", None)


def test_crushrc_shell_forms():
    text = (
        "provider add 'box' --type openai-compat \\\n"
        '  --base-url "http://$HOST:11434/v1"\n'  # dynamic: not read
        "provider add lan --base-url http://192.168.1.20:11434/v1 --flat-rate true\n"
        'model add lan/"gpt-oss:20b" --context-window "131072"; model add lan/x '
        "--context-window 8\n"
        "model remove lan/x\n"
        "if true; then model add ghost/qwen3:8b --context-window 1; fi  # no such provider\n"
    )
    (b,) = crush.read(Path("crushrc"), text)
    assert (b.model, b.context_window.value, b.host) == (
        "gpt-oss:20b",
        131072,
        "http://192.168.1.20:11434/v1",
    )


def test_crushrc_edits_keep_quoting_and_append_flags():
    from ctxfix.edits import load_document

    text = 'model large "ollama/qwen3:30b"\nprovider add ollama\nmodel add ollama/qwen3:30b # c\n'
    doc = load_document(Path("crushrc"), text, fmt="crushrc")
    doc.set(("models", "large", "model"), "qwen3:30b-262k")
    doc.set(("providers", "ollama", "models", 0, "context_window"), 262144)
    assert doc.text == (
        'model large "ollama/qwen3:30b-262k"\nprovider add ollama\n'
        "model add ollama/qwen3:30b --context-window 262144 # c\n"
    )


def test_unterminated_quote_names_the_file():
    with pytest.raises(CtxfixError) as exc:
        crush.read(Path("x/crushrc"), 'provider add ollama --base-url "http://h\n')
    assert exc.value.where == "x/crushrc" and "unterminated" in exc.value.problem


def test_a_base_url_that_does_not_parse_is_read_not_a_crash(tmp_path):
    """`http://[::1:11434/v1/` (a missing "]") made urlsplit raise: an internal error."""
    text = (
        "provider add ollama --type ollama --base-url http://[::1:11434/v1/\n"
        "model add ollama/qwen3-coder:30b --context-window 4096\n"
    )
    (b,) = crush.read(tmp_path / "crushrc", text)
    assert (b.model, b.api, b.context_window.value) == ("qwen3-coder:30b", "openai", 4096)


# --------------------------------------------------------------------------- merged files


def _crush_json(*models: tuple[str, int], provider: str = "ollama") -> str:
    entries = ", ".join(f'{{"id": "{m}", "context_window": {cw}}}' for m, cw in models)
    return (
        f'{{"providers": {{"{provider}": {{"base_url": "http://localhost:11434/v1/",'
        f' "models": [{entries}]}}}}}}\n'
    )


def _crushrc(*models: tuple[str, int]) -> str:
    lines = ["provider add ollama --type ollama --base-url http://localhost:11434/v1/"]
    lines += [f"model add ollama/{m} --context-window {cw}" for m, cw in models]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _merged(home: Path, *files: Path) -> list[tuple[str, str, int]]:
    """Each file read on its own, then Crush's merge, as `pipeline._read_agents` does."""
    bindings = [b for f in files for b in crush.read(f)]
    kept = crush.drop_overridden(bindings, files, crush.user_paths({}, home))
    return [(b.model, b.file, b.context_window.value) for b in kept]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.mark.parametrize("name", ["crush.json", ".crush.json", "crushrc", ".crushrc"])
def test_a_model_a_project_file_redefines_is_judged_in_the_project_file_only(tmp_path, home, name):
    """jsons.Merge concatenates the `models` lists; coordinator.go takes the last entry."""
    glob = _write(home / ".config/crush/crush.json", _crush_json(("qwen3:8b", 262144)))
    text = _crushrc(("qwen3:8b", 32768)) if "rc" in name else _crush_json(("qwen3:8b", 32768))
    proj = _write(tmp_path / "proj" / name, text)
    assert _merged(home, glob, proj) == [("qwen3:8b", str(proj), 32768)]
    # the binding's edits point into the winning file
    (b,) = crush.drop_overridden(
        [*crush.read(glob), *crush.read(proj)], [glob, proj], crush.user_paths({}, home)
    )
    assert b.file == b.context_window.location.file == b.model_ref.location.file == str(proj)
    assert b.edit_paths["context_window"] == ("providers", "ollama", "models", 0, "context_window")


def test_different_models_in_global_and_project_files_are_both_judged(tmp_path, home):
    glob = _write(home / ".config/crush/crush.json", _crush_json(("qwen3:8b", 262144)))
    proj = _write(tmp_path / "proj/crushrc", _crushrc(("devstral:24b", 32768)))
    assert _merged(home, glob, proj) == [
        ("qwen3:8b", str(glob), 262144),
        ("devstral:24b", str(proj), 32768),
    ]


def test_the_same_model_under_another_provider_id_is_not_overridden(tmp_path, home):
    glob = _write(home / ".config/crush/crush.json", _crush_json(("qwen3:8b", 262144)))
    proj = _write(tmp_path / "proj/crush.json", _crush_json(("qwen3:8b", 32768), provider="box"))
    assert len(_merged(home, glob, proj)) == 2


def test_user_level_files_merge_in_lookup_order(tmp_path, home):
    """Global crush.json < global crushrc < data crush.json (lookupConfigs)."""
    glob = _write(home / ".config/crush/crush.json", _crush_json(("qwen3:8b", 1), ("a:1", 1)))
    rc = _write(home / ".config/crush/crushrc", _crushrc(("qwen3:8b", 2), ("b:1", 2)))
    data = _write(home / ".local/share/crush/crush.json", _crush_json(("b:1", 3)))
    assert _merged(home, glob, rc, data) == [
        ("a:1", str(glob), 1),
        ("qwen3:8b", str(rc), 2),
        ("b:1", str(data), 3),
    ]


def test_project_files_of_one_directory_merge_by_name(tmp_path, home):
    """.crushrc > crushrc > .crush.json > crush.json in one directory."""
    d = tmp_path / "proj"
    plain = _write(d / "crush.json", _crush_json(("qwen3:8b", 1), ("a:1", 1)))
    dot = _write(d / ".crush.json", _crush_json(("qwen3:8b", 2)))
    rc = _write(d / ".crushrc", _crushrc(("a:1", 3)))
    assert sorted(_merged(home, rc, plain, dot)) == [
        ("a:1", str(rc), 3),
        ("qwen3:8b", str(dot), 2),
    ]


def test_a_global_model_stays_judged_where_a_scanned_project_keeps_it(tmp_path, home):
    """Crush in the project that does not redefine it plans with the global window."""
    glob = _write(home / ".config/crush/crush.json", _crush_json(("qwen3:8b", 262144)))
    one = _write(tmp_path / "one/crush.json", _crush_json(("qwen3:8b", 32768)))
    other = _write(tmp_path / "other/.crush.json", '{"options": {"debug": true}}\n')
    assert _merged(home, glob, one, other) == [
        ("qwen3:8b", str(glob), 262144),
        ("qwen3:8b", str(one), 32768),
    ]
    # a subdirectory is covered by its ancestor's override (Crush walks up to it)
    sub = _write(tmp_path / "one/sub/crush.json", '{"options": {"debug": true}}\n')
    assert _merged(home, glob, one, sub) == [("qwen3:8b", str(one), 32768)]
    # nested project files: both live, depending on where Crush runs
    nested = _write(tmp_path / "one/sub/crush.json", _crush_json(("qwen3:8b", 8192)))
    assert len(_merged(home, one, nested)) == 2


def test_read_agents_merges_crush_files(tmp_path, home):
    """The pass in `pipeline._read_agents`, with the user paths of the given env."""
    from ctxfix.discover import AgentTarget, Targets
    from ctxfix.pipeline import _read_agents

    xdg = tmp_path / "xdg"
    glob = _write(xdg / "crush/crush.json", _crush_json(("qwen3:8b", 262144), ("a:1", 4096)))
    proj = _write(tmp_path / "proj/crushrc", _crushrc(("qwen3:8b", 32768)))
    targets = Targets(agents=[AgentTarget(p, crush, explicit=False) for p in (proj, glob)])
    got = _read_agents(targets, [], environ={"XDG_CONFIG_HOME": str(xdg)}, home=home)
    assert sorted((b.model, b.file) for b in got) == [
        ("a:1", str(glob)),
        ("qwen3:8b", str(proj)),
    ]
