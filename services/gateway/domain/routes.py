"""How `/api/<version>/<service>/<path>` maps to a service, and which paths never leave the
gateway.

Version 2 (`/api/v2/`) is version 1 with every list answered a page at a time; a service serves
it under `/v2` (shared.versions). `/api/<service>/<path>`, the prefix before versioning, stays
an alias of `/api/v1/`: links already sent in e-mails (unsubscribe, surveys) and ERP jobs
configured with it keep working. Answers on the alias say they are deprecated and name the
versioned path (RFC 9745, 8288).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote

from shared.problems import NotFound

PREFIX = "/api/"
VERSION = "v1"  # where the unversioned alias leads
VERSIONS = ("v1", "v2")
# A service's own version prefix (`/v2/...`) and its service-to-service paths are not reachable
# as a path of some version.
NOT_A_PATH = ("internal", "v2")


@dataclass(frozen=True)
class Target:
    service: str
    path: str  # `/api/<service>/<rest>` decoded, without the version: what the policy looks at
    upstream_path: str  # the path at the service, still percent-encoded as the caller sent it
    version: str | None = VERSION  # None: called through the unversioned alias

    @property
    def versioned(self) -> bool:
        return self.version is not None

    @property
    def prefix(self) -> str:
        """Where the caller found the service: links it gets back start with this."""
        version = f"/{self.version}" if self.version else ""
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
    version = unquote(raw_service) if unquote(raw_service) in VERSIONS else None
    if version:
        raw_service, _, raw_rest = raw_rest.partition("/")
    service = unquote(raw_service)
    if service not in services:
        raise NotFound(f"No service named {service!r}.")
    rest = unquote(raw_rest)
    segments = rest.split("/")
    if any(s in (".", "..") for s in segments):
        raise NotFound("No such resource.")
    if segments[0].lower() in NOT_A_PATH:
        # Service-to-service endpoints are reachable only inside the cluster.
        raise NotFound("No such resource.")
    return Target(
        service=service,
        path=f"/api/{service}/{rest}",
        upstream_path=("/v2/" if version == "v2" else "/") + raw_rest,
        version=version,
    )
