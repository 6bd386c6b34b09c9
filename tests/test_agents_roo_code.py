"""Roo Code and Kilo Code: exported provider profiles, the auto-import path, what is unreadable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run_ctxfix

from ctxfix.errors import CtxfixError
from ctxfix.facts import Slot
from ctxfix.sources.agents import kilo_code, roo_code

CONFIGS = Path(__file__).resolve().parent.parent / "fixtures" / "configs"
ROO = CONFIGS / "roo-code" / "roo-code-settings.json"
KILO = CONFIGS / "kilo-code" / "kilo-code-settings.json"


def test_export_profiles_are_bindings() -> None:
    notes: list = []
    qwen, devstral = roo_code.read(ROO, notes=notes)
    assert (qwen.agent, qwen.model, qwen.api, qwen.host) == (
        "roo-code",
        "qwen3-coder:30b",
        "native",
        "http://localhost:11434",
    )
    assert qwen.num_ctx.value == 32768
    assert qwen.num_ctx.location.key == "providerProfiles.apiConfigs.local-qwen.ollamaNumCtx"
    # the window is the model's native context, which only the server knows
    assert qwen.context_window is None and qwen.window_native and qwen.timeout_s is None
    assert qwen.edit_paths[Slot.NUM_CTX][-1] == "ollamaNumCtx"
    assert (devstral.model, devstral.num_ctx, devstral.host) == (
        "devstral:24b",
        None,
        "http://localhost:11434",
    )
    (note,) = notes  # read from a file Roo Code has not been told to import
    assert note.where == str(ROO) and "only when it is imported" in note.problem


def test_kilo_unknown_key_is_one_warning_and_the_profile_is_read() -> None:
    notes: list = []
    (b,) = kilo_code.read(KILO, notes=notes)
    assert (b.agent, b.model, b.num_ctx.value) == ("kilo-code", "llama3.1:8b", 8192)
    unknown = [n for n in notes if "unknown to Kilo Code" in n.problem]
    assert len(unknown) == 1 and unknown[0].where == str(KILO)
    assert "ollama-llama.ollamaContextWindow" in unknown[0].problem


def test_profile_roo_would_skip_is_skipped_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "roo-code-settings.json"
    profiles = {
        "bad": {"apiProvider": "ollama", "ollamaModelId": "qwen3:8b", "ollamaNumCtx": 64},
        "ok": {"apiProvider": "ollama", "ollamaModelId": "qwen3:8b", "ollamaNumCtx": 40960},
    }
    f.write_text(json.dumps({"providerProfiles": {"apiConfigs": profiles}}))
    notes: list = []
    (b,) = roo_code.read(f, notes=notes)
    assert b.num_ctx.value == 40960
    assert any("'bad'" in n.problem and ">= 128" in n.problem for n in notes)


def _vscode_settings(home: Path, body: dict) -> Path:
    s = home / ".config" / "Code" / "User" / "settings.json"
    s.parent.mkdir(parents=True)
    s.write_text("// VS Code user settings\n" + json.dumps(body, indent=4) + "\n")
    return s


@pytest.mark.parametrize(
    ("value", "expected"),
    [("~/dotfiles/roo.json", "dotfiles/roo.json"), ("roo.json", "roo.json"), ("/etc/r.json", None)],
)
def test_auto_import_path_resolves_like_roo(tmp_path: Path, value: str, expected: str | None):
    home = tmp_path / "home"
    _vscode_settings(home, {"roo-cline.autoImportSettingsPath": value})
    want = Path("/etc/r.json") if expected is None else home / expected
    assert roo_code.user_paths({}, home) == [want]
    assert kilo_code.user_paths({}, home) == []  # Kilo reads kilo-code.* only


def test_auto_import_file_is_read_without_the_import_note(tmp_path: Path) -> None:
    home = tmp_path / "home"
    export = home / "kilo.json"
    export.parent.mkdir(parents=True)
    export.write_bytes(KILO.read_bytes())
    _vscode_settings(home, {"kilo-code.autoImportSettingsPath": "~/kilo.json"})
    notes: list = []
    kilo_code.read(export, notes=notes, env={"HOME": str(home)})
    assert not [n for n in notes if "only when it is imported" in n.problem]


def test_installed_without_export_says_profiles_are_unreadable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = _vscode_settings(home, {"editor.fontSize": 14})
    assert roo_code.user_paths({}, home) == []  # not installed: nothing to say
    (home / ".vscode/extensions/rooveterinaryinc.roo-cline-3.28.1").mkdir(parents=True)
    assert roo_code.user_paths({}, home) == [settings]
    notes: list = []
    assert roo_code.read(settings, notes=notes) == []
    (note,) = notes
    assert "secret storage" in note.problem and "roo-cline.autoImportSettingsPath" in note.problem


def test_malformed_export_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "roo-code-settings.json"
    f.write_text('{"providerProfiles": {"apiConfigs": {')
    with pytest.raises(CtxfixError) as exc:
        roo_code.read(f)
    assert exc.value.where.startswith(str(f))
    r = run_ctxfix("scan", "--no-server", "--no-user", "--no-store", "--isolated", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and str(f) in r.stderr


def test_export_whose_profiles_are_not_an_object_is_bad_input(tmp_path: Path) -> None:
    """importExport.ts parses the whole file: apiConfigs as a list refuses the import."""
    f = tmp_path / "roo-code-settings.json"
    f.write_text('{"providerProfiles": {"currentApiConfigName": "a", "apiConfigs": [1]}}\n')
    with pytest.raises(CtxfixError) as exc:
        roo_code.read(f)
    assert exc.value.where == f"{f}:1:66"  # the list
    r = run_ctxfix("scan", "--no-server", "--no-user", "--no-store", "--isolated", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "refuses to import" in r.stderr
    with pytest.raises(CtxfixError, match="Kilo Code refuses"):
        kilo_code.read(tmp_path / "kilo-code-settings.json", '{"providerProfiles": 3}')
