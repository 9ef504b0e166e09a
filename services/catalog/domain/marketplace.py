"""Marketplace feeds: which representation a partner asked for, and the feed's entity tag.

Plain Python: the feed endpoint passes in what it read (the Accept header, the versions of
what the feed is made of) and gets back decisions a test can check without a server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum


class FeedFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


MEDIA_TYPES = {FeedFormat.JSONL: "application/x-ndjson", FeedFormat.CSV: "text/csv"}
# What an Accept header may name for each format (JSON lines has no registered type).
ACCEPTED = {
    "application/x-ndjson": FeedFormat.JSONL,
    "application/jsonl": FeedFormat.JSONL,
    "application/json-lines": FeedFormat.JSONL,
    "application/json": FeedFormat.JSONL,
    "text/csv": FeedFormat.CSV,
}
DEFAULT_FORMAT = FeedFormat.JSONL


class NotAcceptable(ValueError):
    """The Accept header names no format the feed has."""


def _media_ranges(accept: str) -> list[tuple[float, int, str]]:
    """(quality, position, media range) of an Accept header, ignoring malformed parts."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((quality, position, media.lower()))
    return ranges


def choose_format(format_param: str | None, accept: str | None) -> FeedFormat:
    """`format=` wins; else the Accept header's most preferred format we have (JSON lines
    for */* or no header). NotAcceptable when it accepts none of them."""
    if format_param:
        return FeedFormat(format_param)
    if not accept or not accept.strip():
        return DEFAULT_FORMAT
    best: tuple[float, int, FeedFormat] | None = None
    for quality, position, media in _media_ranges(accept):
        if quality <= 0:
            continue
        if media in ("*/*", "application/*"):
            found = DEFAULT_FORMAT
        elif media == "text/*":
            found = FeedFormat.CSV
        elif media in ACCEPTED:
            found = ACCEPTED[media]
        else:
            continue
        if best is None or (quality, -position) > (best[0], -best[1]):
            best = (quality, position, found)
    if best is None:
        raise NotAcceptable(
            "The feed comes as " + " or ".join(sorted(set(ACCEPTED))) + "; Accept names neither."
        )
    return best[2]


def feed_etag(parts: Iterable[object]) -> str:
    """A strong entity tag over what the feed is made of (versions, not the bytes): the same
    parts give the same tag, any change of one gives another."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f'"{digest[:32]}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a list of tags compared weakly (W/ ignored)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
