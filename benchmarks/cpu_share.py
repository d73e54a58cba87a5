"""Where a load's CPU went: processor time per process kind, from /proc (Linux).

`take(pid_dir)` reads the user + system time of every process on the machine; the difference
of two snapshots (`spent`) is grouped by kind: the profile's own processes by their pid files
(`var/.../pids/<name>.pid`, children counted with their parent), the services by their
command (postgres, redis-server, RabbitMQ's beam.smp), this process as the load generator,
the processes this one started that no pid file names (`supportbot serve` itself) as
"supervisor", everything else as "other". A process that started during the load counts whole; one that
ended during it is missing from the second snapshot, so its last part is not counted (a
PostgreSQL connection closed mid-load, for one). On a machine without /proc both snapshots
are empty and nothing is reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SERVICES = {"postgres": "PostgreSQL", "redis-server": "Redis", "beam.smp": "RabbitMQ"}


@dataclass(frozen=True)
class Snapshot:
    cpu: dict[int, float]  # pid -> user + system seconds
    kind: dict[int, str]  # pid -> kind


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ..."; comm may hold spaces and parentheses
    command = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return command, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _named(pid_dir: Path | None) -> dict[int, str]:
    """pid -> kind from the profile's pid files ("rasa-replica-2.pid" -> "rasa replica")."""
    named: dict[int, str] = {}
    for path in sorted(pid_dir.glob("*.pid")) if pid_dir and pid_dir.is_dir() else ():
        try:
            pid = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        named[pid] = re.sub(r"-\d+$", "", path.stem).replace("-", " ")
    return named


def take(pid_dir: Path | None = None) -> Snapshot:
    """Every process's CPU time now, and its kind."""
    stats = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = stat
    named = _named(pid_dir)
    me = os.getpid()

    def kind(pid: int) -> str:
        if pid == me:
            return "load generator"
        seen = 0
        while pid in stats and seen < 64:
            if pid in named:
                return named[pid]
            if pid == me:  # started by this process and named by no pid file: `serve` itself
                return "supervisor"
            command, parent, _ = stats[pid]
            if command in SERVICES:
                return SERVICES[command]
            pid, seen = parent, seen + 1
        return "other"

    return Snapshot({pid: s[2] for pid, s in stats.items()}, {pid: kind(pid) for pid in stats})


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per kind between the snapshots, the largest first."""
    total: dict[str, float] = {}
    for pid, seconds in after.cpu.items():
        kind = after.kind[pid]
        total[kind] = total.get(kind, 0.0) + seconds - before.cpu.get(pid, 0.0)
    ordered = sorted(total.items(), key=lambda item: -item[1])
    return {kind: round(seconds, 2) for kind, seconds in ordered if seconds > 0}


def per_message(seconds_by_kind: dict[str, float], messages: int) -> dict[str, float]:
    """CPU milliseconds per answered message, per kind."""
    if messages <= 0:
        return {}
    return {kind: round(1000 * s / messages, 1) for kind, s in seconds_by_kind.items()}
