"""What the routers hand the use cases besides the request's session (async, as every
dependency is: a plain function would run in the thread pool)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.accounts.usecases.context import Collaborators


async def _collaborators(request: Request) -> Collaborators:
    return Collaborators.of(request.app)


CollaboratorsDep = Annotated[Collaborators, Depends(_collaborators)]
