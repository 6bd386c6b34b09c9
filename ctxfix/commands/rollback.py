"""`ctxfix rollback [ID|--last]`: undo one apply, byte for byte.

Why per-file refusal: a file the user edited after the apply holds work ctxfix
must not clobber; rollback names it and stops unless `--force`. Models the
apply created are deleted only while their digest is the recorded one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctxfix.echo import echo


@click.command("rollback")
@click.argument("journal_id", required=False, metavar="ID")
@click.option(
    "--last",
    is_flag=True,
    help="Roll back the most recent apply not yet rolled back (again: the one before).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be restored; change nothing.")
@click.option("--force", is_flag=True, help="Restore files even if they changed since the apply.")
@click.option(
    "--journal-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where journals live (default: the user state dir, or $CTXFIX_STATE_DIR).",
)
@click.option("--server-timeout", type=float, default=30.0, metavar="S", show_default=True)
def rollback(
    journal_id: str | None,
    last: bool,
    dry_run: bool,
    force: bool,
    journal_dir: Path | None,
    server_timeout: float,
) -> None:
    """Restore the files of an apply and delete the models it created."""
    from ctxfix import apply_run
    from ctxfix.errors import CtxfixError
    from ctxfix.journal import JournalStore
    from ctxfix.journal import rollback as do_rollback

    if bool(journal_id) == bool(last):
        raise CtxfixError(None, "give an apply ID or --last (see `ctxfix history`)")
    from ctxfix.settings import MAX_SERVER_TIMEOUT, check_positive

    server_timeout = check_positive(server_timeout, "--server-timeout", MAX_SERVER_TIMEOUT)
    store = JournalStore(journal_dir)
    if last:
        journal, skipped = store.last_active()
        if journal is None:  # a clear no-op, like rolling back twice (exit 0)
            if skipped:
                echo(
                    f"ctxfix: every apply in {store.root} is already rolled back; "
                    "nothing to roll back"
                )
            else:
                echo(f"ctxfix: no applies recorded in {store.root}; nothing to roll back")
            sys.exit(0)
        if skipped:
            echo(
                f"ctxfix: the newest {skipped} apply(s) are already rolled back; "
                f"rolling back the one before: {journal.id}"
            )
    else:
        assert journal_id is not None
        journal = store.load(journal_id)

    def undo(action: dict, dry: bool) -> str | None:
        return apply_run.undo_action(action, dry, timeout=server_timeout)

    report = do_rollback(store, journal, dry_run=dry_run, force=force, undo_action=undo)
    if report.already:
        echo(f"ctxfix: {journal.id} was already rolled back; nothing to do")
        sys.exit(0)
    for r in report.refused:
        echo(f"ctxfix: refused: {r}", err=True)
    if report.refused and not force:
        echo("ctxfix: nothing was rolled back", err=True)
        sys.exit(1)
    verb = "would restore" if dry_run else "restored"
    for p in report.restored:
        echo(f"{verb} {p}")
    for m in report.models_deleted:
        echo(f"{'would undo' if dry_run else 'undid'} model {m}")
    for m in report.models_kept:
        echo(f"kept model {m}")
    for f in report.left:
        echo(f"left {f}")
    if report.retry and not dry_run:
        echo(
            f"ctxfix: {journal.id} is not fully rolled back (a server did not answer): "
            f"run `ctxfix rollback {journal.id}` again when it does",
            err=True,
        )
        sys.exit(1)
    echo(f"ctxfix: {'dry run of rollback' if dry_run else 'rolled back'} {journal.id}")
