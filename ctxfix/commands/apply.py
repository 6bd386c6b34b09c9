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

from ctxfix.commands._options import (
    COLOR_OPTION,
    DISCOVERY_OPTIONS,
    build_settings,
    split_codes,
    use_color,
)
from ctxfix.commands._spec import Args, CommandSpec, Opt
from ctxfix.echo import echo

OPTIONS: tuple[Opt, ...] = (
    *DISCOVERY_OPTIONS,
    Opt(
        ("--dry-run",),
        "dry_run",
        kind="flag",
        default=False,
        help="Show the diffs and actions; write nothing.",
    ),
    Opt(("--yes", "-y"), "yes", kind="flag", default=False, help="Do not ask for confirmation."),
    Opt(
        ("--target-ctx",),
        "target_ctx",
        type="int",
        min=256,
        metavar="N",
        help="Serve N tokens (default: native, lowered to fit --memory).",
    ),
    Opt(
        ("--no-create",),
        "no_create",
        kind="flag",
        default=False,
        help="Create no Ollama models; only edit files.",
    ),
    Opt(
        ("--verify",),
        "verify_after",
        kind="flag",
        default=False,
        help="Then verify each created model's window by using it (loads it; see ctxfix verify).",
    ),
    Opt(
        ("--verify-time-limit",),
        "verify_time_limit",
        type="float",
        min=1,
        default=120.0,
        show_default=True,
        metavar="S",
        help="Seconds per model for --verify.",
    ),
    Opt(
        ("--in-place",),
        "in_place",
        kind="flag",
        default=False,
        help="Replace models in place instead of new names.",
    ),
    Opt(
        ("--name",),
        "names",
        kind="multiple",
        metavar="OLD=NEW",
        help="Name for the new definition of OLD (repeatable).",
    ),
    Opt(
        ("--out-dir",),
        "out_dir",
        type="dir",
        help="Write Modelfiles for models no server can create here.",
    ),
    Opt(
        ("--journal-dir",),
        "journal_dir",
        type="dir",
        help="Where journals live (default: the user state dir, or $CTXFIX_STATE_DIR).",
    ),
    Opt(
        ("--select",),
        "select",
        kind="multiple",
        metavar="CODES",
        help="Only fix these codes (prefixes ok).",
    ),
    Opt(("--ignore",), "ignore", kind="multiple", metavar="CODES", help="Do not fix these codes."),
    Opt(
        ("--json",),
        "as_json",
        kind="flag",
        default=False,
        help="Print the plan as JSON (with --dry-run).",
    ),
    COLOR_OPTION,
)


def run(
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
    from ctxfix.settings import MAX_SERVER_TIMEOUT, check_positive

    verify_time_limit = check_positive(verify_time_limit, "--verify-time-limit", MAX_SERVER_TIMEOUT)

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
        echo(f"ctxfix: warning: {w}", err=True)
    plan = result.plan or build_plan(result, plan_opts)
    rendered = apply_ops.render(plan, out_dir=out_dir)
    for note in [*plan.notes, *rendered.skipped]:
        echo(f"ctxfix: note: {note}", err=True)
    colored = use_color(color)
    if dry_run:
        if as_json:
            import json

            echo(json.dumps(plan.to_json(), indent=2))
        else:
            echo(
                apply_ops.describe(rendered, color=colored, base=Path.cwd()),
                nl=False,
                color=colored,
            )
        sys.exit(0 if rendered.empty else 1)
    if rendered.empty:
        echo(apply_ops.summary(rendered))
        sys.exit(0)
    text = apply_ops.describe(rendered, color=colored, base=Path.cwd())
    if not yes:
        if not sys.stdin.isatty():
            from ctxfix.errors import CtxfixError

            raise CtxfixError(None, "refusing to apply without --yes: stdin is not a terminal")
        echo(text, nl=False, color=colored)
        import click  # the prompt is click's (the fast path never gets here: CommandSpec.fast_if)

        if not click.confirm("Apply these changes?", default=False):
            echo("ctxfix: nothing was changed", err=True)
            sys.exit(1)
    store = JournalStore(journal_dir)
    command = " ".join(["ctxfix apply", *(str(p) for p in paths)])
    journal = apply_run.execute(rendered, store, command, timeout=settings.server_timeout)
    backups = {(r.get("host"), r["model"]): r.get("backup_model") for r in journal.actions}
    for a in rendered.actions:
        if a.host is not None and a.kind == "replace":
            kept = backups.get((a.host, a.name))
            echo(
                f"replaced {a.name} on {a.host}: serves {a.target_ctx:,}"
                + (f" (previous definition kept as {kept} for rollback)" if kept else "")
            )
        elif a.host is not None:
            echo(f"created {a.name} on {a.host}: serves {a.target_ctx:,}")
        else:
            echo(apply_ops.describe_action(a, rendered, Path.cwd()), nl=False)
    from ctxfix.journal import real_target

    for ch in rendered.changes:
        real = real_target(ch.path)
        via = "" if real == Path(ch.path).absolute() else f" (a link: written to {real})"
        echo(f"edited {ch.path}{via}")
    for ch in rendered.new_files:
        echo(f"wrote {ch.path}")
    echo(f"ctxfix: applied {journal.id} (undo: ctxfix rollback {journal.id})")
    if verify_after:
        from ctxfix.commands.verify import verify_created

        sys.exit(verify_created(rendered.actions, settings, verify_time_limit))


SPEC = CommandSpec(
    name="apply",
    help="Fix capped, mislabeled or mismatched context windows (default: current dir).",
    args=Args("paths"),
    options=OPTIONS,
    run=run,
    fast_if=lambda params: bool(params["yes"] or params["dry_run"]),
)
