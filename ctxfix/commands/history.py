"""`ctxfix history`: every apply with its id, time, files, models and state.

Why: rollback needs an id, and a user coming back days later needs to see
what ctxfix changed on this machine without opening journal files.
"""

from __future__ import annotations

from pathlib import Path

import click

from ctxfix.echo import echo


@click.command("history")
@click.option(
    "--journal-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where journals live (default: the user state dir, or $CTXFIX_STATE_DIR).",
)
def history(journal_dir: Path | None) -> None:
    """List applies, oldest first."""
    from ctxfix.errors import CtxfixError
    from ctxfix.journal import JournalStore

    store = JournalStore(journal_dir)
    ids = store.ids()
    if not ids:
        echo(f"no applies recorded in {store.root}")
        return
    rows = [("id", "time", "files", "models", "state")]
    for jid in ids:
        try:
            j = store.load(jid)
        except CtxfixError as exc:
            rows.append((jid, "?", "?", "?", f"unreadable: {exc.problem}"))
            continue
        models = ",".join(a.get("model", "?") for a in j.actions) or "-"
        state = j.state
        if state in ("in_progress", "pending"):
            state = f"interrupted: run `ctxfix rollback {j.id}`"
        rows.append((j.id, j.time, str(len(j.files)), models, state))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        echo("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
