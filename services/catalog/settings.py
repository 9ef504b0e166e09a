"""Settings of the catalog service: environment variables prefixed CATALOG_."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, upstream_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    service_name: str = "catalog"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_catalog"
    pricing_url: str = upstream_url("pricing", "http://127.0.0.1:8003")
    marketplace_chunk_skus: int = Field(
        5_000, ge=1, description="SKUs a marketplace feed reads per database round trip"
    )
