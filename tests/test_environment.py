"""Server environment: systemd units and drop-ins, compose files, process env, with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.sources.environment import read_environment, split_systemd_words

FIX = Path(__file__).resolve().parent.parent / "fixtures"
DROPINS = FIX / "systemd" / "drop-ins"
OVERRIDE = DROPINS / "etc/systemd/system/ollama.service.d/override.conf"


def _env(paths=(), environ=None, root=DROPINS, units=True):
    return read_environment(list(paths), environ or {}, system_units=units, root=root)


def test_stock_unit_sets_nothing_ollama_specific() -> None:
    env, warnings = _env(root=FIX / "systemd" / "stock")
    assert dict(env.values) == {}
    assert warnings == []


def test_later_drop_in_overrides_earlier_and_names_its_line() -> None:
    env, _ = _env()
    v = env.get("OLLAMA_CONTEXT_LENGTH")
    assert v is not None and v.value == "32768"
    assert (v.location.file, v.location.line) == (str(OVERRIDE), 5)


def test_environment_file_wins_over_environment_lines() -> None:
    env, warnings = _env()
    par = env.get("OLLAMA_NUM_PARALLEL")
    assert par is not None and par.value == "4"  # the file, not Environment=...=2 nor [Unit]'s 99
    assert par.location.file.endswith("etc/ollama/ollama.env") and par.location.line == 3
    kv = env.get("OLLAMA_KV_CACHE_TYPE")
    assert kv is not None and kv.value == "q8_0"  # quotes stripped like Ollama's clean()
    # the missing optional file (`-` prefix) is not a warning
    assert not [w for w in warnings if "missing.env" in str(w)]


def test_continuation_line_and_quoted_assignment() -> None:
    env, _ = _env()
    fa, host = env.get("OLLAMA_FLASH_ATTENTION"), env.get("OLLAMA_HOST")
    assert fa is not None and fa.value == "1" and fa.location.line == 6
    assert host is not None and host.value == "0.0.0.0:11434"


def test_etc_drop_in_masks_same_name_in_usr_lib_but_other_names_apply() -> None:
    env, _ = _env()
    models = env.get("OLLAMA_MODELS")
    assert models is not None and models.value == "/srv/ollama/models"
    assert "usr/lib/systemd/system/ollama.service.d/20-models.conf" in models.location.file


def test_missing_required_environment_file_is_a_warning(tmp_path: Path) -> None:
    unit = tmp_path / "etc/systemd/system/ollama.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nEnvironmentFile=/etc/ollama/none.env\nEnvironment=BROKEN\n")
    _, warnings = _env(root=tmp_path)
    text = [str(w) for w in warnings]
    missing = "EnvironmentFile /etc/ollama/none.env does not exist (the service will not start)"
    assert f"{unit}:2: {missing}" in text
    assert f"{unit}:3: invalid environment assignment 'BROKEN', ignored" in text


def test_empty_environment_resets_earlier_assignments(tmp_path: Path) -> None:
    d = tmp_path / "etc/systemd/system"
    (d / "ollama.service.d").mkdir(parents=True)
    (d / "ollama.service").write_text("[Service]\nEnvironment=OLLAMA_CONTEXT_LENGTH=2048\n")
    (d / "ollama.service.d/reset.conf").write_text("[Service]\nEnvironment=\n")
    env, _ = _env(root=tmp_path)
    assert env.get("OLLAMA_CONTEXT_LENGTH") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"A=b c" D=e', ["A=b c", "D=e"]),
        ("A='x y'z", ["A=x yz"]),
        (r'A=a\ b "B=\"q\""', ["A=a b", 'B="q"']),
        (r"A=tab\there", ["A=tab\there"]),
        ("  ", []),
    ],
)
def test_systemd_quoting(text: str, words: list[str]) -> None:
    assert split_systemd_words(text) == words


def test_compose_map_reads_only_the_ollama_service() -> None:
    f = FIX / "compose/map/compose.yaml"
    env, warnings = _env([f.parent], units=False)
    ctx = env.get("OLLAMA_CONTEXT_LENGTH")
    assert ctx is not None and ctx.value == "65536"  # not the web UI's 2048
    assert (ctx.location.file, ctx.location.line) == (str(f), 8)
    assert ctx.location.key == "services.ollama.environment.OLLAMA_CONTEXT_LENGTH"
    fa = env.get("OLLAMA_FLASH_ATTENTION")
    assert fa is not None and fa.value == "true"
    kv = env.get("OLLAMA_KV_CACHE_TYPE")
    assert kv is not None and kv.value == "q4_0" and kv.location.line == 10
    assert warnings == []


def test_compose_list_with_interpolation() -> None:
    f = FIX / "compose/list/docker-compose.yml"
    env, _ = _env([f], {"PARALLEL": "6"}, units=False)
    par = env.get("OLLAMA_NUM_PARALLEL")
    assert par is not None and par.value == "6" and par.location.line == 5
    env2, _ = _env([f], {}, units=False)
    par2 = env2.get("OLLAMA_NUM_PARALLEL")
    assert par2 is not None and par2.value == "3"
    ctx = env2.get("OLLAMA_CONTEXT_LENGTH")
    assert ctx is not None and ctx.value == "16384" and ctx.location.line == 7
    assert env2.get("OLLAMA_MODELS") is None  # `- OLLAMA_MODELS` has no value in the file


def test_invalid_compose_yaml_is_a_warning_with_position(tmp_path: Path) -> None:
    f = tmp_path / "compose.yaml"
    f.write_text("services:\n  ollama:\n    image: [unclosed\n")
    env, warnings = _env([tmp_path], units=False)
    assert dict(env.values) == {}
    assert len(warnings) == 1 and str(warnings[0]).startswith(f"{f}:")


def test_process_environment_is_used_when_no_server_file_sets_it() -> None:
    env, warnings = _env(
        environ={"OLLAMA_CONTEXT_LENGTH": " '16384' ", "HOME": "/root"}, units=False
    )
    v = env.get("OLLAMA_CONTEXT_LENGTH")
    assert v is not None and v.value == "16384" and str(v.location) == "environment"
    assert env.get("HOME") is None and warnings == []


def test_server_files_win_over_the_shell_and_the_disagreement_is_reported() -> None:
    env, warnings = _env(
        [FIX / "compose/map"], {"OLLAMA_CONTEXT_LENGTH": "4096", "OLLAMA_KV_CACHE_TYPE": "q4_0"}
    )
    ctx = env.get("OLLAMA_CONTEXT_LENGTH")
    assert ctx is not None and ctx.value == "32768"  # systemd > compose (65536) > shell (4096)
    text = " ".join(str(w) for w in warnings)
    assert "OLLAMA_CONTEXT_LENGTH=65536 here, but OLLAMA_CONTEXT_LENGTH=4096 in environment" in text
    assert "OLLAMA_CONTEXT_LENGTH=32768 here, but OLLAMA_CONTEXT_LENGTH=65536 in" in text
    # equal values are no disagreement
    assert "OLLAMA_KV_CACHE_TYPE=q4_0 here" not in text


# --------------------------------------------------------------------------- compose env_file

ENV_FILE = FIX / "compose/env_file"


def test_compose_env_file_list_and_long_form() -> None:
    """Relative to the compose file, in order; `environment` wins; optional files may be absent."""
    env, warnings = _env([ENV_FILE / "compose.yaml"], units=False)
    shared = ENV_FILE / "config/ollama.env"
    ctx = env.get("OLLAMA_CONTEXT_LENGTH")
    assert ctx is not None and ctx.value == "8192"
    assert (ctx.location.file, ctx.location.line) == (str(shared), 2)
    assert env.get("OLLAMA_FLASH_ATTENTION").value == "1"  # export, quotes removed
    assert env.get("OLLAMA_KV_CACHE_TYPE").value == "q8_0"  # inline comment dropped
    par = env.get("OLLAMA_NUM_PARALLEL")  # environment: overrides env_file
    assert par.value == "2" and par.location.file == str(ENV_FILE / "compose.yaml")
    # format: raw takes the line verbatim, comment included (Ollama then rejects the number)
    assert (
        env.get("OLLAMA_GPU_OVERHEAD").value == "536870912 # 512 MiB, kept verbatim by format: raw"
    )
    assert warnings == []  # ollama.local.env is missing but required: false


def test_compose_env_file_string_later_files_win_and_missing_required(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("OLLAMA_CONTEXT_LENGTH=4096\n")
    (tmp_path / "b.env").write_text("OLLAMA_CONTEXT_LENGTH='32768'\n")
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  ollama:\n    image: ollama/ollama\n    env_file: [a.env, b.env, gone.env]\n"
    )
    env, warnings = _env([compose], units=False)
    ctx = env.get("OLLAMA_CONTEXT_LENGTH")
    assert ctx.value == "32768" and ctx.location.file == str(tmp_path / "b.env")
    (w,) = warnings
    assert w.where == str(compose) and "gone.env not found" in w.problem
    compose.write_text("services:\n  ollama:\n    image: ollama/ollama\n    env_file: a.env\n")
    env, warnings = _env([compose], units=False)
    assert env.get("OLLAMA_CONTEXT_LENGTH").value == "4096" and warnings == []
