"""Access tokens for people: issued by accounts at login, verified by the gateway.

HS256 with a secret both share (JWT_SECRET). Claims: sub (user id), company_id (the legal
entity the user acts for now), companies (all it may act for), roles (in that company, plus
staff roles), name, gen (the person's access generation when issued: raised when it loses
access, so the gateway can refuse older tokens before they expire), iat, exp, iss.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Iterable

import jwt

from shared.auth import Principal, Role
from shared.problems import Unauthorized

ISSUER = "b2b-accounts"
ALGORITHM = "HS256"


def issue_access_token(
    secret: str,
    *,
    user_id: uuid.UUID,
    roles: Iterable[Role],
    company_id: uuid.UUID | None,
    companies: Iterable[uuid.UUID],
    name: str | None = None,
    ttl_seconds: int = 3600,
    now: float | None = None,
    generation: int = 0,
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "company_id": str(company_id) if company_id else None,
        "companies": [str(c) for c in companies],
        "roles": sorted(str(r) for r in roles),
        "name": name,
        "gen": generation,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def principal_from_token(token: str, secret: str) -> Principal:
    return read_access_token(token, secret)[0]


def read_access_token(token: str, secret: str) -> tuple[Principal, int]:
    """The person a valid token names, and the access generation it was issued at."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is not valid.") from exc
    principal = Principal(
        kind="user",
        subject=uuid.UUID(claims["sub"]),
        roles=frozenset(Role(r) for r in claims.get("roles", [])),
        company_id=uuid.UUID(claims["company_id"]) if claims.get("company_id") else None,
        companies=[uuid.UUID(c) for c in claims.get("companies", [])],
        name=claims.get("name"),
    )
    generation = claims.get("gen", 0)
    return principal, generation if isinstance(generation, int) else 0


def derived_token(secret: str, purpose: str, subject: str) -> str:
    """A 256-bit URL-safe token that two of our services each compute from an id and the secret
    they share, so it never travels between them: accounts keeps an invitation's hash, and
    notifications puts the same token in the e-mail it sends. `purpose` keeps a token of one
    kind from ever being one of another."""
    message = f"derived-token:{purpose}:{subject}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
