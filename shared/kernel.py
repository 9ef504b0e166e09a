"""The kernel's own tables, present in every service database."""

from shared.db import KernelBase
from shared.events.outbox import InboxEntry, OutboxMessage
from shared.feeds.models import FeedJob
from shared.idempotency import IdempotencyRecord

KERNEL_METADATA = KernelBase.metadata

__all__ = ["KERNEL_METADATA", "FeedJob", "IdempotencyRecord", "InboxEntry", "OutboxMessage"]
