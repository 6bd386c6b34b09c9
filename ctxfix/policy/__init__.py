"""Pure decisions, made once: memory fit, the target window, timeouts, host identity.

Why a layer of its own: `scan`, `apply`, SARIF and `estimate` used to decide
the same numbers in four places and disagreed. Every decision now lives here,
as pure functions of facts (no I/O, no imports from sources, rules, plan or
report; tests/test_import_graph.py enforces it), and every other stage calls
these functions:

- `hosts`: one `is_local`, one `same_host`, one `base_url`.
- `fit`: the memory verdict of a model in a budget, with the server's
  KV cache type, flash attention and parallel settings.
- `target`: the window a model should serve, `Target(value, reason)`.
- `timeout`: the margin and the timeout a window needs.
- `usage`: whether a model is used by an agent, unused, or superseded by
  the definition apply creates for it (and that definition's name).
"""
