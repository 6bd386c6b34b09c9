"""`ctxfix rules` and `ctxfix explain CODE`: the rule table and each rule's docs."""

from __future__ import annotations

import click


@click.command("rules")
def rules() -> None:
    """List every rule: code, name, severity."""
    from ctxfix import rules as registry

    for mod in registry.available():
        summary = (mod.__doc__ or "").strip().splitlines()[0].split(":", 1)[-1].strip()
        click.echo(f"{mod.CODE}  {mod.NAME:<30} {mod.SEVERITY:<8} {summary}")


@click.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation of rule CODE (what, why, example, fix)."""
    from ctxfix import rules as registry
    from ctxfix.errors import CtxfixError

    try:
        mod = registry.load(code)
    except (KeyError, ModuleNotFoundError):
        raise CtxfixError(None, f"unknown rule code {code!r} (see `ctxfix rules`)") from None
    click.echo(f"{mod.CODE} {mod.NAME} ({mod.SEVERITY})\n")
    click.echo((mod.__doc__ or "").strip())
