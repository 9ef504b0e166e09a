"""Settings of the pricing service: environment variables prefixed PRICING_."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PRICING_", extra="ignore")

    service_name: str = "pricing"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_pricing"
