"""Ollama's own model-name tables, run against `ctxfix.names`.

Ported from github:ollama/ollama `types/model/name_test.go` at v0.33.0-rc2.
Each test below names the Go test it ports. Left out: `TestFilepathAllocs`
(Go allocation counting) and `FuzzName` (a fuzz target; its invariant, that a
valid name round-trips through String(), is asserted for every valid row of
`TestNameIsValid` as the Go test does).
"""

from __future__ import annotations

import os

import pytest

from ctxfix.names import (
    Name,
    canonical,
    is_valid_namespace,
    is_valid_part,
    name_problem,
    parse_name,
    parse_name_bare,
    parse_name_from_filepath,
)

PART80 = "8" * 80
PART350 = "3" * 350
J = os.path.join

# TestParseNameParts: (input, ParseNameBare result, ParseName(...).Filepath())
PARSE_NAME_PARTS = [
    (
        "registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_K",
        Name("registry.ollama.ai", "library", "dolphin-mistral", "7b-v2.6-dpo-laser-q6_K"),
        J("registry.ollama.ai", "library", "dolphin-mistral", "7b-v2.6-dpo-laser-q6_K"),
    ),
    (
        "scheme://host:port/namespace/model:tag",
        Name("host:port", "namespace", "model", "tag", scheme="scheme"),
        J("host:port", "namespace", "model", "tag"),
    ),
    (
        "host/namespace/model:tag",
        Name("host", "namespace", "model", "tag"),
        J("host", "namespace", "model", "tag"),
    ),
    (
        "host:port/namespace/model:tag",
        Name("host:port", "namespace", "model", "tag"),
        J("host:port", "namespace", "model", "tag"),
    ),
    (
        "host/namespace/model",
        Name("host", "namespace", "model"),
        J("host", "namespace", "model", "latest"),
    ),
    (
        "host:port/namespace/model",
        Name("host:port", "namespace", "model"),
        J("host:port", "namespace", "model", "latest"),
    ),
    (
        "namespace/model",
        Name(namespace="namespace", model="model"),
        J("registry.ollama.ai", "namespace", "model", "latest"),
    ),
    ("model", Name(model="model"), J("registry.ollama.ai", "library", "model", "latest")),
    ("h/nn/mm:t", Name("h", "nn", "mm", "t"), J("h", "nn", "mm", "t")),
    (
        f"{PART80}/{PART80}/{PART80}:{PART80}",
        Name(PART80, PART80, PART80, PART80),
        J(PART80, PART80, PART80, PART80),
    ),
    (
        f"{PART350}/{PART80}/{PART80}:{PART80}",
        Name(PART350, PART80, PART80, PART80),
        J(PART350, PART80, PART80, PART80),
    ),
]


@pytest.mark.parametrize(("text", "bare", "path"), PARSE_NAME_PARTS, ids=lambda v: str(v)[:40])
def test_parse_name_parts(text: str, bare: Name, path: str) -> None:
    """TestParseNameParts."""
    assert parse_name_bare(text) == bare
    assert parse_name(text).filepath() == path


# TestNameIsValid: `testCases` (name -> ParseNameBare(name).IsValid())
IS_VALID = {
    "": False,
    "_why/_the/_lucky:_stiff": True,
    # minimal
    "h/n/m:t": True,
    "host/namespace/model:tag": True,
    "host/namespace/model": False,
    "namespace/model": False,
    "model": False,
    # long (but valid)
    f"{PART80}/{PART80}/{PART80}:{PART80}": True,
    f"{PART350}/{PART80}/{PART80}:{PART80}": True,
    "h/nn/mm:t": True,  # bare minimum part sizes
    # unqualified
    "m": False,
    "n/m:": False,
    "h/n/m": False,
    "@t": False,
    "m@d": False,
    # invalids
    "^": False,
    "mm:": False,
    "/nn/mm": False,
    "//": False,
    "//mm": False,
    "hh//": False,
    "//mm:@": False,
    "00@": False,
    "@": False,
    # not starting with alphanum
    "-hh/nn/mm:tt": False,
    "hh/-nn/mm:tt": False,
    "hh/nn/-mm:tt": False,
    "hh/nn/mm:-tt": False,
    # hosts
    "host:https/namespace/model:tag": True,
    # colon in non-host part before tag
    "host/name:space/model:tag": False,
}


@pytest.mark.parametrize("text", sorted(IS_VALID), ids=lambda v: repr(v[:40]))
def test_name_is_valid(text: str) -> None:
    """TestNameIsValid (with its String() round trip for valid names)."""
    n = parse_name_bare(text)
    assert n.is_valid() is IS_VALID[text]
    if IS_VALID[text]:
        assert str(n) == text


