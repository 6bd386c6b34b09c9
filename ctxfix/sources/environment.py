"""The Ollama server's environment: OLLAMA_* variables and where each one is set.

Why: `OLLAMA_CONTEXT_LENGTH`, `OLLAMA_NUM_PARALLEL` and `OLLAMA_KV_CACHE_TYPE`
change the context every model without num_ctx is served with, and the KV
memory it costs. They are set where the *server* starts: a systemd unit, a
docker compose file, or the shell that ran `ollama serve`. Each value is
reported with its file and line so a finding can point at it.

Sources, and which one wins when several set the same variable:
  1. systemd units and drop-ins (`ollama.service`, `ollama.service.d/*.conf`)
     describe the service installed on this machine;
  2. docker compose services whose image is `ollama/ollama*` describe a
     containerised server;
  3. the desktop app's database (`ctxfix.sources.desktop_app`): the app
     starts its server with its context-length setting over the user's
     environment;
  4. the process environment describes the user's shell, which matters only
     when the server is started from that shell (`ollama serve`).
The server's own files are preferred: systemd over compose over the desktop
app over the process environment. When two sources disagree, a warning names both, so the user
sees which server the numbers assume.

systemd rules followed (systemd.exec(5), systemd.unit(5)): only the
`[Service]` section; `Environment=` takes several space-separated
assignments, each optionally quoted ("A=b c"), with C escapes; an empty
`Environment=` resets the list; `EnvironmentFile=` values override
`Environment=` ones whatever their order, `-` prefix means the file may be
missing; the unit is taken from the first of /etc/systemd/system,
/run/systemd/system, /usr/lib/systemd/system, /lib/systemd/system that has
it; drop-ins from all of them are applied in lexical order of file name, a
name in a higher-priority directory masking the same name below it.
Ollama itself strips spaces, then quotes, around values (`envconfig.Var`),
so the values here are cleaned the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import EnvValue, Location, ServerEnv

VARIABLES = (
    "OLLAMA_CONTEXT_LENGTH",
    "OLLAMA_NUM_PARALLEL",
    "OLLAMA_KV_CACHE_TYPE",
    "OLLAMA_FLASH_ATTENTION",
    "OLLAMA_MODELS",
    "OLLAMA_HOST",
    "OLLAMA_GPU_OVERHEAD",  # bytes per GPU, subtracted before the VRAM tier (0.15.5+)
)

UNIT_DIRS = (
    "etc/systemd/system",
    "run/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
)
UNIT = "ollama.service"
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def _clean(value: str) -> str:
    """Ollama's `envconfig.Var`: outer whitespace, then outer quotes, removed.

    Readers of these values (`envconfig.uint`, `bool_with_default`) apply Var
    themselves. Go trims once: `' 8192 '` becomes ` 8192 `, which ParseUint
    refuses. A value a second Var would trim further is therefore kept as
    found, so that reader sees exactly what the server sees.
    """
    from ctxfix.policy.envconfig import var

    once = var(value)
    return once if var(once) == once else value


# --------------------------------------------------------------------------- process env


def _from_process(environ: Mapping[str, str]) -> dict[str, EnvValue]:
    return {
        k: EnvValue(k, _clean(environ[k]), Location("environment", key=k))
        for k in VARIABLES
        if environ.get(k, "").strip()
    }


# --------------------------------------------------------------------------- systemd

_C_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_C_ESC.update({"\\": "\\", '"': '"', "'": "'", "s": " "})


def split_systemd_words(text: str) -> list[str]:
    """Split an `Environment=` value into assignments (extract_first_word, UNQUOTE|CUNESCAPE).

    Whitespace separates words; single or double quotes group (and are
    removed) anywhere in a word; backslash escapes are C escapes.
    """
    words: list[str] = []
    cur: list[str] = []
    in_word = False
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "x" and i + 3 < len(text):
                cur.append(chr(int(text[i + 2 : i + 4], 16)))
                i += 4
            else:
                cur.append(_C_ESC.get(nxt, nxt))
                i += 2
            in_word = True
            continue
        if quote:
            if ch == quote:
                quote = None
            else:
                cur.append(ch)
        elif ch in "\"'":
            quote = ch
            in_word = True
        elif ch.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(ch)
            in_word = True
        i += 1
    if in_word:
        words.append("".join(cur))
    return words


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, joined text) with trailing-backslash continuations joined."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = n
            if line.lstrip().startswith(("#", ";")):
                continue
        if line.endswith("\\"):
            buf.append(line[:-1] + " ")
            continue
        buf.append(line)
        out.append((start, "".join(buf)))
        buf = []
    if buf:
        out.append((start, "".join(buf)))
    return out


def _read_env_file(path: Path, shown: str) -> tuple[dict[str, EnvValue], list[Warning_]]:
    """An EnvironmentFile: KEY=VALUE lines, # or ; comments, optional quotes."""
    out: dict[str, EnvValue] = {}
    from ctxfix.safe_read import read_text

    try:
        text = read_text(path, errors="replace")
    except CtxfixError as exc:
        return out, [Warning_(shown, f"cannot read EnvironmentFile: {exc.problem}")]
    for n, line in _logical_lines(text):
        line = line.strip()
        if not line or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[7:].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key in VARIABLES:
            out[key] = EnvValue(key, _clean(value), Location(shown, n, key=key))
    return out, []


