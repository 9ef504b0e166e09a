"""The accounts service's background loops, run in the worker process: the feed jobs (the
kernel's feed worker over the client and receivables feeds). Nothing else runs on a timer."""

from __future__ import annotations

from services.accounts.api.feeds import SPECS
from shared.feeds import feed_worker

WORKERS = [feed_worker(SPECS)]
