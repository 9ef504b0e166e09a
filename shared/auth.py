"""Who is calling. The gateway authenticates and forwards the principal in signed headers;
every service verifies the signature and checks roles explicitly on each endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from enum import StrEnum
from typing import Annotated

import orjson
from fastapi import Depends, Request
from pydantic import BaseModel, Field

from shared.problems import Forbidden, Unauthorized

PRINCIPAL_HEADER = "x-principal"
SIGNATURE_HEADER = "x-principal-signature"
TIMESTAMP_HEADER = "x-principal-timestamp"
MAX_SKEW_SECONDS = 300


class Role(StrEnum):
    BUYER = "buyer"
    COMPANY_ADMIN = "company_admin"
    SALES_MANAGER = "sales_manager"
    PRICING_MANAGER = "pricing_manager"  # approves price changes, overrides price guardrails
    HEAD_OF_SALES = "head_of_sales"  # sees every manager's clients and gets concentration alerts
    INTEGRATOR = "integrator"
    PARTNER = "partner"
    ADMIN = "admin"
    SYSTEM = "system"  # service-to-service calls, e.g. the gateway checking an API key


STAFF_ROLES = frozenset(
    {Role.ADMIN, Role.HEAD_OF_SALES, Role.SALES_MANAGER, Role.PRICING_MANAGER, Role.SYSTEM}
)
# Who may read one client's data (its prices, say): its own people, sales and pricing staff,
# admins and services; which clients each reaches is `shared.scope`'s rule.
CLIENT_READERS = (
    Role.BUYER,
    Role.COMPANY_ADMIN,
    Role.SALES_MANAGER,
    Role.HEAD_OF_SALES,
    Role.PRICING_MANAGER,
    Role.ADMIN,
    Role.SYSTEM,
)
PEOPLE_ROLES = frozenset(CLIENT_READERS) - {Role.SYSTEM}


class Principal(BaseModel):
    """The caller as the gateway established it."""

    kind: str = Field(description="user, api_key or system")
    subject: uuid.UUID | str = Field(description="user id, API key id or service name")
    roles: frozenset[Role]
    company_id: uuid.UUID | None = Field(None, description="the legal entity the user acts for now")
    companies: list[uuid.UUID] = Field(default_factory=list)
    partner_code: str | None = None
    name: str | None = None

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def user_id(self) -> uuid.UUID | None:
        """The person's id, or None for API keys and services."""
        if self.kind != "user":
            return None
        try:
            return uuid.UUID(str(self.subject))
        except ValueError:
            return None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


def _sign(secret: str, timestamp: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return "v1=" + mac.hexdigest()


def principal_headers(
    principal: Principal, secret: str, now: float | None = None
) -> dict[str, str]:
    """Headers the gateway (or a service calling another service) sends with a request."""
    payload = base64.urlsafe_b64encode(orjson.dumps(principal.model_dump(mode="json"))).decode()
    ts = str(int(now if now is not None else time.time()))
    return {
        PRINCIPAL_HEADER: payload,
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: _sign(secret, ts, payload),
    }


def verify_principal_headers(
    headers: dict[str, str] | object, secret: str, now: float | None = None
) -> Principal | None:
    get = headers.get  # type: ignore[attr-defined]
    payload, ts, signature = get(PRINCIPAL_HEADER), get(TIMESTAMP_HEADER), get(SIGNATURE_HEADER)
    if not payload:
        return None
    if not ts or not signature:
        raise Unauthorized("The forwarded principal is not signed.")
    if not hmac.compare_digest(_sign(secret, ts, payload), signature):
        raise Unauthorized("The forwarded principal's signature is wrong.")
    try:
        age = abs((now if now is not None else time.time()) - int(ts))
    except ValueError as exc:
        raise Unauthorized("Bad principal timestamp.") from exc
    if age > MAX_SKEW_SECONDS:
        raise Unauthorized("The forwarded principal has expired.")
    return Principal.model_validate(orjson.loads(base64.urlsafe_b64decode(payload)))


async def get_principal(request: Request) -> Principal:
    # async (though it awaits nothing) so FastAPI runs it inline, not via the thread pool:
    # two thread hand-offs per request cost more than the HMAC check itself.
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    secret = request.app.state.settings.internal_secret.get_secret_value()
    principal = verify_principal_headers(request.headers, secret)
    if principal is None:
        raise Unauthorized("Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class Roles:
    """Dependency that admits only the listed roles: `Depends(Roles(Role.BUYER, Role.ADMIN))`."""

    def __init__(self, *allowed: Role) -> None:
        self.allowed = frozenset(allowed)

    async def __call__(self, principal: PrincipalDep) -> Principal:
        if not principal.roles & self.allowed:
            raise Forbidden(
                f"This action needs one of the roles: {', '.join(sorted(self.allowed))}."
            )
        return principal


def allow(*roles: Role) -> type[Principal]:
    """Annotated principal that must hold one of `roles`; use as a parameter type."""
    return Annotated[Principal, Depends(Roles(*roles))]  # type: ignore[return-value]
