"""Gateway: the edge every caller goes through.

Authenticates people (JWT) and integrators and partners (API keys, verified by accounts),
applies a coarse role policy, rate-limits, limits body sizes, gives every request an id, and
routes `/api/<service>/<path>` to that service with the caller forwarded in signed headers.
It also serves one merged OpenAPI document of all services at `/openapi.json` and `/docs`.

It owns no data: there is no `store/`, no database and no events. The rate-limit buckets and
the API-key cache live in memory, per replica: with N replicas a caller may get up to N times
the configured rate, and a revoked key may keep working on a replica for up to
`GATEWAY_API_KEY_CACHE_SECONDS`.
"""