def _unit_files(root: Path) -> list[Path]:
    """The unit file and its drop-ins, in the order systemd applies them."""
    files: list[Path] = []
    for d in UNIT_DIRS:
        p = root / d / UNIT
        if p.is_file():
            files.append(p)
            break
    dropins: dict[str, Path] = {}
    for d in reversed(UNIT_DIRS):  # higher priority last, so it masks the same name
        dd = root / d / (UNIT + ".d")
        if dd.is_dir():
            for p in dd.glob("*.conf"):
                dropins[p.name] = p
    files.extend(dropins[k] for k in sorted(dropins))
    return files


def _from_systemd(root: Path) -> tuple[dict[str, EnvValue], list[Warning_]]:
    env: dict[str, EnvValue] = {}
    file_env: dict[str, EnvValue] = {}
    env_files: list[tuple[str, int, str]] = []  # (path as written, line, unit shown)
    warnings: list[Warning_] = []
    for path in _unit_files(root):
        shown = str(path)
        from ctxfix.safe_read import read_text

        try:
            text = read_text(path, errors="replace")
        except CtxfixError as exc:
            warnings.append(Warning_(shown, exc.problem))
            continue
        section = ""
        for n, line in _logical_lines(text):
            s = line.strip()
            if s.startswith("[") and s.endswith("]"):
                section = s[1:-1]
                continue
            if section != "Service" or "=" not in s:
                continue
            key, _, value = s.partition("=")
            key, value = key.strip(), value.strip().replace("%%", "%")
            if key == "Environment":
                if not value:
                    env.clear()
                    continue
                for word in split_systemd_words(value):
                    name, eq, val = word.partition("=")
                    if not eq:
                        warnings.append(
                            Warning_(
                                f"{shown}:{n}", f"invalid environment assignment {word!r}, ignored"
                            )
                        )
                        continue
                    if name in VARIABLES:
                        env[name] = EnvValue(name, _clean(val), Location(shown, n, key=name))
            elif key == "EnvironmentFile":
                if not value:
                    env_files.clear()
                    continue
                env_files.append((value, n, shown))
    for value, n, shown in env_files:
        optional = value.startswith("-")
        p = value[1:] if optional else value
        target = root / p.lstrip("/")
        if not target.is_file():
            if not optional:
                warnings.append(
                    Warning_(
                        f"{shown}:{n}",
                        f"EnvironmentFile {p} does not exist (the service will not start)",
                    )
                )
            continue
        vals, ws = _read_env_file(target, str(target))
        warnings.extend(ws)
        file_env.update(vals)
    env.update(file_env)  # EnvironmentFile= overrides Environment=
    return env, warnings


# --------------------------------------------------------------------------- compose

# compiled on first use (re's cache): most scans never need it (issue 15)
_INTERP = r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"


