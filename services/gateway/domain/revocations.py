"""Access taken away lately, as accounts last told the gateway: a person's tokens issued before
its latest access generation (removed from a company, deactivated) and revoked API keys are
refused, though the token has not expired and the key is still in the cache."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.auth import Principal


@dataclass(frozen=True)
class Revocations:
    users: Mapping[str, int] = field(default_factory=dict)  # user id -> generation a token needs
    api_keys: frozenset[str] = frozenset()

    def refuses(self, principal: Principal, token_generation: int = 0) -> bool:
        subject = str(principal.subject)
        if principal.kind == "api_key":
            return subject in self.api_keys
        if principal.kind == "user":
            return token_generation < self.users.get(subject, 0)
        return False
