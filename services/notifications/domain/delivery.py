"""When and how a message goes: preferences, quiet hours, throttling, digests, retry backoff,
pausing a failing webhook subscriber. Plain Python; the workers call these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.workers import backoff

SEND, DIGEST, SUPPRESS = "send", "digest", "suppress"
ALWAYS_ON = frozenset({"system", "tasks"})  # a company admin cannot silence these


def channel_enabled(
    kind: str,
    channel: str,
    user_prefs: Mapping[tuple[str, str], bool],
    company_prefs: Mapping[tuple[str, str], bool],
) -> bool:
    """The person's own choice wins, then the company's; everything is on until turned off."""
    if kind in ALWAYS_ON:
        return True
    key = (kind, channel)
    if key in user_prefs:
        return user_prefs[key]
    return company_prefs.get(key, True)


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str = "UTC"

    def covers(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # over midnight, e.g. 22:00-07:00


def after_quiet_hours(due: datetime, quiet: QuietHours | None) -> datetime:
    """`due`, or the end of the recipient's quiet hours when `due` falls inside them."""
    if quiet is None:
        return due
    tz = ZoneInfo(quiet.timezone)
    local = due.astimezone(tz)
    if not quiet.covers(local.time().replace(tzinfo=None)):
        return due
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(due.tzinfo)


def next_digest_at(now: datetime, hour: int, timezone: str) -> datetime:
    """The next daily digest: today at `hour` local time, or tomorrow if that has passed."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return at.astimezone(now.tzinfo)


def route_email(*, digest_mode: bool, recent_emails: int, limit: int) -> str:
    """An email goes now, or waits for the digest: the person asked for one, or a burst of
    events has already sent them `limit` emails in the throttle window."""
    if digest_mode or recent_emails >= limit:
        return DIGEST
    return SEND


# Retries of an email or a webhook back off as every background loop does.
retry_delay = backoff


def should_pause(failing_since: datetime | None, now: datetime, pause_after_seconds: float) -> bool:
    """A subscriber failing without a single success for this long is paused."""
    return (
        failing_since is not None and (now - failing_since).total_seconds() >= pause_after_seconds
    )