def _interpolate(value: str, environ: Mapping[str, str]) -> str:
    """Compose interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, default = m.group(2), m.group(3) or ""
        if op == ":-":
            return environ.get(name) or default
        if op == "-":
            return environ.get(name, default)
        return environ.get(name, "")

    return re.sub(_INTERP, sub, value)


def _compose_files(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_file() and p.name in COMPOSE_NAMES:
            out.append(p)
        elif p.is_dir():
            out.extend(p / n for n in COMPOSE_NAMES if (p / n).is_file())
    return out


def _is_ollama_image(image: Any) -> bool:
    if not isinstance(image, str):
        return False
    image = image.strip().lower()
    for prefix in ("docker.io/", "index.docker.io/"):
        if image.startswith(prefix):
            image = image[len(prefix) :]
    return image.startswith("ollama/ollama")


def _from_compose(
    path: Path, environ: Mapping[str, str]
) -> tuple[dict[str, EnvValue], list[Warning_]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    shown = str(path)
    from ctxfix.safe_read import read_text

    try:
        doc = YAML(typ="rt").load(read_text(path))
    except CtxfixError as exc:
        return {}, [Warning_(shown, exc.problem)]
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark is not None else shown
        return {}, [Warning_(where, f"invalid YAML: {getattr(exc, 'problem', None) or exc}")]
    services = doc.get("services") if isinstance(doc, dict) else None
    out: dict[str, EnvValue] = {}
    warnings: list[Warning_] = []
    if not isinstance(services, dict):
        return out, []
    for svc_name, svc in services.items():
        if not isinstance(svc, dict) or not _is_ollama_image(svc.get("image")):
            continue
        # env_file first: `environment` overrides it
        vals, ws = _env_files(path, svc_name, svc.get("env_file"))
        out.update(vals)
        warnings.extend(ws)
        env = svc.get("environment")
        if isinstance(env, dict):
            for key, value in env.items():
                if key in VARIABLES and value is not None:
                    line = env.lc.key(key)[0] + 1
                    text = str(value).lower() if isinstance(value, bool) else str(value)
                    loc = Location(shown, line, key=f"services.{svc_name}.environment.{key}")
                    out[key] = EnvValue(key, _clean(_interpolate(text, environ)), loc)
        elif isinstance(env, list):
            for i, item in enumerate(env):
                if not isinstance(item, str) or "=" not in item:
                    continue  # `- NAME` passes the shell's value: not a server file value
                key, _, value = item.partition("=")
                key = key.strip()
                if key in VARIABLES:
                    line = env.lc.item(i)[0] + 1
                    loc = Location(shown, line, key=f"services.{svc_name}.environment[{i}]")
                    out[key] = EnvValue(key, _clean(_interpolate(value, environ)), loc)
    return out, warnings


def _env_files(
    compose: Path, svc_name: str, spec: Any
) -> tuple[dict[str, EnvValue], list[Warning_]]:
    """A service's `env_file:` (compose spec `05-services.md` "env_file").

    A string or a list of strings and `{path, required, format}` entries; each
    path relative to the compose file's directory; files read in order, later
    ones overriding earlier ones. A missing file is an error for Compose unless
    `required: false` (Compose >= 2.24 then ignores it): a warning here, naming
    both files, or nothing. Values are not interpolated (docker/docs
    "set-environment-variables": interpolation is not available to `env_file`);
    `format: raw` takes values verbatim, without quote handling.
    """
    entries = [spec] if isinstance(spec, str) else spec if isinstance(spec, list) else []
    out: dict[str, EnvValue] = {}
    warnings: list[Warning_] = []
    for i, entry in enumerate(entries):
        required, raw = True, False
        if isinstance(entry, dict):
            rel = entry.get("path")
            required = entry.get("required", True) is not False
            raw = str(entry.get("format", "")).lower() == "raw"
        else:
            rel = entry
        if not isinstance(rel, str) or not rel.strip():
            continue
        p = Path(rel).expanduser()
        p = p if p.is_absolute() else compose.parent / p
        if not p.exists():
            if required:
                warnings.append(
                    Warning_(
                        str(compose),
                        f"services.{svc_name}.env_file[{i}]: {p} not found "
                        "(docker compose refuses to start the service)",
                    )
                )
            continue
        vals, ws = _read_compose_env_file(p, raw)
        out.update(vals)
        warnings.extend(ws)
    return out, warnings


def _read_compose_env_file(path: Path, raw: bool) -> tuple[dict[str, EnvValue], list[Warning_]]:
    """KEY=VALUE lines (compose-go dotenv): `#` comments, `export `, quotes, ` #` after
    an unquoted value; with `raw` the value is taken as written."""
    from ctxfix.safe_read import read_text

    shown = str(path)
    try:
        text = read_text(path, errors="replace")
    except CtxfixError as exc:
        return {}, [Warning_(shown, f"cannot read env_file: {exc.problem}")]
    out: dict[str, EnvValue] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[7:].strip()
        if key not in VARIABLES:
            continue
        value = value.strip()
        if not raw:
            if value[:1] in ("'", '"') and value[0] in value[1:]:
                q = value[0]
                value = value[1 : value.index(q, 1)]
            else:
                value = re.split(r"\s#", value, maxsplit=1)[0].strip()
        out[key] = EnvValue(key, _clean(value), Location(shown, n, key=key))
    return out, []


# --------------------------------------------------------------------------- all together


def read_environment(
    paths: Sequence[Path],
    environ: Mapping[str, str],
    *,
    system_units: bool = True,
    root: Path = Path("/"),
    home: Path | None = None,
) -> tuple[ServerEnv, list[Warning_]]:
    """Collect OLLAMA_* from systemd (when `system_units`), compose files in `paths`, the
    desktop app's database under `home` (when given), and `environ`.

    Precedence (see the module docstring): systemd > compose > desktop app > process env.
    """
    warnings: list[Warning_] = []
    layers: list[dict[str, EnvValue]] = []  # lowest precedence first
    layers.append(_from_process(environ))
    if home is not None:
        from ctxfix.sources.desktop_app import read_desktop_app

        vals, ws = read_desktop_app(environ, home)
        warnings.extend(ws)
        layers.append(vals)
    compose: dict[str, EnvValue] = {}
    for f in _compose_files(paths):
        vals, ws = _from_compose(f, environ)
        warnings.extend(ws)
        for k, v in vals.items():
            compose.setdefault(k, v)
    layers.append(compose)
    if system_units:
        vals, ws = _from_systemd(root)
        warnings.extend(ws)
        layers.append(vals)
    merged: dict[str, EnvValue] = {}
    for layer in layers:
        for k, v in layer.items():
            prev = merged.get(k)
            if prev is not None and prev.value != v.value and k != "OLLAMA_HOST":
                warnings.append(
                    Warning_(
                        str(v.location),
                        f"{k}={v.value} here, but {k}={prev.value} in {prev.location}; "
                        f"using {v.value}",
                    )
                )
            merged[k] = v
    return ServerEnv(merged), warnings
