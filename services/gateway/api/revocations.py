"""The gateway asks accounts every few seconds who lost access (`/internal/revocations`) and
refuses their tokens and keys from then on. While accounts cannot answer, the last answer
stands; the failure is logged once, and again when accounts answers."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
from pydantic import BaseModel

from services.gateway.api.auth import GATEWAY_PRINCIPAL, VERIFY_TIMEOUT_SECONDS
from services.gateway.domain.revocations import Revocations
from shared.auth import principal_headers

log = logging.getLogger(__name__)
REVOCATIONS_PATH = "/internal/revocations"


class _Person(BaseModel):
    id: uuid.UUID
    generation: int


class _Answer(BaseModel):
    users: list[_Person]
    api_keys: list[uuid.UUID]
    companies: list[uuid.UUID] = []  # blocked; an accounts of an older release lists none


class RevocationWatch:
    def __init__(
        self, http: httpx.AsyncClient, accounts_url: str, internal_secret: str, every: float
    ) -> None:
        self.http = http
        self.url = accounts_url.rstrip("/") + REVOCATIONS_PATH
        self.internal_secret = internal_secret
        self.every = every
        self.current = Revocations()
        self.answering = True

    async def refresh(self) -> None:
        response = await self.http.get(
            self.url,
            headers=principal_headers(GATEWAY_PRINCIPAL, self.internal_secret),
            timeout=VERIFY_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        answer = _Answer.model_validate_json(response.content)
        self.current = Revocations(
            users={str(p.id): p.generation for p in answer.users},
            api_keys=frozenset(str(k) for k in answer.api_keys),
            companies=frozenset(answer.companies),
        )

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.answering:
                    log.warning("accounts does not say who lost access (%r); keeping the last", exc)
                self.answering = False
            else:
                if not self.answering:
                    log.info("accounts says again who lost access")
                self.answering = True
            await asyncio.sleep(self.every)
