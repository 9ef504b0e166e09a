"""Settings of the gateway: environment variables prefixed GATEWAY_."""

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.gateway.domain.clients import parse_networks
from shared.settings import EdgeSettings, upstream_url


class Settings(EdgeSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    accounts_url: str = upstream_url("accounts", "http://127.0.0.1:8001")
    catalog_url: str = upstream_url("catalog", "http://127.0.0.1:8002")
    pricing_url: str = upstream_url("pricing", "http://127.0.0.1:8003")
    orders_url: str = upstream_url("orders", "http://127.0.0.1:8004")
    analytics_url: str = upstream_url("analytics", "http://127.0.0.1:8005")
    notifications_url: str = upstream_url("notifications", "http://127.0.0.1:8006")
    upstream_timeout_seconds: float = Field(30.0, description="Timeout of a proxied request")
    feed_timeout_seconds: float = Field(
        600.0,
        description="Timeout of a proxied feed upload or partner feed download, for the roles "
        "that may use it",
    )
    upstream_max_connections: int = Field(
        1000, description="Connections the gateway may hold open to the services at once"
    )
    max_in_flight_per_service: int = Field(
        256,
        ge=0,
        le=100_000,
        description="Requests the gateway lets wait on one service at once; past it a request "
        "is answered 503 with `Retry-After` at once instead of queueing until the service's "
        "database pool times out (0: no limit)",
    )
    max_body_bytes: int = Field(1024 * 1024, description="Largest request body, in bytes")
    max_feed_body_bytes: int = Field(
        1024 * 1024 * 1024,
        description="Largest feed upload (`POST .../feeds/<kind>`, by a role that may post it), "
        "in bytes",
    )
    max_document_body_bytes: int = Field(
        50 * 1024 * 1024,
        description="Largest document upload (ERP's `POST .../statements`, "
        "`.../products/{sku}/certificates`, `.../erp/orders/{reference}/documents`, by a role "
        "that may post it), in bytes",
    )
    max_bulk_body_bytes: int = Field(
        8 * 1024 * 1024,
        description="Largest bulk policy edit (`POST .../pricing/bulk/...`, up to 10,000 items, "
        "by a role that may make it), in bytes",
    )
    rate_limit_per_minute: int = Field(
        600,
        description="Requests a person, a partner's API key or an anonymous address may make per "
        "minute (integrators' keys: `integrator_rate_limit_per_minute`); 0 turns limiting off",
    )
    rate_limit_burst: int = Field(100, description="Requests a caller may make at once")
    integrator_rate_limit_per_minute: int = Field(
        6000,
        description="Requests an integrator's API key may make per minute (an ERP loading "
        "policy or pushing batches calls far more often than a person); 0 turns limiting off",
    )
    integrator_rate_limit_burst: int = Field(
        1000, description="Requests an integrator's API key may make at once"
    )
    trusted_proxies: str = Field(
        "",
        description="Proxies in front of the gateway whose X-Forwarded-For is believed "
        "(addresses or networks, comma-separated, e.g. `10.0.0.0/8`); none by default: the "
        "connection's address is the caller's",
    )
    api_key_cache_seconds: float = Field(
        30.0,
        description="How long a verified API key is trusted before accounts is asked again (a "
        "revoked one is refused sooner: see revocation_poll_seconds)",
    )
    revocation_poll_seconds: float = Field(
        2.0,
        gt=0,
        description="How often accounts is asked who lost access (removed members, deactivated "
        "people, revoked keys): their tokens and keys are refused from then on",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    def upstreams(self) -> dict[str, str]:
        """Service name -> base URL without a trailing slash: every service, the gateway fronts
        them all."""
        return self.upstream_urls()


SERVICES = tuple(Settings.upstream_fields().values())  # every service the gateway fronts
