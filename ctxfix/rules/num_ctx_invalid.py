"""CTX105 num-ctx-invalid: num_ctx is not an integer Ollama accepts.

What it finds
    `PARAMETER num_ctx 1e+06`, `131072.0` or `128k` in a Modelfile, or a
    num_ctx in a params blob that is not a number (a string, a boolean, a
    list, an object). Ollama parses a Modelfile's integer parameters with Go's
    `strconv.ParseInt` (github:ollama/ollama api/types.go `FormatParams`,
    called from parser/parser.go `CreateRequest`), so anything but plain
    digits is rejected. A params blob goes through api/types.go
    `Options.FromMap`, which takes any JSON number (a fraction is
    truncated) and refuses everything else.

Why it matters
    `ollama show --modelfile` prints numbers with Go's `%v`
    (github:ollama/ollama server/images.go `Model.String`): 1000000 comes
    out as `1e+06` and 1048576 as `1.048576e+06`. Copy that Modelfile, edit
    something else, run `ollama create`, and it fails with
    `invalid int value [1e+06]` — or, in a params blob written by another
    tool, every request for the model fails with `option "num_ctx" must be
    of type integer` (server/routes.go `modelOptions` returns the
    `Options.FromMap` error).

Example that fails
    FROM qwen2.5:7b
    PARAMETER num_ctx 1e+06

Fix
    Write the integer: `PARAMETER num_ctx 1000000`. `ctxfix apply` rewrites
    the value in place.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import model_data, model_finding, n
from ctxfix.world import World

CODE = "CTX105"
NAME = "num-ctx-invalid"
SEVERITY = "error"


def integer_value(raw: str) -> int | None:
    """The integer a sloppy value means (`1e+06` -> 1000000), if it means one."""
    try:
        f = float(raw.strip())
    except ValueError:
        return None
    if f != f or f in (float("inf"), float("-inf")) or f != int(f) or f <= 0:
        return None
    return int(f)


def check(world: World) -> Iterator[Finding]:
    for m in world.models:
        d = m.definition
        bad = d.num_ctx_invalid
        if bad is None:
            continue
        meant = integer_value(str(bad.value))
        hint = f" (means {n(meant)})" if meant else ""
        yield model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"num_ctx value '{bad.value}' is not an integer Ollama accepts{hint}: "
                f"`ollama create` fails with invalid int value [{bad.value}]"
            ),
            location=bad.location or d.location,
            data=model_data(m, raw=str(bad.value), target=meant),
        )
