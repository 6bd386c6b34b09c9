"""`ctxfix apply`: fix what `scan` found: new model definitions, then surgical config edits.

Why a confirmation and a dry run: this edits the configs people's agents run
on and creates models on their servers. `--dry-run` shows every byte that
would change (diffs with secrets redacted) and every model that would be
created, and exits 1 while anything is pending so CI can gate on it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ctxfix.commands._options import build_settings, discovery_options, split_codes


@click.command("apply")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@discovery_options
@click.option("--dry-run", is_flag=True, help="Show the diffs and actions; write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--target-ctx",
    type=click.IntRange(min=256),
    default=None,
    metavar="N",
    help="Serve N tokens (default: native, lowered to fit --memory).",
)
@click.option("--no-create", is_flag=True, help="Create no Ollama models; only edit files.")
@click.option(
    "--verify",
    "verify_after",
    is_flag=True,
    help="Then verify each created model's window by using it (loads it; see ctxfix verify).",
)
@click.option(
    "--verify-time-limit",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    metavar="S",
    help="Seconds per model for --verify.",
)
@click.option("--in-place", is_flag=True, help="Replace models in place instead of new names.")
@click.option(
    "--name",
    "names",
    multiple=True,
    metavar="OLD=NEW",
    help="Name for the new definition of OLD (repeatable).",
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write Modelfiles for models no server can create here.",
)
@click.option(
    "--journal-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where journals live (default: the user state dir, or $CTXFIX_STATE_DIR).",
)
@click.option(
    "--select", multiple=True, metavar="CODES", help="Only fix these codes (prefixes ok)."
)
@click.option("--ignore", multiple=True, metavar="CODES", help="Do not fix these codes.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (with --dry-run).")
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True
)
def apply(
    paths: tuple[Path, ...],
    dry_run: bool,
    yes: bool,
    target_ctx: int | None,
    no_create: bool,
    in_place: bool,
    names: tuple[str, ...],
    out_dir: Path | None,
    journal_dir: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    as_json: bool,
    color: str,
    verify_after: bool = False,
    verify_time_limit: float = 120.0,
    **opts: Any,
) -> None:
    """Fix capped, mislabeled or mismatched context windows (default: current dir)."""
    from ctxfix import apply_ops, apply_run, pipeline
    from ctxfix.journal import JournalStore
    from ctxfix.plan import PlanOptions, build_plan, parse_names

    # the same selection as scan: apply fixes exactly what scan would report
    settings = build_settings(
        paths,
        opts,
        target_ctx=target_ctx,
        select=split_codes(select),
        ignore=split_codes(ignore),
    )
    plan_opts = PlanOptions(
        target_ctx=settings.target_ctx,
        names=parse_names(names),
        in_place=in_place,
        no_create=no_create,
    )
    result = pipeline.scan(settings, plan_options=plan_opts)
    for w in result.world.warnings:
        click.echo(f"ctxfix: warning: {w}", err=True)
    plan = result.plan or build_plan(result, plan_opts)
    rendered = apply_ops.render(plan, out_dir=out_dir)
    for note in [*plan.notes, *rendered.skipped]:
        click.echo(f"ctxfix: note: {note}", err=True)
    use_color = _use_color(color)
    if dry_run:
        if as_json:
            import json

            click.echo(json.dumps(plan.to_json(), indent=2))
        else:
            click.echo(
                apply_ops.describe(rendered, color=use_color, base=Path.cwd()),
                nl=False,
                color=use_color,
            )
        sys.exit(0 if rendered.empty else 1)
    if rendered.empty:
        click.echo(apply_ops.summary(rendered))
        sys.exit(0)
    text = apply_ops.describe(rendered, color=use_color, base=Path.cwd())
    if not yes:
        if not sys.stdin.isatty():
            from ctxfix.errors import CtxfixError

            raise CtxfixError(None, "refusing to apply without --yes: stdin is not a terminal")
        click.echo(text, nl=False, color=use_color)
        if not click.confirm("Apply these changes?", default=False):
            click.echo("ctxfix: nothing was changed", err=True)
            sys.exit(1)
    store = JournalStore(journal_dir)
    command = " ".join(["ctxfix apply", *(str(p) for p in paths)])
    journal = apply_run.execute(rendered, store, command, timeout=settings.server_timeout)
    backups = {(r.get("host"), r["model"]): r.get("backup_model") for r in journal.actions}
    for a in rendered.actions:
        if a.host is not None and a.kind == "replace":
            kept = backups.get((a.host, a.name))
            click.echo(
                f"replaced {a.name} on {a.host}: serves {a.target_ctx:,}"
                + (f" (previous definition kept as {kept} for rollback)" if kept else "")
            )
        elif a.host is not None:
            click.echo(f"created {a.name} on {a.host}: serves {a.target_ctx:,}")
        else:
            click.echo(apply_ops.describe_action(a, rendered, Path.cwd()), nl=False)
    from ctxfix.journal import real_target

    for ch in rendered.changes:
        real = real_target(ch.path)
        via = "" if real == Path(ch.path).absolute() else f" (a link: written to {real})"
        click.echo(f"edited {ch.path}{via}")
    for ch in rendered.new_files:
        click.echo(f"wrote {ch.path}")
    click.echo(f"ctxfix: applied {journal.id} (undo: ctxfix rollback {journal.id})")
    if verify_after:
        from ctxfix.commands.verify import verify_created

        sys.exit(verify_created(rendered.actions, settings, verify_time_limit))


def _use_color(mode: str) -> bool:
    import os

    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()
