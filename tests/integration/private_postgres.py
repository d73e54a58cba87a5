"""A PostgreSQL cluster of a test's own, so that a test may stop and start it.

The machine's PostgreSQL serves every other test; restarting it would break them. This one is
made with the installed server's `initdb` in a temporary directory, listens on a free loopback
port with trust authentication, and is removed afterwards. PostgreSQL refuses to run as root,
so as root the commands run as the `postgres` user (`runuser`).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PrivateCluster:
    url: str  # the admin database's URL (database "postgres", user "postgres")
    data: Path
    log: Path
    bin_dir: Path
    port: int
    as_user: list[str]

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        self._pg_ctl("-o", options, "-l", str(self.log), "-w", "-t", "60", "start", timeout=90)

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, as a restart by an operator does."""
        self._pg_ctl("-m", "fast", "-w", "-t", "60", "stop", timeout=90)

    def restart(self, down_seconds: float) -> None:
        """Stopped, down for `down_seconds`, started again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A running cluster of the test's own; skips, saying why, where none can be made."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL's initdb is not installed: no private cluster can be made")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="supportbot-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        if runuser is None:
            pytest.skip("runuser is needed to run PostgreSQL as the postgres user")
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
    cluster = PrivateCluster(
        url="",
        data=base / "data",
        log=base / "postgres.log",
        bin_dir=bin_dir,
        port=free_port(),
        as_user=as_user,
    )
    cluster.url = f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres"
    try:
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(base, ignore_errors=True)
