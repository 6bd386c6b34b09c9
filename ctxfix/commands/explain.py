"""`ctxfix rules` and `ctxfix explain CODE`: the rule table and each rule's docs.

Why the docs live in the rule modules' docstrings: one text serves
`explain`, the SARIF rule help shown by GitHub code scanning, and readers of
the source, so they cannot drift apart.
"""

from __future__ import annotations

import click

from ctxfix.echo import echo


def _summary(doc: str | None) -> str:
    first = (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""
    return first.split(":", 1)[-1].strip()


def _normalise(code: str) -> str:
    """`ctx101`, `CTX101` and `101` all name CTX101."""
    code = code.strip().upper()
    return f"CTX{code}" if code.isdigit() else code


@click.command("rules")
def rules() -> None:
    """List every rule: code, name, severity and what it finds."""
    from ctxfix import rules as registry

    mods = list(registry.available())
    width = max((len(m.NAME) for m in mods), default=4)
    echo(f"{'code':<7} {'name':<{width}}  {'severity':<8}  finds")
    for mod in mods:
        echo(f"{mod.CODE:<7} {mod.NAME:<{width}}  {mod.SEVERITY:<8}  {_summary(mod.__doc__)}")
    echo("\nDetails: ctxfix explain CODE")


@click.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation of rule CODE (what, why, example, fix)."""
    from ctxfix import rules as registry
    from ctxfix.errors import CtxfixError

    wanted = _normalise(code)
    try:
        mod = registry.load(wanted)
    except (KeyError, ModuleNotFoundError):
        raise CtxfixError(None, f"unknown rule code {code!r} (see `ctxfix rules`)") from None
    doc = (mod.__doc__ or "").strip()
    body = doc.split("\n", 1)[1].strip("\n") if "\n" in doc else ""
    echo(f"{mod.CODE} {mod.NAME} ({mod.SEVERITY}): {_summary(doc)}\n")
    if body:
        echo(body)
