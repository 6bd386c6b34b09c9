"""Shared pytest fixtures: the loopback Ollama double and an isolated environment."""

from __future__ import annotations

import pytest
from ollama_fixtures import ollama_double, ollama_store  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user's cache, journal or Ollama host."""
    base = tmp_path_factory.mktemp("ctxfix-state")
    monkeypatch.setenv("CTXFIX_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("CTXFIX_STATE_DIR", str(base / "state"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("OLLAMA_CONTEXT_LENGTH", raising=False)
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
