"""Ollama's own Modelfile parser tables, run against `ctxfix.sources.modelfile`.

Ported from github:ollama/ollama `parser/parser_test.go` at v0.33.0-rc2: the
tests about PARAMETER, FROM and the files a `FROM <directory>` uploads (the
parts ctxfix changed for issue 12). Each test names the Go test it ports.
Left out: `TestCreateRequestFiles` and the DRAFT tests (file digests, which
ctxfix never computes), and the Go `Command` list's `model` spelling of FROM
(ctxfix keeps the keyword as written).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.modelfile import ERR_MISSING_FROM, files_for_model, parse

# TestParseFileParameters: `PARAMETER <line>` -> (name, value) as parsed
PARAMETERS = {
    "numa true": ("numa", "true"),
    "num_ctx 1": ("num_ctx", "1"),
    "num_batch 1": ("num_batch", "1"),
    "num_gqa 1": ("num_gqa", "1"),
    "num_gpu 1": ("num_gpu", "1"),
    "main_gpu 1": ("main_gpu", "1"),
    "use_mmap true": ("use_mmap", "true"),
    "num_thread 1": ("num_thread", "1"),
    "num_keep 1": ("num_keep", "1"),
    "seed 1": ("seed", "1"),
    "num_predict 1": ("num_predict", "1"),
    "top_k 1": ("top_k", "1"),
    "top_p 1.0": ("top_p", "1.0"),
    "min_p 0.05": ("min_p", "0.05"),
    "typical_p 1.0": ("typical_p", "1.0"),
    "repeat_last_n 1": ("repeat_last_n", "1"),
    "temperature 1.0": ("temperature", "1.0"),
    "repeat_penalty 1.0": ("repeat_penalty", "1.0"),
    "presence_penalty 1.0": ("presence_penalty", "1.0"),
    "frequency_penalty 1.0": ("frequency_penalty", "1.0"),
    "penalize_newline true": ("penalize_newline", "true"),
    "stop ### User:": ("stop", "### User:"),
    "stop ### User: ": ("stop", "### User:"),
    'stop "### User:"': ("stop", "### User:"),
    'stop "### User: "': ("stop", "### User: "),
    'stop """### User:"""': ("stop", "### User:"),
    'stop """### User:\n"""': ("stop", "### User:\n"),
    "stop <|endoftext|>": ("stop", "<|endoftext|>"),
    "stop <|eot_id|>": ("stop", "<|eot_id|>"),
    "stop </s>": ("stop", "</s>"),
}


@pytest.mark.parametrize("line", sorted(PARAMETERS), ids=repr)
def test_parse_file_parameters(line: str) -> None:
    """TestParseFileParameters."""
    mf = parse(f"FROM foo\nPARAMETER {line}\n")
    got = [(i.command, i.name, i.value) for i in mf.instructions]
    assert got == [("from", None, "foo"), ("parameter", *PARAMETERS[line])]


# TestParseFileFrom: input -> [(command, PARAMETER name, value)], or the error
FROM_CASES = [
    ('FROM "FOO  BAR  "', [("from", None, "FOO  BAR  ")]),
    (
        'FROM "FOO BAR"\nPARAMETER param1 value1',
        [("from", None, "FOO BAR"), ("parameter", "param1", "value1")],
    ),
    ("FROM     FOOO BAR    ", [("from", None, "FOOO BAR")]),
    ("FROM /what/is/the path ", [("from", None, "/what/is/the path")]),
    ("FROM foo", [("from", None, "foo")]),
    ("FROM /path/to/model", [("from", None, "/path/to/model")]),
    ("FROM /path/to/model/fp16.bin", [("from", None, "/path/to/model/fp16.bin")]),
    ("FROM llama3:latest", [("from", None, "llama3:latest")]),
    ("FROM llama3:7b-instruct-q4_K_M", [("from", None, "llama3:7b-instruct-q4_K_M")]),
    ("", ERR_MISSING_FROM),
    ("PARAMETER param1 value1", ERR_MISSING_FROM),
    (
        "PARAMETER param1 value1\nFROM foo",
        [("parameter", "param1", "value1"), ("from", None, "foo")],
    ),
    (
        "PARAMETER what the \nFROM lemons make lemonade ",
        [("parameter", "what", "the"), ("from", None, "lemons make lemonade")],
    ),
]


@pytest.mark.parametrize(("text", "want"), FROM_CASES, ids=lambda v: repr(v)[:30])
def test_parse_file_from(text: str, want: list | str) -> None:
    """TestParseFileFrom."""
    if isinstance(want, str):
        with pytest.raises(CtxfixError, match=want):
            parse(text)
        return
    got = [(i.command, i.name, i.value) for i in parse(text).instructions]
    assert got == want


