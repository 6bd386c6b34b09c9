"""GitHub Actions annotations (`--format github`): one workflow command per finding.

    ::warning file=Modelfile,line=4,col=19,title=CTX101 num-ctx-below-native::num_ctx ...

Why: in a workflow step, these lines become annotations on the pull request's
diff without uploading anything. Escaping follows the Actions toolkit
(`@actions/core` `escapeData` / `escapeProperty`): `%`, CR and LF in the
message; additionally `:` and `,` in property values, which would otherwise
end the property. Paths are made relative to the working directory (the
repository root in a workflow), because GitHub matches annotation paths
against the repository tree.
"""

from __future__ import annotations

from pathlib import Path

from ctxfix.facts import Finding

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _relative(file: str, cwd: Path) -> str:
    p = Path(file)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(cwd.resolve()).as_posix()
    except (ValueError, OSError):
        return p.as_posix()


def annotation(f: Finding, cwd: Path) -> str:
    """One `::level props::message` line for a finding."""
    from ctxfix import rules as registry

    try:
        name = registry.load(f.code).NAME
    except (KeyError, ModuleNotFoundError):
        name = ""
    props: list[tuple[str, str]] = []
    loc = f.location
    if loc is not None and "://" not in loc.file:
        props.append(("file", _relative(loc.file, cwd)))
        if loc.line is not None:
            props.append(("line", str(loc.line)))
            if loc.col is not None:
                props.append(("col", str(loc.col)))
    props.append(("title", f"{f.code} {name}".strip()))
    message = f.message
    if loc is not None and "://" in loc.file:
        message = f"{loc.file}: {message}"
    if f.fix:
        message += f"\nfix: {f.fix}"
    cmd = _COMMAND.get(f.severity, "warning")
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{cmd} {prop_text}::{escape_data(message)}"


def render(result, *, color: bool = False) -> str:
    """Annotation lines then a plain summary line; `color` is ignored."""
    cwd = Path.cwd()
    lines = [annotation(f, cwd) for f in result.findings]
    n = len(result.findings)
    lines.append(f"ctxfix: {n} finding(s)" if n else "ctxfix: all clear")
    return "\n".join(lines) + "\n"
