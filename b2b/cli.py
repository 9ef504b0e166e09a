"""`b2b`: the project's command line (run the stack, migrate, regenerate contracts)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import typer
from rich.console import Console
from sqlalchemy import make_url

from b2b import configdoc
from shared import runtime

app = typer.Typer(help="B2B commerce backend: development stack and tools.", no_args_is_help=True)
console = Console()


def service_command(service: str, port: int) -> list[str]:
    """How `b2b run` starts a service. Uvicorn's own X-Forwarded-For handling is off: it would
    believe any local caller, and the gateway decides whose it believes (trusted_proxies)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"services.{service}.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--no-proxy-headers",
    ]


def _service_env(
    service: str, database_url: str | None, bootstrap: str, ports: dict[str, int]
) -> dict[str, str]:
    prefix = service.upper() + "_"
    env = dict(os.environ)
    env.setdefault(prefix + "KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    env.setdefault(prefix + "DATA_DIR", str(runtime.DATA_DIR / "files" / service))
    if database_url:
        env.setdefault(prefix + "DATABASE_URL", database_url)
    for shared_secret in ("INTERNAL_SECRET", "JWT_SECRET"):  # every service must hold the same
        if shared_secret in os.environ:
            env.setdefault(prefix + shared_secret, os.environ[shared_secret])
    # each finds the services it calls where `run` put them
    for field, upstream in configdoc.settings_class(service).upstream_fields().items():
        env.setdefault(f"{prefix}{field.upper()}", f"http://127.0.0.1:{ports[upstream]}")
    return env


@app.command()
def migrate() -> None:
    """Create each service's database if missing, migrate it to head, create the topics."""
    from shared.contracts import all_topics
    from shared.events.kafka import create_topics

    with runtime.infrastructure() as (database_url, bootstrap):
        for service, url in runtime.prepare_databases(database_url).items():
            console.print(f"[green]migrated[/] {service}  {make_url(url).render_as_string()}")
        asyncio.run(create_topics(bootstrap, all_topics()))


def _how(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def supervise(
    commands: dict[str, tuple[list[str], dict[str, str]]],
    on_start: Callable[[list[tuple[str, subprocess.Popen[bytes]]]], None],
    say: Callable[[str], None] = console.print,
) -> str:
    """Starts every service, calls `on_start` with them, and keeps them until one stops by
    itself, Ctrl-C or SIGTERM; then stops the others, the first started first. Returns what
    happened, as it said it.

    Each service runs in its own process group, so Ctrl-C in the terminal reaches only us and
    we stop the services in order (before, they died of it first and we took that for a
    crash); each dies with us if we are killed."""
    # Ctrl-C stops the stack, even when the shell that started us had it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for name, (cmd, env) in commands.items():
            process = subprocess.Popen(
                cmd,
                env=env,
                cwd=runtime.ROOT,
                process_group=0,
                preexec_fn=runtime.die_with_parent(),
            )
            processes.append((name, process))
        on_start(processes)
        while all(p.poll() is None for _, p in processes):
            time.sleep(0.2)
        what = ", ".join(
            f"{n} ({_how(p.returncode)})" for n, p in processes if p.returncode is not None
        )
        what = f"stopped unexpectedly: {what}"
    except runtime.Terminated:
        what = "SIGTERM"
    except KeyboardInterrupt:
        what = "Ctrl-C"
    say(f"{what}; stopping the stack...")
    for _, p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for _, p in processes:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return what


@app.command()
def run(
    port: int = typer.Option(
        8000, envvar="GATEWAY_PORT", help="Gateway port; services use the next six"
    ),
) -> None:
    """Start PostgreSQL, the broker, migrations, every service and the gateway. Ctrl-C stops all."""
    from shared.contracts import all_topics
    from shared.events.kafka import create_topics

    ports = {name: port + i for i, name in enumerate(runtime.PORTS)}
    busy = [f"{n}:{p}" for n, p in ports.items() if runtime.port_open("127.0.0.1", p)]
    if busy:
        console.print(f"[red]ports in use:[/] {', '.join(busy)}; set GATEWAY_PORT to another base")
        raise typer.Exit(1)
    started = time.monotonic()
    with runtime.infrastructure(broker_port=9092) as (database_url, bootstrap):
        console.print(f"[green]database[/] {make_url(database_url).render_as_string()}")
        console.print(f"[green]broker[/]   {bootstrap}")
        urls = runtime.prepare_databases(database_url)
        console.print(f"[green]migrated[/] {', '.join(urls)}")
        asyncio.run(create_topics(bootstrap, all_topics()))
        commands = {
            name: (
                service_command(name, service_port),
                _service_env(name, urls.get(name), bootstrap, ports),
            )
            for name, service_port in ports.items()
        }

        def started_all(_: object) -> None:
            for service_port in ports.values():
                runtime.wait_for_port("127.0.0.1", service_port, timeout=60)
            gateway = f"http://127.0.0.1:{ports['gateway']}"
            console.rule(f"[bold]stack up in {time.monotonic() - started:.1f}s")
            console.print(f"API:  {gateway}/api/v1/<service>/...")
            console.print(
                f"Docs: {gateway}/docs and {gateway}/redoc"
                f"  (merged OpenAPI at {gateway}/openapi.json)"
            )
            console.print("Ctrl-C stops everything.")

        what = supervise(commands, started_all)
    console.print("stopped: services, broker and database")
    if what.startswith("stopped unexpectedly"):
        raise typer.Exit(1)


@app.command()
def revision(service: str, message: str = typer.Option(..., "-m")) -> None:
    """Autogenerate a migration for a service from its models."""
    from alembic import command

    from shared.migrations import alembic_config

    with runtime.infrastructure() as (database_url, _):
        url = runtime.prepare_databases(database_url, (service,))[service]
        command.revision(alembic_config(service, url), message=message, autogenerate=True)


@app.command()
def generate(check: bool = typer.Option(False, help="Only report what is out of date")) -> None:
    """Regenerate what is derived from code: openapi/, the README's configuration table and
    .env.example."""
    from b2b import apidocs, configdoc

    readme = runtime.ROOT / "README.md"
    env_example = runtime.ROOT / ".env.example"
    wanted = {
        readme: configdoc.readme_with_table(readme.read_text()),
        env_example: configdoc.env_example(),
    }
    if check:
        stale = apidocs.drift() + [
            p.name for p, text in wanted.items() if not p.exists() or p.read_text() != text
        ]
        if stale:
            console.print(f"[red]out of date:[/] {', '.join(stale)}; run `make generate`")
            raise typer.Exit(1)
        console.print("generated files match the code")
        return
    for path, text in wanted.items():
        path.write_text(text)
    for path in [*apidocs.write(), *wanted]:
        console.print(f"[green]wrote[/] {path.relative_to(runtime.ROOT)}")


@app.command()
def release(
    version: str = typer.Option(
        None, help="Version to cut; default: the gateway document's info.version"
    ),
) -> None:
    """Keep a copy of today's contracts in openapi/released/<version>/: later documents are
    checked against it (tests/contract/test_compatibility.py)."""
    import json

    from b2b import apicompat, apidocs

    stale = apidocs.drift()
    if stale:
        console.print(f"[red]out of date:[/] {', '.join(stale)}; run `make generate` first")
        raise typer.Exit(1)
    gateway = json.loads((apidocs.OPENAPI_DIR / "gateway.openapi.json").read_text())
    target = apicompat.cut_release(version or gateway["info"]["version"])
    console.print(f"[green]released[/] {target.relative_to(runtime.ROOT)}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
