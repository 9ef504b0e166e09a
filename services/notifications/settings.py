"""Settings of the notifications service: environment variables prefixed NOTIFICATIONS_."""

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEV_LINK_SECRET = "dev-notifications-link-secret-change-me"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://postgres@localhost/b2b_notifications"

    smtp_host: str = Field("127.0.0.1", description="SMTP server that sends our email")
    smtp_port: int = Field(1025, description="Its port")
    smtp_username: str | None = Field(None, description="SMTP login, if the server wants one")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS")
    smtp_timeout_seconds: float = Field(10.0, description="Timeout of one SMTP conversation")
    mail_from: str = Field("B2B <no-reply@example.com>", description="From of every email")
    public_url: str = Field(
        "http://127.0.0.1:8000/api/v1/notifications",
        description="Public base URL of this service, for unsubscribe and survey links",
    )
    portal_url: str = Field(
        "http://127.0.0.1:3000", description="The portal, for links in messages"
    )
    link_secret: SecretStr = Field(
        SecretStr(DEV_LINK_SECRET),
        description="HMAC key of unsubscribe and survey links (required in production)",
    )
    default_locale: str = Field("ru", description="Locale of a recipient who chose none")
    default_timezone: str = Field("UTC", description="Time zone of quiet hours and digests")
    email_retry_max_seconds: float = Field(
        300.0, description="Longest wait between attempts while the SMTP server is down"
    )
    webhook_timeout_seconds: float = Field(10.0, description="Timeout of one webhook call")
    webhook_backoff_base_seconds: float = Field(
        10.0, description="First retry of a failed webhook after about this long, then doubling"
    )
    webhook_backoff_max_seconds: float = Field(
        3600.0, description="Longest wait between webhook retries"
    )
    webhook_max_attempts: int = Field(
        20, ge=1, description="Attempts before a webhook delivery is given up (about a day)"
    )
    webhook_pause_after_seconds: float = Field(
        86400.0, description="A subscriber failing this long is paused and its admin told"
    )
    webhook_concurrency: int = Field(
        8, ge=1, description="Webhook calls in flight at once in one batch"
    )
    webhook_allow_private_urls: bool = Field(
        False,
        description="Let webhooks call loopback, private, link-local and other non-public "
        "addresses (tests and development only; production refuses it: a subscriber must not "
        "reach our own network)",
    )
    webhook_senders: int = Field(
        4,
        ge=1,
        description="Webhook batches in flight at once in a process, each of up to "
        "4 x webhook_concurrency calls with webhook_concurrency in flight",
    )
    throttle_per_recipient: int = Field(
        20, ge=1, description="Emails one person gets per throttle window; more go to a digest"
    )
    throttle_window_seconds: int = Field(3600, ge=1, description="The throttle window")
    digest_hour: int = Field(8, ge=0, le=23, description="Local hour the daily digest goes out")
    delivery_poll_seconds: float = Field(
        1.0, description="How often the delivery workers look for due work when not woken"
    )
    rules_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a process trusts the rules it read (API changes in the "
        "same process apply at once)",
    )
    delivery_batch: int = Field(500, ge=1, description="Messages or webhook calls per batch")

    @model_validator(mode="after")
    def _refuse_development_settings(self) -> "Settings":
        if self.environment != "production":
            return self
        if self.link_secret.get_secret_value() == DEV_LINK_SECRET:
            raise ValueError("refusing the development link_secret in production")
        if self.webhook_allow_private_urls:
            raise ValueError("refusing webhook_allow_private_urls in production")
        return self
