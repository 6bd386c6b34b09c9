"""The subcommands, one module each (pre-commit style), imported on first use.

Why a table here and not in ctxfix.cli: the click-free fast path
(ctxfix.commands._fast) reads it too, and must not import click.
"""

# command name -> (module, attribute): a click command, or a CommandSpec
# (ctxfix.commands._spec) that is rendered into one on first use
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("ctxfix.commands.scan", "SPEC"),
    "apply": ("ctxfix.commands.apply", "SPEC"),
    "rollback": ("ctxfix.commands.rollback", "rollback"),
    "history": ("ctxfix.commands.history", "history"),
    "estimate": ("ctxfix.commands.estimate", "estimate"),
    "verify": ("ctxfix.commands.verify", "verify"),
    "explain": ("ctxfix.commands.explain", "explain"),
    "rules": ("ctxfix.commands.explain", "rules"),
}
