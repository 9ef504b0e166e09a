"""The people of a client and the seller's touches with them: the words they are kept in and
the rules their values follow. The API's bodies and the CRM feeds check the same rules."""

from __future__ import annotations

import re
from datetime import date, datetime

# Who the person is in the client's buying.
BUYING_ROLES = ("decision_maker", "purchasing", "technical", "owner", "accountant", "other")
CHANNELS = ("phone", "email", "messenger", "visit")
INTERACTION_KINDS = ("call", "meeting", "email", "visit")

# International format: a plus, the country code, then the number; spaces, dots, dashes and
# brackets may group the digits as people write them ("+7 (495) 123-45-67"), and are dropped.
PHONE = r"\+[1-9](?:[ ().-]*[0-9]){6,14}"
_NOT_KEPT = re.compile(r"[^0-9+]")
# Any address of the form name@domain.tld; the API checks it further with email-validator.
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EARLIEST_BIRTHDAY = date(1900, 1, 1)
# How far back the "stale contacts" signal may look, in months.
STALE_MONTHS_MIN, STALE_MONTHS_MAX = 1, 36


def normalise_phone(phone: str) -> str:
    """The digits with their plus, as they are kept and compared."""
    return _NOT_KEPT.sub("", phone)


def birthday_problem(birthday: date, today: date) -> str | None:
    """Why a birthday cannot be right, or None."""
    if birthday > today:
        return "is in the future"
    if birthday < EARLIEST_BIRTHDAY:
        return f"is before {EARLIEST_BIRTHDAY}"
    return None


def consent_given_at(
    consents: bool, was_consenting: bool, given_before: datetime | None, now: datetime
) -> datetime | None:
    """When the consent to messages was given: kept while it stands, now when it is given
    anew, none once withdrawn."""
    if not consents:
        return None
    return given_before if was_consenting and given_before else now


def next_step_problem(next_step_date: date | None, occurred: datetime) -> str | None:
    if next_step_date is not None and next_step_date < occurred.date():
        return "is before the interaction"
    return None
