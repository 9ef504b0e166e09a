"""Access taken away lately, as accounts last told the gateway: a person's tokens issued before
its latest access generation (removed from a company, deactivated), revoked API keys, and
tokens acting for a company since blocked are refused, though the token has not expired and
the key is still in the cache."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.auth import Principal


@dataclass(frozen=True)
class Revocations:
    users: Mapping[str, int] = field(default_factory=dict)  # user id -> generation a token needs
    api_keys: frozenset[str] = frozenset()
    companies: frozenset[uuid.UUID] = frozenset()  # blocked

    def refuses(self, principal: Principal, token_generation: int = 0) -> bool:
        subject = str(principal.subject)
        if principal.kind == "api_key":
            return subject in self.api_keys
        if principal.kind == "user":
            return token_generation < self.users.get(subject, 0)
        return False

    def blocks(self, principal: Principal) -> bool:
        """The token acts for a company that is blocked now."""
        return principal.kind == "user" and principal.company_id in self.companies

    def without_blocked(self, principal: Principal) -> Principal:
        """The principal without the blocked companies among those it may act for: a person
        of a holding loses the blocked company, not the others."""
        if not self.companies or self.companies.isdisjoint(principal.companies):
            return principal
        kept = [c for c in principal.companies if c not in self.companies]
        return principal.model_copy(update={"companies": kept})
