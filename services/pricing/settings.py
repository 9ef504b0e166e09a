"""Settings of the pricing service: environment variables prefixed PRICING_."""

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, upstream_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PRICING_", extra="ignore")

    service_name: str = "pricing"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_pricing"
    accounts_url: str = upstream_url("accounts", "http://127.0.0.1:8001")

    ladder_nudge_percent: Decimal = Field(
        Decimal(20),
        ge=0,
        le=100,
        description="Ladder progress: tell the client once the turnover still needed for the "
        "next level falls to this percent of that level's threshold",
    )
    contract_expiry_days: int = Field(
        14, ge=1, description="Contract prices ending within this many days are announced"
    )
    contract_expiry_check_seconds: float = Field(
        86400, ge=0, description="How often contract prices are checked for their end (0: never)"
    )
