"""The Modelfile editor: set num_ctx with the smallest possible change.

Why in edits/: the Modelfile model (`ctxfix.sources.modelfile`) reads; this
module writes, like the YAML/TOML/JSON editors beside it. Every edit is
re-parsed with Ollama's own rules before it is accepted.
"""

from __future__ import annotations

from ctxfix.errors import CtxfixError
from ctxfix.sources.modelfile import ERR_MISSING_FROM, Modelfile, parse, parse_go_int


def set_num_ctx(mf: Modelfile, value: int) -> Modelfile:
    """A new Modelfile serving `num_ctx = value`, with the smallest possible change.

    The winning `PARAMETER num_ctx` keeps its line; only its value bytes
    change (inside the quotes if it was quoted). An earlier `num_ctx` line
    whose value Ollama rejects (`1e+06` from `ollama show --modelfile`) is
    rewritten too, because `ollama create` fails on it even though a later
    line wins. With no `num_ctx` at all, `PARAMETER num_ctx N` plus the
    file's line ending goes after the last PARAMETER line, else after the
    last FROM. No other byte changes.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"num_ctx must be a positive int, not {value!r}")
    new = str(value)
    found = mf.parameters("num_ctx")
    if found:
        targets = [i for i in found[:-1] if parse_go_int(i.value) is None] + [found[-1]]
        text = mf.text
        for ins in sorted(targets, key=lambda i: i.value_start, reverse=True):
            text = text[: ins.value_start] + new + text[ins.value_end :]
        return parse(text, mf.path)
    params = [i for i in mf.instructions if i.command == "parameter"]
    anchor = params[-1] if params else mf.from_instruction()
    if anchor is None:
        raise CtxfixError(mf.path, ERR_MISSING_FROM)
    eol = mf.line_ending()
    pos = anchor.end
    line = f"PARAMETER num_ctx {new}"
    if pos >= len(mf.text):
        text = mf.text + eol + line  # the file had no final newline: keep it that way
    else:
        pos += 2 if mf.text.startswith("\r\n", pos) else 1
        text = mf.text[:pos] + line + eol + mf.text[pos:]
    return parse(text, mf.path)