def test_name_parse_name_default() -> None:
    """TestNameparseNameDefault."""
    assert str(parse_name("xx")) == "registry.ollama.ai/library/xx:latest"


# TestNameIsValidPart: (kind, part, valid)
IS_VALID_PART = [
    ("host", "", False),
    ("host", "a", True),
    ("host", "a.", True),
    ("host", "a.b", True),
    ("host", "a:123", True),
    ("host", "a:123/aa/bb", False),
    ("namespace", "bb", True),
    ("namespace", "a.", False),
    ("model", "-h", False),
    ("digest", "sha256-1" + "0" * 63, True),
]


@pytest.mark.parametrize(("kind", "part", "valid"), IS_VALID_PART)
def test_name_is_valid_part(kind: str, part: str, valid: bool) -> None:
    """TestNameIsValidPart."""
    assert is_valid_part(kind, part) is valid


# TestParseNameFromFilepath: (path, Name or the empty Name)
FROM_FILEPATH = [
    (J("host", "namespace", "model", "tag"), Name("host", "namespace", "model", "tag")),
    (J("host:port", "namespace", "model", "tag"), Name("host:port", "namespace", "model", "tag")),
    (J("namespace", "model", "tag"), Name()),
    (J("model", "tag"), Name()),
    ("model", Name()),
    (J("..", "..", "model", "tag"), Name()),
    (J("", "namespace", ".", "tag"), Name()),
    (J(".", ".", ".", "."), Name()),
    (J("/", "path", "to", "random", "file"), Name()),
]


@pytest.mark.parametrize(("path", "want"), FROM_FILEPATH, ids=lambda v: str(v))
def test_parse_name_from_filepath(path: str, want: Name) -> None:
    """TestParseNameFromFilepath."""
    assert parse_name_from_filepath(path) == want


DISPLAY_SHORTEST = {
    "registry.ollama.ai/library/model:latest": "model:latest",
    "registry.ollama.ai/library/model:tag": "model:tag",
    "registry.ollama.ai/namespace/model:tag": "namespace/model:tag",
    "host/namespace/model:tag": "host/namespace/model:tag",
    "host/library/model:tag": "host/library/model:tag",
}


@pytest.mark.parametrize("text", sorted(DISPLAY_SHORTEST))
def test_display_shortest(text: str) -> None:
    """TestDisplayShortest (and ctxfix's join key, the same string lower-cased)."""
    assert parse_name_bare(text).display_shortest() == DISPLAY_SHORTEST[text]
    assert canonical(text) == DISPLAY_SHORTEST[text].lower()


IS_VALID_NAMESPACE = [
    ("", False),
    ("a", True),
    ("a:b", False),
    ("a/b", False),
    ("a:b/c", False),
    ("a/b:c", False),
    ("a/b:c", False),
    ("a/b:c/d", False),
    ("a/b:c/d@e", False),
    ("a/b:c/d@sha256-100", False),
    ("himynameisjoe", True),
    ("himynameisreallyreallyreallyreallylongbutitshouldstillbevalid", True),
]


@pytest.mark.parametrize(("text", "valid"), IS_VALID_NAMESPACE)
def test_is_valid_namespace(text: str, valid: bool) -> None:
    """TestIsValidNamespace."""
    assert is_valid_namespace(text) is valid


@pytest.mark.parametrize(
    "text",
    [t for t, ok in IS_VALID.items() if ok] + ["scheme://host:port/namespace/model:tag"],
    ids=lambda v: v[:40],
)
def test_name_problem_agrees_with_is_valid(text: str) -> None:
    """ctxfix's refusal message and name.go's IsValid agree on the same table."""
    assert name_problem(text) is None


def test_a_store_skips_manifests_whose_path_is_not_a_valid_name(tmp_path) -> None:
    """manifest/manifest.go `Manifests`: `ParseNameFromFilepath(rel)`, invalid -> skipped."""
    from ollama_fixtures import add_model

    from ctxfix.sources.store import scan_store

    add_model(tmp_path, "qwen3-coder:30b")
    lib = tmp_path / "manifests" / "registry.ollama.ai" / "library"
    (lib / "-bad").mkdir()
    (lib / "-bad" / "latest").write_bytes((lib / "qwen3-coder" / "30b").read_bytes())
    scan = scan_store(tmp_path)
    assert [m.name for m in scan.models] == ["qwen3-coder:30b"]
    assert any("-bad" in w.where and "not a valid model name" in w.problem for w in scan.warnings)
