"""What may pass the gateway before a service sees the request.

Services check roles themselves on every endpoint; these rules are a second, coarse wall so a
leaked integrator or partner key can reach nothing but its feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.auth import Principal, Role


@dataclass(frozen=True)
class Rule:
    method: str  # "*" for any
    service: str
    path: re.Pattern[str]  # matched against the path after /api/<service>/

    def matches(self, method: str, service: str, path: str) -> bool:
        return (
            self.method in ("*", method) and self.service == service and bool(self.path.match(path))
        )


def rule(method: str, service: str, pattern: str) -> Rule:
    return Rule(method, service, re.compile(pattern))


# Reachable without credentials.
PUBLIC = (
    rule("POST", "accounts", r"^auth/login$"),
    rule("POST", "accounts", r"^invitations/[^/]+/accept$"),
)

# The only paths a key with this role may call.
KEY_ROLE_RULES: dict[Role, tuple[Rule, ...]] = {
    Role.INTEGRATOR: (
        *(rule("*", svc, r"^feeds(/|$)") for svc in ("accounts", "catalog", "pricing", "orders")),
        rule("POST", "accounts", r"^statements$"),
    ),
    Role.PARTNER: (
        rule("GET", "catalog", r"^feeds/marketplace/"),
        rule("GET", "pricing", r"^feeds/"),
    ),
}


def is_public(method: str, service: str, path: str) -> bool:
    return any(r.matches(method, service, path) for r in PUBLIC)


def is_internal(path: str) -> bool:
    """Service-to-service endpoints are never reachable from outside."""
    return path == "internal" or path.startswith("internal/")


def edge_allows(principal: Principal, method: str, service: str, path: str) -> bool:
    """People pass (services decide); API keys only where their role's rules say."""
    if principal.kind != "api_key":
        return True
    return any(
        r.matches(method, service, path)
        for role in principal.roles
        for r in KEY_ROLE_RULES.get(role, ())
    )


def is_feed_path(path: str) -> bool:
    return path == "feeds" or path.startswith("feeds/") or "/feeds/" in f"/{path}"
