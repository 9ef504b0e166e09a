"""Marketplace feed decisions without a server: format negotiation and entity tags."""

import pytest

from services.catalog.domain.marketplace import (
    FeedFormat,
    NotAcceptable,
    choose_format,
    etag_matches,
    feed_etag,
)


@pytest.mark.parametrize(
    ("format_param", "accept", "chosen"),
    [
        (None, None, FeedFormat.JSONL),
        (None, "", FeedFormat.JSONL),
        (None, "*/*", FeedFormat.JSONL),
        (None, "text/csv", FeedFormat.CSV),
        (None, "application/x-ndjson", FeedFormat.JSONL),
        (None, "application/jsonl, text/csv;q=0.5", FeedFormat.JSONL),
        (None, "application/jsonl;q=0.4, text/csv;q=0.9", FeedFormat.CSV),
        (None, "application/xml, text/*", FeedFormat.CSV),
        (None, "text/csv;q=0, */*;q=0.1", FeedFormat.JSONL),
        ("csv", "application/x-ndjson", FeedFormat.CSV),  # the parameter wins
        ("jsonl", "text/csv", FeedFormat.JSONL),
    ],
)
def test_the_format_comes_from_the_parameter_or_the_accept_header(format_param, accept, chosen):
    assert choose_format(format_param, accept) == chosen


@pytest.mark.parametrize("accept", ["application/xml", "text/csv;q=0", "image/png, text/html"])
def test_an_accept_header_naming_no_format_of_the_feed_is_refused(accept):
    with pytest.raises(NotAcceptable):
        choose_format(None, accept)


def test_the_etag_follows_every_part_and_only_them():
    tag = feed_etag(["shop", "MP", 41, "2026-11-23", "csv"])
    assert tag == feed_etag(["shop", "MP", 41, "2026-11-23", "csv"])
    assert tag.startswith('"') and tag.endswith('"')
    for changed in (
        ["shop", "MP", 42, "2026-11-23", "csv"],
        ["shop", "MP2", 41, "2026-11-23", "csv"],
        ["shop", "MP", 41, "2026-11-24", "csv"],
        ["shop", "MP", 41, "2026-11-23", "jsonl"],
    ):
        assert feed_etag(changed) != tag


def test_if_none_match_takes_lists_weak_tags_and_star():
    tag = '"abc"'
    assert etag_matches('"abc"', tag)
    assert etag_matches('"x", W/"abc"', tag)
    assert etag_matches("*", tag)
    assert not etag_matches('"abd"', tag)
    assert not etag_matches(None, tag)
    assert not etag_matches("", tag)
