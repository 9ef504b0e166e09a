"""Settings of the analytics service: environment variables prefixed ANALYTICS_."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_analytics"
