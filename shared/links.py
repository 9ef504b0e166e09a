"""Links a service puts in its answers, as the caller sees them through the gateway.

The gateway mounts each service under /api/v1/<service> and /api/v2/<service> (and the old /api/<service>) and says so in X-Forwarded-Prefix, so a
`Location` or `rejections_url` works when the caller follows it as is.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

FORWARDED_PREFIX = "x-forwarded-prefix"
_SAFE_PREFIX = re.compile(r"^/api(?:/v[12])?/[a-z_]+$")


def public_path(request: Request, route_name: str, **params: Any) -> str:
    path = request.url_for(route_name, **params).path
    prefix = request.headers.get(FORWARDED_PREFIX, "")
    return prefix + path if _SAFE_PREFIX.match(prefix) else path
