"""Settings of the accounts service: environment variables prefixed ACCOUNTS_."""

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.accounts.domain.contacts import STALE_MONTHS_MAX, STALE_MONTHS_MIN
from shared.settings import ServiceSettings

DEV_ADMIN_PASSWORD = "admin"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_", extra="ignore")

    service_name: str = "accounts"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_accounts"
    access_token_ttl_seconds: int = Field(3600, description="Lifetime of a login's access token")
    invitation_ttl_hours: int = Field(168, description="How long an invitation can be accepted")
    login_free_attempts: int = Field(
        5, ge=1, description="Failed passwords of one email before its login is locked"
    )
    login_lockout_seconds: float = Field(
        30.0, gt=0, description="First lock-out; each further failure doubles it"
    )
    login_lockout_max_seconds: float = Field(900.0, gt=0, description="Longest lock-out")
    stale_contact_months: int = Field(
        6,
        ge=STALE_MONTHS_MIN,
        le=STALE_MONTHS_MAX,
        description="A contact with no interaction in this many months is stale",
    )
    bootstrap_admin_email: str | None = Field(
        "admin@example.com", description="Admin created at start-up when no such user exists"
    )
    bootstrap_admin_password: SecretStr = Field(
        SecretStr(DEV_ADMIN_PASSWORD), description="Password of that admin (change it!)"
    )

    @model_validator(mode="after")
    def _refuse_dev_admin(self) -> "Settings":
        if (
            self.environment == "production"
            and self.bootstrap_admin_email
            and self.bootstrap_admin_password.get_secret_value() == DEV_ADMIN_PASSWORD
        ):
            raise ValueError("set ACCOUNTS_BOOTSTRAP_ADMIN_PASSWORD in production")
        return self