# TestCreateRequest: Modelfile -> the CreateRequest fields ctxfix models
CREATE_REQUEST = [
    ("FROM test", {"from_": "test"}),
    ("FROM test\nTEMPLATE some template\n", {"from_": "test", "template": "some template"}),
    (
        "FROM test\nLICENSE single license\nPARAMETER temperature 0.5\nMESSAGE user Hello\n",
        {
            "from_": "test",
            "license": ["single license"],
            "parameters": {"temperature": 0.5},
            "messages": [("user", "Hello")],
        },
    ),
    (
        "FROM test\nPARAMETER temperature 0.5\nPARAMETER top_k 1\nSYSTEM You are a bot.\n"
        "LICENSE license1\nLICENSE license2\nMESSAGE user Hello there!\n"
        "MESSAGE assistant Hi! How are you?\n",
        {
            "from_": "test",
            "license": ["license1", "license2"],
            "system": "You are a bot.",
            "parameters": {"temperature": 0.5, "top_k": 1},
            "messages": [("user", "Hello there!"), ("assistant", "Hi! How are you?")],
        },
    ),
]


@pytest.mark.parametrize(("text", "want"), CREATE_REQUEST, ids=range(len(CREATE_REQUEST)))
def test_create_request(text: str, want: dict) -> None:
    """TestCreateRequest: the typed request `ollama create` sends (float32 0.5, int64 1)."""
    sem = parse(text).semantic()
    full = {"template": None, "system": None, "license": [], "parameters": {}, "messages": []}
    full.update(want)
    for key, value in full.items():
        assert getattr(sem, key) == value, key
    # FormatParams types: temperature float32, top_k int64 (not the strings as written)
    assert {k: type(v) for k, v in sem.parameters.items()} == {
        k: type(v) for k, v in full["parameters"].items()
    }


_TEXT = b"test content"
_BINARY = bytes(i % 256 for i in range(512))
_ZIP = b"PK\x03\x04"
_JSON = b'{"config": true}'

# TestFilesForModel: name -> ({file: bytes}, the files filesForModel returns, or None: an error)
FILES_FOR_MODEL: dict[str, tuple[dict[str, bytes], list[str] | None]] = {
    "safetensors model files": (
        dict.fromkeys(
            [
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
                "config.json",
                "tokenizer.json",
                "chat_template.jinja",
            ],
            _TEXT,
        ),
        [
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "config.json",
            "tokenizer.json",
            "chat_template.jinja",
        ],
    ),
    "safetensors with both tokenizer.json and tokenizer.model": (
        {
            "model-00001-of-00001.safetensors": _TEXT,
            "config.json": _TEXT,
            "tokenizer.json": _TEXT,
            "tokenizer.model": _BINARY,
        },
        ["model-00001-of-00001.safetensors", "config.json", "tokenizer.json", "tokenizer.model"],
    ),
    "safetensors sentence transformers module weights": (
        dict.fromkeys(
            [
                "model.safetensors",
                "config.json",
                "modules.json",
                "2_Dense/config.json",
                "2_Dense/model.safetensors",
                "3_Dense/config.json",
                "3_Dense/model.safetensors",
            ],
            _TEXT,
        ),
        [
            "model.safetensors",
            "config.json",
            "modules.json",
            "2_Dense/config.json",
            "2_Dense/model.safetensors",
            "3_Dense/config.json",
            "3_Dense/model.safetensors",
        ],
    ),
    "safetensors with consolidated files - prefers model files": (
        dict.fromkeys(
            ["model-00001-of-00001.safetensors", "consolidated.safetensors", "config.json"], _TEXT
        ),
        ["model-00001-of-00001.safetensors", "config.json"],
    ),
    "safetensors without model-.safetensors files - uses consolidated": (
        dict.fromkeys(["consolidated.safetensors", "config.json"], _TEXT),
        ["consolidated.safetensors", "config.json"],
    ),
    "pytorch model files": (
        {
            "pytorch_model-00001-of-00002.bin": _ZIP,
            "pytorch_model-00002-of-00002.bin": _ZIP,
            "config.json": _JSON,
        },
        ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin", "config.json"],
    ),
    "consolidated pth files": (
        {"consolidated.00.pth": _ZIP, "consolidated.01.pth": _ZIP, "config.json": _JSON},
        ["consolidated.00.pth", "consolidated.01.pth", "config.json"],
    ),
    "gguf files": ({"model.gguf": _BINARY, "config.json": _JSON}, ["model.gguf", "config.json"]),
    "bin files as gguf": (
        {"model.bin": _BINARY, "config.json": _JSON},
        ["model.bin", "config.json"],
    ),
    "no model files found": ({"README.md": b"content", "config.json": b"content"}, None),
    "invalid content type for pytorch model": (
        dict.fromkeys(["pytorch_model.bin", "config.json"], b"plain text content"),
        None,
    ),
}


@pytest.mark.parametrize("name", list(FILES_FOR_MODEL))
def test_files_for_model(name: str, tmp_path: Path) -> None:
    """TestFilesForModel (the same files in any order, as the Go test compares them)."""
    files, want = FILES_FOR_MODEL[name]
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    if want is None:
        with pytest.raises(CtxfixError):
            files_for_model(tmp_path)
        return
    _kind, got = files_for_model(tmp_path)
    rel = [str(p.relative_to(tmp_path)) for p in got]
    assert len(rel) == len(want) and set(rel) == set(want)
