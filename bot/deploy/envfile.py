"""Environment files (`KEY=value` lines), as docker compose and systemd read them.

A file gives defaults; a variable already set in the environment wins over it, so
`DATABASE_URL=... supportbot serve --profile scaled` overrides `deploy/scaled.env`.

Usage: python -m bot.deploy.envfile FILE COMMAND [ARGS...]
    runs COMMAND with the file's variables added to the environment (the set ones win),
    e.g. `python -m bot.deploy.envfile deploy/scaled.env supportbot seed-demo`.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


class EnvFileError(ValueError):
    """A line of an environment file that is not `KEY=value`."""


def parse_env_file(text: str, source: str = "the environment file") -> dict[str, str]:
    """The variables of an environment file: `KEY=value` per line, `#` comments, blank lines,
    an optional `export `, values optionally in single or double quotes."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum() or key[0].isdigit():
            raise EnvFileError(f"{source}, line {number}: expected KEY=value, got {raw!r}")
        value = value.strip()
        if value[:1] in ("'", '"'):
            try:
                parts = shlex.split(value)
            except ValueError as error:
                raise EnvFileError(f"{source}, line {number}: {error}") from None
            value = parts[0] if parts else ""
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EnvFileError(f"No environment file at {path}.") from None
    return parse_env_file(text, str(path))


def merged(file_values: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with the file's values where it has none (a set, non-empty one wins)."""
    result = dict(environ)
    for key, value in file_values.items():
        if not result.get(key):
            result[key] = value
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        print("usage: python -m bot.deploy.envfile FILE COMMAND [ARGS...]", file=sys.stderr)
        return 2
    try:
        env = merged(read_env_file(Path(argv[0])), os.environ)
    except EnvFileError as error:
        print(error, file=sys.stderr)
        return 2
    os.execvpe(argv[1], argv[1:], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
