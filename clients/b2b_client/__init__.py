"""A typed Python client of the B2B commerce gateway (`/api/v1/...`)."""

from clients.b2b_client.client import ApiProblem, B2BClient, operation
from clients.b2b_client.models import (
    Cart,
    CartSummary,
    ClientProfile,
    Company,
    FeedJob,
    InboxMessage,
    Order,
    OrderSummary,
    Page,
    Product,
    QuickOrderResult,
    Token,
)

__all__ = [
    "ApiProblem",
    "B2BClient",
    "Cart",
    "CartSummary",
    "ClientProfile",
    "Company",
    "FeedJob",
    "InboxMessage",
    "Order",
    "OrderSummary",
    "Page",
    "Product",
    "QuickOrderResult",
    "Token",
    "operation",
]
