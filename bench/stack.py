"""Services as their own uvicorn processes on real sockets, for benchmarks: each one's memory
and CPU can be read from /proc while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from shared.runtime import die_with_parent, free_port


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (the state is [0], the parent [1])."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User + system CPU of the process, and of its children that ended if asked."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(pg_dir: Path) -> float:
    """CPU of the embedded PostgreSQL in `pg_dir`: the postmaster, its backends and the
    backends that ended. The services' queries cost the machine this too. 0 when the
    database is not the embedded one."""
    if not (pg_dir / "postmaster.pid").exists():
        return 0.0
    postmaster = int((pg_dir / "postmaster.pid").read_text().split()[0])
    total = process_cpu_seconds(postmaster, reaped_children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(_stat(int(entry.name))[1]) == postmaster:
                    total += process_cpu_seconds(int(entry.name))
    return total


class ServiceProcess:
    def __init__(
        self,
        name: str,
        database_url: str,
        kafka: str,
        data_dir: str,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        prefix = name.upper() + "_"
        environment = {
            **os.environ,
            prefix + "DATABASE_URL": database_url,
            prefix + "KAFKA_BOOTSTRAP_SERVERS": kafka,
            prefix + "RUN_WORKERS": "true",
            prefix + "DATA_DIR": data_dir,
            prefix + "LOG_JSON": "false",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{name}.app:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=environment,
            preexec_fn=die_with_parent(),  # a benchmark killed leaves no service behind
        )
        self.peak_kib = 0
        self._watching = True
        threading.Thread(target=self._watch, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        with contextlib.suppress(OSError), open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU the service has used so far."""
        return process_cpu_seconds(self.process.pid)

    def _watch(self) -> None:
        while self._watching:
            self.peak_kib = max(self.peak_kib, self.rss_kib())
            time.sleep(0.2)

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the {self.name} service did not start")

    def stop(self) -> None:
        self._watching = False
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(15)
        if self.process.poll() is None:
            self.process.kill()
