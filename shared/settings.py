"""Settings every service shares. Each service subclasses ServiceSettings with its own env prefix."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_INTERNAL_SECRET = "dev-internal-secret-change-me-in-production"
DEV_JWT_SECRET = "dev-jwt-secret-change-me-in-production-0123"


class EdgeSettings(BaseSettings):
    """What every process needs: environment, the shared secrets, logging. The gateway (no
    database, no broker) uses this alone."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = "service"
    environment: str = Field("development", description="development, test or production")
    internal_secret: SecretStr = Field(
        SecretStr(DEV_INTERNAL_SECRET),
        description="HMAC key the gateway signs the forwarded principal with",
    )
    jwt_secret: SecretStr = Field(
        SecretStr(DEV_JWT_SECRET), description="HS256 key of people's access tokens"
    )
    log_level: str = "INFO"
    log_json: bool = True
    # The OpenTelemetry variable itself, without the service's prefix: one collector for all.
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
        description="OTLP/HTTP collector (e.g. `http://127.0.0.1:4318`) every process sends its "
        "traces to (`/v1/traces`), named by `service.name`; the other `OTEL_*` variables apply. "
        "Unset: no tracing at all",
    )

    @classmethod
    def upstream_fields(cls) -> dict[str, str]:
        """Field name -> service, of each service this one calls (declared with `upstream_url`)."""
        return {
            name: extra["upstream"]
            for name, field in cls.model_fields.items()
            if isinstance(extra := field.json_schema_extra, dict) and "upstream" in extra
        }

    def upstream_urls(self) -> dict[str, str]:
        """Service name -> base URL, without a trailing slash, of each service this one calls."""
        return {
            service: getattr(self, name).rstrip("/")
            for name, service in self.upstream_fields().items()
        }

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> EdgeSettings:
        if self.environment == "production":
            unsafe = [
                name
                for name, dev in (
                    ("internal_secret", DEV_INTERNAL_SECRET),
                    ("jwt_secret", DEV_JWT_SECRET),
                )
                if getattr(self, name).get_secret_value() == dev
            ]
            if unsafe:
                raise ValueError(f"refusing development defaults in production: {unsafe}")
        return self


class ServiceSettings(EdgeSettings):
    """A service with its own database, the broker, workers and feed files."""

    database_url: str = Field(
        "postgresql+asyncpg://postgres@localhost/postgres",
        description="SQLAlchemy async URL of this service's own database",
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    db_pool_size: int = 10
    run_workers: bool = Field(
        True, description="Run the outbox relay, event consumers and feed jobs in this process"
    )
    consumer_group_suffix: str = Field(
        "",
        description="Appended to the service's consumer group names: a second, separate "
        "reader of the same topics (tests give each service they start its own groups)",
    )
    data_dir: str = Field(".data/files", description="Where uploaded feeds and reports are kept")
    feed_max_bytes: int = Field(1024 * 1024 * 1024, description="Largest accepted feed upload")
    shutdown_grace_seconds: float = Field(
        15.0, description="How long background tasks get to stop before they are abandoned"
    )
    upstream_timeout_seconds: float = Field(10.0, description="Timeout of a call to a service")


def upstream_url(service: str, development_url: str) -> Any:
    """A Settings field holding the base URL of another service this one calls; each service
    declares only the ones it calls (`pricing_url: str = upstream_url("pricing", ...)`)."""
    return Field(
        development_url,
        description=f"Base URL of {service}",
        json_schema_extra={"upstream": service},
    )
