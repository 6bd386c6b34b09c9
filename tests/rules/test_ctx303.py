"""CTX303 server_env_caps_context: fires on the failing example, stays silent otherwise."""

from __future__ import annotations

from worlds import model, run

from ctxfix.facts import EnvValue, Location, ServerEnv
from ctxfix.world import World


def test_ctx303_env_caps_model_without_num_ctx():
    m = model(num_ctx=None, served=8192, served_source="env", relies=True)
    env = ServerEnv(
        {
            "OLLAMA_CONTEXT_LENGTH": EnvValue(
                "OLLAMA_CONTEXT_LENGTH",
                "8192",
                Location("/etc/systemd/system/ollama.service", 7, 1),
            )
        }
    )
    (f,) = run("CTX303", World(models=[m], env=env))
    assert f.location.file.endswith("ollama.service") and f.location.line == 7
    assert "8,192" in f.message
