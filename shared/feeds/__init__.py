"""Feed-job machinery every ERP feed uses: streamed upload, durable job, polars validation,
per-row rejection report, all-or-nothing or skip-bad-rows, COPY into staging, atomic apply.

A service declares FeedSpecs, mounts `feed_router(specs)` and runs `feed_worker(specs)`.
"""

from shared.feeds.router import FeedJobRead, feed_router
from shared.feeds.spec import Column, ColumnType, FeedSpec
from shared.feeds.worker import STAGING, feed_worker, process_next

__all__ = [
    "STAGING",
    "Column",
    "ColumnType",
    "FeedJobRead",
    "FeedSpec",
    "feed_router",
    "feed_worker",
    "process_next",
]
