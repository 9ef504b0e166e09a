"""`python -m demo [--gateway URL]`: play the season into a running stack (`make demo`)."""

from __future__ import annotations

import asyncio

import httpx
import typer
from rich.console import Console

from demo.season import Season, play

console = Console()


def main(
    gateway: str = typer.Option("http://127.0.0.1:8000", envvar="DEMO_GATEWAY_URL"),
    admin_email: str = typer.Option("admin@example.com", envvar="DEMO_ADMIN_EMAIL"),
    admin_password: str = typer.Option("admin", envvar="DEMO_ADMIN_PASSWORD"),
) -> None:
    """Load a season of a small distributor through the gateway of a running stack."""

    async def season() -> None:
        async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
            await play(Season(http, admin_email, admin_password), say=console.print)

    asyncio.run(season())
    console.print(
        f"[green]done[/]: open {gateway}/docs and log in as one of the buyers "
        "(buyer@c-alfa.example, password season-password-1)"
    )


if __name__ == "__main__":
    typer.run(main)
