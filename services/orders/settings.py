"""Settings of the orders service: environment variables prefixed ORDERS_."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore")

    service_name: str = "orders"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_orders"
