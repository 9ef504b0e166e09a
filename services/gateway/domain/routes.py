"""How `/api/v1/<service>/<path>` maps to a service, and which paths never leave the gateway.

`/api/<service>/<path>`, the prefix before versioning, stays an alias of `/api/v1/`: links
already sent in e-mails (unsubscribe, surveys) and ERP jobs configured with it keep working.
Answers on the alias say they are deprecated and name the versioned path (RFC 9745, 8288).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote

from shared.problems import NotFound

PREFIX = "/api/"
VERSION = "v1"


@dataclass(frozen=True)
class Target:
    service: str
    path: str  # `/api/<service>/<rest>` decoded, without the version: what the policy looks at
    upstream_path: str  # the path at the service, still percent-encoded as the caller sent it
    versioned: bool = True  # False: called through the unversioned alias

    @property
    def prefix(self) -> str:
        """Where the caller found the service: links it gets back start with this."""
        version = f"/{VERSION}" if self.versioned else ""
        return f"/api{version}/{self.service}"

    @property
    def successor(self) -> str:
        """The versioned path of this call, for the alias's deprecation link."""
        return f"/api/{VERSION}/{self.service}{self.upstream_path}"


def resolve(raw_path: str, services: Collection[str]) -> Target:
    """The target of a gateway path, or NotFound for unknown services and refused paths.

    Checks run on the decoded path split at every `/`, which is how the service's router will
    see it, so `internal%2F...` or `%2e%2e` cannot sneak past them.
    """
    if not raw_path.startswith(PREFIX):
        raise NotFound("No such resource.")
    raw_service, _, raw_rest = raw_path[len(PREFIX) :].partition("/")
    versioned = unquote(raw_service) == VERSION
    if versioned:
        raw_service, _, raw_rest = raw_rest.partition("/")
    service = unquote(raw_service)
    if service not in services:
        raise NotFound(f"No service named {service!r}.")
    rest = unquote(raw_rest)
    segments = rest.split("/")
    if any(s in (".", "..") for s in segments):
        raise NotFound("No such resource.")
    if segments[0].lower() == "internal":
        # Service-to-service endpoints are reachable only inside the cluster.
        raise NotFound("No such resource.")
    return Target(
        service=service,
        path=f"/api/{service}/{rest}",
        upstream_path="/" + raw_rest,
        versioned=versioned,
    )
