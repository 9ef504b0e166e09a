"""Who may call what at the edge. Coarse on purpose: each service still checks roles itself.

Paths are gateway paths. In a pattern `*` or `{name}` is one segment and `**` is any number of
segments, none included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.auth import Principal, Role

ANY_METHOD = frozenset({"*"})
READ = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", compile_pattern(self.pattern))

    def matches(self, method: str, path: str) -> bool:
        if self.methods != ANY_METHOD and method.upper() not in self.methods:
            return False
        return self._regex.fullmatch(path) is not None


def compile_pattern(pattern: str) -> re.Pattern[str]:
    out = ""
    for segment in pattern.strip("/").split("/"):
        if segment == "**":
            out += "(?:/[^/]*)*"
        elif segment == "*" or (segment.startswith("{") and segment.endswith("}")):
            out += "/[^/]+"
        else:
            out += "/" + re.escape(segment)
    return re.compile(out + "/?")


# Reachable without credentials (besides the gateway's own health, metrics and docs).
PUBLIC_ROUTES: tuple[Route, ...] = (
    Route(frozenset({"POST"}), "/api/accounts/auth/login"),
    Route(frozenset({"POST"}), "/api/accounts/invitations/{token}/accept"),
    # Links in emails: the signed token is the proof (notifications checks it).
    Route(frozenset({"POST"}), "/api/notifications/unsubscribe/{token}"),
    Route(frozenset({"POST"}), "/api/notifications/surveys/{token}"),
    Route(frozenset({"POST"}), "/api/notifications/churn-surveys/{token}"),
)

# The one call a token acting for a company since blocked may still make: switching to another
# of the person's companies (accounts issues tokens for active companies only).
SWITCH_COMPANY = Route(frozenset({"POST"}), "/api/accounts/auth/switch-company")

# What an API key may call, by its role; a key may call nothing else.
API_KEY_ROUTES: dict[Role, tuple[Route, ...]] = {
    Role.INTEGRATOR: (
        # ERP systems post and follow feeds of any service,
        Route(ANY_METHOD, "/api/*/**/feeds/*/**"),
        # upload clients' reconciliation statements and products' quality certificates,
        Route(frozenset({"POST"}), "/api/accounts/statements"),
        Route(frozenset({"POST"}), "/api/catalog/products/{sku}/certificates"),
        # take orders to fulfil, post their status and the offline orders,
        Route(ANY_METHOD, "/api/orders/erp/**"),
        # and set up commercial policy by the thousand (price lists, assignments, discounts).
        Route(frozenset({"POST"}), "/api/pricing/bulk/*/**"),
    ),
    # Marketplaces only pull the catalog and price feeds.
    Role.PARTNER: (
        Route(READ, "/api/catalog/feeds/marketplace/**"),
        Route(READ, "/api/pricing/feeds/**"),
    ),
}

# Roles a person's token may never carry: service identities are not for people.
ROLES_NOT_FOR_PEOPLE = frozenset({Role.SYSTEM})

POST = frozenset({"POST"})
FEED_POSTERS = frozenset({Role.INTEGRATOR, Role.ADMIN})


@dataclass(frozen=True)
class GrantedRoute:
    """A route that gets more than the ordinary limits, only for the roles the service lets
    use it: anyone else calling it, and any other path, gets the ordinary ones."""

    route: Route
    roles: frozenset[Role]

    def admits(self, principal: Principal | None, method: str, path: str) -> bool:
        return (
            principal is not None
            and bool(principal.roles & self.roles)
            and self.route.matches(method, path)
        )


@dataclass(frozen=True)
class Feed(GrantedRoute):
    """A feed route: only these get the feed timeout (files take minutes), and uploads the
    feed body limit (up to a GiB)."""

    upload: bool = True


# The services' `POST /feeds/{kind}` (their OpenAPI declares a file body; a test keeps this
# list in step with it) and the partners' feed downloads.
FEEDS: tuple[Feed, ...] = (
    Feed(Route(POST, "/api/accounts/feeds/clients"), FEED_POSTERS),
    Feed(Route(POST, "/api/accounts/feeds/receivables"), FEED_POSTERS),
    Feed(Route(POST, "/api/accounts/feeds/contacts"), FEED_POSTERS),
    Feed(Route(POST, "/api/accounts/feeds/interactions"), FEED_POSTERS),
    Feed(Route(POST, "/api/catalog/feeds/catalog"), FEED_POSTERS),
    Feed(Route(POST, "/api/catalog/feeds/stock"), FEED_POSTERS),
    Feed(Route(POST, "/api/catalog/feeds/categories"), FEED_POSTERS),
    Feed(Route(POST, "/api/catalog/feeds/attributes"), FEED_POSTERS),
    Feed(Route(POST, "/api/pricing/feeds/prices"), FEED_POSTERS | {Role.PRICING_MANAGER}),
    Feed(Route(POST, "/api/orders/feeds/delivery-tariffs"), FEED_POSTERS),
    Feed(
        Route(READ, "/api/catalog/feeds/marketplace/{partner}"),
        frozenset({Role.PARTNER, Role.ADMIN}),
        upload=False,
    ),
    Feed(
        Route(READ, "/api/pricing/feeds/partners/{partner}/clients/{company_id}/prices"),
        frozenset({Role.PARTNER, Role.ADMIN}),
        upload=False,
    ),
)

DOCUMENT_UPLOADERS = frozenset({Role.INTEGRATOR, Role.ADMIN})
# The document body limit (PDFs and scans, tens of MB): ERP's file uploads into a document
# collection (a test keeps this list in step with the services' multipart routes and the roles
# they admit).
DOCUMENT_UPLOADS: tuple[GrantedRoute, ...] = (
    GrantedRoute(Route(POST, "/api/accounts/statements"), DOCUMENT_UPLOADERS),
    GrantedRoute(Route(POST, "/api/catalog/products/{sku}/certificates"), DOCUMENT_UPLOADERS),
    GrantedRoute(Route(POST, "/api/orders/erp/orders/{reference}/documents"), DOCUMENT_UPLOADERS),
)


# Bulk policy edits (up to 10,000 items a request): the bulk body limit, for the roles pricing
# lets make them.
BULK_EDITS: tuple[GrantedRoute, ...] = (
    GrantedRoute(Route(POST, "/api/pricing/bulk/*/**"), frozenset({Role.INTEGRATOR, Role.ADMIN})),
)


def is_public(method: str, path: str) -> bool:
    return any(route.matches(method, path) for route in PUBLIC_ROUTES)


def key_roles(method: str, path: str) -> list[Role]:
    """The roles of the API keys that may call this operation (none: people only)."""
    return [
        role
        for role, routes in sorted(API_KEY_ROUTES.items())
        if any(route.matches(method, path) for route in routes)
    ]


def may_call(principal: Principal, method: str, path: str) -> bool:
    if principal.kind != "api_key":
        return True
    return any(
        route.matches(method, path)
        for role in sorted(principal.roles)
        for route in API_KEY_ROUTES.get(role, ())
    )


def feed_of(principal: Principal | None, method: str, path: str) -> Feed | None:
    """The feed this call is, when the caller may use it; None gets the ordinary limits."""
    return next((feed for feed in FEEDS if feed.admits(principal, method, path)), None)


def is_document_upload(principal: Principal | None, method: str, path: str) -> bool:
    """A document upload by a role that may post it: it gets the document body limit."""
    return any(upload.admits(principal, method, path) for upload in DOCUMENT_UPLOADS)


def is_bulk_edit(principal: Principal | None, method: str, path: str) -> bool:
    """A bulk policy edit by a role that may make it: it gets the bulk body limit."""
    return any(edit.admits(principal, method, path) for edit in BULK_EDITS)
